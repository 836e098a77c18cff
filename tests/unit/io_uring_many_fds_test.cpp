// Thousands of fds ready at once, with a small `out` span: CQEs wait in the
// CQ (and its overflow) over many polls. No event is lost in any trigger
// mode, and oneshot reports each fd exactly once.
#define BOOST_TEST_MODULE io_uring_many_fds
#include <boost/test/unit_test.hpp>

#if UNIPOLL_HAVE_IO_URING

#include "io_uring_test_support.hpp"

#include <vector>

using namespace io_uring_test;
using unipoll::interest;
using unipoll::trigger;

namespace {

constexpr std::size_t wanted_pairs = 5000;

const char* name_of(trigger how) {
    return how == trigger::level ? "level" : how == trigger::edge ? "edge" : "oneshot";
}

std::size_t pair_count() {
    const rlim_t limit = raise_fd_limit();
    const std::size_t fit = limit > 200 ? static_cast<std::size_t>((limit - 100) / 2) : 0;
    if (fit < wanted_pairs) BOOST_TEST_MESSAGE("RLIMIT_NOFILE allows only " << fit << " socket pairs");
    return std::min(fit, wanted_pairs);
}

// Polls (a small buffer, so each poll leaves CQEs behind; blocking and
// non-blocking alternately) until every token was seen; returns how often
// each was reported.
std::vector<int> collect(unipoll::poller& p, std::size_t n) {
    std::vector<int> seen(n, 0);
    std::size_t distinct = 0;
    std::array<unipoll::event, 256> buf{};
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (int i = 0; distinct < n && std::chrono::steady_clock::now() < deadline; ++i) {
        const auto r = p.poll(buf, i % 2 ? 0ns : std::chrono::nanoseconds{100ms});
        for (std::size_t k = 0; k < r.count; ++k) {
            BOOST_REQUIRE_LT(buf[k].token, n);
            BOOST_CHECK(buf[k].readable);
            if (seen[buf[k].token]++ == 0) ++distinct;
        }
    }
    BOOST_CHECK_EQUAL(distinct, n);
    return seen;
}

void check_mode(trigger how) {
    const std::size_t n = pair_count();
    BOOST_REQUIRE_GT(n, 0u);
    std::vector<socket_pair> pairs;
    pairs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) pairs.emplace_back();

    unipoll::poller p(unipoll::backend::io_uring);
    for (std::size_t i = 0; i < n; ++i) p.add(pairs[i].a, interest::read, i, how);
    for (auto& s : pairs) s.send_b();
    auto seen = collect(p, n);

    if (how == trigger::oneshot) {
        for (std::size_t i = 0; i < n; ++i) BOOST_CHECK_EQUAL(seen[i], 1);
        std::array<unipoll::event, 64> buf{};
        BOOST_CHECK_EQUAL(p.poll(buf, 200ms).count, 0u);
        // Re-armed by modify, all of them fire again (still readable).
        for (std::size_t i = 0; i < n; ++i) p.modify(pairs[i].a, interest::read, i, how);
        seen = collect(p, n);
        for (std::size_t i = 0; i < n; ++i) BOOST_CHECK_EQUAL(seen[i], 1);
    }
    if (how == trigger::edge) {
        // New data is a new edge for every fd, whether its multishot poll
        // survived the burst or was re-armed after the CQ filled.
        for (auto& s : pairs) s.send_b();
        collect(p, n);
    }
    // Drained, nothing is ready. CQEs already queued were posted while the
    // fds were ready (a poll CQE is a snapshot of readiness when the poll
    // fired), so the backlog may still report some fds, a level fd at most
    // once: the next poll's check finds it drained. Then the poller is quiet.
    for (auto& s : pairs) s.drain_a();
    std::vector<int> late(n, 0);
    std::array<unipoll::event, 256> buf{};
    std::size_t polls = 0;
    for (;; ++polls) {
        BOOST_REQUIRE_LT(polls, 4 * n / buf.size() + 20);
        const auto r = p.poll(buf, 100ms);
        if (r.count == 0) break;
        for (std::size_t k = 0; k < r.count; ++k) ++late[buf[k].token];
    }
    if (how != trigger::edge)
        for (std::size_t i = 0; i < n; ++i) BOOST_CHECK_LE(late[i], 1);
    BOOST_TEST_MESSAGE(name_of(how) << ": backlog worked off in " << polls << " polls");
    BOOST_CHECK_EQUAL(p.poll(buf, 200ms).count, 0u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(io_uring_many_fds, *boost::unit_test::precondition(io_uring_works{}))

BOOST_AUTO_TEST_CASE(level_loses_nothing) { check_mode(trigger::level); }
BOOST_AUTO_TEST_CASE(edge_loses_nothing) { check_mode(trigger::edge); }
BOOST_AUTO_TEST_CASE(oneshot_loses_nothing_and_reports_once) { check_mode(trigger::oneshot); }

BOOST_AUTO_TEST_SUITE_END()

#else
BOOST_AUTO_TEST_CASE(io_uring_not_built, *boost::unit_test::disabled()) {}
#endif
