"""unipoll for Python: one readiness poller over epoll, io_uring and poll(2).

- ``unipoll.Poller``: the poller itself (add/modify/remove/poll/wake/stats).
- ``unipoll.selectors.UnipollSelector``: a ``selectors.BaseSelector``.
- ``unipoll.asyncio``: an asyncio event loop on it whose cross-thread wakeup
  (``call_soon_threadsafe``) is ``Poller.wake()``, which costs no system call
  when the loop is busy.
"""

from ._unipoll import (
    EDGE,
    ERROR,
    HANGUP,
    LEVEL,
    ONESHOT,
    READ,
    WRITE,
    Poller,
    available_backends,
    default_backend,
)

__all__ = [
    "EDGE",
    "ERROR",
    "HANGUP",
    "LEVEL",
    "ONESHOT",
    "READ",
    "WRITE",
    "Poller",
    "available_backends",
    "default_backend",
]
