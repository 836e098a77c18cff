"""An asyncio event loop on UnipollSelector.

It is asyncio's own SelectorEventLoop with one change: a wakeup from another
thread (``call_soon_threadsafe``, which ``run_in_executor``, subprocess
watchers and ``Runner``'s Ctrl-C handling use) is ``Poller.wake()`` instead
of a byte written to the loop's self-pipe. That costs no system call when
the loop is busy and one when it sleeps, and nothing to read back.

The self-pipe itself stays, for signals only: ``signal.set_wakeup_fd`` (how
``loop.add_signal_handler`` learns of a signal that arrives on another
thread) needs a descriptor that CPython's C handler can write a byte to.
"""

import asyncio as _asyncio

from .selectors import UnipollSelector

__all__ = ["EventLoop", "EventLoopPolicy", "new_event_loop", "run"]


class EventLoop(_asyncio.SelectorEventLoop):
    """SelectorEventLoop on a UnipollSelector (or a given selector)."""

    def __init__(self, selector=None, *, backend=None):
        if selector is None:
            selector = UnipollSelector(backend)
        elif backend is not None:
            raise ValueError("give either a selector or a backend, not both")
        # Set before the base class makes the self-pipe, which may already
        # call _write_to_self.
        self._unipoll_wake = selector.wake if isinstance(selector, UnipollSelector) else None
        super().__init__(selector)

    def _write_to_self(self):
        wake = self._unipoll_wake
        if wake is None:
            super()._write_to_self()
        else:
            wake()


def new_event_loop(backend=None):
    """A new unipoll event loop. backend: a unipoll backend name, or None for
    unipoll.default_backend()."""
    return EventLoop(backend=backend)


class EventLoopPolicy(_asyncio.DefaultEventLoopPolicy):
    """asyncio's default policy, making unipoll event loops:
    ``asyncio.set_event_loop_policy(unipoll.asyncio.EventLoopPolicy())``."""

    def __init__(self, backend=None):
        super().__init__()
        self._unipoll_backend = backend

    def new_event_loop(self):
        return new_event_loop(self._unipoll_backend)


def run(main, *, debug=None, backend=None):
    """asyncio.run(main) on a unipoll event loop."""
    with _asyncio.Runner(debug=debug, loop_factory=lambda: new_event_loop(backend)) as runner:
        return runner.run(main)


