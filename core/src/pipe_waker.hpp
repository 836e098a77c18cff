// The wake primitive of the level-triggered backends (poll, kqueue-pipe): a
// non-blocking pipe. post() writes one byte; the read end stays readable
// until drained, and only the blocking poller drains it, so a non-blocking
// poll can never steal a wake from the sleeper (Go's netpoll_kqueue_pipe
// drains only when blocking for the same reason).
#pragma once

#include <unipoll/poller.hpp>

namespace unipoll::detail {

class pipe_waker {
public:
    explicit pipe_waker(backend owner);  // throws std::system_error
    pipe_waker(const pipe_waker&) = delete;
    pipe_waker& operator=(const pipe_waker&) = delete;
    ~pipe_waker();

    int read_fd() const noexcept { return rd_; }

    // Async-signal-safe; returns the syscalls made. A full pipe (EAGAIN) is
    // fine: it is readable already.
    unsigned post() noexcept;

    // Empties the pipe; returns the syscalls made.
    unsigned drain() noexcept;

private:
    int rd_ = -1;
    int wr_ = -1;
};

}  // namespace unipoll::detail
