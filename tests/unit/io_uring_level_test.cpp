// Level trigger on io_uring: a level fd that is still ready is reported by
// every poll, also by one that finds another registration's completion
// already waiting in the CQ. A reported level fd is checked again by every
// later poll (docs/io_uring.md), also by one that has something to return
// without sleeping.
#define BOOST_TEST_MODULE io_uring_level
#include <boost/test/unit_test.hpp>

#if UNIPOLL_HAVE_IO_URING

#include "io_uring_test_support.hpp"

#include <fcntl.h>

#include <algorithm>

using namespace io_uring_test;
using unipoll::interest;
using unipoll::trigger;

namespace {

struct pipe_pair {
    int rd = -1;
    int wr = -1;
    pipe_pair() {
        int fds[2];
        BOOST_REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
        rd = fds[0];
        wr = fds[1];
    }
    pipe_pair(const pipe_pair&) = delete;
    pipe_pair& operator=(const pipe_pair&) = delete;
    ~pipe_pair() {
        ::close(rd);
        ::close(wr);
    }
};

bool has_token(std::span<const unipoll::event> events, std::uint64_t token) {
    return std::any_of(events.begin(), events.end(),
                       [&](const unipoll::event& e) { return e.token == token; });
}

std::size_t count_token(std::span<const unipoll::event> events, std::uint64_t token) {
    return static_cast<std::size_t>(std::count_if(
        events.begin(), events.end(), [&](const unipoll::event& e) { return e.token == token; }));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(io_uring_level, *boost::unit_test::precondition(io_uring_works{}))

// tests/fuzz/corpus/regress-level-missed-beside-new-registration: the
// write end's completion (posted when add() armed it) is in the CQ when the
// second blocking poll starts; the read end, 3 bytes still queued, must be
// reported beside it.
BOOST_AUTO_TEST_CASE(blocking_poll_reports_ready_level_fd_beside_waiting_completion) {
    unipoll::poller p(unipoll::backend::io_uring);
    pipe_pair pp;
    p.add(pp.rd, interest::read, 1, trigger::level);
    BOOST_REQUIRE(::write(pp.wr, "abc", 3) == 3);
    std::array<unipoll::event, 16> buf{};
    auto r = p.poll(buf, 1s);
    BOOST_REQUIRE_EQUAL(r.count, 1u);
    BOOST_CHECK_EQUAL(buf[0].token, 1u);
    BOOST_CHECK(buf[0].readable);

    p.add(pp.wr, interest::write, 2, trigger::level);
    r = p.poll(buf, 1s);
    const std::span<const unipoll::event> got(buf.data(), r.count);
    BOOST_CHECK(has_token(got, 1));
    BOOST_CHECK(has_token(got, 2));
    BOOST_CHECK_EQUAL(r.count, 2u);
}

BOOST_AUTO_TEST_CASE(nonblocking_poll_reports_ready_level_fd_beside_waiting_completion) {
    unipoll::poller p(unipoll::backend::io_uring);
    pipe_pair pp;
    p.add(pp.rd, interest::read, 1, trigger::level);
    BOOST_REQUIRE(::write(pp.wr, "abc", 3) == 3);
    std::array<unipoll::event, 16> buf{};
    BOOST_REQUIRE(await_token(p, 1));

    p.add(pp.wr, interest::write, 2, trigger::level);
    const auto r = p.poll(buf, 0ns);
    const std::span<const unipoll::event> got(buf.data(), r.count);
    BOOST_CHECK(has_token(got, 1));
    BOOST_CHECK(has_token(got, 2));
}

// The waiting completion comes from an edge registration's multishot poll,
// fired by a write before each poll. Every blocking poll must still report
// the level fd, once.
BOOST_AUTO_TEST_CASE(level_fd_reported_by_every_poll_while_edge_completions_wait) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair level_pair;
    socket_pair edge_pair;
    p.add(level_pair.a, interest::read, 1, trigger::level);
    p.add(edge_pair.a, interest::read, 2, trigger::edge);
    level_pair.send_b();  // never read: stays ready
    BOOST_REQUIRE(await_token(p, 1));
    std::array<unipoll::event, 16> buf{};
    for (int i = 0; i < 20; ++i) {
        edge_pair.send_b();
        const auto r = p.poll(buf, 1s);
        const std::span<const unipoll::event> got(buf.data(), r.count);
        BOOST_TEST_CONTEXT("poll " << i) {
            BOOST_CHECK_EQUAL(count_token(got, 1), 1u);
            BOOST_CHECK_LE(count_token(got, 2), 1u);
        }
        if (i % 2 == 0) {
            const auto r0 = p.poll(buf, 0ns);  // a non-blocking poll in between
            BOOST_CHECK_EQUAL(count_token({buf.data(), r0.count}, 1), 1u);
        }
    }
}

// A drained level fd is not reported again: the next poll checks its
// readiness then, not at the delivery.
BOOST_AUTO_TEST_CASE(drained_level_fd_not_reported_beside_waiting_completion) {
    unipoll::poller p(unipoll::backend::io_uring);
    pipe_pair pp;
    p.add(pp.rd, interest::read, 1, trigger::level);
    BOOST_REQUIRE(::write(pp.wr, "abc", 3) == 3);
    std::array<unipoll::event, 16> buf{};
    BOOST_REQUIRE(await_token(p, 1));
    char drain[8];
    BOOST_REQUIRE(::read(pp.rd, drain, sizeof drain) == 3);

    p.add(pp.wr, interest::write, 2, trigger::level);
    const auto r = p.poll(buf, 1s);
    const std::span<const unipoll::event> got(buf.data(), r.count);
    BOOST_CHECK(!has_token(got, 1));
    BOOST_CHECK(has_token(got, 2));
}

BOOST_AUTO_TEST_SUITE_END()

#else
BOOST_AUTO_TEST_CASE(io_uring_not_built, *boost::unit_test::disabled()) {}
#endif
