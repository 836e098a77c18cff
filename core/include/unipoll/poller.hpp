// unipoll: one readiness poller over epoll, io_uring, kqueue, poll(2) and
// Windows' I/O completion ports, with the same semantics on all of them.
//
// The contract is written out in docs/semantics.md; the short form is here,
// next to each declaration. Errors are std::system_error in the generic
// (errno) category, with a message naming the backend, the call and the fd.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace unipoll {

/// The kernel mechanism a poller uses.
enum class backend { epoll, io_uring, kqueue, kqueue_pipe, poll, iocp };

/// Stable name of a backend: "epoll", "io_uring", "kqueue", "kqueue-pipe",
/// "poll", "iocp".
std::string_view name(backend) noexcept;

/// Inverse of name(); std::nullopt for an unknown name.
std::optional<backend> parse_backend(std::string_view) noexcept;

/// Backends that work on the running kernel (each one probed, not only
/// compiled in), preferred first.
std::vector<backend> available_backends();

/// The UNIPOLL_BACKEND environment variable if set (std::system_error with
/// EINVAL for an unknown name), otherwise the first of available_backends().
backend default_backend();

/// Why a backend is not available here ("io_uring: io_uring_setup: Operation
/// not permitted"), or an empty string when it is.
std::string unavailable_reason(backend);

/// What add()/modify()/remove() take: a file descriptor on POSIX systems, a
/// SOCKET on Windows (SOCKET is UINT_PTR there; spelled std::uintptr_t so
/// that this header does not pull in <winsock2.h>).
#ifdef _WIN32
using native_handle = std::uintptr_t;
#else
using native_handle = int;
#endif

/// Which directions a registration watches.
enum class interest : std::uint8_t { none = 0, read = 1, write = 2, read_write = 3 };

constexpr interest operator|(interest a, interest b) noexcept {
    return static_cast<interest>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr interest operator&(interest a, interest b) noexcept {
    return static_cast<interest>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
constexpr interest operator~(interest a) noexcept {
    return static_cast<interest>(~static_cast<std::uint8_t>(a) & 3u);
}

/// level: reported on every poll while ready. edge: once per readiness
/// change. oneshot: once, then disarmed until modify().
enum class trigger : std::uint8_t { level, edge, oneshot };

struct event {
    std::uint64_t token;  ///< the value given to add()/modify(); any value
    bool readable;
    bool writable;
    bool hangup;          ///< peer closed / POLLHUP / EV_EOF
    bool error;           ///< POLLERR / EV_ERROR on the fd
};

struct poll_result {
    std::size_t count;    ///< events written to the front of `out`
    bool woken;           ///< this poll consumed a wake()
    bool interrupted;     ///< a signal ended this blocking poll early; only
                          ///< with poller_options::return_on_signal (the
                          ///< kernel wait returned EINTR, see there)
};

/// Choices made when a poller is created.
struct poller_options {
    /// false (default): a signal does not end a blocking poll; the wait is
    /// resumed with the time left, and a handler that wants the poll to
    /// return calls wake(). true: a blocking poll whose kernel wait is
    /// interrupted by a signal handler (EINTR) returns at once with
    /// `interrupted == true` and whatever it had gathered, so that runtimes
    /// which act on signals only after the system call returns (Python, a C
    /// flag set in the handler) regain control. As with any EINTR-based
    /// interface, a signal that lands just before the poll enters the
    /// kernel does not end it; wake() from the handler covers that window.
    /// And as with any EINTR-based interface, the kernel may end a wait
    /// with EINTR when no handler ran (task work io_uring queues to the
    /// thread after a ring is closed, ptrace, the cgroup freezer): treat
    /// `interrupted` as "check the signal flags, then poll again", as
    /// Python's selectors do (PEP 475).
    bool return_on_signal = false;
};

/// Any negative timeout means "no timeout".
inline constexpr std::chrono::nanoseconds forever{-1};

/// Cumulative per-poller counters.
struct counters {
    std::uint64_t syscalls;         ///< every kernel call this poller made
    std::uint64_t wake_posts;       ///< wake() calls that made a kernel call
    std::uint64_t wakes_coalesced;  ///< wake() calls that made none
    std::uint64_t relays;           ///< wake events re-posted for the sleeper
    std::uint64_t stale_wakeups;    ///< kernel wake events with no wake pending
};

namespace detail {
class poller_core;
struct testing_access;
}  // namespace detail

/// A readiness poller. One thread at a time may run a blocking poll
/// (timeout != 0); any thread may run non-blocking polls, add/modify/remove
/// and wake() concurrently with it.
class poller {
public:
    poller();                   ///< default_backend()
    explicit poller(backend);   ///< std::system_error if not available here
    explicit poller(poller_options);          ///< default_backend()
    poller(backend, poller_options);
    poller(poller&&) noexcept;
    poller& operator=(poller&&) noexcept;
    poller(const poller&) = delete;
    poller& operator=(const poller&) = delete;
    ~poller();

    backend kind() const noexcept;
    bool supports(trigger) const noexcept;

    /// Register fd. EBADF for a bad fd, EEXIST if already registered, EINVAL
    /// for a bad interest/trigger value, EPERM for fds that cannot be polled
    /// for readiness (regular files, directories), ENOTSUP for an
    /// unsupported trigger. interest::none registers the fd but reports
    /// nothing for it. Close an fd only after remove().
    void add(native_handle fd, interest, std::uint64_t token, trigger = trigger::level);
    /// Replace interest, token and trigger of a registered fd (ENOENT if not).
    void modify(native_handle fd, interest, std::uint64_t token, trigger = trigger::level);
    /// Unregister fd (ENOENT if not registered). No event of it is delivered
    /// by a poll that starts after remove() returns.
    void remove(native_handle fd);

    /// Wait for events. timeout == 0 is a non-blocking poll, which never
    /// consumes a wake; anything else blocks until an event, a wake or the
    /// timeout. Signals do not end it (EINTR is retried with the time left)
    /// unless the poller was created with poller_options::return_on_signal;
    /// otherwise call wake() from the handler to make it return. Returns as
    /// many events as `out` holds, without allocating; entries of `out` past
    /// `count` may be used as scratch space and hold unspecified values.
    poll_result poll(std::span<event> out, std::chrono::nanoseconds timeout = forever);

    /// Make the blocking poll in progress, or else the next one, return with
    /// woken == true. Any thread; async-signal-safe; coalesces.
    void wake() noexcept;

    counters stats() const noexcept;

private:
    friend struct detail::testing_access;
    std::unique_ptr<detail::poller_core> core_;
};

}  // namespace unipoll
