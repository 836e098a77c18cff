// The measurements. Wake scenarios run on every subject (unipoll backends,
// peers, floors); the fd scenarios need registration and run on unipoll's
// backends only. Each returns finished records.
#pragma once

#include "options.hpp"
#include "peer.hpp"
#include "report.hpp"

#include <vector>

namespace compare {

record measure_wake_sleeping(const subject&, const options&);
record measure_wake_busy(const subject&, const options&);
record measure_coalescing(const subject&, const options&);
record measure_nonblocking_poll(const subject&, const options&);

/// One record per (registered, ready) cell.
std::vector<record> measure_readiness(const subject&, const options&);
record measure_registration(const subject&, const options&);

/// Raises RLIMIT_NOFILE to at least `fds` if it can; returns the limit now
/// in force.
std::uint64_t raise_fd_limit(std::uint64_t fds);

}  // namespace compare
