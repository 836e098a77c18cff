// Hangup per interest (docs/semantics.md, "hangup"): a peer that shut down
// only its writing side is a hangup for a registration with read interest
// (reading gives end of file) and nothing at all for a write-only one,
// which keeps waiting for room to write and never spins; a peer that is
// gone in both directions is a hangup whatever the interest.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <sys/socket.h>

namespace conformance {
namespace {

void shut_write(int fd) {
    if (::shutdown(fd, SHUT_WR) != 0) throw std::system_error(errno, std::generic_category(), "shutdown");
}

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
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how)) check_write_only_ignores_write_shutdown(p, how);
}

// The blocking poll of the measurement: 200 ms with nothing to
// report must be one kernel wait, not a loop of early returns.
CONFORMANCE_CASE(write_only_half_closed_socket_does_not_spin) {
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

}  // namespace
}  // namespace conformance
