// Backend names, runtime probing and the default choice. Which backends are
// compiled in is decided in one place, the top-level CMakeLists.txt, which
// defines UNIPOLL_HAVE_<NAME>; this file is compiled once per library variant.
//
// A probe builds the backend (Seastar-style: exercise the kernel feature,
// do not read version numbers), so probing is not free: io_uring creates a
// ring and completes a poll, and a sandbox may kill a process that calls
// io_uring_setup at all. Hence the default choice probes in preference
// order and stops at the first backend that works, and the backend that
// probe built is the one the default-constructed poller gets. Only
// available_backends() probes everything. Each backend is probed at most
// once per process; the outcome is kept.
#include "backend_factories.hpp"
#include "errors.hpp"

#include <unipoll/poller.hpp>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <mutex>
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

constexpr bool built(backend b) noexcept {
    switch (b) {
#if UNIPOLL_HAVE_EPOLL
        case backend::epoll: return true;
#endif
#if UNIPOLL_HAVE_IO_URING
        case backend::io_uring: return true;
#endif
#if UNIPOLL_HAVE_KQUEUE
        case backend::kqueue:
        case backend::kqueue_pipe: return true;
#endif
#if UNIPOLL_HAVE_POLL
        case backend::poll: return true;
#endif
#if UNIPOLL_HAVE_IOCP
        case backend::iocp: return true;
#endif
        default: return false;
    }
}

std::system_error not_built(backend b) {
    return detail::usage_error(ENOTSUP, b, "create", detail::no_fd,
                               "not built into this unipoll (not supported on this OS, or "
                               "disabled at configure time)");
}

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
    throw not_built(b);
}

// What this process knows about each backend. Probes run outside the lock
// (they make system calls); when two threads probe the same backend at
// once, the first outcome recorded stays.
class probe_table {
public:
    enum class state : unsigned char { unknown, works, fails };

    state get(backend b) {
        std::lock_guard lock(mu_);
        return state_[index(b)];
    }
    std::string reason(backend b) {
        std::lock_guard lock(mu_);
        return reason_[index(b)];
    }
    void record(backend b, state s, std::string why = {}) {
        std::lock_guard lock(mu_);
        if (state_[index(b)] != state::unknown) return;
        state_[index(b)] = s;
        reason_[index(b)] = std::move(why);
    }

private:
    static std::size_t index(backend b) noexcept { return static_cast<std::size_t>(b); }

    std::mutex mu_;
    std::array<state, backend_count> state_{};
    std::array<std::string, backend_count> reason_{};
};

probe_table& probes() {
    static probe_table table;
    return table;
}

bool known_backend(backend b) noexcept { return static_cast<std::size_t>(b) < backend_count; }

// Builds `b` and records whether it works here. Returns the working backend,
// or nullptr with the reason recorded.
std::unique_ptr<detail::backend_impl> build_and_record(backend b) {
    using state = probe_table::state;
    if (!built(b)) {
        probes().record(b, state::fails, not_built(b).what());
        return nullptr;
    }
    try {
        auto impl = make(b);
        if (impl->kind() == b) {
            probes().record(b, state::works);
            return impl;
        }
        // kqueue whose EVFILT_USER does not fire hands out kqueue-pipe.
        probes().record(b, state::fails,
                        std::string(name(b)) + ": falls back to " +
                            std::string(name(impl->kind())) + " on this system");
    } catch (const std::system_error& e) {
        probes().record(b, state::fails, e.what());
    }
    return nullptr;
}

bool works(backend b) {
    using state = probe_table::state;
    if (probes().get(b) == state::unknown) build_and_record(b);
    return probes().get(b) == state::works;
}

// UNIPOLL_BACKEND, if set: its backend is used without probing.
std::optional<backend> forced_backend() {
    const char* env = std::getenv("UNIPOLL_BACKEND");
    if (!env || !*env) return std::nullopt;
    if (auto b = parse_backend(env)) return b;
    throw std::system_error(EINVAL, std::generic_category(),
                            std::string("UNIPOLL_BACKEND: unknown backend \"") + env +
                                "\" (expected epoll, io_uring, kqueue, kqueue-pipe, poll or iocp)");
}

[[noreturn]] void throw_none_works() {
    throw std::system_error(ENOSYS, std::generic_category(),
                            "unipoll: no backend works on this system");
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
        if (works(b)) out.push_back(b);
    return out;
}

std::string unavailable_reason(backend b) {
    if (!known_backend(b))
        return "unknown backend " + std::to_string(static_cast<int>(b));
    works(b);
    return probes().reason(b);
}

backend default_backend() {
    if (auto forced = forced_backend()) return *forced;
    for (backend b : preference)
        if (built(b) && works(b)) return b;
    throw_none_works();
}

namespace detail {

// Used by poller's constructors: builds the backend or throws its reason.
std::unique_ptr<backend_impl> create_backend(backend b) { return make(b); }

// The default constructor's backend: default_backend(), without building
// the chosen backend twice on the first call in a process.
std::unique_ptr<backend_impl> create_default_backend() {
    using state = probe_table::state;
    if (auto forced = forced_backend()) return make(*forced);
    for (backend b : preference) {
        if (!built(b)) continue;
        switch (probes().get(b)) {
            case state::fails: continue;
            // Known to work: its errors now (EMFILE, say) are the caller's,
            // not a reason to pick another backend.
            case state::works: return make(b);
            case state::unknown:
                if (auto impl = build_and_record(b)) return impl;
                // Another thread may have recorded a success meanwhile.
                if (probes().get(b) == state::works) return make(b);
        }
    }
    throw_none_works();
}

}  // namespace detail
}  // namespace unipoll
