// The concurrency model: add/modify/remove from other threads take effect
// on a poll already blocked, registrations outlive the thread that made
// them, and only one blocking poll runs at a time.
#include "fixture.hpp"

#include "fd_helpers.hpp"

namespace conformance {
namespace {

CONFORMANCE_CASE(add_while_blocked_takes_effect) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    write_byte(fds.write_end.get());
    background_poll bg(p, unipoll::forever);
    std::this_thread::sleep_for(settle_time);
    p.add(fds.read_end.get(), interest::read, 71);
    BOOST_REQUIRE_MESSAGE(bg.finished_within(patience),
                          "blocked poll did not see an fd added while it waited");
    const auto* e = bg.result().find(71);
    BOOST_REQUIRE_MESSAGE(e, "poll returned without the added fd");
    BOOST_CHECK(e->readable);
}

CONFORMANCE_CASE(modify_while_blocked_takes_effect) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    write_byte(fds.write_end.get());
    p.add(fds.read_end.get(), interest::none, 72);
    background_poll bg(p, unipoll::forever);
    std::this_thread::sleep_for(settle_time);
    BOOST_CHECK_MESSAGE(!bg.finished_within(0ns), "interest none reported something");
    p.modify(fds.read_end.get(), interest::read, 73);
    BOOST_REQUIRE_MESSAGE(bg.finished_within(patience),
                          "blocked poll did not see a modify from none to read");
    const auto* e = bg.result().find(73);
    BOOST_REQUIRE_MESSAGE(e, "poll returned without the modified fd");
    BOOST_CHECK(e->readable);
}

CONFORMANCE_CASE(remove_while_blocked_takes_effect) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 74);
    {
        background_poll bg(p, unipoll::forever);
        std::this_thread::sleep_for(settle_time);
        p.remove(fds.read_end.get());
        write_byte(fds.write_end.get());  // level-ready, but no longer registered
        BOOST_CHECK_MESSAGE(!bg.finished_within(quiet_period) || !bg.result().has(74),
                            "removed fd reported by the poll that was blocked");
        p.wake();
        BOOST_REQUIRE(bg.finished_within(patience));
        BOOST_CHECK(!bg.result().has(74));
    }
    expect_quiet(p);
    expect_quiet(p);
}

void check_registration_outlives_thread(unipoll::poller& p, trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger") {
        auto fds = make_pipe();
        thread_failures failures;
        joining_thread([&] {
            failures.guard([&] { p.add(fds.read_end.get(), interest::read, 75, how); });
        }).join();
        failures.check();
        // Give an exit-time cancellation (io_uring) time to land.
        std::this_thread::sleep_for(settle_time);
        write_byte(fds.write_end.get());
        const auto e = await_token(p, 75);
        BOOST_CHECK_MESSAGE(e && e->readable,
                            "registration made by an exited thread did not report");
        // Blocked before the fd becomes ready, too.
        drain(fds.read_end.get());
        if (how == trigger::oneshot) p.modify(fds.read_end.get(), interest::read, 75, how);
        if (how == trigger::level) expect_quiet(p);
        background_poll bg(p, unipoll::forever);
        std::this_thread::sleep_for(settle_time);
        write_byte(fds.write_end.get());
        BOOST_REQUIRE(bg.finished_within(patience));
        BOOST_CHECK(bg.result().has(75));
        p.remove(fds.read_end.get());
    }
}

CONFORMANCE_CASE(registration_outlives_registering_thread) {
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how)) check_registration_outlives_thread(p, how);
}

CONFORMANCE_CASE(second_blocking_poll_is_ebusy) {
    unipoll::poller p(backend_under_test);
    std::array<unipoll::event, 4> buf{};
    bool refused = false;
    for (int attempt = 0; attempt < 20 && !refused; ++attempt) {
        background_poll bg(p, unipoll::forever);
        std::this_thread::sleep_for(settle_time * (1 + attempt % 3));
        if (bg.finished_within(0ns)) continue;  // it has not entered yet
        try {
            (void)p.poll(buf, 10ms);
        } catch (const std::system_error& e) {
            BOOST_CHECK_EQUAL(e.code().value(), EBUSY);
            refused = e.code().value() == EBUSY;
        }
        if (!refused) continue;
        // The refused call must not have released the sleeper's claim.
        expect_errno([&] { (void)p.poll(buf, unipoll::forever); }, EBUSY, no_fd,
                     "second blocking poll");
        // Non-blocking polls stay allowed next to the sleeper.
        BOOST_CHECK(!p.poll(buf, 0ns).woken);
        p.wake();
        BOOST_REQUIRE(bg.finished_within(patience));
        BOOST_CHECK(bg.result().result.woken);
    }
    BOOST_CHECK_MESSAGE(refused, "a second concurrent blocking poll was never refused");
    // With the sleeper gone, a blocking poll works again.
    p.wake();
    BOOST_CHECK(poll_for(p, patience).result.woken);
}

}  // namespace
}  // namespace conformance
