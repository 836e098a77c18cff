// One poll(2)-family call with a nanosecond timeout, and the conversions it
// needs. ppoll(2) (Linux, FreeBSD, NetBSD 10+, OpenBSD) takes a timespec;
// where it is missing (macOS) poll(2) takes milliseconds, rounded up so a
// sub-millisecond timeout never becomes a zero-timeout busy loop.
#pragma once

#include <poll.h>
#include <time.h>

#include <chrono>
#include <span>

namespace unipoll::detail {

// The kernel call kernel_poll() makes, for error messages.
extern const char* const kernel_poll_name;

// ppoll or poll over `fds`; negative timeout = forever, 0 = do not block.
// Returns what the call returned (errno set on -1). A timeout beyond what
// the call accepts is shortened: it then returns 0 early and the caller
// waits again for the rest.
int kernel_poll(std::span<pollfd> fds, std::chrono::nanoseconds timeout) noexcept;

// poll(2)'s timeout argument: -1 for negative, else milliseconds rounded up
// and capped at INT_MAX.
int poll_milliseconds(std::chrono::nanoseconds timeout) noexcept;

// ppoll(2)'s timeout argument for a non-negative timeout, capped at
// max_timeout_seconds.
timespec poll_timespec(std::chrono::nanoseconds timeout) noexcept;

// BSD kernels have rejected longer timeouts with EINVAL (itimerfix's limit
// of 10^8 seconds); no caller needs a single wait of three years.
inline constexpr long long max_timeout_seconds = 100'000'000;

}  // namespace unipoll::detail
