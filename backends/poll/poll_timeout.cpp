#include "poll_timeout.hpp"

#include <climits>

namespace unipoll::detail {

#if UNIPOLL_HAVE_PPOLL
const char* const kernel_poll_name = "ppoll";
#else
const char* const kernel_poll_name = "poll";
#endif

int poll_milliseconds(std::chrono::nanoseconds timeout) noexcept {
    const long long ns = timeout.count();
    if (ns < 0) return -1;
    const long long ms = ns / 1'000'000 + (ns % 1'000'000 != 0 ? 1 : 0);
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

timespec poll_timespec(std::chrono::nanoseconds timeout) noexcept {
    const long long ns = timeout.count();
    timespec ts{};
    if (ns / 1'000'000'000 >= max_timeout_seconds) {
        ts.tv_sec = static_cast<time_t>(max_timeout_seconds);
        return ts;
    }
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return ts;
}

int kernel_poll(std::span<pollfd> fds, std::chrono::nanoseconds timeout) noexcept {
    const auto n = static_cast<nfds_t>(fds.size());
#if UNIPOLL_HAVE_PPOLL
    if (timeout.count() < 0) return ::ppoll(fds.data(), n, nullptr, nullptr);
    const timespec ts = poll_timespec(timeout);
    return ::ppoll(fds.data(), n, &ts, nullptr);
#else
    return ::poll(fds.data(), n, poll_milliseconds(timeout));
#endif
}

}  // namespace unipoll::detail
