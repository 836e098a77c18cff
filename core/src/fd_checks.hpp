// Validation shared by backends whose kernel accepts any fd (poll(2),
// io_uring, kqueue) so that they fail exactly like epoll does: EBADF for a
// bad fd and EPERM for fds without readiness (regular files, directories),
// which epoll_ctl refuses and the others would report as always ready.
#pragma once

#include <unipoll/poller.hpp>

#include <cstdint>
#include <string_view>

namespace unipoll::detail {

struct file_identity {
    std::uint64_t dev;
    std::uint64_t ino;
};

// One fstat(2). Throws std::system_error (EBADF, EPERM) naming op and fd.
file_identity check_pollable(backend b, std::string_view op, int fd);

}  // namespace unipoll::detail
