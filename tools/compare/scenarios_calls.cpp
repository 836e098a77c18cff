// Scenarios 3 and 4: what a wake costs when several threads wake one
// poller as fast as they can (coalescing), and what a non-blocking poll
// costs when nothing is ready. Both time batches of calls, so that the
// records carry percentiles, and keep each loop's first call apart.
#include "scenarios.hpp"

#include "scenario_util.hpp"
#include "syscall_counter.hpp"
#include "timing.hpp"

#include <atomic>
#include <mutex>
#include <thread>

namespace compare {

namespace {

constexpr std::uint64_t wake_batch = 256;
constexpr std::uint64_t call_batch = 100;

run_result coalescing_run(const subject& s, const options& o) {
    auto loop = s.make();
    const unsigned threads = o.coalesce_threads;
    // One timed alone, then whole batches.
    const std::uint64_t wakes_per_thread = 1 + per_run(o.coalesce_wakes, o.runs, wake_batch) / wake_batch * wake_batch;
    std::atomic<bool> go{false}, stop{false};
    std::atomic<unsigned> started{0};
    std::atomic<std::uint64_t> waker_calls{0};
    std::atomic<std::int64_t> first_wake{0};
    std::mutex samples_lock;
    std::vector<std::int64_t> samples;
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
        wakers.emplace_back([&, t] {
            syscall_counter counter;
            std::vector<std::int64_t> mine;
            mine.reserve(wakes_per_thread / wake_batch + 1);
            started.fetch_add(1);
            spin_until([&] { return go.load(std::memory_order_acquire); });
            counter.start();
            // Thread 0's first wake, on a loop no one woke before.
            std::int64_t t0 = now_ns();
            loop->wake();
            if (t == 0) first_wake.store(now_ns() - t0);
            for (std::uint64_t n = 1; n + wake_batch <= wakes_per_thread; n += wake_batch) {
                t0 = now_ns();
                for (std::uint64_t k = 0; k < wake_batch; ++k) loop->wake();
                mine.push_back(now_ns() - t0);
            }
            waker_calls.fetch_add(counter.stop());
            const std::lock_guard<std::mutex> hold(samples_lock);
            samples.insert(samples.end(), mine.begin(), mine.end());
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

    const auto wakes = static_cast<double>(wakes_per_thread * threads);
    run_result run;
    run.values["threads"] = threads;
    run.values["wakes"] = wakes;
    run.values["ns_per_wake"] = per(static_cast<double>(t1 - t0), wakes);
    run.values["first_round_ns"] = static_cast<double>(first_wake.load());
    // The final wake that stops the poller is not one of the measured ones.
    run.values["deliveries_per_wake"] = per(static_cast<double>(deliveries > 0 ? deliveries - 1 : 0), wakes);
    if (syscall_counter::available()) run.values["posts_per_wake"] = per(static_cast<double>(waker_calls.load()), wakes);
    else if (s.kind == subject_kind::unipoll) run.values["posts_per_wake"] = per(static_cast<double>(d.wake_posts), wakes);
    put_batch_percentiles(run, std::move(samples), wake_batch);
    return run;
}

run_result nonblocking_run(const subject& s, const options& o) {
    auto loop = s.make();
    const std::uint64_t calls = per_run(o.nonblocking_calls, o.runs, call_batch) / call_batch * call_batch;
    std::int64_t t0 = now_ns();
    loop->poll_nonblocking();
    const std::int64_t first = now_ns() - t0;
    for (int i = 0; i < 1000; ++i) loop->poll_nonblocking();
    std::vector<std::int64_t> samples;
    samples.reserve(calls / call_batch + 1);
    syscall_counter counter;
    const auto before = loop->stats();
    counter.start();
    const std::int64_t start = now_ns();
    for (std::uint64_t n = 0; n < calls; n += call_batch) {
        t0 = now_ns();
        for (std::uint64_t k = 0; k < call_batch; ++k) loop->poll_nonblocking();
        samples.push_back(now_ns() - t0);
    }
    const std::int64_t stop = now_ns();
    const std::uint64_t kernel = counter.stop();
    const auto d = delta(before, loop->stats());

    run_result run;
    run.values["calls"] = static_cast<double>(calls);
    run.values["ns_per_call"] = per(static_cast<double>(stop - start), static_cast<double>(calls));
    run.values["first_round_ns"] = static_cast<double>(first);
    if (syscall_counter::available())
        run.values["syscalls_per_call"] = per(static_cast<double>(kernel), static_cast<double>(calls));
    else if (s.kind == subject_kind::unipoll)
        run.values["syscalls_per_call"] = per(static_cast<double>(d.syscalls), static_cast<double>(calls));
    put_batch_percentiles(run, std::move(samples), call_batch);
    return run;
}

}  // namespace

record measure_coalescing(const subject& s, const options& o) {
    return repeated(scenario::coalescing, s, o.runs, [&] { return coalescing_run(s, o); });
}

record measure_nonblocking_poll(const subject& s, const options& o) {
    return repeated(scenario::nonblocking_poll, s, o.runs, [&] { return nonblocking_run(s, o); });
}

}  // namespace compare
