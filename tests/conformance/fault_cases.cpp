// Hostile input and faults: descriptors closed behind the poller's back and
// their numbers reused, empty spans, extreme timeouts, signal storms, and
// destruction with work still in flight. Each ends with the poller (or a
// fresh one) still working.
#include "fixture.hpp"

#include "fd_helpers.hpp"
#include "testing_access.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

namespace conformance {
namespace {

// ---- closed descriptors and reused numbers -----------------------------------

#ifndef _WIN32

// Makes `number` refer to `fresh`'s file (dup2) and moves `fresh` there,
// so a reuse of a closed descriptor's number is certain rather than left to
// the kernel's choice.
void move_to_number(unique_fd& fresh, int number) {
    if (fresh.get() == number) return;
    if (::dup2(fresh.get(), number) != number)
        throw std::system_error(errno, std::generic_category(), "dup2");
    if (::fcntl(number, F_SETFD, FD_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "fcntl(FD_CLOEXEC)");
    fresh = unique_fd(number);
}

// The new file behind a reused number is reported with its own token only,
// each time it becomes ready (a oneshot registration is re-armed).
void expect_only_new_token(unipoll::poller& p, pipe_fds& fresh, int number, std::uint64_t old_token,
                           std::uint64_t new_token, trigger how = trigger::level) {
    for (int i = 0; i < 3; ++i) {
        write_byte(fresh.write_end.get());
        const auto deadline = steady::now() + patience;
        bool seen = false;
        while (!seen && steady::now() < deadline) {
            const polled r = poll_for(p, patience);
            BOOST_CHECK_MESSAGE(!r.has(old_token),
                                "token " << old_token << " of the closed fd reported after fd "
                                         << number << " was reused");
            seen = r.has(new_token);
        }
        BOOST_CHECK_MESSAGE(seen, "new registration of fd " << number << " not reported, round " << i);
        drain(number);
        if (how == trigger::oneshot) p.modify(number, interest::read, new_token, how);
    }
}

CONFORMANCE_CASE(closed_fd_number_reused_by_new_fd) {
    unipoll::poller p(backend_under_test);
    auto old_fds = make_pipe();
    const int number = old_fds.read_end.get();
    p.add(number, interest::read, 601);
    write_byte(old_fds.write_end.get());  // pending readiness at close time
    old_fds.read_end.reset();
    old_fds.write_end.reset();

    auto fresh = make_pipe();
    move_to_number(fresh.read_end, number);
    p.add(number, interest::read, 602);
    expect_only_new_token(p, fresh, number, 601, 602);
    p.remove(number);
    expect_errno([&] { p.remove(number); }, ENOENT, number, "second remove of the reused fd");
    check_poller_still_works(p);
}

// docs/semantics.md: remove() of an fd that was already closed succeeds and
// forgets the registration.
CONFORMANCE_CASE(remove_of_closed_fd_then_number_reused) {
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot}) {
        if (!p.supports(how)) continue;
        BOOST_TEST_CONTEXT("trigger " << trigger_name(how)) {
            auto old_fds = make_pipe();
            const int number = old_fds.read_end.get();
            p.add(number, interest::read, 611, how);
            write_byte(old_fds.write_end.get());
            old_fds.read_end.reset();
            p.remove(number);
            expect_errno([&] { p.remove(number); }, ENOENT, number, "remove after remove");
            expect_quiet(p);

            auto fresh = make_pipe();
            move_to_number(fresh.read_end, number);
            p.add(number, interest::read, 612, how);
            expect_only_new_token(p, fresh, number, 611, 612, how);
            p.remove(number);
        }
    }
    check_poller_still_works(p);
}

// The harder variant: a dup keeps the closed descriptor's file open, so a
// kernel that registers files (epoll, io_uring) still holds the old
// registration and may report it. The old token must still never come back
// once the number belongs to another file.
CONFORMANCE_CASE(closed_fd_whose_file_lives_on_in_a_dup) {
    unipoll::poller p(backend_under_test);
    auto old_fds = make_pipe();
    const int number = old_fds.read_end.get();
    unique_fd keeper(::fcntl(number, F_DUPFD_CLOEXEC, 0));
    BOOST_REQUIRE_MESSAGE(keeper.get() >= 0, "fcntl(F_DUPFD_CLOEXEC): " << std::strerror(errno));
    p.add(number, interest::read, 621);
    old_fds.read_end.reset();

    auto fresh = make_pipe();
    move_to_number(fresh.read_end, number);
    p.add(number, interest::read, 622);
    write_byte(old_fds.write_end.get());  // the old file becomes readable
    expect_only_new_token(p, fresh, number, 621, 622);

    // The old file stays readable: a poll must neither report it nor spin
    // on it. Counted, not asserted: no backend can drop a registration
    // whose number it no longer owns, so a few wasted kernel calls are
    // expected where the kernel keeps reporting it.
    const auto before = p.stats().syscalls;
    const polled r = poll_for(p, quiet_period);
    BOOST_CHECK_MESSAGE(!r.has(621), "token of the closed fd reported");
    BOOST_CHECK_EQUAL(r.result.count, 0u);
    note(backend_under_test, "a 50 ms poll with the closed fd's file still readable made " +
                                 std::to_string(p.stats().syscalls - before) + " kernel calls");
    p.remove(number);
    keeper.reset();
    check_poller_still_works(p);
}

#else
CONFORMANCE_SKIPPED_CASE(closed_fd_number_reused_by_new_fd, needs::fd_numbers)
CONFORMANCE_SKIPPED_CASE(remove_of_closed_fd_then_number_reused, needs::fd_numbers)
CONFORMANCE_SKIPPED_CASE(closed_fd_whose_file_lives_on_in_a_dup, needs::fd_numbers)
#endif

// ---- empty span ---------------------------------------------------------------

CONFORMANCE_CASE(empty_span_neither_consumes_nor_disturbs_a_wake) {
    unipoll::poller p(backend_under_test);
    std::span<unipoll::event> empty;
    p.wake();
    for (auto t : {0ns, std::chrono::nanoseconds(10ms), unipoll::forever})
        expect_errno([&] { (void)p.poll(empty, t); }, EINVAL, no_fd, "poll(empty span) with a wake pending");
    const polled r = poll_for(p, patience);
    BOOST_CHECK_MESSAGE(r.result.woken, "the pending wake was lost to a poll with an empty span");

    // While another thread sleeps in poll, an empty span is EINVAL (not
    // EBUSY) and does not end that poll.
    background_poll bg(p, unipoll::forever);
    std::this_thread::sleep_for(settle_time);
    expect_errno([&] { (void)p.poll(empty, unipoll::forever); }, EINVAL, no_fd,
                 "poll(empty span) while another thread blocks");
    BOOST_CHECK_MESSAGE(!bg.finished_within(quiet_period), "the empty-span poll ended the sleeper");
    p.wake();
    BOOST_REQUIRE(bg.finished_within(patience));
    BOOST_CHECK(bg.result().result.woken);
    check_poller_still_works(p);
}

// ---- extreme timeouts -----------------------------------------------------------

CONFORMANCE_CASE(huge_timeouts_end_on_event_and_on_wake) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 631);
    for (std::chrono::nanoseconds t :
         {std::chrono::nanoseconds::max(), std::chrono::nanoseconds::max() - 1ns,
          std::chrono::nanoseconds(std::chrono::hours(24 * 365 * 100)),
          std::chrono::nanoseconds(std::chrono::hours(24 * 365 * 100)) + 999'999ns}) {
        BOOST_TEST_CONTEXT("timeout " << t.count() << " ns") {
            {
                background_poll bg(p, t);
                BOOST_CHECK_MESSAGE(!bg.finished_within(quiet_period),
                                    "poll returned at once instead of waiting");
                write_byte(fds.write_end.get());
                BOOST_REQUIRE(bg.finished_within(patience));
                BOOST_CHECK(bg.result().has(631));
                drain(fds.read_end.get());
            }
            {
                background_poll bg(p, t);
                BOOST_CHECK_MESSAGE(!bg.finished_within(quiet_period),
                                    "poll returned at once instead of waiting");
                p.wake();
                BOOST_REQUIRE(bg.finished_within(patience));
                BOOST_CHECK(bg.result().result.woken);
            }
        }
    }
    p.remove(fds.read_end.get());
    check_poller_still_works(p);
}

CONFORMANCE_CASE(every_negative_timeout_waits_forever) {
    unipoll::poller p(backend_under_test);
    for (std::chrono::nanoseconds t :
         {-1ns, -5ns, std::chrono::nanoseconds(-1ms), std::chrono::nanoseconds(-1h),
          std::chrono::nanoseconds::min(), std::chrono::nanoseconds::min() + 1ns}) {
        BOOST_TEST_CONTEXT("timeout " << t.count() << " ns") {
            background_poll bg(p, t);
            std::this_thread::sleep_for(50ms);
            BOOST_CHECK_MESSAGE(!bg.finished_within(0ms), "a negative timeout did not wait");
            p.wake();
            BOOST_REQUIRE(bg.finished_within(patience));
            const polled& r = bg.result();
            // Still running 50 ms after it was started, and ended by the
            // wake. (Its own elapsed time says nothing here: on a loaded
            // machine the thread may begin polling just before the wake.)
            BOOST_CHECK(r.result.woken);
        }
    }
    check_poller_still_works(p);
}

// ---- signal storm -----------------------------------------------------------------

#ifndef _WIN32

extern "C" void ignore_alarm(int) {}

// SIGALRM every 100 us from an interval timer, handled without SA_RESTART
// so kernel waits fail with EINTR, which the poller must resume. Only the
// polling thread may take it: the constructor runs there, and threads
// started while `masked()` is in scope block it.
class alarm_storm {
public:
    alarm_storm() {
        struct sigaction sa {};
        sa.sa_handler = ignore_alarm;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        BOOST_REQUIRE(::sigaction(SIGALRM, &sa, &old_action_) == 0);
        itimerval every{{0, 100}, {0, 100}};
        BOOST_REQUIRE(::setitimer(ITIMER_REAL, &every, &old_timer_) == 0);
    }
    ~alarm_storm() {
        itimerval off{};
        ::setitimer(ITIMER_REAL, &off, nullptr);
        // A signal raised just before the timer stopped is delivered on
        // this syscall's return, while the no-op handler is still in place.
        std::this_thread::sleep_for(1ms);
        ::sigaction(SIGALRM, &old_action_, nullptr);
        ::setitimer(ITIMER_REAL, &old_timer_, nullptr);
    }
    alarm_storm(const alarm_storm&) = delete;
    alarm_storm& operator=(const alarm_storm&) = delete;

    // Blocks SIGALRM in this thread (and threads it starts) while alive.
    class masked {
    public:
        masked() {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGALRM);
            ::pthread_sigmask(SIG_BLOCK, &set, &old_);
        }
        ~masked() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
        masked(const masked&) = delete;
        masked& operator=(const masked&) = delete;

    private:
        sigset_t old_;
    };

private:
    struct sigaction old_action_ {};
    itimerval old_timer_{};
};

CONFORMANCE_CASE(eintr_storm_loses_no_wake) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    constexpr std::uint64_t token = 641;
    p.add(fds.read_end.get(), interest::read, token);
    const std::uint64_t rounds = scaled(3000);
    std::atomic<std::uint64_t> sent{0}, acked{0};
    std::atomic<bool> give_up{false};
    const std::uint64_t bytes_sent = rounds / 16;  // one byte every 16th round
    std::uint64_t woken = 0, ended_empty = 0, bytes = 0;
    std::string failure;

    alarm_storm storm;
    {
        std::optional<joining_thread> waker;
        {
            alarm_storm::masked block;  // the waker inherits the mask
            waker.emplace([&] {
                for (std::uint64_t k = 1; k <= rounds && !give_up.load(); ++k) {
                    // Every 16th round the fd becomes readable too, so
                    // events and wakes arrive together under the storm.
                    if (k % 16 == 0) write_byte(fds.write_end.get());
                    sent.store(k);
                    p.wake();
                    while (acked.load() < k && !give_up.load()) std::this_thread::yield();
                }
            });
        }
        std::array<unipoll::event, 16> buf{};
        auto last_progress = steady::now();
        while (acked.load() < rounds) {
            const auto r = p.poll(buf, patience);
            for (std::size_t i = 0; i < r.count; ++i)
                if (buf[i].token == token) bytes += drain(fds.read_end.get());
            if (r.woken) {
                ++woken;
                if (sent.load() == acked.load()) {
                    failure = "woken with no wake outstanding after round " +
                              std::to_string(acked.load());
                    break;
                }
                acked.store(sent.load());
                last_progress = steady::now();
            } else if (r.count == 0) {
                ++ended_empty;
            }
            if (steady::now() - last_progress > patience) {
                failure = "wake of round " + std::to_string(acked.load() + 1) +
                          " lost among signals";
                break;
            }
        }
        give_up.store(true);
    }
    BOOST_REQUIRE_MESSAGE(failure.empty(), failure);
    BOOST_CHECK_EQUAL(woken, rounds);
    bytes += drain(fds.read_end.get());
    BOOST_CHECK_EQUAL(bytes, bytes_sent);
    // Signals do not end a blocking poll (docs/semantics.md): the only
    // empty return would be a timeout, i.e. a lost wake.
    BOOST_CHECK_MESSAGE(ended_empty == 0,
                        ended_empty << " polls ended with neither an event nor a wake");
    p.remove(fds.read_end.get());
    check_poller_still_works(p);
}

#else
CONFORMANCE_SKIPPED_CASE(eintr_storm_loses_no_wake, needs::posix_signals)
#endif

// ---- destruction ------------------------------------------------------------------

// The caller's duty (docs/faults.md): no wake() may still run when the
// poller is destroyed. Joining the waking thread first is enough, also when
// its wake posted to a sleeper a moment before.
CONFORMANCE_CASE(destroy_right_after_wake_from_joined_thread) {
    const std::size_t fds_before = open_descriptor_count();
    const std::size_t iterations = scaled(200);
    for (std::size_t i = 0; i < iterations; ++i) {
        unipoll::poller p(backend_under_test);
        if (i % 2 == 0) {
            joining_thread waker([&p] { p.wake(); });
            waker.join();
        } else {
            // A sleeper the wake must post to; destroyed as soon as both
            // threads are joined.
            std::atomic<bool> woken{false};
            joining_thread sleeper([&] {
                std::array<unipoll::event, 4> buf{};
                woken.store(p.poll(buf, patience).woken);
            });
            joining_thread waker([&p] {
                std::this_thread::sleep_for(100us);
                p.wake();
            });
            waker.join();
            sleeper.join();
            BOOST_REQUIRE_MESSAGE(woken.load(), "iteration " << i << ": wake lost");
        }
    }
    BOOST_CHECK_EQUAL(open_descriptor_count(), fds_before);
}

// Destruction with everything still in the kernel: ready registrations of
// each trigger never polled, wake events posted with no wake pending (stale),
// a relayed wake nobody consumed. Nothing may crash or leak (run under ASan
// for memory); fds registered are closed after the poller, as usual.
CONFORMANCE_CASE(destroy_with_stale_events_in_the_kernel) {
    const std::size_t fds_before = open_descriptor_count();
    const std::size_t iterations = scaled(100);
    for (std::size_t i = 0; i < iterations; ++i) {
        std::vector<socket_pair> pairs;
        {
            unipoll::poller p(backend_under_test);
            auto& impl = unipoll::detail::testing_access::impl(p);
            std::uint64_t token = 0;
            for (trigger how : {trigger::level, trigger::edge, trigger::oneshot}) {
                if (!p.supports(how)) continue;
                pairs.push_back(make_socketpair());
                p.add(pairs.back().a.get(), interest::read_write, ++token, how);
                write_byte(pairs.back().b.get());
            }
            if (i % 3 == 0) {
                // Consume once, so some backends have re-armed or queued
                // follow-up work by the time they are destroyed.
                poll_for(p, 0ns);
                p.wake();
                poll_for(p, patience);
            }
            impl.post();  // stale: nothing pending
            impl.post();
            if (i % 3 == 1) {
                poll_for(p, 0ns);  // takes a stale event, leaves the other
                impl.post();
            }
            p.wake();  // pending, never consumed
            if (i % 2 == 1) pairs.back().b.reset();  // hangup pending as well
        }
    }
    BOOST_CHECK_EQUAL(open_descriptor_count(), fds_before);
}

}  // namespace
}  // namespace conformance
