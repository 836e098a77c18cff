// Backend names, runtime probing and the default choice. Which backends are
// compiled in is decided in one place, the top-level CMakeLists.txt, which
// defines UNIPOLL_HAVE_<NAME>; this file is compiled once per library variant.
#include "backend_factories.hpp"
#include "errors.hpp"

#include <unipoll/poller.hpp>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

namespace unipoll {
namespace {

// Preference order: the native completion port on Windows; kqueue's
// EVFILT_USER and epoll are the mature native mechanisms elsewhere; io_uring
// is next (kernels and sandboxes often disable it); the pipe-based
// fallbacks come last. Every backend is listed: those not built here are
// reported as such by unavailable_reason().
constexpr std::array preference{backend::iocp, backend::kqueue, backend::epoll,
                                backend::io_uring, backend::kqueue_pipe, backend::poll};
constexpr std::size_t backend_count = preference.size();

std::unique_ptr<detail::backend_impl> make(backend b) {
    switch (b) {
#if UNIPOLL_HAVE_EPOLL
        case backend::epoll: return detail::make_epoll_backend();
#endif
#if UNIPOLL_HAVE_IO_URING
        case backend::io_uring: return detail::make_io_uring_backend();
#endif
#if UNIPOLL_HAVE_KQUEUE
        case backend::kqueue: return detail::make_kqueue_backend();
        case backend::kqueue_pipe: return detail::make_kqueue_pipe_backend();
#endif
#if UNIPOLL_HAVE_POLL
        case backend::poll: return detail::make_poll_backend();
#endif
#if UNIPOLL_HAVE_IOCP
        case backend::iocp: return detail::make_iocp_backend();
#endif
        default: break;
    }
    detail::throw_usage(ENOTSUP, b, "create", detail::no_fd, "not built into this unipoll (not supported on this OS, or disabled at configure time)");
}

struct probe_result {
    bool ok = false;
    std::string reason;
};

// Probed once per process: a probe creates kernel objects and, for
// io_uring, completes a poll.
const std::array<probe_result, backend_count>& probes() {
    static const std::array<probe_result, backend_count> results = [] {
        std::array<probe_result, backend_count> r{};
        for (backend b : preference) {
            auto& slot = r[static_cast<std::size_t>(b)];
            try {
                auto impl = make(b);
                if (impl->kind() == b) {
                    slot.ok = true;
                } else {
                    slot.reason = std::string(name(b)) + ": falls back to " +
                                  std::string(name(impl->kind())) + " on this system";
                }
            } catch (const std::system_error& e) {
                slot.reason = e.what();
            }
        }
        return r;
    }();
    return results;
}

}  // namespace

std::string_view name(backend b) noexcept {
    switch (b) {
        case backend::epoll: return "epoll";
        case backend::io_uring: return "io_uring";
        case backend::kqueue: return "kqueue";
        case backend::kqueue_pipe: return "kqueue-pipe";
        case backend::poll: return "poll";
        case backend::iocp: return "iocp";
    }
    return "unknown";
}

std::optional<backend> parse_backend(std::string_view s) noexcept {
    for (backend b : preference)
        if (name(b) == s) return b;
    return std::nullopt;
}

std::vector<backend> available_backends() {
    std::vector<backend> out;
    for (backend b : preference)
        if (probes()[static_cast<std::size_t>(b)].ok) out.push_back(b);
    return out;
}

std::string unavailable_reason(backend b) {
    return probes()[static_cast<std::size_t>(b)].reason;
}

backend default_backend() {
    if (const char* env = std::getenv("UNIPOLL_BACKEND"); env && *env) {
        if (auto b = parse_backend(env)) return *b;
        throw std::system_error(EINVAL, std::generic_category(),
                                std::string("UNIPOLL_BACKEND: unknown backend \"") + env +
                                    "\" (expected epoll, io_uring, kqueue, kqueue-pipe, poll or iocp)");
    }
    auto avail = available_backends();
    if (avail.empty())
        throw std::system_error(ENOSYS, std::generic_category(),
                                "unipoll: no backend works on this system");
    return avail.front();
}

namespace detail {

// Used by poller's constructor: builds the backend or throws its reason.
std::unique_ptr<backend_impl> create_backend(backend b) { return make(b); }

}  // namespace detail
}  // namespace unipoll
