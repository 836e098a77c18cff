// The io_uring backend's syscall floor: a non-blocking poll with nothing
// queued reads the mapped CQ and enters the kernel zero times; a wake round
// trip costs one syscall on each side once the sleeper has armed its wake
// poll.
#define BOOST_TEST_MODULE io_uring_stats
#include <boost/test/unit_test.hpp>

#if UNIPOLL_HAVE_IO_URING

#include "io_uring_test_support.hpp"
#include "testing_access.hpp"

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

using namespace io_uring_test;
using unipoll::interest;
using unipoll::trigger;

BOOST_AUTO_TEST_SUITE(io_uring_stats, *boost::unit_test::precondition(io_uring_works{}))

BOOST_AUTO_TEST_CASE(nonblocking_poll_with_nothing_pending_makes_no_syscall) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair s;
    p.add(s.a, interest::read, 1, trigger::level);
    p.add(s.b, interest::read, 2, trigger::edge);
    std::array<unipoll::event, 8> buf{};
    // The first poll submits both registrations' polls in one enter, after
    // an fstat each (the numbers still name the files that were added).
    auto before = p.stats().syscalls;
    BOOST_CHECK_EQUAL(p.poll(buf, 0ns).count, 0u);
    BOOST_CHECK_EQUAL(p.stats().syscalls - before, 3u);
    before = p.stats().syscalls;
    for (int i = 0; i < 100; ++i) BOOST_CHECK_EQUAL(p.poll(buf, 0ns).count, 0u);
    BOOST_CHECK_EQUAL(p.stats().syscalls - before, 0u);
}

BOOST_AUTO_TEST_CASE(nonblocking_poll_sees_events_without_syscall) {
    // The poll CQE is posted by the kernel; reading it costs nothing.
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair s;
    p.add(s.a, interest::read, 1, trigger::edge);
    std::array<unipoll::event, 8> buf{};
    BOOST_CHECK_EQUAL(p.poll(buf, 0ns).count, 0u);  // arms the poll
    s.send_b();
    unipoll::poll_result r{};
    const auto deadline = std::chrono::steady_clock::now() + patience;
    const auto before = p.stats().syscalls;
    while (r.count == 0 && std::chrono::steady_clock::now() < deadline) r = p.poll(buf, 0ns);
    BOOST_REQUIRE_EQUAL(r.count, 1u);
    BOOST_CHECK(buf[0].readable);
    BOOST_CHECK_EQUAL(p.stats().syscalls - before, 0u);
}

BOOST_AUTO_TEST_CASE(wake_round_trip_costs_one_syscall_each_side) {
    unipoll::poller p(unipoll::backend::io_uring);
    // One sleeper thread for both rounds: its first blocking poll arms the
    // wake poll it owns (one enter more), the second pays only its wait.
    std::mutex m;
    std::condition_variable cv;
    int round_wanted = 0;
    std::promise<unipoll::poll_result> results[2];
    std::thread sleeper([&] {
        std::array<unipoll::event, 8> buf{};
        for (int round = 0; round < 2; ++round) {
            {
                std::unique_lock lk(m);
                cv.wait(lk, [&] { return round_wanted > round; });
            }
            results[round].set_value(p.poll(buf, 10s));
        }
    });
    for (int round = 0; round < 2; ++round) {
        const auto base = p.stats();
        auto done = results[round].get_future();
        {
            std::lock_guard lk(m);
            round_wanted = round + 1;
        }
        cv.notify_one();
        std::this_thread::sleep_for(settle);
        const auto before_wake = p.stats().syscalls;
        p.wake();
        const auto waker = p.stats().syscalls - before_wake;
        BOOST_REQUIRE(done.wait_for(patience) == std::future_status::ready);
        const auto r = done.get();
        BOOST_CHECK(r.woken);
        BOOST_CHECK_EQUAL(r.count, 0u);
        const auto end = p.stats();
        BOOST_TEST_CONTEXT("round " << round) {
            BOOST_CHECK_EQUAL(waker, 1u);
            BOOST_CHECK_EQUAL(end.syscalls - base.syscalls - waker, round == 0 ? 2u : 1u);
            BOOST_CHECK_EQUAL(end.wake_posts - base.wake_posts, 1u);
            BOOST_CHECK_EQUAL(end.relays - base.relays, 0u);
        }
    }
    sleeper.join();
}

BOOST_AUTO_TEST_CASE(wake_at_eventfd_overflow_still_wakes) {
    unipoll::poller p(unipoll::backend::io_uring);
    BOOST_REQUIRE(unipoll::detail::testing_access::impl(p).saturate_wake_for_testing());
    auto sleeper = std::async(std::launch::async, [&] {
        std::array<unipoll::event, 8> buf{};
        return p.poll(buf, 10s);
    });
    std::this_thread::sleep_for(settle);
    const auto before = p.stats().syscalls;
    p.wake();
    // write (EAGAIN), read, write
    BOOST_CHECK_EQUAL(p.stats().syscalls - before, 3u);
    BOOST_REQUIRE(sleeper.wait_for(patience) == std::future_status::ready);
    BOOST_CHECK(sleeper.get().woken);
}

BOOST_AUTO_TEST_SUITE_END()

#else
BOOST_AUTO_TEST_CASE(io_uring_not_built, *boost::unit_test::disabled()) {}
#endif
