#include "fork_guard.hpp"

#include <pthread.h>

#include <atomic>

namespace unipoll::detail {
namespace {

std::atomic<std::uint64_t> forks{0};

extern "C" void count_fork_in_child() { forks.fetch_add(1, std::memory_order_relaxed); }

// Installed before main() (and before any poller exists) so no fork can be
// missed; a static library keeps this object because fork_generation() is
// called from poller.cpp.
const int installed = ::pthread_atfork(nullptr, nullptr, count_fork_in_child);

}  // namespace

std::uint64_t fork_generation() noexcept {
    (void)installed;
    return forks.load(std::memory_order_relaxed);
}

}  // namespace unipoll::detail
