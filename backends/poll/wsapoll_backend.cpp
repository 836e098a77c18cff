#include "wsapoll_backend.hpp"

#include "backend_factories.hpp"
#include "errors.hpp"
#include "timeout_ms.hpp"

#include <cerrno>
#include <climits>

namespace unipoll::detail {
namespace {

bool has(interest set, interest bit) noexcept { return (set & bit) == bit; }

// The WSAPOLLFD events for a registration, or 0 if it must not be in the
// array at all (WSAPoll reports hangups and errors whatever was asked).
// POLLRDNORM/POLLWRNORM rather than POLLIN/POLLOUT: WSAPoll rejects
// POLLRDBAND (part of POLLIN) on some sockets with WSAEINVAL.
SHORT wsapoll_events(const socket_registration& r) noexcept {
    if (r.what == interest::none || !r.armed) return 0;
    int m = 0;
    if (has(r.what, interest::read)) m |= POLLRDNORM;
    if (has(r.what, interest::write)) m |= POLLWRNORM;
    return static_cast<SHORT>(m);
}

// 0 if `s` is an open socket, else the WSA error of getsockopt(SO_TYPE).
int socket_query_error(native_handle s) noexcept {
    int type = 0;
    int len = sizeof type;
    return ::getsockopt(s, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) == 0
               ? 0
               : ::WSAGetLastError();
}

}  // namespace

wsapoll_backend::wsapoll_backend() : session_(backend::poll), waker_(backend::poll) {}

// The counterpart of the POSIX backend's fstat(): WSAPoll accepts any value,
// so this is what makes a value that is not a socket (or a closed socket)
// EBADF, as epoll_ctl would.
void wsapoll_backend::check_socket(std::string_view op, native_handle s) {
    stat_counters::bump(stats.syscalls);
    if (const int err = socket_query_error(s); err != 0)
        throw_windows_error(static_cast<unsigned long>(err), backend::poll, op, s,
                            "getsockopt(SO_TYPE)");
}

void wsapoll_backend::add(native_handle s, interest what, std::uint64_t token, trigger how) {
    check_socket("add", s);
    bool changed = false;
    {
        std::lock_guard lock(mu_);
        auto [it, inserted] = regs_.try_emplace(s);
        socket_registration& r = it->second;
        SHORT before = 0;
        if (!inserted) {
            if (!r.closed)
                throw_usage(EEXIST, backend::poll, "add", s,
                            "already registered (a socket closed without remove() leaves its "
                            "value registered until a poll notices the close: remove() it first)");
            before = wsapoll_events(r);
        }
        r = socket_registration{token, ++next_gen_, what, how, true, false};
        // A replaced entry needs a rebuild even with the same events: its
        // generation changed.
        changed = before != 0 || wsapoll_events(r) != 0;
        if (changed) mark_changed_locked();
    }
    if (changed) wake_sleeper_for_change();
}

void wsapoll_backend::modify(native_handle s, interest what, std::uint64_t token, trigger how) {
    bool changed = false;
    {
        std::lock_guard lock(mu_);
        auto it = regs_.find(s);
        if (it == regs_.end()) throw_usage(ENOENT, backend::poll, "modify", s, "not registered");
        // A closed socket is EBADF, as epoll_ctl says of a closed fd.
        check_socket("modify", s);
        socket_registration& r = it->second;
        if (r.closed) {
            // The value names another socket now: the closed one's
            // registration is gone, and the new socket was never added.
            regs_.erase(it);
            throw_usage(ENOENT, backend::poll, "modify", s,
                        "the registered socket was closed without remove() and the value reused");
        }
        const SHORT before = wsapoll_events(r);
        r.what = what;
        r.token = token;
        r.how = how;
        r.armed = true;
        // A token-only change needs no new array: results are mapped to the
        // token under the lock, after the kernel call.
        changed = wsapoll_events(r) != before;
        if (changed) mark_changed_locked();
    }
    if (changed) wake_sleeper_for_change();
}

void wsapoll_backend::remove(native_handle s) {
    bool changed = false;
    {
        std::lock_guard lock(mu_);
        auto it = regs_.find(s);
        if (it == regs_.end()) throw_usage(ENOENT, backend::poll, "remove", s, "not registered");
        changed = wsapoll_events(it->second) != 0;
        regs_.erase(it);
        if (changed) mark_changed_locked();
    }
    // The sleeper lets go of the socket too, so that nothing of it is
    // reported by a poll that starts after remove() returns.
    if (changed) wake_sleeper_for_change();
}

void wsapoll_backend::mark_changed_locked() noexcept {
    nonblocking_stale_ = true;
    sleeper_stale_.store(true);
}

void wsapoll_backend::wake_sleeper_for_change() noexcept {
    if (in_wait_.load() && !change_posted_.exchange(true))
        stat_counters::bump(stats.syscalls, waker_.post());
}

void wsapoll_backend::post() noexcept {
    wake_posted_.store(true);
    stat_counters::bump(stats.syscalls, waker_.post());
}

wait_result wsapoll_backend::wait(std::span<event> out, std::chrono::nanoseconds timeout) {
    return timeout.count() == 0 ? wait_nonblocking(out) : wait_blocking(out, timeout);
}

wait_result wsapoll_backend::wait_blocking(std::span<event> out,
                                           std::chrono::nanoseconds timeout) {
    in_wait_.store(true);
    if (sleeper_stale_.exchange(false)) {
        std::lock_guard lock(mu_);
        rebuild_locked(sleeper_, true);
    }
    stat_counters::bump(stats.syscalls);
    const int ready = ::WSAPoll(sleeper_.fds.data(), static_cast<ULONG>(sleeper_.fds.size()),
                                static_cast<INT>(milliseconds_rounded_up(timeout, INT_MAX)));
    const int err = ::WSAGetLastError();
    in_wait_.store(false);
    if (ready == SOCKET_ERROR && err == WSAENOTSOCK) {
        // A socket of the array was closed while the call started: by
        // remove() and close() in another thread since the array was built
        // (remove() marked it stale), or closed without remove(). Windows
        // documents POLLNVAL for the entry; Wine fails the whole call.
        // Either way nothing is reported by this call: the core waits again
        // with a rebuilt array.
        std::lock_guard lock(mu_);
        disarm_closed_locked(sleeper_, 1);
        return {};
    }
    if (ready == SOCKET_ERROR)
        throw_windows_error(static_cast<unsigned long>(err), backend::poll, "poll", no_fd, "WSAPoll");

    wait_result result;
    if (sleeper_.fds[0].revents != 0) {
        stat_counters::bump(stats.syscalls, waker_.drain());
        // After the drain, as on POSIX: a change that found the flag still
        // set stored sleeper_stale_ first, so the next wait rebuilds for it.
        change_posted_.store(false);
        result.wake_event = wake_posted_.exchange(false);
    }
    // Scanned even when WSAPoll counted nothing: Wine leaves POLLNVAL
    // entries out of the count, and a closed socket must be disarmed.
    std::lock_guard lock(mu_);
    result.count = collect_locked(sleeper_, 1, out);
    return result;
}

wait_result wsapoll_backend::wait_nonblocking(std::span<event> out) {
    // Holding the lock across a zero-timeout WSAPoll keeps the second array
    // private without allocating per call; the call does not block.
    std::lock_guard lock(mu_);
    if (nonblocking_stale_) {
        rebuild_locked(nonblocking_, false);
        nonblocking_stale_ = false;
    }
    // WSAPoll fails on an empty array (WSAEINVAL).
    if (nonblocking_.fds.empty()) return {};
    stat_counters::bump(stats.syscalls);
    if (::WSAPoll(nonblocking_.fds.data(), static_cast<ULONG>(nonblocking_.fds.size()), 0) ==
        SOCKET_ERROR) {
        const int err = ::WSAGetLastError();
        // Closed without remove() (remove() cannot run while this holds the
        // lock): as in wait_blocking.
        if (err != WSAENOTSOCK)
            throw_windows_error(static_cast<unsigned long>(err), backend::poll, "poll", no_fd,
                                "WSAPoll");
        disarm_closed_locked(nonblocking_, 0);
        return {};
    }
    return {collect_locked(nonblocking_, 0, out), false, false};
}

void wsapoll_backend::rebuild_locked(wsapoll_set& set, bool with_waker) {
    set.fds.clear();
    set.gens.clear();
    if (with_waker) {
        set.fds.push_back(WSAPOLLFD{waker_.read_socket(), POLLRDNORM, 0});
        set.gens.push_back(0);
    }
    for (const auto& [s, r] : regs_) {
        if (const SHORT events = wsapoll_events(r)) {
            set.fds.push_back(WSAPOLLFD{s, events, 0});
            set.gens.push_back(r.gen);
        }
    }
}

std::size_t wsapoll_backend::collect_locked(wsapoll_set& set, std::size_t first,
                                            std::span<event> out) {
    const std::size_t n = set.fds.size() - first;
    if (n == 0) return 0;
    const std::size_t start = set.next % n;
    std::size_t count = 0;
    std::size_t scanned = 0;
    for (; scanned < n && count < out.size(); ++scanned) {
        WSAPOLLFD& entry = set.fds[first + (start + scanned) % n];
        const int rev = entry.revents;
        if (rev == 0) continue;
        // Removed, or removed and added again, since this array was built.
        auto it = regs_.find(entry.fd);
        if (it == regs_.end() || it->second.gen != set.gens[first + (start + scanned) % n])
            continue;
        socket_registration& r = it->second;
        if (rev & POLLNVAL) {
            // Closed without remove(): disarmed rather than reported on every
            // poll; it stays registered so that a late remove() succeeds,
            // and an add() of the value may replace it.
            r.armed = false;
            r.closed = true;
            mark_changed_locked();
            continue;
        }
        // modify() may have narrowed the interest or a oneshot fired since
        // the array was built.
        if (wsapoll_events(r) == 0) continue;
        event e{};
        e.token = r.token;
        e.readable = (rev & POLLRDNORM) != 0 && has(r.what, interest::read);
        e.writable = (rev & POLLWRNORM) != 0 && has(r.what, interest::write);
        e.hangup = (rev & POLLHUP) != 0;
        e.error = (rev & POLLERR) != 0;
        if (!e.readable && !e.writable && !e.hangup && !e.error) continue;
        out[count++] = e;
        if (r.how == trigger::oneshot) {
            r.armed = false;
            mark_changed_locked();
        }
    }
    set.next = (start + scanned) % n;
    return count;
}

// After WSAPoll failed with WSAENOTSOCK: the registrations in `set` whose
// socket is closed are disarmed as POLLNVAL would have them (a removed one
// is gone from regs_ already), so that a rebuilt array leaves them out
// instead of failing again. One getsockopt per entry; this is rare.
void wsapoll_backend::disarm_closed_locked(const wsapoll_set& set, std::size_t first) {
    for (std::size_t i = first; i < set.fds.size(); ++i) {
        const auto it = regs_.find(set.fds[i].fd);
        if (it == regs_.end() || it->second.gen != set.gens[i]) continue;
        stat_counters::bump(stats.syscalls);
        if (socket_query_error(set.fds[i].fd) == 0) continue;
        it->second.armed = false;
        it->second.closed = true;
    }
    // Rebuilt by the next call of either kind, whatever was found: a
    // remove() that raced the call has marked it stale already.
    mark_changed_locked();
}

std::unique_ptr<backend_impl> make_poll_backend() { return std::make_unique<wsapoll_backend>(); }

}  // namespace unipoll::detail
