"""UnipollSelector as a selectors.BaseSelector."""

import selectors
import socket
import threading
import time

from unipoll.selectors import UnipollSelector


def test_is_a_selector_on_the_backend(backend):
    with UnipollSelector(backend) as sel:
        assert isinstance(sel, selectors.BaseSelector)
        assert sel.backend == backend


def test_select_maps_events_to_keys(backend):
    a, b = socket.socketpair()
    with a, b, UnipollSelector(backend) as sel:
        ka = sel.register(a, selectors.EVENT_READ, "reader")
        kb = sel.register(b, selectors.EVENT_WRITE, "writer")
        assert sel.select(0) == [(kb, selectors.EVENT_WRITE)]
        b.send(b"x")
        ready = dict(sel.select(5))
        assert ready == {ka: selectors.EVENT_READ, kb: selectors.EVENT_WRITE}


def test_peer_close_wakes_the_reader_not_a_writer_beside_it(backend):
    a, b = socket.socketpair()
    with a, UnipollSelector(backend) as sel:
        a.setblocking(False)
        # Fill a's send buffer so it is not writable; then the peer leaves.
        try:
            while True:
                a.send(b"x" * 65536)
        except BlockingIOError:
            pass
        key = sel.register(a, selectors.EVENT_READ | selectors.EVENT_WRITE)
        b.shutdown(socket.SHUT_WR)
        ready = sel.select(5)
        assert ready and ready[0][0] == key
        assert ready[0][1] & selectors.EVENT_READ
        b.close()


def test_wake_ends_a_select_on_another_thread(backend):
    with UnipollSelector(backend) as sel:
        threading.Timer(0.1, sel.wake).start()
        start = time.monotonic()
        assert sel.select() == []
        assert time.monotonic() - start < 5


def test_unregister_after_close_is_allowed(backend):
    a, b = socket.socketpair()
    with UnipollSelector(backend) as sel:
        sel.register(a, selectors.EVENT_READ)
        a.close()
        b.close()
        sel.unregister(a)
        assert len(sel.get_map()) == 0
