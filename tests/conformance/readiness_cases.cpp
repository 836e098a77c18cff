// Level, edge and oneshot readiness on pipes and socketpairs, interest
// directions, and modify() replacing interest, token and trigger together.
#include "fixture.hpp"

#include "fd_helpers.hpp"

namespace conformance {
namespace {

CONFORMANCE_CASE(level_read_reported_while_ready) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 7);
    expect_quiet(p);

    write_byte(fds.write_end.get());
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("blocking poll " << i) {
            const auto e = await_token(p, 7);
            BOOST_REQUIRE(e);
            BOOST_CHECK(e->readable);
            BOOST_CHECK(!e->writable);
        }
    }
    BOOST_CHECK_MESSAGE(poll_for(p, 0ns).has(7), "non-blocking poll missed a level-ready fd");

    drain(fds.read_end.get());
    expect_quiet(p);
}

// A level event is the fd's readiness when poll() returns, in one thread as
// on epoll: data that arrived after the last event, read by the caller
// before this poll, is not reported again. (io_uring reported such an fd
// from a completion queued by the second write, and a caller that acted on
// it, as CPython's socketserver does with its blocking listening socket,
// blocked in accept().)
void check_level_event_is_current(unipoll::poller& p, int rd, int wr) {
    p.add(rd, interest::read, 8);
    for (int round = 0; round < 20; ++round) {
        BOOST_TEST_CONTEXT("round " << round) {
            write_byte(wr);
            const auto e = await_token(p, 8);
            BOOST_REQUIRE(e);
            BOOST_CHECK(e->readable);
            write_byte(wr);  // more data while the fd is reported ready
            drain(rd);
            BOOST_CHECK_MESSAGE(!poll_for(p, 0ns).has(8),
                                "drained fd reported readable by the next poll");
        }
    }
    expect_quiet(p);
    p.remove(rd);
}

CONFORMANCE_CASE(level_event_is_current_after_the_caller_drains) {
    unipoll::poller p(backend_under_test);
    BOOST_TEST_CONTEXT("pipe") {
        auto fds = make_pipe();
        check_level_event_is_current(p, fds.read_end.get(), fds.write_end.get());
    }
    BOOST_TEST_CONTEXT("socketpair") {
        auto s = make_socketpair();
        check_level_event_is_current(p, s.a.get(), s.b.get());
    }
}

CONFORMANCE_CASE(level_write_reported_while_writable) {
    unipoll::poller p(backend_under_test);
    auto s = make_socketpair();
    p.add(s.a.get(), interest::write, 9);
    for (int i = 0; i < 2; ++i) {
        const auto e = await_token(p, 9);
        BOOST_REQUIRE(e);
        BOOST_CHECK(e->writable);
        BOOST_CHECK(!e->readable);
    }
    fill(s.a.get());
    expect_quiet(p);
    drain(s.b.get());
    const auto e = await_token(p, 9);
    BOOST_CHECK_MESSAGE(e && e->writable, "writable not reported after the peer drained");
}

CONFORMANCE_CASE(only_requested_directions_reported) {
    unipoll::poller p(backend_under_test);
    auto s = make_socketpair();
    write_byte(s.b.get());  // a is now readable and writable

    p.add(s.a.get(), interest::read, 1);
    auto e = await_token(p, 1);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable);
    BOOST_CHECK_MESSAGE(!e->writable, "writable reported without write interest");

    p.modify(s.a.get(), interest::write, 2);
    e = await_token(p, 2);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->writable);
    BOOST_CHECK_MESSAGE(!e->readable, "readable reported without read interest");

    p.modify(s.a.get(), interest::read_write, 3);
    e = await_token(p, 3);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable);
    BOOST_CHECK(e->writable);
}

CONFORMANCE_CASE(interest_none_reports_nothing) {
    unipoll::poller p(backend_under_test);
    auto s = make_socketpair();
    write_byte(s.b.get());
    p.add(s.a.get(), interest::none, 4);
    expect_quiet(p);
    s.b.reset();  // not even the hangup is reported
    expect_quiet(p);

    p.modify(s.a.get(), interest::read, 5);
    const auto e = await_token(p, 5);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable);
}

CONFORMANCE_CASE(edge_read_reported_once_per_change) {
    unipoll::poller p(backend_under_test);
    if (!trigger_supported(p, trigger::edge)) return;
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 11, trigger::edge);
    expect_quiet(p);

    write_byte(fds.write_end.get());
    auto e = await_token(p, 11);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable);
    expect_quiet(p);  // still readable, but no new change

    write_byte(fds.write_end.get());  // new data: a new edge
    BOOST_CHECK_MESSAGE(await_token(p, 11), "new data on an edge fd not reported");
    expect_quiet(p);

    drain(fds.read_end.get());  // to EAGAIN
    expect_quiet(p);
    write_byte(fds.write_end.get());
    e = await_token(p, 11);
    BOOST_CHECK_MESSAGE(e && e->readable, "edge fd not re-reported after EAGAIN");
    expect_quiet(p);
}

CONFORMANCE_CASE(edge_write_reported_again_after_eagain) {
    unipoll::poller p(backend_under_test);
    if (!trigger_supported(p, trigger::edge)) return;
    auto s = make_socketpair();
    p.add(s.a.get(), interest::write, 12, trigger::edge);
    auto e = await_token(p, 12);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->writable);
    expect_quiet(p);

    fill(s.a.get());  // to EAGAIN
    expect_quiet(p);
    drain(s.b.get());
    e = await_token(p, 12);
    BOOST_CHECK_MESSAGE(e && e->writable, "edge fd not re-reported writable after EAGAIN");
}

CONFORMANCE_CASE(oneshot_reported_once_until_modify) {
    unipoll::poller p(backend_under_test);
    if (!trigger_supported(p, trigger::oneshot)) return;
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 13, trigger::oneshot);
    write_byte(fds.write_end.get());
    auto e = await_token(p, 13);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable);
    expect_quiet(p);  // disarmed although still readable
    write_byte(fds.write_end.get());
    expect_quiet(p);  // and new data does not re-arm it

    p.modify(fds.read_end.get(), interest::read, 14, trigger::oneshot);
    e = await_token(p, 14);
    BOOST_CHECK_MESSAGE(e && e->readable, "oneshot fd not reported after re-arming modify");
    expect_quiet(p);
}

CONFORMANCE_CASE(modify_replaces_interest_token_and_trigger) {
    unipoll::poller p(backend_under_test);
    auto s = make_socketpair();
    write_byte(s.b.get());  // a: readable and writable
    const int fd = s.a.get();

    p.add(fd, interest::read, 21);
    BOOST_REQUIRE(await_token(p, 21));

    p.modify(fd, interest::write, 22);
    const polled r = poll_for(p, patience);
    BOOST_CHECK_MESSAGE(!r.has(21), "old token reported after modify");
    const auto* e = r.find(22);
    BOOST_REQUIRE_MESSAGE(e, "new token not reported after modify");
    BOOST_CHECK(e->writable);
    BOOST_CHECK(!e->readable);

    if (p.supports(trigger::oneshot)) {
        p.modify(fd, interest::read, 23, trigger::oneshot);
        const auto o = await_token(p, 23);
        BOOST_CHECK(o && o->readable && !o->writable);
        expect_quiet(p);
    }
    if (p.supports(trigger::edge)) {
        // Arming an edge registration on a ready fd reports it once.
        p.modify(fd, interest::read, 24, trigger::edge);
        const auto ed = await_token(p, 24);
        BOOST_CHECK(ed && ed->readable && !ed->writable);
        expect_quiet(p);
    }
    p.modify(fd, interest::read, 25, trigger::level);
    for (int i = 0; i < 2; ++i) {
        const polled lv = poll_for(p, patience);
        BOOST_CHECK_MESSAGE(lv.has(25), "level token not reported on poll " << i);
        for (std::uint64_t old : {21u, 22u, 23u, 24u})
            BOOST_CHECK_MESSAGE(!lv.has(old), "stale token " << old << " reported");
    }
}

}  // namespace
}  // namespace conformance
