// wake(): sticky before a poll, prompt during one, coalescing, repeatable,
// safe under storms and at the eventfd counter's overflow edge.
#include "fixture.hpp"

#include "testing_access.hpp"

#include <array>
#include <atomic>
#include <memory>

namespace conformance {
namespace {

CONFORMANCE_CASE(wake_before_poll_is_sticky) {
    unipoll::poller p(backend_under_test);
    p.wake();
    const polled r = poll_for(p, patience);
    BOOST_CHECK(r.result.woken);
    BOOST_CHECK_EQUAL(r.result.count, 0u);
    BOOST_CHECK_LT(r.elapsed, patience);
}

CONFORMANCE_CASE(wake_from_other_thread_ends_blocking_poll) {
    unipoll::poller p(backend_under_test);
    for (int round = 0; round < 10; ++round) {
        BOOST_TEST_CONTEXT("round " << round) {
            background_poll bg(p, unipoll::forever);
            std::this_thread::sleep_for(settle_time);
            p.wake();
            BOOST_REQUIRE_MESSAGE(bg.finished_within(patience), "blocking poll not woken");
            BOOST_CHECK(bg.result().result.woken);
            BOOST_CHECK_EQUAL(bg.result().result.count, 0u);
        }
    }
}

CONFORMANCE_CASE(wakes_coalesce_into_one_woken_return) {
    unipoll::poller p(backend_under_test);
    for (int i = 0; i < 100; ++i) p.wake();
    const polled first = poll_for(p, patience);
    BOOST_CHECK(first.result.woken);
    BOOST_CHECK_LT(first.elapsed, patience);
    // No leftover wake and no spin: the next poll sleeps out its timeout.
    const auto before = p.stats();
    expect_quiet(p);
    BOOST_CHECK_LE(p.stats().syscalls - before.syscalls, 3u);
}

CONFORMANCE_CASE(wakes_to_a_sleeper_coalesce) {
    unipoll::poller p(backend_under_test);
    {
        background_poll bg(p, unipoll::forever);
        std::this_thread::sleep_for(settle_time);
        for (int i = 0; i < 100; ++i) p.wake();
        BOOST_REQUIRE(bg.finished_within(patience));
        BOOST_CHECK(bg.result().result.woken);
    }
    // Wakes that landed after the sleeper consumed the first are at most one
    // more woken return; then the poller must be quiet.
    const polled maybe_leftover = poll_for(p, quiet_period);
    if (maybe_leftover.result.woken) expect_quiet(p);
}

CONFORMANCE_CASE(wake_consume_wake_gives_second_woken) {
    unipoll::poller p(backend_under_test);
    p.wake();
    BOOST_CHECK(poll_for(p, patience).result.woken);
    p.wake();
    BOOST_CHECK(poll_for(p, patience).result.woken);
    BOOST_CHECK(woken_from_other_thread(p));
    BOOST_CHECK(woken_from_other_thread(p));
    expect_quiet(p);
}

CONFORMANCE_CASE(wake_storm_from_many_threads) {
    unipoll::poller p(backend_under_test);
    constexpr int wakers = 8;
    const std::size_t per_thread = scaled(10000);
    const auto before = p.stats();

    std::atomic<int> running{wakers};
    std::atomic<std::uint64_t> woken_returns{0};
    thread_failures failures;
    {
        joining_thread consumer([&] {
            failures.guard([&] {
                std::array<unipoll::event, 4> buf{};
                // At least one poll: the wakers may all be done before this
                // thread first runs, and their wakes are then still pending.
                do {
                    if (p.poll(buf, 10ms).woken) woken_returns.fetch_add(1);
                } while (running.load() > 0);
            });
        });
        std::vector<std::unique_ptr<joining_thread>> threads;
        for (int t = 0; t < wakers; ++t)
            threads.push_back(std::make_unique<joining_thread>([&] {
                for (std::size_t i = 0; i < per_thread; ++i) p.wake();
                running.fetch_sub(1);
            }));
    }
    failures.check();

    const auto after = p.stats();
    const std::uint64_t total = wakers * per_thread;
    // Every wake() is accounted exactly once: it posted or it coalesced.
    BOOST_CHECK_EQUAL((after.wake_posts - before.wake_posts) +
                          (after.wakes_coalesced - before.wakes_coalesced),
                      total);
    BOOST_CHECK_LE(woken_returns.load(), total);
    BOOST_CHECK_GT(woken_returns.load(), 0u);
    // Coalescing: a post needs a 0 -> 1 change of the pending flag, and each
    // such change is consumed by one woken return (the last may still be
    // pending). Without the flag every wake to a sleeper would post.
    BOOST_CHECK_LE(after.wake_posts - before.wake_posts, woken_returns.load() + 1);

    // Nothing stuck: consume a leftover wake if any, then one more wake is
    // delivered to a sleeper and the poller is quiet afterwards.
    poll_for(p, quiet_period);
    BOOST_CHECK(woken_from_other_thread(p));
    expect_quiet(p);
}

CONFORMANCE_CASE(wake_survives_counter_overflow) {
    unipoll::poller p(backend_under_test);
    auto& impl = unipoll::detail::testing_access::impl(p);
    if (!impl.saturate_wake_for_testing()) {
        note(backend_under_test, "wake primitive has no counter edge; checking plain wakes");
        BOOST_CHECK(woken_from_other_thread(p));
        BOOST_CHECK(woken_from_other_thread(p));
        return;
    }
    // The overflow path only runs when wake() posts, i.e. finds a sleeper:
    // repeat until a round did (wake_posts moved), twice.
    int posted_rounds = 0;
    for (int attempt = 0; attempt < 50 && posted_rounds < 2; ++attempt) {
        const auto before = p.stats();
        BOOST_REQUIRE_MESSAGE(woken_from_other_thread(p),
                              "wake lost after saturating the wake counter, attempt " << attempt);
        if (p.stats().wake_posts > before.wake_posts) ++posted_rounds;
    }
    BOOST_CHECK_EQUAL(posted_rounds, 2);
    p.wake();
    BOOST_CHECK(poll_for(p, patience).result.woken);
    expect_quiet(p);
}

}  // namespace
}  // namespace conformance
