"""unipoll.Poller, the binding: registrations, events, wakes, errors,
signals (PEP 475), the GIL and the event count."""

import errno
import os
import signal
import socket
import tempfile
import threading
import time

import pytest

import unipoll
from unipoll import READ, WRITE, Poller


def test_backend_names(backend):
    assert backend in unipoll.available_backends()
    with Poller(backend) as p:
        assert p.backend == backend
    assert unipoll.default_backend() in unipoll.available_backends()
    with pytest.raises(ValueError):
        Poller("no-such-backend")


def test_readiness_token_modify_remove(backend):
    a, b = socket.socketpair()
    with a, b, Poller(backend) as p:
        p.add(a, READ, token=2**64 - 1)
        assert p.poll(0) == ([], False)
        b.send(b"x")
        assert p.poll(5) == ([(2**64 - 1, READ)], False)
        p.modify(a.fileno(), WRITE)  # the token defaults to the fd
        assert p.poll(5) == ([(a.fileno(), WRITE)], False)
        p.remove(a)
        assert p.poll(0.05) == ([], False)


def test_hangup_is_reported(backend):
    a, b = socket.socketpair()
    with a, Poller(backend) as p:
        p.add(a, READ, token=1)
        b.close()
        events, _ = p.poll(5)
        assert events and events[0][0] == 1 and events[0][1] & unipoll.HANGUP


def test_errors_are_oserrors_with_errno(backend):
    a, b = socket.socketpair()
    with a, b, Poller(backend) as p:
        p.add(a, READ)
        with pytest.raises(FileExistsError):
            p.add(a, READ)
        with pytest.raises(FileNotFoundError):
            p.remove(b)
        with pytest.raises(ValueError):
            p.add(b, 4)
        with pytest.raises(ValueError):
            p.add(-1, READ)
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        with pytest.raises(OSError) as e:
            p.add(r, READ)
        assert e.value.errno == errno.EBADF
        # One rule for files without readiness, on every backend.
        with open(os.devnull) as null, tempfile.TemporaryFile() as f:
            for obj in (null, f):
                with pytest.raises(PermissionError):
                    p.add(obj, READ)
        b.send(b"x")  # the poller still works
        assert p.poll(5)[0] == [(a.fileno(), READ)]


def test_closed_poller_refuses_calls_but_wake_is_harmless(backend):
    p = Poller(backend)
    p.close()
    assert p.closed
    p.wake()
    with pytest.raises(ValueError):
        p.poll(0)


def test_wake_from_another_thread_ends_a_blocking_poll(backend):
    with Poller(backend) as p:
        threading.Timer(0.1, p.wake).start()
        start = time.monotonic()
        assert p.poll(None) == ([], True)
        assert time.monotonic() - start < 5


def test_wakes_coalesce_and_cost_nothing_without_a_sleeper(backend):
    with Poller(backend) as p:
        before = p.stats()
        for _ in range(100):
            p.wake()
        after = p.stats()
        assert after["syscalls"] == before["syscalls"]
        assert after["wake_posts"] == before["wake_posts"]
        assert after["wakes_coalesced"] - before["wakes_coalesced"] == 100
        assert p.poll(5) == ([], True)
        # No leftover wake: the next poll waits for its timeout.
        start = time.monotonic()
        assert p.poll(0.05) == ([], False)
        assert time.monotonic() - start >= 0.05


def test_blocking_poll_releases_the_gil(backend):
    # The waker thread can run Python code only if the poll released the
    # GIL; holding it, the poll would time out after 5 s without a wake.
    with Poller(backend) as p:
        spins = 0

        def spin_then_wake():
            nonlocal spins
            end = time.monotonic() + 0.2
            while time.monotonic() < end:
                spins += 1
            p.wake()

        t = threading.Thread(target=spin_then_wake)
        t.start()
        events, woken = p.poll(5)
        t.join()
        assert woken and spins > 0


def test_close_while_another_thread_polls(backend):
    p = Poller(backend)
    result = []
    t = threading.Thread(target=lambda: result.append(p.poll(None)))
    t.start()
    time.sleep(0.1)
    p.close()
    t.join(5)
    assert not t.is_alive() and result == [([], True)]


def test_nonblocking_polls_while_another_thread_blocks(backend):
    a, b = socket.socketpair()
    with a, b, Poller(backend) as p:
        p.add(a, WRITE, token=5)
        p.add(b, READ, token=6)
        blocked = threading.Thread(target=lambda: p.poll(None))
        blocked.start()
        try:
            for _ in range(100):
                assert (5, WRITE) in p.poll(0)[0]
        finally:
            p.wake()
            blocked.join(5)
        assert not blocked.is_alive()


class Alarm(Exception):
    pass


def alarm_after(seconds, handler):
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return old


def test_signal_handler_exception_ends_the_poll(backend):
    def raise_alarm(*_):
        raise Alarm

    with Poller(backend) as p:
        old = alarm_after(0.2, raise_alarm)
        try:
            start = time.monotonic()
            with pytest.raises(Alarm):
                p.poll(30)
            assert time.monotonic() - start < 5
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def test_quiet_signal_handler_lets_the_poll_run_to_its_timeout(backend):
    ran = []
    with Poller(backend) as p:
        old = alarm_after(0.1, lambda *_: ran.append(1))
        try:
            start = time.monotonic()
            assert p.poll(0.5) == ([], False)
            assert time.monotonic() - start >= 0.5
            assert ran == [1]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def test_one_poll_returns_every_ready_fd(backend):
    # Many more than any backend ever capped a poll at (128, 1024).
    count = 3000
    r, w = os.pipe()
    dups = [os.dup(w) for _ in range(count)]
    try:
        with Poller(backend) as p:
            for fd in dups:
                p.add(fd, WRITE)
            events = []
            deadline = time.monotonic() + 5
            while len(events) < count and time.monotonic() < deadline:
                events, _ = p.poll(1)
            assert sorted(token for token, _ in events) == sorted(dups)
            assert len(p.poll(1, max_events=100)[0]) == 100
    finally:
        for fd in (r, w, *dups):
            os.close(fd)
