// The io_uring backend's syscall floor: a non-blocking poll with nothing
// queued reads the mapped CQ and enters the kernel zero times; a wake round
// trip costs one syscall on each side.
#define BOOST_TEST_MODULE io_uring_stats
#include <boost/test/unit_test.hpp>

#if UNIPOLL_HAVE_IO_URING

#include "io_uring_test_support.hpp"
#include "testing_access.hpp"

#include <future>
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
    const auto before = p.stats().syscalls;
    for (int i = 0; i < 100; ++i) BOOST_CHECK_EQUAL(p.poll(buf, 0ns).count, 0u);
    BOOST_CHECK_EQUAL(p.stats().syscalls - before, 0u);
}

BOOST_AUTO_TEST_CASE(nonblocking_poll_sees_events_without_syscall) {
    // The poll CQE is posted by the kernel; reading it costs nothing. Only
    // re-arming the delivered level fd costs one enter, in the next poll.
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair s;
    p.add(s.a, interest::read, 1, trigger::edge);
    s.send_b();
    std::array<unipoll::event, 8> buf{};
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
    const auto base = p.stats();
    auto sleeper = std::async(std::launch::async, [&] {
        std::array<unipoll::event, 8> buf{};
        return p.poll(buf, 10s);
    });
    std::this_thread::sleep_for(settle);
    const auto before_wake = p.stats().syscalls;
    p.wake();
    const auto after_wake = p.stats().syscalls;
    BOOST_CHECK_EQUAL(after_wake - before_wake, 1u);

    BOOST_REQUIRE(sleeper.wait_for(patience) == std::future_status::ready);
    const auto r = sleeper.get();
    BOOST_CHECK(r.woken);
    BOOST_CHECK_EQUAL(r.count, 0u);
    const auto end = p.stats();
    // Everything since `base`: the sleeper's io_uring_enter and the post.
    BOOST_CHECK_EQUAL(end.syscalls - base.syscalls - (after_wake - before_wake), 1u);
    BOOST_CHECK_EQUAL(end.wake_posts - base.wake_posts, 1u);
    BOOST_CHECK_EQUAL(end.relays - base.relays, 0u);
    BOOST_CHECK_EQUAL(end.stale_wakeups - base.stale_wakeups, 0u);
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
