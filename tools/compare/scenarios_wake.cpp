// Scenarios 1 and 2: the cross-thread wake, measured the same way for
// unipoll, the peers and the floors. One round driver times both: the
// waker wakes, the poller side acknowledges; the scenarios differ only in
// what the poller does between wakes (sleeps in the kernel, or spins on
// non-blocking polls). Threads wait for each other by spinning on atomics
// so that every system call counted belongs to the loop under test.
#include "scenarios.hpp"

#include "scenario_util.hpp"
#include "syscall_counter.hpp"
#include "timing.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace compare {

namespace {

// A wake that never arrives leaves a thread blocked in the kernel for good;
// there is nothing to recover, so say which round and stop.
[[noreturn]] void lost_wake(const subject& s, const char* scen, std::uint64_t round) {
    std::fprintf(stderr, "\nunipoll-compare: %s / %s: round %llu not acknowledged within 10 s (lost wake?)\n",
                 scen, s.name.c_str(), static_cast<unsigned long long>(round));
    std::_Exit(1);
}

// The waker paces a run and tells the poller side when warm-up ends and
// which round is the last. A run stops after `rounds` measured rounds, or
// once its time budget is spent with at least 300 done, or at four times
// the budget whatever happened (an overloaded machine, where one round can
// take milliseconds). Warm-up gets a quarter of the budget.
class pacer {
public:
    pacer(std::uint64_t warmup, std::uint64_t rounds, std::int64_t budget)
        : warmup_(warmup), max_(rounds), min_(std::min<std::uint64_t>(rounds, 300)), budget_(budget),
          start_(now_ns()) {}

    /// Called by the waker at the start of round i (1-based).
    void begin(std::uint64_t i) {
        if (warm_end_ == 0 && (i >= warmup_ || now_ns() - start_ > budget_ / 4)) {
            warm_end_ = i;
            return;
        }
        if (measuring(i) && i == warm_end_ + 1) start_ = now_ns();
    }
    /// Round i's sample counts.
    bool measuring(std::uint64_t i) const { return warm_end_ != 0 && i > warm_end_; }
    /// Round i is the warm-up's last: counters start right after it.
    bool warmup_ends(std::uint64_t i) const { return i == warm_end_; }
    /// Round i (a measured one) is the last.
    bool last(std::uint64_t i) const {
        const std::uint64_t done = i - warm_end_;
        const std::int64_t spent = now_ns() - start_;
        return done >= max_ || (done >= min_ && spent > budget_) || spent > 4 * budget_;
    }
    std::uint64_t measured(std::uint64_t i) const { return i - warm_end_; }

private:
    std::uint64_t warmup_, max_, min_;
    std::int64_t budget_;
    std::int64_t start_;
    std::uint64_t warm_end_ = 0;
};

// What the poller side reads: the round acknowledged last, the warm-up's
// last round, and the final round.
struct round_signals {
    std::atomic<std::uint64_t> ack{0}, warm_end{0}, final_round{0};
};

struct waker_side {
    std::uint64_t rounds = 0;          // measured
    std::uint64_t calls = 0;           // the waker's system calls over them
    std::int64_t first_round_ns = 0;   // round 1, on a loop that never woke before
    std::vector<std::int64_t> samples;
    std::optional<unipoll::counters> before;  // the loop's stats() as measuring began
};

// The waker's side of one run: round i starts once before_round(i) returns;
// after_wake(i) runs between wake() and waiting for the acknowledgement.
template <class BeforeRound, class AfterWake>
waker_side drive_rounds(const subject& s, const char* scen, wake_loop& loop, const options& o,
                        round_signals& sig, BeforeRound before_round, AfterWake after_wake) {
    pacer pace(o.warmup, per_run(o.rounds, o.runs), o.wake_budget_ns / o.runs);
    syscall_counter counter;
    waker_side w;
    w.samples.reserve(per_run(o.rounds, o.runs));  // growing it mid-run would mmap inside the counted window
    for (std::uint64_t i = 1;; ++i) {
        before_round(i);
        pace.begin(i);
        if (pace.warmup_ends(i)) sig.warm_end.store(i);
        const bool measuring = pace.measuring(i);
        if (measuring && pace.measured(i) == 1) {
            w.before = loop.stats();
            counter.start();
        }
        const bool last = measuring && pace.last(i);
        if (last) sig.final_round.store(i);
        const std::int64_t t0 = now_ns();
        loop.wake();
        after_wake(i);
        if (!spin_until([&] { return sig.ack.load(std::memory_order_acquire) == i; })) lost_wake(s, scen, i);
        const std::int64_t t1 = now_ns();
        if (i == 1) w.first_round_ns = t1 - t0;
        if (measuring) w.samples.push_back(t1 - t0);
        if (last) {
            w.rounds = pace.measured(i);
            break;
        }
    }
    w.calls = counter.stop();
    return w;
}

void put_rounds(run_result& run, waker_side& w) {
    run.values["rounds"] = static_cast<double>(w.rounds);
    run.values["first_round_ns"] = static_cast<double>(w.first_round_ns);
    put_percentiles(run, std::move(w.samples), true);
}

run_result sleeping_run(const subject& s, const options& o) {
    auto loop = s.make();
    round_signals sig;
    std::atomic<bool> ready{false}, exited{false};
    std::uint64_t sleeper_calls = 0;

    std::thread sleeper([&] {
        syscall_counter counter;
        ready.store(true);
        for (std::uint64_t i = 1;; ++i) {
            loop->wait_for_wake();
            const bool last = sig.final_round.load() == i;
            // Before the acknowledgement, so before the next wake: the
            // count holds exactly the measured rounds' waits.
            if (sig.warm_end.load() == i) counter.start();
            sig.ack.store(i, std::memory_order_release);
            if (last) break;
        }
        sleeper_calls = counter.stop();
        exited.store(true);
    });
    spin_until([&] { return ready.load(); });
    // Leave the poller time to get back into the kernel: this scenario is
    // about waking a thread that really sleeps.
    waker_side w = drive_rounds(s, scenario::wake_sleeping, *loop, o, sig,
                                [&](std::uint64_t) { spin_for(o.gap_ns); }, [](std::uint64_t) {});
    // Should the sleeper have missed the last-round mark, wake it until it
    // leaves (outside every counted window).
    while (!spin_until([&] { return exited.load(); }, 200'000'000)) loop->wake();
    sleeper.join();
    const auto d = delta(w.before, loop->stats());

    run_result run;
    const double rounds = static_cast<double>(w.rounds);
    if (syscall_counter::available()) {
        run.values["waker_syscalls"] = per(static_cast<double>(w.calls), rounds);
        run.values["sleeper_syscalls"] = per(static_cast<double>(sleeper_calls), rounds);
    } else if (s.kind == subject_kind::unipoll) {
        run.values["waker_syscalls"] = per(static_cast<double>(d.wake_posts), rounds);
        run.values["sleeper_syscalls"] = per(static_cast<double>(d.syscalls - d.wake_posts), rounds);
    }
    if (s.kind == subject_kind::unipoll) {
        run.values["stats_syscalls"] = per(static_cast<double>(d.syscalls), rounds);
        // Wakes that found the poller not (yet) asleep cost no system call.
        run.values["wakes_found_awake"] = per(static_cast<double>(d.wakes_coalesced), rounds);
    }
    put_rounds(run, w);
    return run;
}

run_result busy_run(const subject& s, const options& o) {
    auto loop = s.make();
    round_signals sig;
    std::atomic<std::uint64_t> busy{0}, sent{0};

    std::thread poller([&] {
        for (std::uint64_t i = 1;; ++i) {
            busy.store(i, std::memory_order_release);
            bool delivered = false;
            while (sent.load(std::memory_order_acquire) != i) delivered |= loop->poll_nonblocking();
            if (loop->nonblocking_delivers_wakes()) {
                while (!delivered) delivered = loop->poll_nonblocking();
            } else {
                // unipoll: the wake is pending in user space; the next
                // blocking poll takes it without entering the kernel.
                loop->wait_for_wake();
            }
            // final_round is stored before `sent`, which was read above.
            const bool last = sig.final_round.load() == i;
            sig.ack.store(i, std::memory_order_release);
            if (last) break;
        }
    });
    waker_side w = drive_rounds(
        s, scenario::wake_busy, *loop, o, sig,
        [&](std::uint64_t i) {
            if (!spin_until([&] { return busy.load(std::memory_order_acquire) == i; }))
                lost_wake(s, scenario::wake_busy, i);
        },
        [&](std::uint64_t i) { sent.store(i, std::memory_order_release); });
    poller.join();
    const auto d = delta(w.before, loop->stats());

    run_result run;
    const double rounds = static_cast<double>(w.rounds);
    if (syscall_counter::available()) run.values["waker_syscalls"] = per(static_cast<double>(w.calls), rounds);
    else if (s.kind == subject_kind::unipoll)
        run.values["waker_syscalls"] = per(static_cast<double>(d.wake_posts + d.relays), rounds);
    if (s.kind == subject_kind::unipoll) run.values["relays"] = per(static_cast<double>(d.relays), rounds);
    put_rounds(run, w);
    return run;
}

}  // namespace

record measure_wake_sleeping(const subject& s, const options& o) {
    return repeated(scenario::wake_sleeping, s, o.runs, [&] { return sleeping_run(s, o); });
}

record measure_wake_busy(const subject& s, const options& o) {
    return repeated(scenario::wake_busy, s, o.runs, [&] { return busy_run(s, o); });
}

}  // namespace compare
