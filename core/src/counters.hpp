// Per-poller counters. Relaxed atomics on their own cache line: the wake
// path touches them once per call, which costs a few cycles and never
// contends with the protocol's flags (see poller_core.hpp).
#pragma once

#include <unipoll/poller.hpp>

#include <atomic>
#include <cstdint>

namespace unipoll::detail {

struct alignas(64) stat_counters {
    std::atomic<std::uint64_t> syscalls{0};
    std::atomic<std::uint64_t> wake_posts{0};
    std::atomic<std::uint64_t> wakes_coalesced{0};
    std::atomic<std::uint64_t> relays{0};
    std::atomic<std::uint64_t> stale_wakeups{0};

    static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
        c.fetch_add(n, std::memory_order_relaxed);
    }

    counters snapshot() const noexcept {
        return {syscalls.load(std::memory_order_relaxed),
                wake_posts.load(std::memory_order_relaxed),
                wakes_coalesced.load(std::memory_order_relaxed),
                relays.load(std::memory_order_relaxed),
                stale_wakeups.load(std::memory_order_relaxed)};
    }
};

}  // namespace unipoll::detail
