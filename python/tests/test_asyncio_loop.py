"""unipoll.asyncio: the loop, the policy, run(), cross-thread wakeups
through Poller.wake(), signals and Ctrl-C."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import unipoll.asyncio
from unipoll.selectors import UnipollSelector


def test_run_uses_a_unipoll_loop_on_the_backend(backend):
    async def main():
        loop = asyncio.get_running_loop()
        return type(loop), loop._selector.backend

    assert unipoll.asyncio.run(main(), backend=backend) == (unipoll.asyncio.EventLoop, backend)


def test_policy_makes_unipoll_loops(backend):
    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(unipoll.asyncio.EventLoopPolicy(backend))
    try:
        loop = asyncio.new_event_loop()
        try:
            assert isinstance(loop, unipoll.asyncio.EventLoop)
            assert isinstance(loop._selector, UnipollSelector)
            assert loop._selector.backend == backend
        finally:
            loop.close()
    finally:
        asyncio.set_event_loop_policy(old)


def test_call_soon_threadsafe_wakes_the_loop_through_wake(backend):
    loop = unipoll.asyncio.new_event_loop(backend)
    poller = loop._selector._selector
    sent = []

    def from_thread(fut):
        time.sleep(0.1)  # the loop is asleep in select() by now
        loop.call_soon_threadsafe(fut.set_result, "done")
        sent.append(True)

    async def main():
        fut = loop.create_future()
        t = threading.Thread(target=from_thread, args=(fut,))
        t.start()
        result = await asyncio.wait_for(fut, 5)
        t.join()
        return result

    try:
        before = poller.stats()
        assert loop.run_until_complete(main()) == "done"
        after = poller.stats()
        # The wake went through the poller: one post to the sleeping loop.
        assert after["wake_posts"] - before["wake_posts"] >= 1
        # Nothing was written to the self-pipe, which stays for signals.
        with pytest.raises(BlockingIOError):
            loop._ssock.recv(1)
    finally:
        loop.close()


def test_run_in_executor(backend):
    async def main():
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, sum, range(10))

    assert unipoll.asyncio.run(main(), backend=backend) == 45


def test_add_signal_handler(backend):
    async def main():
        loop = asyncio.get_running_loop()
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR1, got.set_result, "signal")
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        try:
            return await asyncio.wait_for(got, 5)
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)

    assert unipoll.asyncio.run(main(), backend=backend) == "signal"


def test_ctrl_c_ends_asyncio_run_promptly(backend):
    # Python keeps SIGINT ignored if it started that way (a test run in the
    # background of a non-interactive shell): give the child the handler a
    # terminal's Ctrl-C finds.
    child = textwrap.dedent(f"""
        import asyncio, signal, unipoll.asyncio
        signal.signal(signal.SIGINT, signal.default_int_handler)
        async def main():
            print("sleeping", flush=True)
            await asyncio.sleep(5)
        try:
            unipoll.asyncio.run(main(), backend={backend!r})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "sleeping"
        time.sleep(0.2)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        elapsed = time.monotonic() - start
    finally:
        proc.kill()
        proc.wait()
    assert out.strip() == "interrupted"
    # Within 1 s on an idle machine (the sleep is 5 s); the bound is loose
    # for loaded test machines but far below the sleep.
    assert elapsed < 2.5, f"SIGINT took {elapsed:.2f} s to end asyncio.run"
