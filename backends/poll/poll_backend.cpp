#include "poll_backend.hpp"

#include "backend_factories.hpp"
#include "errors.hpp"
#include "fd_checks.hpp"
#include "poll_timeout.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace unipoll::detail {
namespace {

bool has(interest set, interest bit) noexcept { return (set & bit) == bit; }

// The pollfd events for a registration, or 0 if it must not be in the array
// at all: poll(2) reports POLLHUP and POLLERR even for events == 0, and
// interest::none and a fired oneshot must report nothing.
short poll_events(const registration& r) noexcept {
    if (r.what == interest::none || !r.armed) return 0;
    int m = 0;
    if (has(r.what, interest::read)) {
        m |= POLLIN;
#ifdef POLLRDHUP
        // Peer shutdown of its write side, as EPOLLRDHUP for the epoll
        // backend (Linux, FreeBSD 13+); elsewhere only POLLHUP reports it.
        m |= POLLRDHUP;
#endif
    }
    if (has(r.what, interest::write)) m |= POLLOUT;
    return static_cast<short>(m);
}

constexpr int hangup_bits =
#ifdef POLLRDHUP
    POLLHUP | POLLRDHUP;
#else
    POLLHUP;
#endif

}  // namespace

poll_backend::poll_backend() : waker_(backend::poll) {}

void poll_backend::add(int fd, interest what, std::uint64_t token, trigger how) {
    // poll(2) accepts any number, so the fstat here is what rejects a bad fd
    // (EBADF) and files without readiness (EPERM), as epoll_ctl would.
    const file_identity id = check_pollable(backend::poll, "add", fd, stats);
    bool changed = false;
    {
        std::lock_guard lock(mu_);
        short before = 0;
        switch (reg_.holder_of(fd, id)) {
            case registry::holder::none: break;
            case registry::holder::same_file:
                // Never closed, or closed and the same file put back under
                // the number: modify() is what re-arms it (poll(2) watches
                // whatever the number names, so it still reports).
                throw_usage(EEXIST, backend::poll, "add", fd, "already registered");
            case registry::holder::other_file:
                // The registered file was closed without remove() and the
                // number reused. Its registration is dead; the new one
                // takes its place.
                before = poll_events(*reg_.find(fd));
                break;
        }
        registration& r = reg_.insert(fd, what, token, how);
        registry::record_file(r, id);
        // A replaced entry needs a rebuild even with the same events: its key
        // (generation) changed.
        changed = before != 0 || poll_events(r) != 0;
        if (changed) mark_changed_locked();
    }
    if (changed) wake_sleeper_for_change();
}

void poll_backend::modify(int fd, interest what, std::uint64_t token, trigger how) {
    bool changed = false;
    int reused = 0;
    {
        std::lock_guard lock(mu_);
        registration* r = reg_.find(fd);
        if (!r) throw_usage(ENOENT, backend::poll, "modify", fd, "not registered");
        // poll(2) never learns of a close: ask the file system, so a closed
        // fd fails with EBADF as epoll_ctl would, and a number that now
        // names a file never added is ENOENT.
        const file_identity id = check_pollable(backend::poll, "modify", fd, stats);
        const short before = poll_events(*r);
        if (reg_.holder_of(fd, id) == registry::holder::other_file) {
            reg_.erase(fd);
            reused = ENOENT;
            changed = before != 0;
        } else {
            r->what = what;
            r->token = token;
            r->how = how;
            r->armed = true;
            // A token-only change needs no new array: results are mapped
            // to the token under the lock, after the kernel call.
            changed = poll_events(*r) != before;
        }
        if (changed) mark_changed_locked();
    }
    if (changed) wake_sleeper_for_change();
    if (reused)
        throw_usage(reused, backend::poll, "modify", fd,
                    "the registered file was closed without remove() and the number reused");
}

void poll_backend::remove(int fd) {
    bool changed = false;
    {
        std::lock_guard lock(mu_);
        registration* r = reg_.find(fd);
        if (!r) throw_usage(ENOENT, backend::poll, "remove", fd, "not registered");
        changed = poll_events(*r) != 0;
        reg_.erase(fd);
        if (changed) mark_changed_locked();
    }
    // The sleeper must let go of the fd too: while it waits on it the kernel
    // may hold a reference to the file (Linux does), so a close() after
    // remove() would not really close a socket until the sleeper woke.
    if (changed) wake_sleeper_for_change();
}

void poll_backend::mark_changed_locked() noexcept {
    nonblocking_stale_ = true;
    sleeper_stale_.store(true);
}

void poll_backend::wake_sleeper_for_change() noexcept {
    if (in_wait_.load() && !change_posted_.exchange(true))
        stat_counters::bump(stats.syscalls, waker_.post());
}

void poll_backend::post() noexcept {
    wake_posted_.store(true);
    stat_counters::bump(stats.syscalls, waker_.post());
}

wait_result poll_backend::wait(std::span<event> out, std::chrono::nanoseconds timeout) {
    return timeout.count() == 0 ? wait_nonblocking(out) : wait_blocking(out, timeout);
}

wait_result poll_backend::wait_blocking(std::span<event> out, std::chrono::nanoseconds timeout) {
    in_wait_.store(true);
    if (sleeper_stale_.exchange(false)) {
        std::lock_guard lock(mu_);
        rebuild_locked(sleeper_, waker_.read_fd());
    }
    stat_counters::bump(stats.syscalls);
    int ready = kernel_poll(sleeper_.fds, timeout);
    const int err = errno;
    in_wait_.store(false);
    if (ready < 0) {
        if (err == EINTR) return {0, false, true};
        throw_error(err, backend::poll, "poll", no_fd, kernel_poll_name);
    }

    wait_result result;
    if (sleeper_.fds[0].revents != 0) {
        stat_counters::bump(stats.syscalls, waker_.drain());
        // Reset after the drain: a change that found the flag still set
        // stored sleeper_stale_ first, so the next wait rebuilds for it.
        change_posted_.store(false);
        // Only the core's posts are wake events; a drain that took nothing
        // but change posts returns {0, false} and the core waits again,
        // which rebuilds the array.
        result.wake_event = wake_posted_.exchange(false);
        --ready;
    }
    if (ready > 0) {
        std::lock_guard lock(mu_);
        result.count = collect_locked(sleeper_, 1, out);
    }
    return result;
}

wait_result poll_backend::wait_nonblocking(std::span<event> out) {
    // Holding the lock across a zero-timeout poll keeps the second array
    // private without allocating per call; the call does not block.
    std::lock_guard lock(mu_);
    if (nonblocking_stale_) {
        rebuild_locked(nonblocking_, -1);
        nonblocking_stale_ = false;
    }
    if (nonblocking_.fds.empty()) return {};
    stat_counters::bump(stats.syscalls);
    const int ready = kernel_poll(nonblocking_.fds, std::chrono::nanoseconds{0});
    if (ready < 0) {
        if (errno == EINTR) return {0, false, true};
        throw_error(errno, backend::poll, "poll", no_fd, kernel_poll_name);
    }
    if (ready == 0) return {};
    return {collect_locked(nonblocking_, 0, out), false, false};
}

void poll_backend::rebuild_locked(poll_set& set, int waker_fd) {
    set.fds.clear();
    set.keys.clear();
    if (waker_fd >= 0) {
        set.fds.push_back(pollfd{waker_fd, POLLIN, 0});
        set.keys.push_back(0);
    }
    reg_.for_each([&](int fd, const registration& r) {
        if (const short events = poll_events(r)) {
            set.fds.push_back(pollfd{fd, events, 0});
            set.keys.push_back(registry::key(fd, r.gen));
        }
    });
}

std::size_t poll_backend::collect_locked(poll_set& set, std::size_t first, std::span<event> out) {
    const std::size_t n = set.fds.size() - first;
    if (n == 0) return 0;
    const std::size_t start = set.next % n;
    std::size_t count = 0;
    std::size_t scanned = 0;
    for (; scanned < n && count < out.size(); ++scanned) {
        const std::size_t i = first + (start + scanned) % n;
        const int rev = set.fds[i].revents;
        if (rev == 0) continue;
        // Removed, or removed and added again, since this array was built.
        registration* r = reg_.lookup(set.keys[i]);
        if (!r) continue;
        if (rev & POLLNVAL) {
            // The fd was closed without remove(): disarm it rather than have
            // every poll return at once for it. It stays registered, so a
            // late remove() still succeeds.
            r->armed = false;
            mark_changed_locked();
            continue;
        }
        // modify() may have narrowed the interest or disarmed a oneshot
        // since the array was built: filter by the registration as it is now.
        if (poll_events(*r) == 0) continue;
        event e{};
        e.token = r->token;
        e.readable = (rev & POLLIN) != 0 && has(r->what, interest::read);
        e.writable = (rev & POLLOUT) != 0 && has(r->what, interest::write);
        e.hangup = (rev & hangup_bits) != 0;
        e.error = (rev & POLLERR) != 0;
        if (!e.readable && !e.writable && !e.hangup && !e.error) continue;
        // No per-event check that fd still names the added file: if it was
        // closed without remove() and the number reused, the dead
        // registration may report the new file under its old token until
        // remove() or add() of that number (docs/semantics.md allows that;
        // an fstat per event would double the cost of every poll).
        out[count++] = e;
        if (r->how == trigger::oneshot) {
            r->armed = false;
            mark_changed_locked();
        }
    }
    set.next = (start + scanned) % n;
    return count;
}

std::unique_ptr<backend_impl> make_poll_backend() { return std::make_unique<poll_backend>(); }

}  // namespace unipoll::detail
