// Hangup per interest (docs/semantics.md, "hangup"): a peer that shut down
// only its writing side is a hangup for a registration with read interest
// (reading gives end of file) and nothing at all for a write-only one,
// which keeps waiting for room to write and never spins; a peer that is
// gone in both directions is a hangup whatever the interest. What happened
// before a poll is reported by it in one event per fd, also by a oneshot
// registration, whose one event must not lose the hangup that followed the
// readiness (a kernel that queues a completion per wakeup, as io_uring
// does, hands them over one by one).
#include "fixture.hpp"

#include "fd_helpers.hpp"

namespace conformance {
namespace {

void check_write_only_ignores_write_shutdown(unipoll::poller& p, trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger") {
        auto s = make_socketpair();
        fill(s.a.get());
        shut_write(s.b.get());
        p.add(s.a.get(), interest::write, 41, how);
        // Four quiet periods: no event, no early return, no spinning.
        for (int i = 0; i < 4; ++i) expect_quiet(p);
        // Room to write again is reported, still without a hangup.
        drain(s.b.get());
        const auto e = await_token(p, 41);
        BOOST_REQUIRE_MESSAGE(e, "writable not reported after the peer made room");
        BOOST_CHECK(e->writable);
        BOOST_CHECK_MESSAGE(!e->hangup, "write-only registration reported the peer's write shutdown");
        BOOST_CHECK(!e->readable);
        p.remove(s.a.get());
    }
}

CONFORMANCE_CASE(write_only_registration_ignores_peer_write_shutdown) {
    if (skip_without(needs::write_shutdown_apart, backend_under_test)) return;
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how)) check_write_only_ignores_write_shutdown(p, how);
}

// The blocking poll of the measurement: 200 ms with nothing to
// report must be one kernel wait, not a loop of early returns.
CONFORMANCE_CASE(write_only_half_closed_socket_does_not_spin) {
    if (skip_without(needs::write_shutdown_apart, backend_under_test)) return;
    unipoll::poller p(backend_under_test);
    auto s = make_socketpair();
    fill(s.a.get());
    shut_write(s.b.get());
    p.add(s.a.get(), interest::write, 42);
    const auto before = p.stats().syscalls;
    const polled r = poll_for(p, 200ms);
    const auto calls = p.stats().syscalls - before;
    BOOST_CHECK_EQUAL(r.result.count, 0u);
    BOOST_CHECK_GE(r.elapsed, 200ms);
    BOOST_CHECK_MESSAGE(calls <= 4, "a 200 ms poll made " << calls << " kernel calls");
}

void check_read_interest_sees_write_shutdown(unipoll::poller& p, interest what, trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger, interest " << static_cast<int>(what)) {
        auto s = make_socketpair();
        if (what == interest::read_write) fill(s.a.get());  // only the read side can report
        p.add(s.a.get(), what, 43, how);
        expect_quiet(p);
        shut_write(s.b.get());
        const auto e = await_token(p, 43);
        BOOST_REQUIRE_MESSAGE(e, "the peer's write shutdown was not reported");
        BOOST_CHECK_MESSAGE(e->hangup, "read interest: peer's write shutdown without hangup");
        p.remove(s.a.get());
    }
}

CONFORMANCE_CASE(read_registration_reports_peer_write_shutdown_as_hangup) {
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how))
            for (interest what : {interest::read, interest::read_write})
                check_read_interest_sees_write_shutdown(p, what, how);
}

void check_write_only_sees_full_hangup(unipoll::poller& p, trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger") {
        auto s = make_socketpair();
        fill(s.a.get());
        p.add(s.a.get(), interest::write, 44, how);
        expect_quiet(p);
        s.b.reset();
        const auto e = await_token(p, 44);
        BOOST_REQUIRE_MESSAGE(e, "the peer's close was not reported to a write-only registration");
        BOOST_CHECK_MESSAGE(e->hangup || e->error, "peer gone in both directions: no hangup");
        BOOST_CHECK(!e->readable);
        p.remove(s.a.get());
    }
}

CONFORMANCE_CASE(write_only_registration_reports_peer_close) {
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how)) check_write_only_sees_full_hangup(p, how);
}


void check_write_only_sees_room_and_close_together(unipoll::poller& p, trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger") {
        auto s = make_socketpair();
        fill(s.a.get());
        p.add(s.a.get(), interest::write, 45, how);
        expect_quiet(p);  // the kernel watches the fd from here on
        // Room to write, then the peer gone: both before the next poll.
        drain(s.b.get());
        s.b.reset();
        const auto e = await_token(p, 45);
        BOOST_REQUIRE_MESSAGE(e, "room to write and the peer's close were not reported");
        BOOST_CHECK(e->writable);
        BOOST_CHECK_MESSAGE(e->hangup, "room to write reported, the peer's close that followed lost");
        BOOST_CHECK(!e->readable);
        p.remove(s.a.get());
    }
}

CONFORMANCE_CASE(write_only_registration_reports_room_and_peer_close_in_one_event) {
    if (skip_without(needs::state_at_report, backend_under_test)) return;
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how)) check_write_only_sees_room_and_close_together(p, how);
}

void check_read_interest_sees_data_and_write_shutdown_together(unipoll::poller& p, interest what,
                                                               trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger, interest " << static_cast<int>(what)) {
        auto s = make_socketpair();
        if (what == interest::read_write) fill(s.a.get());  // only the read side can report
        p.add(s.a.get(), what, 46, how);
        expect_quiet(p);
        // Data, then the peer's write shutdown: both before the next poll.
        write_byte(s.b.get());
        shut_write(s.b.get());
        const auto e = await_token(p, 46);
        BOOST_REQUIRE_MESSAGE(e, "data and the peer's write shutdown were not reported");
        BOOST_CHECK(e->readable);
        BOOST_CHECK_MESSAGE(e->hangup, "data reported, the peer's write shutdown that followed lost");
        p.remove(s.a.get());
    }
}

CONFORMANCE_CASE(read_registration_reports_data_and_peer_write_shutdown_in_one_event) {
    if (skip_without(needs::state_at_report, backend_under_test) ||
        skip_without(needs::fin_behind_data, backend_under_test))
        return;
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how))
            for (interest what : {interest::read, interest::read_write})
                check_read_interest_sees_data_and_write_shutdown_together(p, what, how);
}

// The write shutdown a write-only registration ignores uses nothing up,
// not a oneshot, not an edge: the close that follows is reported.
void check_write_only_sees_close_after_ignored_shutdown(unipoll::poller& p, trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger") {
        auto s = make_socketpair();
        fill(s.a.get());
        p.add(s.a.get(), interest::write, 47, how);
        shut_write(s.b.get());
        expect_quiet(p);
        s.b.reset();
        const auto e = await_token(p, 47);
        BOOST_REQUIRE_MESSAGE(e, "the peer's close after its write shutdown was not reported");
        BOOST_CHECK_MESSAGE(e->hangup, "peer gone in both directions: no hangup");
        BOOST_CHECK(!e->readable);
        p.remove(s.a.get());
    }
}

CONFORMANCE_CASE(write_only_registration_reports_peer_close_after_its_write_shutdown) {
    if (skip_without(needs::write_shutdown_apart, backend_under_test)) return;
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how)) check_write_only_sees_close_after_ignored_shutdown(p, how);
}

}  // namespace
}  // namespace conformance
