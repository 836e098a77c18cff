// The wait: queued changes applied by the same kevent() call that scans,
// the sleep without the lock, and kevents translated into unipoll events,
// the READ and WRITE kevents of one fd merged into one (event_merger.hpp).
//
// Why a thread asleep in kevent() and another thread's add() cannot lose or
// reorder a change (docs/kqueue.md, "Changes and a sleeping thread"): the
// blocking wait applies the queue under the lock with a zero timeout and
// marks itself in_kernel_ before it drops the lock to sleep; from then on,
// until it has the lock back, every change is submitted by its own caller
// under the lock, in order, and the kernel shows a sleeper a knote the
// moment it is added.
#include "kqueue_backend.hpp"

#include "errors.hpp"
#include "kqueue_keys.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>

namespace unipoll::detail {
namespace {

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

// One kevent per free slot of `out`: every kevent returned makes at most one
// new event, so none is taken out of the kernel without room for it (an
// EV_CLEAR or EV_DISPATCH knote taken and dropped would be lost).
int room_in(std::span<event> out, std::size_t count) noexcept {
    return static_cast<int>(std::min<std::size_t>(out.size() - count, INT_MAX));
}

}  // namespace

int kqueue_backend::kevent_call(const kq::kevent_t* changes, int nchanges, kq::kevent_t* evs,
                                int nevents, const timespec* ts) noexcept {
    stat_counters::bump(stats.syscalls);
    return ::kevent(kq_, changes, nchanges, evs, nevents, ts);
}

wait_result kqueue_backend::wait(std::span<event> out, std::chrono::nanoseconds timeout) {
    if (post_error_.load(std::memory_order_relaxed) != 0) throw_post_error();
    const bool blocking = timeout.count() != 0;
    wait_result r;
    std::unique_lock lock(mutex_);
    // Grown to the largest span seen, once: no poll allocates after that.
    // The sleeper's own list too, whether or not this poll sleeps; only
    // the (one) blocking poller touches it.
    if (events_.size() < out.size()) events_.resize(out.size());
    if (blocking && sleep_events_.size() < out.size()) sleep_events_.resize(out.size());
    merger_.begin_pass();
    report_failed_locked(out, r);
    const bool scanned = !queued_.empty() && apply_queued_and_scan_locked(out, blocking, r);
    if (!blocking || r.count > 0 || r.wake_event) {
        if (!scanned) scan_locked(out, blocking, r);
        return r;
    }

    in_kernel_ = true;
    lock.unlock();
    timespec ts{};
    const int want = room_in(out, 0);
    const int n = kevent_call(nullptr, 0, sleep_events_.data(), want, to_timespec(timeout, ts));
    const int err = errno;
    lock.lock();
    in_kernel_ = false;
    if (n < 0) {
        if (err == EINTR) {
            r.interrupted = true;
            return r;
        }
        throw_error(err, kind(), "poll", no_fd, "kevent");
    }
    merger_.begin_pass();
    translate_locked(sleep_events_.data(), n, out, true, r);
    // A full batch may have made fewer events than kevents (two filters of
    // one fd, events of removed fds) while the kernel holds more: fetch
    // them without waiting, so a poll that returns fewer events than `out`
    // holds has reported everything ready, as epoll does.
    if (n == want && r.count < out.size()) scan_locked(out, true, r);
    return r;
}

bool kqueue_backend::apply_queued_and_scan_locked(std::span<event> out, bool blocking,
                                                  wait_result& r) {
    const int n = static_cast<int>(queued_.size());
    const int want = room_in(out, r.count);
    if (want < n) {
        // A failing change takes an entry of the event list, and one with no
        // room fails the whole call, leaving the rest unapplied (FreeBSD
        // kqueue_kevent, XNU kevent_internal): submit them apart.
        flush_locked();
        report_failed_locked(out, r);
        return false;
    }
    const timespec zero{};
    const int got = kevent_call(queued_.data(), n, events_.data(), want, &zero);
    const int err = errno;
    if (got < 0 && err != EINTR) throw_error(err, kind(), "poll", no_fd, "kevent");
    // Applied, EINTR included (kqueue(2): changes are applied first).
    queued_.clear();
    if (got <= 0) return got == 0;
    if (events_[0].flags & EV_ERROR) {
        // Refused changes come back as EV_ERROR entries, and then the call
        // returns them without scanning (FreeBSD kqueue_kevent returns
        // nerrors; XNU kevent_internal scans only with noutputs == 0).
        for (int i = 0; i < got; ++i)
            if (events_[static_cast<std::size_t>(i)].data != 0)
                change_failed_locked(events_[static_cast<std::size_t>(i)]);
        report_failed_locked(out, r);
        return false;
    }
    translate_locked(events_.data(), got, out, blocking, r);
    if (got == want && r.count < out.size()) scan_locked(out, blocking, r);
    return true;
}

void kqueue_backend::scan_locked(std::span<event> out, bool blocking, wait_result& r) {
    const timespec zero{};
    for (;;) {
        const int want = room_in(out, r.count);
        if (want == 0) return;
        const int n = kevent_call(nullptr, 0, events_.data(), want, &zero);
        if (n < 0) {
            if (errno == EINTR) return;
            throw_error(errno, kind(), "poll", no_fd, "kevent");
        }
        const std::size_t before = r.count;
        translate_locked(events_.data(), n, out, blocking, r);
        // Bounded: every further call adds at least one event. Level
        // kevents already merged come back on every call and add none.
        if (n < want || r.count == before) return;
    }
}

void kqueue_backend::translate_locked(const kq::kevent_t* evs, int n, std::span<event> out,
                                      bool blocking, wait_result& r) {
    for (int i = 0; i < n; ++i) {
        const kq::kevent_t& ev = evs[i];
        if (is_wake_event(ev)) {
            if (on_wake_event(blocking)) r.wake_event = true;
            continue;
        }
        const std::uint64_t k = kq::key_of(ev);
        registration* reg = registry_.lookup(k);
        if (!reg) continue;  // removed or modified since the kernel queued it
        const int fd = registry::fd_of(k);
        // A spent oneshot (or a failed change) is silent, except for the
        // other filter of the fd whose event this very pass reported.
        if (!reg->armed && !merger_.placed(fd)) continue;
        event e{};
        e.token = reg->token;
        if (ev.filter == EVFILT_READ && kq::wants(reg->what, interest::read))
            e.readable = true;
        else if (ev.filter == EVFILT_WRITE && kq::wants(reg->what, interest::write))
            e.writable = true;
        else
            continue;
        if (ev.flags & EV_EOF) {
            // docs/semantics.md: hangup is the read side at end of file (only
            // a read knote reports that) or the peer gone altogether (a write
            // knote's EV_EOF: nobody will read what is sent).
            e.hangup = true;
            // A socket's pending error rides in fflags with EV_EOF (FreeBSD
            // filt_soread/filt_sowrite, XNU filt_soread/filt_sowrite).
            if (ev.fflags != 0) e.error = true;
        }
        // Cannot fail: no call asks for more kevents than `out` has room.
        merger_.place(fd, e, out, r.count);
        if (reg->how == trigger::oneshot) reg->armed = false;
    }
}

void kqueue_backend::report_failed_locked(std::span<event> out, wait_result& r) {
    std::size_t kept = 0;
    for (const std::uint64_t k : failed_) {
        const registration* reg = registry_.lookup(k);
        if (!reg) continue;  // modified or removed since: nothing to report
        event e{};
        e.token = reg->token;
        e.error = true;
        if (!merger_.place(registry::fd_of(k), e, out, r.count)) failed_[kept++] = k;
    }
    failed_.resize(kept);
}

void kqueue_backend::throw_post_error() {
    const int err = post_error_.exchange(0, std::memory_order_relaxed);
    if (err != 0) throw_error(err, kind(), "poll", no_fd, "kevent(NOTE_TRIGGER) of an earlier wake()");
}

}  // namespace unipoll::detail
