// Which process a poller belongs to. epoll, io_uring and the pipes are
// shared with a forked child (kqueue descriptors are not), so a child that
// polled its copy of the parent's poller would take the parent's wake events
// out of the shared kernel object and drop them as stale (it has its own
// copy of `pending`), and its add/modify/remove would change the parent's
// interest set. A pthread_atfork child handler counts forks; a poller
// remembers the count it was created under and refuses to work in a child.
#pragma once

#include <cstdint>

namespace unipoll::detail {

// The number of fork()s between the process's start and this process
// (0 in the original process). One relaxed atomic load: no syscall.
#ifdef _WIN32
// Windows has no fork(): a poller always runs in the process that made it.
inline std::uint64_t fork_generation() noexcept { return 0; }
#else
std::uint64_t fork_generation() noexcept;
#endif

}  // namespace unipoll::detail
