// Timeouts: never early without an event, sub-millisecond ones rounded up
// rather than turned into a busy loop, huge ones not overflowing.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <algorithm>

namespace conformance {
namespace {

void check_never_early(unipoll::poller& p, std::chrono::nanoseconds timeout, int repeats) {
    for (int i = 0; i < repeats; ++i) {
        const polled r = poll_for(p, timeout);
        BOOST_CHECK_EQUAL(r.result.count, 0u);
        BOOST_CHECK(!r.result.woken);
        BOOST_CHECK_MESSAGE(r.elapsed >= timeout,
                            "poll with a " << timeout.count() << " ns timeout returned after "
                                           << std::chrono::nanoseconds(r.elapsed).count()
                                           << " ns with nothing to report");
    }
}

CONFORMANCE_CASE(sub_millisecond_timeouts_never_return_early) {
    unipoll::poller p(backend_under_test);
    auto idle = make_pipe();  // registered, never ready
    p.add(idle.read_end.get(), interest::read, 61);
    check_never_early(p, 300us, 20);
    check_never_early(p, 700us, 20);
    check_never_early(p, 1ns, 20);
}

CONFORMANCE_CASE(millisecond_timeouts_never_return_early) {
    unipoll::poller p(backend_under_test);
    check_never_early(p, 5ms, 5);
    check_never_early(p, 20ms, 3);
    check_never_early(p, 1500us, 5);  // not a whole number of milliseconds

    auto idle = make_pipe();
    p.add(idle.read_end.get(), interest::read, 62);
    check_never_early(p, 5ms, 5);
}

// A 0.3 ms timeout on a millisecond kernel interface must round up to 1 ms,
// not down to 0: a zero-timeout kernel wait, re-issued until the deadline,
// would burn a core and show up as many kernel calls per poll.
CONFORMANCE_CASE(sub_millisecond_timeout_does_not_spin) {
    unipoll::poller p(backend_under_test);
    constexpr int polls = 200;
    std::uint64_t worst = 0;
    const double cpu_start = process_cpu_seconds();
    const auto wall_start = steady::now();
    for (int i = 0; i < polls; ++i) {
        const auto before = p.stats().syscalls;
        const polled r = poll_for(p, 300us);
        BOOST_REQUIRE_EQUAL(r.result.count, 0u);
        worst = std::max(worst, p.stats().syscalls - before);
    }
    const double wall = std::chrono::duration<double>(steady::now() - wall_start).count();
    const double cpu = process_cpu_seconds() - cpu_start;
    BOOST_CHECK_MESSAGE(worst <= 3, "a 0.3 ms poll made " << worst << " kernel calls");
    BOOST_CHECK_MESSAGE(cpu < 0.75 * wall, "200 polls of 0.3 ms used " << cpu << " s of CPU in "
                                                                      << wall << " s");
}

CONFORMANCE_CASE(huge_timeout_does_not_overflow) {
    unipoll::poller p(backend_under_test);
    for (std::chrono::nanoseconds t : {std::chrono::nanoseconds::max(),
                                       std::chrono::nanoseconds(std::chrono::hours(24 * 365 * 100)),
                                       std::chrono::nanoseconds(std::chrono::seconds(1LL << 31))}) {
        BOOST_TEST_CONTEXT("timeout " << t.count() << " ns") {
            background_poll bg(p, t);
            BOOST_CHECK_MESSAGE(!bg.finished_within(quiet_period),
                                "poll returned at once instead of waiting");
            p.wake();
            BOOST_REQUIRE(bg.finished_within(patience));
            BOOST_CHECK(bg.result().result.woken);
        }
    }
}

}  // namespace
}  // namespace conformance
