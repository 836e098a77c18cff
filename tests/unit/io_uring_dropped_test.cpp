// When the kernel reports dropped CQEs (io_uring_enter fails with EBADR,
// 5.19+, when it had no memory to keep overflowing CQEs), nobody knows
// which polls ended: the backend cancels every request and arms every
// registration and the wake poll afresh. Nothing goes silent, no old token
// comes back, and a removed fd's file is still released. The kernel drops
// CQEs only under memory pressure, so the test calls the recovery directly.
#define BOOST_TEST_MODULE io_uring_dropped
#include <boost/test/unit_test.hpp>

#if UNIPOLL_HAVE_IO_URING

#include "io_uring_backend.hpp"
#include "io_uring_test_support.hpp"
#include "testing_access.hpp"

#include <sys/socket.h>

#include <future>
#include <thread>

using namespace io_uring_test;
using unipoll::interest;
using unipoll::trigger;

namespace {

void drop_completions(unipoll::poller& p) {
    auto& impl = unipoll::detail::testing_access::impl(p);
    dynamic_cast<unipoll::detail::uring::io_uring_backend&>(impl).simulate_dropped_completions_for_testing();
}

bool peer_sees_eof(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < deadline) {
        char c;
        if (::recv(fd, &c, 1, MSG_DONTWAIT) == 0) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(io_uring_dropped, *boost::unit_test::precondition(io_uring_works{}))

BOOST_AUTO_TEST_CASE(every_trigger_keeps_reporting_after_dropped_completions) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair level, edge, oneshot, gone;
    p.add(level.a, interest::read, 1, trigger::level);
    p.add(edge.a, interest::read, 2, trigger::edge);
    p.add(oneshot.a, interest::read, 3, trigger::oneshot);
    p.add(gone.a, interest::read, 4, trigger::edge);
    std::array<unipoll::event, 8> buf{};
    p.poll(buf, 0ns);  // everything armed in the kernel

    // A sleeper is in the kernel when the drop is discovered.
    auto sleeper = std::async(std::launch::async, [&] { return p.poll(buf, 10s); });
    std::this_thread::sleep_for(settle);
    drop_completions(p);
    p.wake();
    BOOST_REQUIRE(sleeper.wait_for(patience) == std::future_status::ready);
    const auto r = sleeper.get();
    BOOST_CHECK(r.woken);
    for (std::size_t i = 0; i < r.count; ++i) BOOST_CHECK_NE(buf[i].token, 4u);

    // The old polls were cancelled: remove() and close() still release.
    p.remove(gone.a);
    ::close(gone.a);
    gone.a = -1;
    BOOST_CHECK(peer_sees_eof(gone.b));

    level.send_b();
    edge.send_b();
    oneshot.send_b();
    bool seen[4] = {};
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (!(seen[1] && seen[2] && seen[3]) && std::chrono::steady_clock::now() < deadline) {
        const auto got = p.poll(buf, 100ms);
        for (std::size_t i = 0; i < got.count; ++i) {
            BOOST_REQUIRE_LT(buf[i].token, 4u);
            BOOST_CHECK(buf[i].readable);
            seen[buf[i].token] = true;
        }
    }
    BOOST_CHECK(seen[1] && seen[2] && seen[3]);
    // Level: again; oneshot: not again until modify(); edge: on new data.
    BOOST_CHECK(await_token(p, 1));
    edge.send_b();
    BOOST_CHECK(await_token(p, 2));
    p.modify(oneshot.a, interest::read, 5, trigger::oneshot);
    BOOST_CHECK(await_token(p, 5));
}

BOOST_AUTO_TEST_SUITE_END()

#else
BOOST_AUTO_TEST_CASE(io_uring_not_built, *boost::unit_test::disabled()) {}
#endif
