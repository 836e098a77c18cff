// The waiting side of the io_uring backend: submit what is queued, sleep in
// io_uring_enter without the CQ lock, reap CQEs into events, re-arm, and
// replace the ring by a bigger one when the registrations outgrow its CQ.
#include "io_uring_backend.hpp"

#include "errors.hpp"
#include "poll_ops.hpp"

#include <algorithm>
#include <cerrno>

namespace unipoll::detail::uring {
namespace {

// The kernel's IORING_MAX_CQ_ENTRIES; IORING_SETUP_CLAMP caps requests there.
constexpr unsigned max_cq = 65536;

}  // namespace

wait_result io_uring_backend::wait(std::span<event> out, std::chrono::nanoseconds timeout) {
    std::unique_lock cq(cq_mu_, std::defer_lock);
    if (timeout.count() == 0) {
        // Another thread is reaping right now; what is in the CQ is its to
        // report, and a non-blocking poll must not wait for it.
        if (!cq.try_lock()) return {};
        return poll_now(out);
    }
    cq.lock();
    return wait_blocking(cq, out, timeout);
}

// Zero syscalls unless SQEs or re-arms are queued or the kernel holds
// completions back (overflow).
wait_result io_uring_backend::poll_now(std::span<event> out) {
    std::lock_guard sq(sq_mu_);
    maybe_grow();
    wait_result r;
    // Re-arms left by the last poll go in first: arming checks readiness,
    // so a level fd that is still ready completes at once and is reported
    // now, and one that was drained meanwhile is not. The level re-arms
    // this poll produces wait for the next poll for the same reason:
    // submitted now, they would report the readiness of this moment later,
    // after the caller may have drained the fd. The other re-arms go in at
    // once (a sleeper may depend on them); they are rare.
    flush_rearms(level_rearms_);
    flush_rearms(rearms_);
    const unsigned n = ring_->publish();
    const bool fetch = ring_->needs_getevents();
    // A poll armed on a ready fd posts its CQE before io_uring_enter
    // returns (inline, or by task work run on the way back to user space),
    // so the reap below sees it without IORING_ENTER_GETEVENTS.
    if (n > 0 || fetch) (void)ring_->enter(n, 0, fetch ? IORING_ENTER_GETEVENTS : 0u);
    begin_pass();
    reap(out, r);
    if (!rearms_.empty()) {
        flush_rearms(rearms_);
        submit_now();
    }
    return r;
}

wait_result io_uring_backend::wait_blocking(std::unique_lock<std::mutex>& cq, std::span<event> out,
                                            std::chrono::nanoseconds timeout) {
    wait_result r;
    ring* rg = nullptr;
    unsigned to_submit = 0;
    {
        std::lock_guard sq(sq_mu_);
        maybe_grow();
        // The last poll's level re-arms are queued before the reap, so that
        // the level re-arms this reap produces are left for the next poll.
        flush_rearms(level_rearms_);
        begin_pass();
        reap(out, r);
        flush_rearms(rearms_);
        to_submit = ring_->publish();
        if (r.count > 0 || r.wake_event) {
            // Something to return without sleeping. The re-arms still go in
            // now, without a wait: a level fd that is still ready completes
            // during the submission, and reaping again (same pass, so an fd
            // already placed is merged) reports it beside what was found.
            // Returning without them would report only the CQEs that were
            // waiting, and a ready level fd would miss this poll.
            if (to_submit > 0) {
                submit_now();
                reap(out, r);
            }
            return r;
        }
        rg = ring_.get();
    }
    // Sleep without the CQ lock so that non-blocking polls keep reaping
    // (and relay a wake they take). The ring is not replaced meanwhile:
    // maybe_grow() waits for in_kernel_ to clear. One syscall submits the
    // queued re-arms and waits, the timeout passed with EXT_ARG. The kernel
    // submits before it waits, and the CQEs of re-arms on ready fds are
    // posted by then, so they satisfy min_complete and are all reaped below.
    in_kernel_ = true;
    cq.unlock();
    const int rc = rg->enter(to_submit, 1, IORING_ENTER_GETEVENTS, timeout);
    cq.lock();
    in_kernel_ = false;
    if (rc == -EINTR) {
        r.interrupted = true;
    } else if (rc < 0 && rc != -ETIME && rc != -EAGAIN && rc != -EBUSY) {
        throw_error(-rc, kind(), "poll", no_fd, "io_uring_enter");
    }
    std::lock_guard sq(sq_mu_);
    // Non-blocking polls may have reaped meanwhile; nothing is placed yet.
    begin_pass();
    reap(out, r);
    return r;
}

void io_uring_backend::begin_pass() {
    if (++pass_ == 0) {
        std::fill(placed_.begin(), placed_.end(), placed{});
        pass_ = 1;
    }
}

// Adds to `out` what the CQ holds, within the current pass (begin_pass).
void io_uring_backend::reap(std::span<event> out, wait_result& r) {
    for (; carried_pos_ < carried_.size(); ++carried_pos_)
        if (!take(carried_[carried_pos_], true, out, r)) return;
    carried_.clear();
    carried_pos_ = 0;

    bool fetched = false;
    for (;;) {
        bool full = false;
        const unsigned n = ring_->consume([&](const io_uring_cqe& c) {
            if (take({c.user_data, c.res, c.flags}, false, out, r)) return true;
            full = true;
            return false;
        });
        if (full || !ring_->needs_getevents() || (fetched && n == 0)) return;
        // CQEs wait in the kernel's overflow list (IORING_FEAT_NODROP):
        // move them into the CQ, which the CQEs just taken made room in.
        (void)ring_->enter(0, 0, IORING_ENTER_GETEVENTS);
        fetched = true;
    }
}

// One CQE. Returns false, leaving it for the next poll, when it needs a new
// slot in `out` and there is none.
bool io_uring_backend::take(const completion& c, bool from_old_ring, std::span<event> out,
                            wait_result& r) {
    // A poll from a replaced ring was armed afresh on the current ring, so
    // its CQEs only report; they never re-arm.
    const bool may_rearm = !from_old_ring;
    if (c.key == wake_key) {
        if (c.res >= 0) r.wake_event = true;
        // A multishot poll ends without IORING_CQE_F_MORE: on a full CQ, or
        // with -ECANCELED when the thread that armed it exits.
        if (may_rearm && !(c.flags & IORING_CQE_F_MORE)) rearms_.push_back(wake_key);
        return true;
    }
    if (c.key == cancel_key) return true;
    if (is_update_key(c.key)) {
        // The one-shot poll completed before the update reached it (ENOENT,
        // EALREADY): arm it again under the key modify() gave it.
        const std::uint64_t k = updated_key(c.key);
        if (const registration* reg = regs_.lookup(k); may_rearm && c.res < 0 && reg && reg->armed)
            rearms_.push_back(k);
        return true;
    }
    registration* reg = regs_.lookup(c.key);
    if (!reg) return true;  // removed, modified or replaced since it was armed
    if (c.res == -ECANCELED) {
        // Not ours (we renew the generation before cancelling): the thread
        // that armed the poll has exited (6.x ends such a poll when it
        // fires; older kernels at the exit). Re-arm from this live thread
        // under the same key.
        if (may_rearm && reg->armed) rearms_.push_back(c.key);
        return true;
    }
    event ev{};
    if (c.res >= 0) {
        ev = to_event(reg->token, reg->what, static_cast<unsigned>(c.res));
    } else {
        ev.token = reg->token;
        ev.error = true;
    }
    if (reportable(ev) && !place(registry::fd_of(c.key), ev, out, r)) return false;
    if (c.res < 0) {
        reg->armed = false;  // the poll failed; modify() arms it again
    } else if (may_rearm) {
        switch (reg->how) {
            case trigger::level: level_rearms_.push_back(c.key); break;
            case trigger::edge:
                if (!(c.flags & IORING_CQE_F_MORE)) rearms_.push_back(c.key);
                break;
            case trigger::oneshot: reg->armed = false; break;
        }
    }
    return true;
}

// Several CQEs of one fd in one poll (a multishot poll that fired twice)
// make one event.
bool io_uring_backend::place(int fd, const event& ev, std::span<event> out, wait_result& r) {
    const auto i = static_cast<std::size_t>(fd);
    if (i >= placed_.size()) placed_.resize(i + 1);
    placed& p = placed_[i];
    if (p.pass == pass_) {
        event& e = out[p.index];
        e.readable |= ev.readable;
        e.writable |= ev.writable;
        e.hangup |= ev.hangup;
        e.error |= ev.error;
        return true;
    }
    if (r.count == out.size()) return false;
    out[r.count] = ev;
    p = {pass_, static_cast<std::uint32_t>(r.count)};
    ++r.count;
    return true;
}

void io_uring_backend::maybe_grow() {
    if (!grow_wanted_ || in_kernel_) return;
    grow_wanted_ = false;
    const std::size_t need = 4 * regs_.size() + 64;
    unsigned cq = ring_->cq_capacity();
    while (cq < need && cq < max_cq) cq <<= 1;
    if (cq <= ring_->cq_capacity()) return;
    try {
        replace_ring(cq);
    } catch (const std::system_error&) {
        // Keep the ring we have: a full CQ costs re-arms, not events.
        grow_failed_ = true;
    }
}

// A bigger CQ means a new ring (resizing in place, 6.13, needs
// DEFER_TASKRUN). Both locks are held and nobody sleeps in the old ring.
void io_uring_backend::replace_ring(unsigned cq_entries) {
    auto next = std::make_unique<ring>(std::clamp(cq_entries / 4, 64u, 4096u), cq_entries, stats);

    // Drain the old ring: its events are delivered before the new ring's.
    for (bool fetched = false;;) {
        const unsigned n = ring_->consume([&](const io_uring_cqe& c) {
            carried_.push_back({c.user_data, c.res, c.flags});
            return true;
        });
        if (!ring_->needs_getevents() || (fetched && n == 0)) break;
        (void)ring_->enter(0, 0, IORING_ENTER_GETEVENTS);
        fetched = true;
    }
    // A oneshot that fired on the old ring stays disarmed; everything else
    // armed is armed again below.
    for (std::size_t i = carried_pos_; i < carried_.size(); ++i) {
        const completion& c = carried_[i];
        registration* reg = regs_.lookup(c.key);
        if (reg && c.res != -ECANCELED && (reg->how == trigger::oneshot || c.res < 0))
            reg->armed = false;
    }
    level_rearms_.clear();
    rearms_.clear();

    // Destroying the old ring cancels its polls and drops their later CQEs.
    // Readiness that arrives meanwhile is not lost: arming a poll checks
    // the file's current state, and the wake eventfd is never drained, so
    // the new wake poll fires at once if a post landed on the old ring.
    ring_ = std::move(next);
    arm_wake();
    regs_.for_each([&](int fd, registration& reg) {
        if (reg.armed) arm(fd, reg);
    });
    submit_now();
}

}  // namespace unipoll::detail::uring
