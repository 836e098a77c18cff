// RLIMIT_NOFILE: the fd scenarios need up to 10,000 sockets, the echo
// scenario 10,000 connections in each of its two processes. Windows has no
// such limit on sockets: there every count is allowed.
#pragma once

#include <cstdint>
#include <string>

namespace compare {

struct fd_limit {
    std::uint64_t soft = 0;  // now in force
    std::string note;        // why it could not be raised to what was asked, or ""
};

/// Raises the soft limit (and, with the privilege, the hard one) to at
/// least `fds` if it can.
fd_limit raise_fd_limit(std::uint64_t fds);

}  // namespace compare
