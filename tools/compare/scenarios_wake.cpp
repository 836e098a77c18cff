// Scenarios 1-4: the cross-thread wake, measured the same way for unipoll,
// the peers and the floors. Threads wait for each other by spinning on
// atomics so that every system call counted belongs to the loop under test.
#include "scenarios.hpp"

#include "stats.hpp"
#include "syscall_counter.hpp"
#include "timing.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace compare {

namespace {

record make_record(const char* scen, const subject& s) {
    record r;
    r.scenario = scen;
    r.subject = s.name;
    r.kind = kind_name(s.kind);
    if (syscall_counter::available()) r.syscalls_source = "kernel";
    else if (s.kind == subject_kind::unipoll) r.syscalls_source = "stats()";
    return r;
}

// A wake that never arrives leaves a thread blocked in the kernel for good;
// there is nothing to recover, so say which round and stop.
[[noreturn]] void lost_wake(const subject& s, const char* scen, std::uint64_t round) {
    std::fprintf(stderr, "\nunipoll-compare: %s / %s: round %llu not acknowledged within 10 s (lost wake?)\n",
                 scen, s.name.c_str(), static_cast<unsigned long long>(round));
    std::_Exit(1);
}

double per(std::uint64_t n, std::uint64_t d) {
    return d ? static_cast<double>(n) / static_cast<double>(d) : 0;
}

void put_latency(record& r, std::vector<std::int64_t> samples) {
    const latency_summary l = summarize(std::move(samples));
    r.values["p50_ns"] = l.p50;
    r.values["p90_ns"] = l.p90;
    r.values["p99_ns"] = l.p99;
    r.values["p999_ns"] = l.p999;
    r.values["max_ns"] = l.max;
    r.values["mean_ns"] = l.mean;
    r.curve = l.curve;
}

unipoll::counters delta(const std::optional<unipoll::counters>& a, const std::optional<unipoll::counters>& b) {
    if (!a || !b) return {};
    return {b->syscalls - a->syscalls, b->wake_posts - a->wake_posts,
            b->wakes_coalesced - a->wakes_coalesced, b->relays - a->relays,
            b->stale_wakeups - a->stale_wakeups};
}

}  // namespace

// The waker paces a run and tells the poller side when warm-up ends and
// which round is the last. Runs stop after o.rounds measured rounds, or
// once the time budget is spent with at least min_rounds done, or at four
// times the budget whatever happened (an overloaded machine, where one
// round can take milliseconds). Warm-up gets a quarter of the budget.
class pacer {
public:
    explicit pacer(const options& o)
        : warmup_(o.warmup), max_(o.rounds), min_(std::min<std::uint64_t>(o.rounds, 300)),
          budget_(o.wake_budget_ns), start_(now_ns()) {}

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

record measure_wake_sleeping(const subject& s, const options& o) {
    auto loop = s.make();
    std::atomic<std::uint64_t> ack{0}, warm_end{0}, final_round{0};
    std::atomic<bool> ready{false}, exited{false};
    std::uint64_t sleeper_calls = 0;

    std::thread sleeper([&] {
        syscall_counter counter;
        ready.store(true);
        for (std::uint64_t i = 1;; ++i) {
            loop->wait_for_wake();
            const bool last = final_round.load() == i;
            // Before the acknowledgement, so before the next wake: the
            // count holds exactly the measured rounds' waits.
            if (warm_end.load() == i) counter.start();
            ack.store(i, std::memory_order_release);
            if (last) break;
        }
        sleeper_calls = counter.stop();
        exited.store(true);
    });

    pacer pace(o);
    syscall_counter counter;
    std::vector<std::int64_t> samples;
    samples.reserve(o.rounds);  // growing it mid-run would mmap inside the counted window
    std::optional<unipoll::counters> before;
    std::uint64_t rounds = 0;
    spin_until([&] { return ready.load(); });
    for (std::uint64_t i = 1;; ++i) {
        // Leave the poller time to get back into the kernel: this scenario
        // is about waking a thread that really sleeps.
        spin_for(o.gap_ns);
        pace.begin(i);
        if (pace.warmup_ends(i)) warm_end.store(i);
        const bool measuring = pace.measuring(i);
        if (measuring && pace.measured(i) == 1) {
            before = loop->stats();
            counter.start();
        }
        const bool last = measuring && pace.last(i);
        if (last) final_round.store(i);
        const std::int64_t t0 = now_ns();
        loop->wake();
        if (!spin_until([&] { return ack.load(std::memory_order_acquire) == i; }))
            lost_wake(s, scenario::wake_sleeping, i);
        const std::int64_t t1 = now_ns();
        if (measuring) samples.push_back(t1 - t0);
        if (last) {
            rounds = pace.measured(i);
            break;
        }
    }
    const std::uint64_t waker_calls = counter.stop();
    // Should the sleeper have missed the last-round mark, wake it until it
    // leaves (outside every counted window).
    while (!spin_until([&] { return exited.load(); }, 200'000'000)) loop->wake();
    sleeper.join();
    const auto d = delta(before, loop->stats());

    record r = make_record(scenario::wake_sleeping, s);
    r.values["rounds"] = static_cast<double>(rounds);
    put_latency(r, std::move(samples));
    if (r.syscalls_source == "kernel") {
        r.values["waker_syscalls"] = per(waker_calls, rounds);
        r.values["sleeper_syscalls"] = per(sleeper_calls, rounds);
    } else if (r.syscalls_source == "stats()") {
        r.values["waker_syscalls"] = per(d.wake_posts, rounds);
        r.values["sleeper_syscalls"] = per(d.syscalls - d.wake_posts, rounds);
    }
    if (s.kind == subject_kind::unipoll) {
        r.values["stats_syscalls"] = per(d.syscalls, rounds);
        // Wakes that found the poller not (yet) asleep cost no system call.
        r.values["wakes_found_awake"] = per(d.wakes_coalesced, rounds);
    }
    return r;
}

record measure_wake_busy(const subject& s, const options& o) {
    auto loop = s.make();
    std::atomic<std::uint64_t> busy{0}, sent{0}, ack{0}, final_round{0};

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
            const bool last = final_round.load() == i;
            ack.store(i, std::memory_order_release);
            if (last) break;
        }
    });

    pacer pace(o);
    syscall_counter counter;
    std::vector<std::int64_t> samples;
    samples.reserve(o.rounds);  // growing it mid-run would mmap inside the counted window
    std::optional<unipoll::counters> before;
    std::uint64_t rounds = 0;
    for (std::uint64_t i = 1;; ++i) {
        if (!spin_until([&] { return busy.load(std::memory_order_acquire) == i; }))
            lost_wake(s, scenario::wake_busy, i);
        pace.begin(i);
        const bool measuring = pace.measuring(i);
        if (measuring && pace.measured(i) == 1) {
            before = loop->stats();
            counter.start();
        }
        const bool last = measuring && pace.last(i);
        if (last) final_round.store(i);
        const std::int64_t t0 = now_ns();
        loop->wake();
        sent.store(i, std::memory_order_release);
        if (!spin_until([&] { return ack.load(std::memory_order_acquire) == i; }))
            lost_wake(s, scenario::wake_busy, i);
        const std::int64_t t1 = now_ns();
        if (measuring) samples.push_back(t1 - t0);
        if (last) {
            rounds = pace.measured(i);
            break;
        }
    }
    const std::uint64_t waker_calls = counter.stop();
    poller.join();
    const auto d = delta(before, loop->stats());

    record r = make_record(scenario::wake_busy, s);
    r.values["rounds"] = static_cast<double>(rounds);
    put_latency(r, std::move(samples));
    if (r.syscalls_source == "kernel") r.values["waker_syscalls"] = per(waker_calls, rounds);
    else if (r.syscalls_source == "stats()") r.values["waker_syscalls"] = per(d.wake_posts + d.relays, rounds);
    if (s.kind == subject_kind::unipoll) r.values["relays"] = per(d.relays, rounds);
    return r;
}

record measure_coalescing(const subject& s, const options& o) {
    auto loop = s.make();
    const unsigned threads = o.coalesce_threads;
    std::atomic<bool> go{false}, stop{false};
    std::atomic<unsigned> started{0};
    std::atomic<std::uint64_t> waker_calls{0};
    std::uint64_t deliveries = 0;

    std::thread poller([&] {
        while (!stop.load(std::memory_order_acquire)) {
            loop->wait_for_wake();
            ++deliveries;
        }
    });
    const auto before = loop->stats();
    std::vector<std::thread> wakers;
    for (unsigned t = 0; t < threads; ++t) {
        wakers.emplace_back([&] {
            syscall_counter counter;
            started.fetch_add(1);
            spin_until([&] { return go.load(std::memory_order_acquire); });
            counter.start();
            for (std::uint64_t n = 0; n < o.coalesce_wakes; ++n) loop->wake();
            waker_calls.fetch_add(counter.stop());
        });
    }
    spin_until([&] { return started.load() == threads; });
    const std::int64_t t0 = now_ns();
    go.store(true, std::memory_order_release);
    for (auto& w : wakers) w.join();
    const std::int64_t t1 = now_ns();
    const auto d = delta(before, loop->stats());
    stop.store(true, std::memory_order_release);
    loop->wake();
    poller.join();

    const std::uint64_t wakes = o.coalesce_wakes * threads;
    record r = make_record(scenario::coalescing, s);
    r.values["threads"] = threads;
    r.values["wakes"] = static_cast<double>(wakes);
    r.values["ns_per_wake"] = per(static_cast<std::uint64_t>(t1 - t0), wakes);
    // The final wake that stops the poller is not one of the measured ones.
    r.values["deliveries_per_wake"] = per(deliveries > 0 ? deliveries - 1 : 0, wakes);
    if (r.syscalls_source == "kernel") r.values["posts_per_wake"] = per(waker_calls.load(), wakes);
    else if (r.syscalls_source == "stats()") r.values["posts_per_wake"] = per(d.wake_posts, wakes);
    return r;
}

record measure_nonblocking_poll(const subject& s, const options& o) {
    auto loop = s.make();
    for (int i = 0; i < 1000; ++i) loop->poll_nonblocking();
    syscall_counter counter;
    const auto before = loop->stats();
    counter.start();
    const std::int64_t t0 = now_ns();
    for (std::uint64_t i = 0; i < o.nonblocking_calls; ++i) loop->poll_nonblocking();
    const std::int64_t t1 = now_ns();
    const std::uint64_t calls = counter.stop();
    const auto d = delta(before, loop->stats());

    record r = make_record(scenario::nonblocking_poll, s);
    r.values["calls"] = static_cast<double>(o.nonblocking_calls);
    r.values["ns_per_call"] = per(static_cast<std::uint64_t>(t1 - t0), o.nonblocking_calls);
    if (r.syscalls_source == "kernel") r.values["syscalls_per_call"] = per(calls, o.nonblocking_calls);
    else if (r.syscalls_source == "stats()") r.values["syscalls_per_call"] = per(d.syscalls, o.nonblocking_calls);
    return r;
}

}  // namespace compare
