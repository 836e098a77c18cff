#include "kqueue_backend.hpp"

#include "errors.hpp"
#include "fd_checks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>
#include <vector>

namespace unipoll::detail {
namespace {

// add: two EV_ADDs; modify: two EV_DELETEs and two EV_ADDs.
constexpr int max_changes = 4;
// Events fetched per kevent call at most, whatever the caller's span.
constexpr std::size_t max_batch = 1024;
constexpr std::size_t stack_batch = 64;

bool wants(interest what, interest dir) noexcept { return (what & dir) != interest::none; }

kq::flags_t trigger_flags(trigger how) noexcept {
    switch (how) {
        case trigger::level: break;
        case trigger::edge: return kq::as_flags(EV_CLEAR);
        case trigger::oneshot: return kq::as_flags(EV_DISPATCH);
    }
    return 0;
}

std::uint64_t udata_bits(std::uint64_t key) noexcept {
    if constexpr (kq::udata_holds_key)
        return key;
    else
        return registry::gen_of(key);
}

std::uint64_t key_of(const kq::kevent_t& ev) noexcept {
    const std::uint64_t bits = kq::from_udata(ev.udata);
    if constexpr (kq::udata_holds_key)
        return bits;
    else
        return registry::key(static_cast<int>(ev.ident), static_cast<std::uint32_t>(bits));
}

// nullptr waits forever. Darwin's kevent fails with EINVAL for very long
// timeouts (Go's netpoller caps them at 1e6 s for that reason); a capped
// wait that expires returns no events and the core waits again for the rest.
const timespec* to_timespec(std::chrono::nanoseconds t, timespec& ts) noexcept {
    if (t.count() < 0) return nullptr;
    constexpr std::int64_t max_seconds = 1'000'000;
    const std::int64_t ns = t.count();
    std::int64_t sec = ns / 1'000'000'000;
    std::int64_t nsec = ns % 1'000'000'000;
    if (sec >= max_seconds) {
        sec = max_seconds;
        nsec = 0;
    }
    ts.tv_sec = static_cast<time_t>(sec);
    ts.tv_nsec = static_cast<long>(nsec);
    return &ts;
}

std::string_view call_of(const kq::kevent_t& change) noexcept {
    return (change.flags & EV_DELETE) ? "kevent(EV_DELETE)" : "kevent(EV_ADD)";
}

}  // namespace

kqueue_backend::~kqueue_backend() { ::close(kq_); }

bool kqueue_backend::take_wake_registration(kq::kevent_t&) noexcept { return false; }

int kqueue_backend::add_changes(kq::kevent_t* changes, int fd, interest what, trigger how,
                                std::uint64_t k) noexcept {
    const kq::flags_t flags = kq::as_flags(EV_ADD | trigger_flags(how));
    int n = 0;
    if (wants(what, interest::read))
        changes[n++] = kq::make_kevent(static_cast<std::uintptr_t>(fd), EVFILT_READ, flags, 0,
                                       udata_bits(k));
    if (wants(what, interest::write))
        changes[n++] = kq::make_kevent(static_cast<std::uintptr_t>(fd), EVFILT_WRITE, flags, 0,
                                       udata_bits(k));
    return n;
}

int kqueue_backend::delete_changes(kq::kevent_t* changes, int fd, interest what) noexcept {
    int n = 0;
    if (wants(what, interest::read))
        changes[n++] = kq::make_kevent(static_cast<std::uintptr_t>(fd), EVFILT_READ,
                                       kq::as_flags(EV_DELETE), 0, 0);
    if (wants(what, interest::write))
        changes[n++] = kq::make_kevent(static_cast<std::uintptr_t>(fd), EVFILT_WRITE,
                                       kq::as_flags(EV_DELETE), 0, 0);
    return n;
}

int kqueue_backend::submit_changes(kq::kevent_t* changes, int n, int* errors) noexcept {
    // With EV_RECEIPT every change yields one entry (EV_ERROR set, data = 0
    // or the errno), in changelist order. An eventlist exactly that long
    // leaves no room for pending events, so none is drained here.
    std::array<kq::kevent_t, max_changes> receipts{};
    for (int i = 0; i < n; ++i) {
        changes[i].flags = kq::as_flags(changes[i].flags | EV_RECEIPT);
        errors[i] = 0;
    }
    const timespec zero{};
    int got;
    do {
        stat_counters::bump(stats.syscalls);
        got = ::kevent(kq_, changes, n, receipts.data(), n, &zero);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return errno;
    for (int i = 0; i < got && i < n; ++i)
        if (receipts[static_cast<std::size_t>(i)].flags & EV_ERROR)
            errors[i] = static_cast<int>(receipts[static_cast<std::size_t>(i)].data);
    return 0;
}

// Applies `changes`; if one fails, applies the `undo` entries of those that
// were applied (in reverse order) so nothing stays half registered, then
// throws the first failure.
void kqueue_backend::apply(std::string_view op, int fd, kq::kevent_t* changes,
                           const kq::kevent_t* undo, int n) {
    if (n == 0) return;   // interest::none on both sides: nothing for the kernel
    std::array<int, max_changes> errors{};
    if (const int err = submit_changes(changes, n, errors.data()))
        throw_error(err, kind(), op, fd, "kevent");
    int failed = -1;
    for (int i = 0; i < n && failed < 0; ++i)
        if (errors[static_cast<std::size_t>(i)] != 0) failed = i;
    if (failed < 0) return;

    std::array<kq::kevent_t, max_changes> redo{};
    int m = 0;
    for (int i = n; i-- > 0;)
        if (errors[static_cast<std::size_t>(i)] == 0) redo[static_cast<std::size_t>(m++)] = undo[i];
    if (m > 0) {
        std::array<int, max_changes> ignored{};
        submit_changes(redo.data(), m, ignored.data());
    }
    throw_error(errors[static_cast<std::size_t>(failed)], kind(), op, fd, call_of(changes[failed]));
}

void kqueue_backend::add(int fd, interest what, std::uint64_t token, trigger how) {
    const file_identity id = check_pollable(kind(), "add", fd);
    stat_counters::bump(stats.syscalls);

    std::lock_guard lock(mutex_);
    if (fd == internal_fd())
        throw_usage(EEXIST, kind(), "add", fd, "the poller uses this descriptor itself");
    if (registration* old = registry_.find(fd)) {
        if (old->file_dev == id.dev && old->file_ino == id.ino)
            throw_usage(EEXIST, kind(), "add", fd, "already registered");
        // The registered file was closed without remove(); its close deleted
        // its knotes (kqueue(2)), so the number is free for the new file.
        registry_.erase(fd);
    }

    registration& r = registry_.insert(fd, what, token, how);
    r.file_dev = id.dev;
    r.file_ino = id.ino;
    std::array<kq::kevent_t, max_changes> changes{};
    std::array<kq::kevent_t, max_changes> undo{};
    const int n = add_changes(changes.data(), fd, what, how, registry::key(fd, r.gen));
    delete_changes(undo.data(), fd, what);
    try {
        apply("add", fd, changes.data(), undo.data(), n);
    } catch (...) {
        registry_.erase(fd);
        throw;
    }
}

void kqueue_backend::modify(int fd, interest what, std::uint64_t token, trigger how) {
    std::lock_guard lock(mutex_);
    registration* r = registry_.find(fd);
    // ENOENT before EBADF: an fd that is not registered is "not
    // registered" whether or not it is open, the same on every backend.
    if (!r) throw_usage(ENOENT, kind(), "modify", fd, "not registered");
    // A registered fd closed without remove() gives EBADF and stays
    // registered until remove().
    const file_identity id = check_pollable(kind(), "modify", fd);
    stat_counters::bump(stats.syscalls);
    if (r->file_dev != id.dev || r->file_ino != id.ino) {
        // Same number, other file: the registered one was closed without
        // remove() and the kernel has forgotten it, as epoll would have.
        registry_.erase(fd);
        throw_usage(ENOENT, kind(), "modify", fd, "not registered (the registered file was closed)");
    }

    // Delete and re-add rather than edit in place: kernels differ in which
    // flags a repeated EV_ADD updates (EV_CLEAR/EV_DISPATCH are fixed at
    // creation on FreeBSD), and a fresh knote evaluates the fd's current
    // state, so a level or edge condition that holds is reported again.
    const registration old = *r;
    const std::uint32_t gen = registry_.renew(*r);
    std::array<kq::kevent_t, max_changes> changes{};
    std::array<kq::kevent_t, max_changes> undo{};
    const int deleted = delete_changes(changes.data(), fd, old.what);
    add_changes(undo.data(), fd, old.what, old.how, registry::key(fd, old.gen));
    const int added =
        add_changes(changes.data() + deleted, fd, what, how, registry::key(fd, gen));
    delete_changes(undo.data() + deleted, fd, what);
    try {
        apply("modify", fd, changes.data(), undo.data(), deleted + added);
    } catch (...) {
        *r = old;
        throw;
    }
    r->what = what;
    r->token = token;
    r->how = how;
    r->armed = true;
}

void kqueue_backend::remove(int fd) {
    std::lock_guard lock(mutex_);
    registration* r = registry_.find(fd);
    if (!r) throw_usage(ENOENT, kind(), "remove", fd, "not registered");

    std::array<kq::kevent_t, max_changes> changes{};
    std::array<int, max_changes> errors{};
    const int n = delete_changes(changes.data(), fd, r->what);
    if (n > 0) {
        if (const int err = submit_changes(changes.data(), n, errors.data()))
            throw_error(err, kind(), "remove", fd, "kevent");
        for (int i = 0; i < n; ++i) {
            const int err = errors[static_cast<std::size_t>(i)];
            // EBADF/ENOENT: the fd was closed, which deleted its knotes.
            if (err != 0 && err != EBADF && err != ENOENT)
                throw_error(err, kind(), "remove", fd, "kevent(EV_DELETE)");
        }
    }
    registry_.erase(fd);
}

wait_result kqueue_backend::wait(std::span<event> out, std::chrono::nanoseconds timeout) {
    const bool blocking = timeout.count() != 0;
    timespec ts{};
    const timespec* tsp = to_timespec(timeout, ts);
    kq::kevent_t change{};
    const int nchanges = take_wake_registration(change) ? 1 : 0;

    // One kevent per slot of `out`: every event returned fits, and events
    // left in the kernel wait for the next poll.
    std::array<kq::kevent_t, stack_batch> local;
    std::array<int, stack_batch> local_fds;
    std::vector<kq::kevent_t> heap;
    std::vector<int> heap_fds;
    const std::size_t cap = std::min(out.size(), max_batch);
    kq::kevent_t* buf = local.data();
    int* fds = local_fds.data();
    if (cap > local.size()) {
        heap.resize(cap);
        heap_fds.resize(cap);
        buf = heap.data();
        fds = heap_fds.data();
    }

    stat_counters::bump(stats.syscalls);
    int n = ::kevent(kq_, &change, nchanges, buf, static_cast<int>(cap), tsp);
    if (n < 0) {
        const int err = errno;
        // kqueue(2): changes are applied even when kevent fails with EINTR.
        if (err == EINTR) return {0, false, true};
        if (nchanges) wake_registration_failed();
        throw_error(err, kind(), "poll", no_fd, "kevent");
    }
    wait_result r;
    r.count = translate(buf, n, out.first(cap), blocking, r.wake_event, fds, 0);
    // READ and WRITE of one fd are two kevents but one event, and kevents
    // of removed fds are dropped: when a full batch gave fewer events than
    // kevents, `out` has room left while the kernel may hold more. Fetch
    // again without waiting, so a poll that returns fewer events than `out`
    // holds has normally reported everything ready (as epoll does). Bounded:
    // level kevents that are dropped come back on every call.
    std::size_t before = 0;
    int requested = static_cast<int>(cap);
    for (int refills = 0; refills < 4 && n == requested && r.count < cap &&
                          r.count - before < static_cast<std::size_t>(n);
         ++refills) {
        const timespec zero{};
        before = r.count;
        requested = static_cast<int>(cap - r.count);
        stat_counters::bump(stats.syscalls);
        n = ::kevent(kq_, nullptr, 0, buf, requested, &zero);
        if (n <= 0) break;  // EINTR or nothing more: what we have is the result
        r.count = translate(buf, n, out.first(cap), blocking, r.wake_event, fds, r.count);
    }
    return r;
}

std::size_t kqueue_backend::translate(kq::kevent_t* evs, int n, std::span<event> out,
                                      bool blocking, bool& wake_event, int* fds,
                                      std::size_t count) {
    // READ and WRITE of one fd come back as two kevents; sort so they are
    // adjacent and become one event, as on every other backend.
    std::sort(evs, evs + n, [](const kq::kevent_t& a, const kq::kevent_t& b) {
        return a.ident < b.ident;
    });

    int failed_registration = 0;
    const std::size_t earlier = count;  // events of a previous batch of this poll
    std::lock_guard lock(mutex_);
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && evs[j].ident == evs[i].ident) ++j;

        event e{};
        registration* owner = nullptr;
        for (int k = i; k < j; ++k) {
            const kq::kevent_t& ev = evs[k];
            if (ev.flags & EV_ERROR) {
                // Only the wake registration is ever batched into a wait.
                if (ev.data != 0) failed_registration = static_cast<int>(ev.data);
                continue;
            }
            if (is_wake_event(ev)) {
                if (on_wake_event(blocking)) wake_event = true;
                continue;
            }
            registration* reg = registry_.lookup(key_of(ev));
            if (!reg || !reg->armed) continue;   // removed, modified, or a spent oneshot
            if (ev.filter == EVFILT_READ && wants(reg->what, interest::read))
                e.readable = true;
            else if (ev.filter == EVFILT_WRITE && wants(reg->what, interest::write))
                e.writable = true;
            else
                continue;
            if (ev.flags & EV_EOF) {
                e.hangup = true;
                // Sockets report a pending error in fflags along with EV_EOF.
                if (ev.fflags != 0) e.error = true;
            }
            owner = reg;
        }
        if (owner) {
            const int fd = static_cast<int>(evs[i].ident);
            e.token = owner->token;
            if (owner->how == trigger::oneshot) owner->armed = false;
            std::size_t k = 0;
            while (k < earlier && fds[k] != fd) ++k;
            if (k < earlier) {
                // The fd's other filter came in an earlier batch.
                out[k].readable |= e.readable;
                out[k].writable |= e.writable;
                out[k].hangup |= e.hangup;
                out[k].error |= e.error;
            } else {
                fds[count] = fd;
                out[count++] = e;
            }
        }
        i = j;
    }
    if (failed_registration != 0) {
        wake_registration_failed();
        throw_error(failed_registration, kind(), "poll", no_fd,
                    "kevent(EV_ADD) of the wake event");
    }
    return count;
}

int open_kqueue(backend owner) {
    const int kq = ::kqueue();
    if (kq < 0) throw_error(errno, owner, "create", no_fd, "kqueue");
    // kqueues are not inherited across fork, but they are across exec.
    ::fcntl(kq, F_SETFD, FD_CLOEXEC);
    return kq;
}

}  // namespace unipoll::detail
