// Peer close and error conditions: reported, and with edge/oneshot reported
// once instead of making every later poll return (no spin).
#include "fixture.hpp"

#include "fd_helpers.hpp"

namespace conformance {
namespace {

CONFORMANCE_CASE(hangup_reported_when_pipe_writer_closes) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 31);
    fds.write_end.reset();
    for (int i = 0; i < 2; ++i) {  // level: reported while the condition lasts
        const auto e = await_token(p, 31);
        BOOST_REQUIRE_MESSAGE(e, "hangup not reported on poll " << i);
        BOOST_CHECK(e->hangup);
        BOOST_CHECK(!e->writable);
    }
}

CONFORMANCE_CASE(hangup_reported_when_socket_peer_closes) {
    unipoll::poller p(backend_under_test);
    auto s = make_socketpair();
    p.add(s.a.get(), interest::read, 32);
    expect_quiet(p);
    s.b.reset();
    const auto e = await_token(p, 32);
    BOOST_REQUIRE_MESSAGE(e, "peer close not reported");
    BOOST_CHECK(e->hangup);
}

CONFORMANCE_CASE(hangup_reported_after_data_is_drained) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    write_byte(fds.write_end.get());
    p.add(fds.read_end.get(), interest::read, 33);
    fds.write_end.reset();
    auto e = await_token(p, 33);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable || e->hangup);
    drain(fds.read_end.get());
    e = await_token(p, 33);
    BOOST_REQUIRE_MESSAGE(e, "end of file not reported after draining");
    BOOST_CHECK(e->hangup);
}

void check_hangup_reported_once(unipoll::poller& p, trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger") {
        auto fds = make_pipe();
        p.add(fds.read_end.get(), interest::read, 34, how);
        expect_quiet(p);
        fds.write_end.reset();
        const auto e = await_token(p, 34);
        BOOST_REQUIRE_MESSAGE(e, "hangup not reported");
        BOOST_CHECK(e->hangup);
        expect_quiet(p);  // reported once, not on every poll
        p.remove(fds.read_end.get());
    }
}

CONFORMANCE_CASE(hangup_reported_once_with_edge) {
    unipoll::poller p(backend_under_test);
    if (trigger_supported(p, trigger::edge)) check_hangup_reported_once(p, trigger::edge);
}

CONFORMANCE_CASE(hangup_reported_once_with_oneshot) {
    unipoll::poller p(backend_under_test);
    if (trigger_supported(p, trigger::oneshot)) check_hangup_reported_once(p, trigger::oneshot);
}

// A pipe's write end whose reader is gone: POLLERR on Linux, EV_EOF (hangup)
// from kqueue. Either is a valid report; silence is not.
CONFORMANCE_CASE(error_or_hangup_when_pipe_reader_closes) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    fill(fds.write_end.get());
    p.add(fds.write_end.get(), interest::write, 35);
    expect_quiet(p);
    fds.read_end.reset();
    const auto e = await_token(p, 35);
    BOOST_REQUIRE_MESSAGE(e, "closing the reader was not reported on the write end");
    BOOST_CHECK_MESSAGE(e->error || e->hangup, "neither error nor hangup reported");
    BOOST_CHECK(!e->readable);
}

CONFORMANCE_CASE(error_reported_once_with_edge) {
    unipoll::poller p(backend_under_test);
    if (!trigger_supported(p, trigger::edge)) return;
    auto fds = make_pipe();
    fill(fds.write_end.get());
    p.add(fds.write_end.get(), interest::write, 36, trigger::edge);
    expect_quiet(p);
    fds.read_end.reset();
    const auto e = await_token(p, 36);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->error || e->hangup);
    expect_quiet(p);
}

}  // namespace
}  // namespace conformance
