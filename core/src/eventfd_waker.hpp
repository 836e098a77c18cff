// The wake primitive of the Linux backends (epoll, io_uring): an eventfd
// that is written to post and never read. Every write(2) to an eventfd wakes
// its waiters, so EPOLLET and a multishot io_uring poll see one new edge per
// post even though the counter is never reset (the consume-on-delivery of
// docs/semantics.md §"How it works: the relay protocol").
#pragma once

#include <unipoll/poller.hpp>

namespace unipoll::detail {

class eventfd_waker {
public:
    explicit eventfd_waker(backend owner);  // throws std::system_error
    eventfd_waker(const eventfd_waker&) = delete;
    eventfd_waker& operator=(const eventfd_waker&) = delete;
    ~eventfd_waker();

    int fd() const noexcept { return fd_; }

    // Async-signal-safe. Returns the number of syscalls made: 1, or 3 on the
    // overflow path (the counter is never read, so after 2^64-2 posts a write
    // fails with EAGAIN: read once to reset it, then write again).
    unsigned post() noexcept;

    // Tests only: set the counter to its maximum so the next post() overflows.
    bool saturate() noexcept;

private:
    int fd_ = -1;
};

}  // namespace unipoll::detail
