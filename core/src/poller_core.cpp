#include "poller_core.hpp"

#include "errors.hpp"

#include <cerrno>

namespace unipoll::detail {

void poller_core::wake() noexcept {
    // exchange, not compare-exchange: a coalesced wake still writes, so the
    // consuming exchange(0) in poll() synchronises with every waker whose
    // wake it absorbed (their earlier writes are visible after poll returns).
    if (pending_.exchange(1) == 1) {
        stat_counters::bump(impl_->stats.wakes_coalesced);
        return;
    }
    if (sleeping_.load() == 1) {
        stat_counters::bump(impl_->stats.wake_posts);
        impl_->post();
    } else {
        // Nobody is in the kernel: the sleeper checks `pending` before it
        // waits, so the wake costs no syscall at all.
        stat_counters::bump(impl_->stats.wakes_coalesced);
    }
}

poll_result poller_core::poll(std::span<event> out, std::chrono::nanoseconds timeout) {
    if (out.empty()) throw_usage(EINVAL, impl_->kind(), "poll", no_fd, "empty event span");
    if (timeout.count() == 0) return poll_nonblocking(out);
    return poll_blocking(out, timeout);
}

poll_result poller_core::poll_nonblocking(std::span<event> out) {
    const wait_result r = impl_->wait(out, std::chrono::nanoseconds{0});
    if (r.wake_event) {
        if (pending_.load() == 1 && sleeping_.load() == 1) {
            // We took the wake event meant for the thread blocked in the
            // kernel: give it back (the relay of Go CL 628975). Only here
            // does a relay cost a syscall.
            stat_counters::bump(impl_->stats.relays);
            impl_->post();
        } else if (pending_.load() == 0) {
            stat_counters::bump(impl_->stats.stale_wakeups);
        }
        // pending == 1 && sleeping == 0: the sleeper has not gone to sleep
        // yet or is already back; either way it checks `pending` next.
    }
    return {r.count, false, false};
}

namespace {

// Releases the blocking-poll guard on every exit path.
struct blocking_guard {
    std::atomic<bool>& flag;
    ~blocking_guard() { flag.store(false, std::memory_order_release); }
};

}  // namespace

poll_result poller_core::poll_blocking(std::span<event> out, std::chrono::nanoseconds timeout) {
    if (blocking_.exchange(true, std::memory_order_acquire))
        throw_usage(EBUSY, impl_->kind(), "poll", no_fd,
                    "another thread is already in a blocking poll");
    blocking_guard guard{blocking_};

    using clock = std::chrono::steady_clock;
    const bool bounded = timeout.count() > 0;
    // Saturate instead of overflowing for huge timeouts.
    const auto start = clock::now();
    const auto deadline = bounded && timeout < clock::time_point::max() - start
                              ? start + std::chrono::duration_cast<clock::duration>(timeout)
                              : clock::time_point::max();
    std::chrono::nanoseconds remaining = bounded ? timeout : forever;

    for (;;) {
        // exchange, not store: a seq_cst store followed by a seq_cst load is
        // enough on real hardware, but emulators that translate ARM's
        // store-release/load-acquire without a store->load barrier (qemu-user
        // on x86 hosts lost wakes here) keep the order for an RMW. wake()
        // already writes `pending` with an RMW. Same cost on x86 (xchg).
        sleeping_.exchange(1);
        if (pending_.load() == 1) {
            // The wake arrived before we slept: consume it, no syscall.
            sleeping_.store(0);
            pending_.exchange(0);
            return {0, true, false};
        }
        const wait_result r = impl_->wait(out, remaining);
        sleeping_.exchange(0);  // RMW for the same reason as above

        bool woken = false;
        if (pending_.load() == 1) {
            pending_.exchange(0);
            woken = true;
        } else if (r.wake_event) {
            // A post whose wake was already consumed (the sleeper saw
            // `pending` before the post landed, or a relay raced it).
            stat_counters::bump(impl_->stats.stale_wakeups);
        }
        if (r.interrupted && options_.return_on_signal) return {r.count, woken, true};
        if (r.count > 0 || woken) return {r.count, woken, false};

        // Nothing for the caller (a stale wake event, events of a removed
        // fd, a backend-internal wake, EINTR): wait again for what is left.
        // By default a signal does not end the poll early: that keeps
        // timeouts exact and survives spurious EINTR (ptrace, freezer); a
        // handler that wants the poll to return calls wake(), which is
        // async-signal-safe. return_on_signal opts out, above.
        if (bounded) {
            const auto now = clock::now();
            if (now >= deadline) return {0, false, false};
            remaining = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
            if (remaining.count() == 0) remaining = std::chrono::nanoseconds{1};
        }
    }
}

}  // namespace unipoll::detail
