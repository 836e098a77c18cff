// Validation shared by backends whose kernel accepts any fd (poll(2),
// io_uring, kqueue) so that they fail exactly like epoll does: EBADF for a
// bad fd and EPERM for a file without readiness support, which epoll_ctl
// refuses and the others would report as always ready. The rule is written
// out in docs/semantics.md ("Which files can be registered").
#pragma once

#include "counters.hpp"

#include <unipoll/poller.hpp>

#include <cstdint>
#include <string_view>

namespace unipoll::detail {

struct file_identity {
    std::uint64_t dev;
    std::uint64_t ino;
};

// fstat(2), and for files that are not sockets or FIFOs a probe of the
// kernel's event mechanism (3 calls more). Throws std::system_error naming
// op and fd: EBADF for a bad fd, EPERM for a file the kernel cannot report
// readiness for (regular files on disk, directories, /dev/null, block
// devices). Every kernel call it makes is counted in `stats.syscalls`, on
// the throwing paths too.
file_identity check_pollable(backend b, std::string_view op, int fd, stat_counters& stats);

}  // namespace unipoll::detail
