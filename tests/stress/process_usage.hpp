// What the process holds, to show a long run does not grow: open
// descriptors and resident memory.
#pragma once

#include <cstddef>

namespace stress {

// Open descriptors: the entries of /proc/self/fd where that exists (minus
// the one the count itself opens), else a probe of every possible number.
std::size_t open_fd_count();

// Resident set size in bytes: /proc/self/statm where it exists, else the
// peak from getrusage() (which can only grow, so a leak still shows).
std::size_t resident_bytes();

}  // namespace stress
