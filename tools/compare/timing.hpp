// Clock and busy-wait helpers. Waiting threads spin instead of sleeping: a
// futex or nanosleep would add system calls to the very counts measured.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

namespace compare {

using clock_type = std::chrono::steady_clock;

/// Monotonic nanoseconds (vDSO on Linux: no system call).
inline std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_type::now().time_since_epoch())
        .count();
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#elif defined(_M_X64) || defined(_M_IX86)
    _mm_pause();  // MSVC: no GNU builtins or inline asm
#elif defined(_M_ARM64)
    __yield();
#endif
}

inline void spin_for(std::int64_t ns) noexcept {
    const std::int64_t end = now_ns() + ns;
    while (now_ns() < end) cpu_relax();
}

/// Spins until pred() holds; gives up (returns false) after `limit_ns`, so
/// a lost wake shows up as an error instead of a hang.
template <class Pred>
bool spin_until(Pred pred, std::int64_t limit_ns = 10'000'000'000) noexcept {
    std::int64_t deadline = 0;
    for (std::uint32_t i = 0;; ++i) {
        if (pred()) return true;
        cpu_relax();
        if ((i & 1023u) == 1023u) {
            const std::int64_t t = now_ns();
            if (deadline == 0) deadline = t + limit_ns;
            else if (t > deadline) return false;
        }
    }
}

}  // namespace compare
