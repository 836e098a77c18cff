// Kernel waits that take whole milliseconds (WSAPoll, GetQueuedCompletionStatusEx)
// get them rounded up, never down: a 0.3 ms timeout becomes 1 ms, not a
// zero-timeout wait that the core would re-issue until the deadline (a spin).
#pragma once

#include <chrono>

namespace unipoll::detail {

// -1 for a negative timeout (wait forever); otherwise the timeout in
// milliseconds rounded up and capped at `cap`. A capped wait returns early
// and the core waits again for what is left.
constexpr long long milliseconds_rounded_up(std::chrono::nanoseconds timeout,
                                            long long cap) noexcept {
    const long long ns = timeout.count();
    if (ns < 0) return -1;
    const long long ms = ns / 1'000'000 + (ns % 1'000'000 != 0 ? 1 : 0);
    return ms > cap ? cap : ms;
}

}  // namespace unipoll::detail
