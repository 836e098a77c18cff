// The cost contract of wake() as seen in stats(): one kernel call when a
// poller sleeps, none when nobody does (docs/semantics.md §"How it works: the relay protocol").
#include "fixture.hpp"

#include <algorithm>
#include <limits>

namespace conformance {
namespace {

CONFORMANCE_CASE(wake_with_sleeping_poller_costs_one_post) {
    unipoll::poller p(backend_under_test);
    // Whether the poller is already asleep when wake() runs cannot be
    // observed directly; a wake that found it asleep is one that posted.
    // Repeat until such rounds are seen. The sleeper's own calls may land
    // in the measuring window when it wakes very fast, so the smallest
    // syscall delta seen over the sleeping rounds is what must be 1.
    int sleeping_rounds = 0;
    std::uint64_t fewest_syscalls = std::numeric_limits<std::uint64_t>::max();
    for (int attempt = 0; attempt < 100 && (sleeping_rounds < 3 || fewest_syscalls != 1);
         ++attempt) {
        BOOST_TEST_CONTEXT("attempt " << attempt) {
            const auto start = p.stats();
            background_poll bg(p, unipoll::forever);
            std::this_thread::sleep_for(settle_time * (1 + attempt % 4));
            const auto before = p.stats();
            p.wake();
            const auto after = p.stats();
            BOOST_REQUIRE(bg.finished_within(patience));
            BOOST_REQUIRE(bg.result().result.woken);
            const auto end = p.stats();

            const auto posts = after.wake_posts - before.wake_posts;
            const auto coalesced = after.wakes_coalesced - before.wakes_coalesced;
            BOOST_CHECK_EQUAL(posts + coalesced, 1u);
            if (posts == 1) {
                ++sleeping_rounds;
                fewest_syscalls = std::min(fewest_syscalls, after.syscalls - before.syscalls);
                // The whole round trip: exactly one post, no relay.
                BOOST_CHECK_EQUAL(end.wake_posts - start.wake_posts, 1u);
                BOOST_CHECK_EQUAL(end.relays - start.relays, 0u);
            } else {
                BOOST_CHECK_EQUAL(after.syscalls, before.syscalls);
            }
        }
    }
    BOOST_REQUIRE_MESSAGE(sleeping_rounds > 0, "no wake() ever found the poller asleep");
    BOOST_CHECK_MESSAGE(fewest_syscalls == 1, "a wake() of a sleeping poller made "
                                                  << fewest_syscalls << " syscalls, expected 1");
}

CONFORMANCE_CASE(wake_without_sleeper_costs_no_syscall) {
    unipoll::poller p(backend_under_test);
    const auto before = p.stats();
    p.wake();
    const auto one = p.stats();
    BOOST_CHECK_EQUAL(one.syscalls, before.syscalls);
    BOOST_CHECK_EQUAL(one.wake_posts, before.wake_posts);
    BOOST_CHECK_EQUAL(one.wakes_coalesced, before.wakes_coalesced + 1);

    p.wake();
    const auto two = p.stats();
    BOOST_CHECK_EQUAL(two.syscalls, before.syscalls);
    BOOST_CHECK_EQUAL(two.wake_posts, before.wake_posts);
    BOOST_CHECK_EQUAL(two.wakes_coalesced, before.wakes_coalesced + 2);

    // The pending wake is consumed before the poller enters the kernel.
    const polled r = poll_for(p, patience);
    BOOST_CHECK(r.result.woken);
    BOOST_CHECK_EQUAL(p.stats().syscalls, before.syscalls);
}

}  // namespace
}  // namespace conformance
