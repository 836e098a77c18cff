/// @file
/// @brief The poller and everything it takes and returns.
///
/// unipoll: one readiness poller over epoll, io_uring, kqueue, poll(2) and
/// Windows' I/O completion ports, with the same semantics on all of them.
///
/// The contract is written out in docs/semantics.md; the short form is here,
/// next to each declaration. Errors are std::system_error in the generic
/// (errno) category, with a message naming the backend, the call and the fd.
#pragma once

// std::span and friends: say so plainly instead of a page of template
// errors (g++ 12 and clang 14 default to C++17). MSVC reports the language
// version in _MSVC_LANG; its __cplusplus is 199711L without /Zc:__cplusplus.
#if (defined(_MSVC_LANG) && _MSVC_LANG < 202002L) || (!defined(_MSVC_LANG) && __cplusplus < 202002L)
#error "unipoll needs C++20: compile with -std=c++20 (MSVC: /std:c++20)"
#endif

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

/// Everything public in unipoll.
namespace unipoll {

/// The kernel mechanism a poller uses.
enum class backend {
    epoll,        ///< Linux epoll, woken through an eventfd
    io_uring,     ///< Linux io_uring (through liburing), woken through an eventfd
    kqueue,       ///< BSD and macOS kqueue, woken through an EVFILT_USER event
    kqueue_pipe,  ///< kqueue woken through a pipe, where EVFILT_USER is missing or broken
    poll,         ///< POSIX poll(2) (ppoll where present), woken through a pipe
    iocp          ///< Windows I/O completion ports
};

/// Stable name of a backend: "epoll", "io_uring", "kqueue", "kqueue-pipe",
/// "poll", "iocp"; "unknown" for a value outside the enumeration.
std::string_view name(backend) noexcept;

/// Inverse of name(); std::nullopt for an unknown name.
std::optional<backend> parse_backend(std::string_view) noexcept;

/// Backends that work on the running kernel, preferred first. Each backend
/// is probed by creating it (io_uring completes a poll, kqueue checks that
/// EVFILT_USER fires), once per process; this call probes every backend
/// not probed yet.
std::vector<backend> available_backends();

/// The UNIPOLL_BACKEND environment variable if set (std::system_error with
/// EINVAL for an unknown name), otherwise the first backend in preference
/// order that works here. Probes in that order and stops at the first that
/// works: backends after it are never touched.
backend default_backend();

/// Why a backend is not available here ("io_uring: io_uring_setup: Operation
/// not permitted"), or an empty string when it is. Probes only that backend.
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
enum class interest : std::uint8_t {
    none = 0,       ///< registered, but nothing is reported (not even hangup)
    read = 1,       ///< readable, and hangup
    write = 2,      ///< writable
    read_write = 3  ///< both
};

/// Union of two interests: `interest::read | interest::write` is read_write.
constexpr interest operator|(interest a, interest b) noexcept {
    return static_cast<interest>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
/// Intersection of two interests.
constexpr interest operator&(interest a, interest b) noexcept {
    return static_cast<interest>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
/// Complement within read_write: the complement of read is write.
constexpr interest operator~(interest a) noexcept {
    return static_cast<interest>(~static_cast<std::uint8_t>(a) & 3u);
}

/// When a ready fd is reported.
enum class trigger : std::uint8_t {
    level,   ///< on every poll while ready
    edge,    ///< once per readiness change (new data, new space): read until EAGAIN
    oneshot  ///< once, then disarmed until modify()
};

/// One ready fd, as poller::poll() reports it.
struct event {
    std::uint64_t token;  ///< the value given to add()/modify(); any value
    bool readable;        ///< readable, and read is in the interest
    bool writable;        ///< writable, and write is in the interest
    bool hangup;          ///< peer closed / POLLHUP / EV_EOF
    bool error;           ///< POLLERR / EV_ERROR on the fd
};

/// What one poller::poll() call did.
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

/// Cumulative per-poller counters, as poller::stats() returns them.
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
///
/// **Moved-from pollers.** Moving a poller moves its kernel object and
/// registrations; the source is left empty, and every member stays safe to
/// call on it: kind() still returns the backend it had, supports() returns
/// false, stats() returns all zeros, wake() does nothing, and add(),
/// modify(), remove() and poll() throw std::system_error with EBADF ("this
/// poller was moved from"). Assigning a poller to it makes it usable again;
/// destroying it is fine. A constructor that throws leaves no poller behind,
/// and `p = poller(b)` whose constructor throws leaves `p` as it was.
///
/// **Forked children.** In a child forked after the poller was created,
/// add(), modify(), remove() and poll() throw std::system_error with EPERM
/// and wake() does nothing: create a new poller in the child.
class poller {
public:
    /// A poller on default_backend(), probing backends in preference order
    /// and stopping at the first that works (that probe's backend is the one
    /// used). std::system_error with ENOSYS if none works, EINVAL for an
    /// unknown UNIPOLL_BACKEND, or the forced backend's error.
    poller();
    /// A poller on backend `b`; std::system_error if it is not available
    /// here (ENOTSUP if not built into this library, otherwise the kernel's
    /// error, e.g. ENOSYS or EPERM for io_uring). kqueue whose EVFILT_USER
    /// does not fire gives a kqueue_pipe poller: check kind().
    explicit poller(backend b);
    /// As poller(), with options.
    explicit poller(poller_options options);
    /// As poller(backend), with options.
    poller(backend b, poller_options options);
    /// Takes over `other`'s kernel object and registrations; `other` is left
    /// moved-from (see the class description).
    poller(poller&& other) noexcept;
    /// Closes this poller's kernel object, then takes over `other`'s;
    /// `other` is left moved-from. Self-assignment changes nothing.
    poller& operator=(poller&& other) noexcept;
    poller(const poller&) = delete;             ///< not copyable
    poller& operator=(const poller&) = delete;  ///< not copyable
    /// Closes the kernel object. No thread may be inside a call on this
    /// poller (a blocking poll included: wake it and join it first).
    ~poller();

    /// The backend in use (also after a move: the one this poller had).
    backend kind() const noexcept;
    /// Whether add()/modify() accept this trigger (poll has no edge);
    /// false on a moved-from poller.
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
    /// EINVAL for an empty `out`, EBUSY while another thread is in a
    /// blocking poll.
    poll_result poll(std::span<event> out, std::chrono::nanoseconds timeout = forever);

    /// Make the blocking poll in progress, or else the next one, return with
    /// woken == true. Any thread; async-signal-safe; coalesces. Does nothing
    /// on a moved-from poller.
    void wake() noexcept;

    /// This poller's counters so far; all zero on a moved-from poller.
    counters stats() const noexcept;

private:
    friend struct detail::testing_access;
    std::unique_ptr<detail::poller_core> core_;
    backend kind_;
};

}  // namespace unipoll
