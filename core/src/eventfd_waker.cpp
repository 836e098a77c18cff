#include "eventfd_waker.hpp"

#include "errors.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace unipoll::detail {

eventfd_waker::eventfd_waker(backend owner) {
    fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd_ < 0) throw_error(errno, owner, "create", no_fd, "eventfd");
}

eventfd_waker::~eventfd_waker() {
    if (fd_ >= 0) ::close(fd_);
}

unsigned eventfd_waker::post() noexcept {
    const int saved = errno;  // async-signal-safe: leave errno as found
    const std::uint64_t one = 1;
    unsigned calls = 1;
    while (::write(fd_, &one, sizeof one) < 0) {
        if (errno == EAGAIN) {
            // eventfd(2): a write that would push the counter past
            // 0xfffffffffffffffe fails with EAGAIN on a non-blocking fd.
            std::uint64_t drop;
            (void)::read(fd_, &drop, sizeof drop);
            calls += 2;
        } else if (errno != EINTR) {
            break;  // cannot happen for a valid eventfd; nothing to report from a signal handler
        } else {
            ++calls;
        }
    }
    errno = saved;
    return calls;
}

bool eventfd_waker::saturate() noexcept {
    const std::uint64_t max = 0xfffffffffffffffeULL;
    std::uint64_t drop;
    (void)::read(fd_, &drop, sizeof drop);
    return ::write(fd_, &max, sizeof max) == sizeof max;
}

}  // namespace unipoll::detail
