// poller_options::return_on_signal: a blocking poll whose kernel wait a
// signal handler interrupted returns at once with `interrupted`, so a
// runtime that acts on signals only after the system call returns (Python,
// a C program setting a flag in its handler) regains control. Without the
// option a signal never ends a poll early.
#include "signal_helpers.hpp"

#include "fd_helpers.hpp"

#include <array>
#include <atomic>

namespace conformance {
namespace {

const unipoll::poller_options return_on_signal{true};

// Signals come every millisecond until the poll returns: one signal alone
// may land just before the poll enters the kernel, which no EINTR-based
// interface can see (poller.hpp says so); the next one ends the wait.
constexpr auto storm_period = 1000us;

CONFORMANCE_CASE(return_on_signal_ends_a_blocking_poll) {
    unipoll::poller p(backend_under_test, return_on_signal);
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 1);
    interrupting_handler handler;
    std::array<unipoll::event, 8> buf{};

    for (auto timeout : {unipoll::forever, std::chrono::nanoseconds{4 * patience}}) {
        signal_flag() = 0;
        unipoll::poll_result r{};
        const auto start = steady::now();
        {
            signal_storm storm(pthread_self(), storm_period);
            // A broken poller would sleep forever: wake it after patience,
            // which the checks below then report as a failure.
            std::atomic<bool> done{false};
            joining_thread watchdog([&] {
                while (!done.load() && steady::now() - start < patience)
                    std::this_thread::sleep_for(1ms);
                if (!done.load()) p.wake();
            });
            // The flag-in-handler loop of a C program: poll until the
            // handler ran.
            do {
                r = p.poll(buf, timeout);
            } while (!signal_flag() && steady::now() - start < patience);
            done.store(true);
        }
        const auto elapsed = steady::now() - start;
        BOOST_CHECK_MESSAGE(elapsed < patience,
                            "a signal did not end the poll (timeout "
                                << timeout.count() << " ns): it returned after "
                                << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                                << " ms");
        BOOST_CHECK_MESSAGE(r.interrupted, "the poll a signal ended did not report interrupted");
        BOOST_CHECK_EQUAL(r.count, 0u);
        BOOST_CHECK(!r.woken);
    }
    // The poller is unchanged: events and wakes as before.
    write_byte(fds.write_end.get());
    const auto e = await_token(p, 1);
    BOOST_CHECK_MESSAGE(e && e->readable, "no event after an interrupted poll");
    drain(fds.read_end.get());
    p.remove(fds.read_end.get());
    check_poller_still_works(p);
}

// The kernel also ends a wait with EINTR when no handler ran (task work
// that io_uring queues to the thread after a ring is closed, ptrace, the
// cgroup freezer); the poller reports that as interrupted too, like any
// EINTR-based interface. This polls again after such a return.
polled poll_past_spurious_eintr(unipoll::poller& p, std::chrono::nanoseconds timeout) {
    polled r = poll_for(p, timeout);
    for (int retry = 0; retry < 5 && r.result.interrupted && r.result.count == 0 &&
                        !r.result.woken;
         ++retry) {
        note(p.kind(), "a poll ended with EINTR without a signal (spurious EINTR)");
        r = poll_for(p, timeout);
    }
    return r;
}

CONFORMANCE_CASE(interrupted_is_not_set_by_timeouts_wakes_or_events) {
    unipoll::poller p(backend_under_test, return_on_signal);
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 2);

    const polled timed_out = poll_past_spurious_eintr(p, 20ms);
    BOOST_CHECK(!timed_out.result.interrupted);
    BOOST_CHECK_EQUAL(timed_out.result.count, 0u);
    BOOST_CHECK(timed_out.elapsed >= 20ms);

    p.wake();
    const polled woken = poll_past_spurious_eintr(p, patience);
    BOOST_CHECK(woken.result.woken);
    BOOST_CHECK(!woken.result.interrupted);

    {
        background_poll sleeper(p, patience);
        std::this_thread::sleep_for(settle_time);
        p.wake();
        BOOST_REQUIRE(sleeper.finished_within(patience));
        BOOST_CHECK(sleeper.result().result.woken);
    }

    write_byte(fds.write_end.get());
    const polled ready = poll_past_spurious_eintr(p, patience);
    BOOST_CHECK(ready.has(2));
    BOOST_CHECK(!ready.result.interrupted);
    const polled nonblocking = poll_for(p, 0ns);
    BOOST_CHECK(nonblocking.has(2));
    BOOST_CHECK(!nonblocking.result.interrupted);
    p.remove(fds.read_end.get());
}

CONFORMANCE_CASE(return_on_signal_loses_no_concurrent_wake) {
    unipoll::poller p(backend_under_test, return_on_signal);
    interrupting_handler handler;
    const pthread_t poller_thread = pthread_self();
    const std::size_t rounds = scaled(30);
    std::size_t interrupted = 0;

    for (std::size_t round = 0; round < rounds; ++round) {
        std::atomic<bool> stop{false};
        const std::size_t wake_after = 5 + (round * 7) % 40;  // signals sent before the wake
        bool woken = false;
        {
            joining_thread signaller([&] {
                for (std::size_t sent = 0; !stop.load(); ++sent) {
                    pthread_kill(poller_thread, SIGUSR1);
                    if (sent == wake_after) p.wake();
                    std::this_thread::sleep_for(100us);
                }
            });
            const auto deadline = steady::now() + patience;
            while (!woken && steady::now() < deadline) {
                const polled r = poll_for(p, patience);
                woken = r.result.woken;
                if (r.result.interrupted) ++interrupted;
            }
            stop.store(true);
        }
        BOOST_REQUIRE_MESSAGE(woken, "round " << round << ": wake lost among signals");
    }
    BOOST_CHECK_MESSAGE(interrupted > 0, "no poll reported interrupted under a signal storm");
    note(backend_under_test, std::to_string(interrupted) + " polls ended by a signal in " +
                                 std::to_string(rounds) + " rounds");
    check_poller_still_works(p);
}

CONFORMANCE_CASE(without_return_on_signal_a_poll_outlasts_signals) {
    unipoll::poller p(backend_under_test);
    interrupting_handler handler;
    constexpr auto timeout = 150ms;
    polled r;
    std::size_t sent = 0;
    {
        signal_storm storm(pthread_self(), storm_period);
        r = poll_for(p, timeout);
        sent = storm.sent();
    }
    BOOST_CHECK_MESSAGE(r.elapsed >= timeout,
                        "the poll ended after "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(r.elapsed).count()
                            << " ms of a 150 ms timeout under " << sent << " signals");
    BOOST_CHECK(!r.result.interrupted);
    BOOST_CHECK_EQUAL(r.result.count, 0u);
    BOOST_CHECK(!r.result.woken);
}

}  // namespace
}  // namespace conformance
