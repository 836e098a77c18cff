#include "pipe_waker.hpp"

#include "errors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace unipoll::detail {
namespace {

// pipe2() is missing on macOS; set the flags by hand there. The race with a
// concurrent fork+exec that pipe2 avoids does not matter for a poller's
// private pipe that is created before it is shared.
void set_flags(int fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

pipe_waker::pipe_waker(backend owner) {
    int fds[2];
    if (::pipe(fds) != 0) throw_error(errno, owner, "create", no_fd, "pipe");
    rd_ = fds[0];
    wr_ = fds[1];
    set_flags(rd_);
    set_flags(wr_);
}

pipe_waker::~pipe_waker() {
    if (rd_ >= 0) ::close(rd_);
    if (wr_ >= 0) ::close(wr_);
}

unsigned pipe_waker::post() noexcept {
    const int saved = errno;
    const char byte = 1;
    unsigned calls = 1;
    while (::write(wr_, &byte, 1) < 0 && errno == EINTR) ++calls;
    errno = saved;
    return calls;
}

unsigned pipe_waker::drain() noexcept {
    const int saved = errno;
    char buf[256];
    unsigned calls = 0;
    for (;;) {
        ++calls;
        const ssize_t n = ::read(rd_, buf, sizeof buf);
        if (n == static_cast<ssize_t>(sizeof buf)) continue;
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    errno = saved;
    return calls;
}

}  // namespace unipoll::detail
