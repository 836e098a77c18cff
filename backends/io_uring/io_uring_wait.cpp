// The polling side of the io_uring backend: the lock-free check of a
// non-blocking poll with nothing to do, then under the lock: reap the CQ,
// submit what is queued (registrations to arm, cancellations, the wake
// poll), reap what that submission completed at once, and check the level
// fds reported earlier; a blocking poll with nothing to report then sleeps
// in io_uring_enter without the lock.
#include "io_uring_backend.hpp"

#include "errors.hpp"
#include "poll_ops.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace unipoll::detail::uring {
namespace {

// The calling thread, as the owner of the wake poll. A number never given
// to another thread: a new thread may reuse an exited one's stack, TLS
// addresses and pthread_t, and a wake poll whose owner has exited
// completes through the kernel's fallback work, a jiffy late.
std::uint64_t this_thread() noexcept {
    static std::atomic<std::uint64_t> threads{0};
    thread_local const std::uint64_t id = threads.fetch_add(1, std::memory_order_relaxed) + 1;
    return id;
}

}  // namespace

wait_result io_uring_backend::wait(std::span<event> out, std::chrono::nanoseconds timeout) {
    if (timeout.count() != 0) return wait_blocking(out, timeout);
    // Nothing in the CQ, no overflow, nothing queued: nothing to report and
    // nothing to submit, known without the lock or a syscall.
    if (!work_pending_.load(std::memory_order_relaxed) && !ring_.ready_hint()) return {};
    std::lock_guard lock(mu_);
    wait_result r;
    collect(out, r, false);
    // A level fd this poll reported is re-checked by every later poll. A
    // thread asleep in the kernel must report it too while it is ready, as
    // on epoll, but no CQE will tell it: kick it.
    if (in_kernel_ && !ready_.empty()) kick();
    return r;
}

wait_result io_uring_backend::wait_blocking(std::span<event> out, std::chrono::nanoseconds timeout) {
    std::unique_lock lock(mu_);
    wait_result r;
    collect(out, r, true);
    if (r.count > 0 || r.wake_event) return r;
    // Sleeping with work the kernel would not take (no memory for requests)
    // could miss events for good; nothing has been reported yet.
    if (stalled_) throw_usage(EAGAIN, kind(), "poll", no_fd, "io_uring takes no submissions now");
    // Sleep without the lock, so that other threads poll, register and
    // remove meanwhile. Every CQE posted from now on ends the wait, also
    // one that a non-blocking poll takes first; one posted before the
    // kernel starts waiting and taken by such a poll would not, which is
    // why a non-blocking poll kicks while in_kernel_ is set.
    in_kernel_ = true;
    kick_posted_ = false;
    lock.unlock();
    const int rc = ring_.wait(timeout);
    lock.lock();
    in_kernel_ = false;
    if (rc == -EINTR) {
        r.interrupted = true;
    } else if (rc == -EBADR) {
        recover_dropped();
    } else if (rc < 0 && rc != -ETIME && rc != -EAGAIN && rc != -EBUSY) {
        throw_error(-rc, kind(), "poll", no_fd, "io_uring_enter");
    }
    // Also re-checks the level fds that non-blocking polls reported while
    // this thread slept.
    collect(out, r, true);
    return r;
}

// Reap, submit what is queued, reap what the submission completed at once
// (a poll armed on a ready fd posts its CQE before io_uring_enter returns,
// by task work run on the way back to user space), check the level fds.
// No other thread reaps meanwhile.
void io_uring_backend::collect(std::span<event> out, wait_result& r, bool blocking) {
    merger_.begin_pass();
    reap(out, r);
    if (submit_pending(blocking)) reap(out, r);
    verify_ready(out, r);
    work_pending_.store(!pending_.empty() || !cancels_.empty() || cancel_all_ || !ready_.empty() ||
                            stalled_,
                        std::memory_order_relaxed);
}

// Adds to `out` what the CQ holds, within the current pass.
void io_uring_backend::reap(std::span<event> out, wait_result& r) {
    for (bool flushed = false;;) {
        bool full = false;
        const unsigned n = ring_.consume([&](const io_uring_cqe& c) {
            if (take(c, out, r)) return true;
            full = true;
            return false;
        });
        if (full || !ring_.has_overflow() || (flushed && n == 0)) return;
        // CQEs wait in the kernel's overflow list (IORING_FEAT_NODROP):
        // move them into the CQ, which the CQEs just taken made room in.
        if (ring_.flush_overflow() == -EBADR) recover_dropped();
        flushed = true;
    }
}

// One CQE. Returns false, leaving it for the next poll, when it needs a new
// slot in `out` and there is none.
bool io_uring_backend::take(const io_uring_cqe& c, std::span<event> out, wait_result& r) {
    const std::uint64_t key = c.user_data;
    const bool ended = (c.flags & IORING_CQE_F_MORE) == 0;  // every poll here is multishot
    if (is_wake_key(key)) {
        // A replaced wake poll's CQEs are stale: the current one was armed
        // on the eventfd, which is never read and so always readable, and
        // fired at once, standing for every post before it.
        if (key != wake_live_) return true;
        kick_posted_ = false;
        if (wake_posted_.exchange(false)) r.wake_event = true;
        // Ended by a full CQ, or -ECANCELED after the thread that armed it
        // exited: armed again by the next blocking poll, or at once by a
        // non-blocking one while a thread sleeps.
        if (ended) wake_live_ = 0;
        return true;
    }
    if (key == cancel_key) return true;
    registration* reg = regs_.lookup(key);
    if (!reg) return true;  // removed, modified or replaced since it was armed
    const int fd = registry::fd_of(key);
    fd_state& st = states_[static_cast<std::size_t>(fd)];
    if (!reg->armed) {
        // Disarmed until modify(): a oneshot that fired, its poll not
        // cancelled yet (or a poll that failed, which sends no more). A CQE
        // carries the readiness of its own wakeup only: room to write, then
        // the peer's close, are two CQEs. Those this poll reaps are merged
        // into the one event it reported for the fd, which so holds
        // everything that happened before the poll, as epoll's (read from
        // the file when it reports) does; a later poll's are dropped.
        if (c.res >= 0 && merger_.placed(fd))
            merger_.place(fd, to_event(reg->token, reg->what, static_cast<unsigned>(c.res)), out,
                          r.count);
        return true;
    }
    if (c.res == -ECANCELED) {
        // Not a cancellation of ours (the backend disarms a registration or
        // gives it a new generation before it cancels its poll): the thread
        // that armed the poll has exited (6.x ends such a poll when it
        // fires, older kernels at the exit). A polling thread arms it again.
        st.live = 0;
        queue(fd);
        return true;
    }
    event ev{};
    if (c.res >= 0) {
        ev = to_event(reg->token, reg->what, static_cast<unsigned>(c.res));
    } else {
        ev.token = reg->token;
        ev.error = true;
    }
    if (!reportable(ev)) {
        // Only the POLLRDHUP the kernel adds to a write-only poll (the peer
        // shut down its writing side): nothing to report. The multishot
        // poll waits on for the next wakeup; it does not fire again for a
        // condition that merely lasts.
        if (ended) {
            st.live = 0;
            queue(fd);
        }
        return true;
    }
    // A level fd that an earlier poll reported is checked by this poll's
    // poll(2) (verify_ready()), which decides: its CQE may have been posted
    // before the caller consumed what that poll reported (more data came
    // while it was ready, then the caller drained it all), and reporting it
    // would tell of readiness that is gone, which epoll never does.
    const bool left_to_check = reg->how == trigger::level && c.res >= 0 && st.in_ready &&
                               !merger_.placed(fd);
    if (!left_to_check && !merger_.place(fd, ev, out, r.count)) return false;
    if (ended) st.live = 0;
    if (c.res < 0) {
        reg->armed = false;  // the poll failed: modify() arms it again
        return true;
    }
    switch (reg->how) {
        case trigger::level:
            // Re-checked by every later poll until it is no longer ready.
            if (!st.in_ready) {
                ready_.push_back(fd);
                st.in_ready = true;
            }
            if (ended) queue(fd);
            break;
        case trigger::edge:
            if (ended) queue(fd);
            break;
        case trigger::oneshot:
            reg->armed = false;  // until modify(), which renews the generation
            if (!ended) {
                // The kernel holds the poll until the next poll submits the
                // cancellation: `live` keeps its key, so that a remove()
                // before then cancels it at once.
                cancels_.push_back(key);
            }
            break;
    }
    return true;
}

// Level fds reported by earlier polls: are they still ready? One poll(2)
// with a zero timeout asks exactly the interest's events (the kernel adds
// no POLLRDHUP there) by number, and holds no file afterwards. An fd this
// poll placed from a CQE (one not reported since a check last found it not
// ready) is taken as it is and checked by the next poll.
void io_uring_backend::verify_ready(std::span<event> out, wait_result& r) {
    checks_.clear();
    std::size_t kept = 0;
    for (const int fd : ready_) {
        fd_state& st = states_[static_cast<std::size_t>(fd)];
        const registration* reg = regs_.find(fd);
        if (!reg || reg->how != trigger::level || reg->what == interest::none || !reg->armed) {
            st.in_ready = false;
            continue;
        }
        ready_[kept++] = fd;
        if (!merger_.placed(fd))
            checks_.push_back(pollfd{fd, static_cast<short>(poll_mask(reg->what)), 0});
    }
    ready_.resize(kept);
    if (checks_.empty()) return;
    stat_counters::bump(stats.syscalls);
    // EINTR or ENOMEM: the fds stay for the next poll to check.
    if (::poll(checks_.data(), checks_.size(), 0) < 0) return;
    bool dropped = false;
    for (const pollfd& c : checks_) {
        fd_state& st = states_[static_cast<std::size_t>(c.fd)];
        const registration* reg = regs_.find(c.fd);
        // Not ready any more (the registration's poll reports the next
        // change), or closed without remove() (POLLNVAL).
        if (c.revents == 0 || (c.revents & POLLNVAL)) {
            st.in_ready = false;
            dropped = true;
            continue;
        }
        // No room: reported by a later poll, which checks it again.
        if (!merger_.place(c.fd, to_event(reg->token, reg->what, static_cast<unsigned>(c.revents)), out,
                           r.count))
            break;
    }
    if (dropped)
        ready_.erase(std::remove_if(ready_.begin(), ready_.end(),
                                    [&](int fd) { return !states_[static_cast<std::size_t>(fd)].in_ready; }),
                     ready_.end());
}

// Turns the queue into SQEs and submits them. Returns whether anything was
// submitted (its inline completions are then in the CQ).
bool io_uring_backend::submit_pending(bool blocking) {
    bool stalled = false;  // the kernel takes no more SQEs now
    if (cancel_all_) {
        if (io_uring_sqe* s = next_sqe()) {
            io_uring_prep_cancel64(s, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
            io_uring_sqe_set_data64(s, cancel_key);
            cancel_all_ = false;
        } else {
            stalled = true;
        }
    }
    std::size_t done = 0;
    for (; !stalled && done < cancels_.size(); ++done) {
        const std::uint64_t key = cancels_[done];
        if (!prep_cancel(key)) {
            stalled = true;
            break;
        }
        fd_state& st = states_[static_cast<std::size_t>(registry::fd_of(key))];
        if (st.live == key) st.live = 0;
    }
    cancels_.erase(cancels_.begin(), cancels_.begin() + static_cast<std::ptrdiff_t>(done));

    // The wake poll's completions run in the thread that armed it, so the
    // blocking poller arms its own (a thread that polled before may be busy
    // elsewhere, or gone). A non-blocking poll arms one only when it finds
    // the wake poll ended while a thread sleeps.
    const std::uint64_t self = this_thread();
    if (!stalled && (blocking ? wake_live_ == 0 || wake_owner_ != self : wake_live_ == 0 && in_kernel_)) {
        io_uring_sqe* s = nullptr;
        if ((wake_live_ == 0 || prep_cancel(wake_live_)) && (s = next_sqe())) {
            if (++wake_gen_ == 0) wake_gen_ = 1;
            io_uring_prep_poll_multishot(s, waker_.fd(), POLLIN);
            io_uring_sqe_set_data64(s, wake_key(wake_gen_));
            wake_live_ = wake_key(wake_gen_);
            wake_owner_ = self;
        } else {
            stalled = true;
        }
    }

    std::size_t kept = 0;
    for (const int fd : pending_) {
        fd_state& st = states_[static_cast<std::size_t>(fd)];
        registration* reg = regs_.find(fd);
        if (!reg) {
            st.queued = false;  // removed since it was queued
            continue;
        }
        if (stalled || !arm(fd, *reg, st)) {
            stalled = true;
            pending_[kept++] = fd;
            continue;
        }
        st.queued = false;
    }
    pending_.resize(kept);

    bool submitted = false;
    if (sq_dirty_ || ring_.unsubmitted() > 0) {
        sq_dirty_ = false;
        submitted = true;
        if (ring_.submit() < 0) stalled = true;
    }
    stalled_ = stalled;
    return submitted;
}

// The poll request the registration needs, unless the kernel has it: a
// multishot poll for every trigger, so that a request, once armed, stays on
// the file it was armed on. False when the SQ is full and the kernel takes
// no more now.
bool io_uring_backend::arm(int fd, registration& reg, fd_state& st) {
    if (reg.what == interest::none || !reg.armed) return true;
    const std::uint64_t key = registry::key(fd, reg.gen);
    if (st.live == key) return true;
    // A poll is armed by number. If the fd was closed without remove() and
    // its number given to another file, the poll would watch, and hold
    // open, a file nobody registered: that registration stays silent until
    // the number is remove()d or add()ed again.
    struct stat sb {};
    stat_counters::bump(stats.syscalls);
    if (::fstat(fd, &sb) != 0 ||
        regs_.holder_of(fd, file_identity{static_cast<std::uint64_t>(sb.st_dev),
                                          static_cast<std::uint64_t>(sb.st_ino)}) !=
            registry::holder::same_file) {
        reg.armed = false;
        return true;
    }
    io_uring_sqe* s = next_sqe();
    if (!s) return false;
    io_uring_prep_poll_multishot(s, fd, poll_mask(reg.what));
    io_uring_sqe_set_data64(s, key);
    st.live = key;
    return true;
}

// A vacant SQE; when the SQ is full, what it holds is submitted first.
// nullptr if the kernel takes none of it.
io_uring_sqe* io_uring_backend::next_sqe() {
    io_uring_sqe* s = ring_.sqe();
    if (!s && ring_.submit() == 0) s = ring_.sqe();
    if (s) sq_dirty_ = true;
    return s;
}

// POLL_REMOVE ends a poll that is not completing right now at once, in the
// calling thread, and drops its file reference there; it fails with
// EALREADY while the poll's completion work is queued or running.
// ASYNC_CANCEL then marks the poll cancelled, and that completion work
// (in the thread that armed the poll) ends it instead of delivering. Both
// requests complete inline.
bool io_uring_backend::prep_cancel(std::uint64_t key) {
    io_uring_sqe* s = next_sqe();
    if (!s) return false;
    io_uring_prep_poll_remove(s, key);
    io_uring_sqe_set_data64(s, cancel_key);
    s = next_sqe();
    if (!s) return false;
    io_uring_prep_cancel64(s, key, 0);
    io_uring_sqe_set_data64(s, cancel_key);
    return true;
}

// The kernel dropped CQEs (-EBADR, 5.19+: no memory for its overflow
// list). Which polls they ended is unknown, so every request is cancelled
// and every registration and the wake poll armed afresh under new
// generations. The one walk over all registrations, on a rare event.
void io_uring_backend::recover_dropped() {
    cancel_all_ = true;
    cancels_.clear();
    wake_live_ = 0;
    regs_.for_each([&](int fd, registration& reg) {
        regs_.renew(reg);
        fd_state& st = states_[static_cast<std::size_t>(fd)];
        forget(st);
        if (reg.what != interest::none && reg.armed) queue(fd);
    });
    work_pending_.store(true, std::memory_order_relaxed);
}

}  // namespace unipoll::detail::uring
