"""UnipollSelector: a selectors.BaseSelector on unipoll.Poller.

It behaves like CPython's EpollSelector (the same exceptions, the same
mapping of hangups and errors to EVENT_READ/EVENT_WRITE) on every backend,
and adds ``wake()``, which makes a ``select()`` in progress on another
thread, or else the next one, return at once.
"""

import selectors as _selectors

from ._unipoll import ERROR, HANGUP, READ, WRITE, Poller

__all__ = ["UnipollSelector"]

EVENT_READ = _selectors.EVENT_READ
EVENT_WRITE = _selectors.EVENT_WRITE
assert (READ, WRITE) == (EVENT_READ, EVENT_WRITE)


class UnipollSelector(_selectors._BaseSelectorImpl):
    """Selector on unipoll. backend: "epoll", "io_uring", "poll", ... or
    None for unipoll.default_backend() ($UNIPOLL_BACKEND, else the best)."""

    _selector_cls = Poller

    def __init__(self, backend=None):
        super().__init__()
        self._selector = self._selector_cls(backend)

    @property
    def backend(self):
        """The name of the unipoll backend in use."""
        return self._selector.backend

    def register(self, fileobj, events, data=None):
        key = super().register(fileobj, events, data)
        try:
            self._selector.add(key.fd, events)
        except BaseException:
            super().unregister(fileobj)
            raise
        return key

    def unregister(self, fileobj):
        key = super().unregister(fileobj)
        try:
            self._selector.remove(key.fd)
        except OSError:
            # The fd was closed (and maybe reused) before unregister(), as
            # CPython's selectors allow.
            pass
        return key

    def modify(self, fileobj, events, data=None):
        try:
            key = self._fd_to_key[self._fileobj_lookup(fileobj)]
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None
        changed = False
        if events != key.events:
            try:
                self._selector.modify(key.fd, events)
            except BaseException:
                super().unregister(fileobj)
                raise
            changed = True
        if data != key.data:
            changed = True
        if changed:
            key = key._replace(events=events, data=data)
            self._fd_to_key[key.fd] = key
        return key

    def select(self, timeout=None):
        # None: wait forever; <= 0: do not block (selectors' contract).
        if timeout is not None and timeout <= 0:
            timeout = 0
        ready = []
        events, _woken = self._selector.poll(timeout, max(len(self._fd_to_key), 1))
        fd_to_key = self._fd_to_key
        for fd, flags in events:
            key = fd_to_key.get(fd)
            if key is None:
                continue
            mask = 0
            # Like EpollSelector: an error wakes both directions; a hangup
            # wakes the reader (EOF), or the writer of a write-only
            # registration (EPIPE), never a writer beside a reader, which a
            # half-closed peer would otherwise make spin.
            if flags & (READ | ERROR) or (flags & HANGUP and key.events & EVENT_READ):
                mask |= EVENT_READ
            if flags & (WRITE | ERROR) or (flags & HANGUP and not key.events & EVENT_READ):
                mask |= EVENT_WRITE
            mask &= key.events
            if mask:
                ready.append((key, mask))
        return ready

    def wake(self):
        """Make the select() in progress, or else the next one, return.
        Any thread; no system call unless a select() is blocked."""
        self._selector.wake()

    def close(self):
        self._selector.close()
        super().close()
