// A poll armed by a thread that has exited completes with -ECANCELED;
// registrations and the wake poll armed by such a thread must keep working,
// re-armed from a live thread. Polls are armed by polling threads, so the
// threads that exit here are ones that polled (and ones that only
// registered, which own nothing).
#define BOOST_TEST_MODULE io_uring_thread_exit
#include <boost/test/unit_test.hpp>

#if UNIPOLL_HAVE_IO_URING

#include "io_uring_test_support.hpp"

#include <future>
#include <optional>
#include <thread>

using namespace io_uring_test;
using unipoll::interest;
using unipoll::trigger;

namespace {

void check_outlives_thread(trigger how) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair s;
    std::thread([&] { p.add(s.a, interest::read, 42, how); }).join();
    // Let the thread be gone for good before the data arrives: the poll it
    // armed then completes with -ECANCELED and must be re-armed.
    std::this_thread::sleep_for(settle);
    s.send_b();
    auto e = await_token(p, 42);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable);
    if (how == trigger::edge) {
        s.send_b();
        BOOST_CHECK(await_token(p, 42));
    }
    if (how == trigger::oneshot) {
        p.modify(s.a, interest::read, 43, how);
        BOOST_CHECK(await_token(p, 43));
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(io_uring_thread_exit, *boost::unit_test::precondition(io_uring_works{}))

BOOST_AUTO_TEST_CASE(level_registration_outlives_its_thread) { check_outlives_thread(trigger::level); }
BOOST_AUTO_TEST_CASE(edge_registration_outlives_its_thread) { check_outlives_thread(trigger::edge); }
BOOST_AUTO_TEST_CASE(oneshot_registration_outlives_its_thread) { check_outlives_thread(trigger::oneshot); }

// The thread whose poll armed the registrations exits; the data arrives
// afterwards, so each poll completes with -ECANCELED and is armed again.
void check_outlives_polling_thread(trigger how) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair s;
    p.add(s.a, interest::read, 52, how);
    std::thread([&] {
        std::array<unipoll::event, 8> buf{};
        p.poll(buf, 0ns);  // arms the registration's poll in this thread
    }).join();
    std::this_thread::sleep_for(settle);
    s.send_b();
    auto e = await_token(p, 52);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable);
    if (how == trigger::edge) {
        s.send_b();
        BOOST_CHECK(await_token(p, 52));
    }
    if (how == trigger::level) {
        s.drain_a();
        s.send_b();
        BOOST_CHECK(await_token(p, 52));
    }
}

BOOST_AUTO_TEST_CASE(level_poll_armed_by_exited_poller_is_armed_again) {
    check_outlives_polling_thread(trigger::level);
}
BOOST_AUTO_TEST_CASE(edge_poll_armed_by_exited_poller_is_armed_again) {
    check_outlives_polling_thread(trigger::edge);
}
BOOST_AUTO_TEST_CASE(oneshot_poll_armed_by_exited_poller_is_armed_again) {
    check_outlives_polling_thread(trigger::oneshot);
}

// A sleeper that made the wake poll exits; the next blocking poll, in
// another thread, arms its own and is woken at once.
BOOST_AUTO_TEST_CASE(wake_poll_of_exited_sleeper_is_replaced) {
    unipoll::poller p(unipoll::backend::io_uring);
    for (int round = 0; round < 3; ++round) {
        auto sleeper = std::async(std::launch::async, [&] {
            std::array<unipoll::event, 8> buf{};
            return p.poll(buf, 10s);
        });
        std::this_thread::sleep_for(settle);
        const auto start = std::chrono::steady_clock::now();
        p.wake();
        BOOST_REQUIRE(sleeper.wait_for(patience) == std::future_status::ready);
        BOOST_CHECK(sleeper.get().woken);
        BOOST_TEST_MESSAGE("round " << round << ": woken after "
                                    << std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::steady_clock::now() - start)
                                           .count()
                                    << " us");
    }
}

BOOST_AUTO_TEST_CASE(modify_from_exited_thread_keeps_working) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair s;
    p.add(s.a, interest::write, 1);
    std::thread([&] { p.modify(s.a, interest::read, 2); }).join();
    std::this_thread::sleep_for(settle);
    s.send_b();
    BOOST_CHECK(await_token(p, 2));
}

BOOST_AUTO_TEST_CASE(poller_created_by_exited_thread_still_wakes) {
    std::optional<unipoll::poller> made;
    std::thread([&] { made.emplace(unipoll::backend::io_uring); }).join();
    unipoll::poller& p = *made;
    std::this_thread::sleep_for(settle);
    for (int round = 0; round < 3; ++round) {
        auto sleeper = std::async(std::launch::async, [&] {
            std::array<unipoll::event, 8> buf{};
            for (;;) {
                const auto r = p.poll(buf, 10s);
                if (r.woken || r.count == 0) return r;
            }
        });
        std::this_thread::sleep_for(settle);
        p.wake();
        BOOST_REQUIRE(sleeper.wait_for(patience) == std::future_status::ready);
        BOOST_CHECK(sleeper.get().woken);
    }
}

BOOST_AUTO_TEST_SUITE_END()

#else
BOOST_AUTO_TEST_CASE(io_uring_not_built, *boost::unit_test::disabled()) {}
#endif
