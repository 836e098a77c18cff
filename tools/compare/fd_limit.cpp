#include "fd_limit.hpp"

#ifndef _WIN32
#include <sys/resource.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace compare {

#ifdef _WIN32
// Sockets are handles there: no per-process limit like RLIMIT_NOFILE.
fd_limit raise_fd_limit(std::uint64_t fds) { return {fds, ""}; }
#else
fd_limit raise_fd_limit(std::uint64_t fds) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return {0, std::string("getrlimit: ") + std::strerror(errno)};
    // rlim_t is unsigned on Linux and signed on FreeBSD: compare as uint64.
    const auto as_u64 = [](rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(v); };
    std::string note;
    if (as_u64(lim.rlim_cur) < fds) {
        rlimit want = lim;
        want.rlim_cur = static_cast<rlim_t>(fds);
        if (as_u64(want.rlim_max) < fds) want.rlim_max = static_cast<rlim_t>(fds);
        // Raising the hard limit needs privilege; else go as far as it allows.
        if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
            note = "RLIMIT_NOFILE hard limit " + std::to_string(as_u64(lim.rlim_max)) + " (raising it to " +
                   std::to_string(fds) + ": " + std::strerror(errno) + ")";
            want.rlim_max = lim.rlim_max;
            want.rlim_cur = lim.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &want);
        }
        ::getrlimit(RLIMIT_NOFILE, &lim);
    }
    return {as_u64(lim.rlim_cur), as_u64(lim.rlim_cur) >= fds ? "" : note};
}
#endif

}  // namespace compare
