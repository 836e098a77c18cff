// Non-blocking polls between a wake() and the blocking poll that consumes
// it: they never report woken and never swallow the wake (the relay of
// docs/semantics.md §"How it works: the relay protocol").
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <array>
#include <atomic>

namespace conformance {
namespace {

void check_wake_survives_nonblocking_polls(unipoll::poller& p, int nonblocking_polls) {
    p.wake();
    for (int i = 0; i < nonblocking_polls; ++i) {
        const polled r = poll_for(p, 0ns);
        BOOST_REQUIRE_MESSAGE(!r.result.woken, "non-blocking poll " << i << " reported woken");
    }
    const polled r = poll_for(p, patience);
    BOOST_CHECK_MESSAGE(r.result.woken, "wake lost after " << nonblocking_polls
                                                           << " non-blocking polls");
    BOOST_CHECK_LT(r.elapsed, patience);
}

CONFORMANCE_CASE(wake_survives_one_nonblocking_poll) {
    unipoll::poller p(backend_under_test);
    check_wake_survives_nonblocking_polls(p, 1);
    expect_quiet(p);
}

CONFORMANCE_CASE(wake_survives_many_nonblocking_polls) {
    unipoll::poller p(backend_under_test);
    check_wake_survives_nonblocking_polls(p, 1000);
    check_wake_survives_nonblocking_polls(p, 3);
    expect_quiet(p);
}

// The sleeper is in the kernel when the wake is posted and another thread
// immediately polls without blocking: on consume-on-delivery backends that
// poll may take the wake event and must hand it back.
CONFORMANCE_CASE(wake_reaches_sleeper_despite_nonblocking_polls) {
    unipoll::poller p(backend_under_test);
    const std::size_t rounds = scaled(200);
    for (std::size_t round = 0; round < rounds; ++round) {
        background_poll bg(p, unipoll::forever);
        std::this_thread::sleep_for(1ms);
        p.wake();
        for (int i = 0; i < 20; ++i)
            BOOST_REQUIRE_MESSAGE(!poll_for(p, 0ns).result.woken,
                                  "round " << round << ": non-blocking poll reported woken");
        BOOST_REQUIRE_MESSAGE(bg.finished_within(patience),
                              "round " << round << ": sleeper never woken");
        BOOST_REQUIRE_MESSAGE(bg.result().result.woken,
                              "round " << round << ": sleeper returned without woken");
    }
}

// Three threads race: a sleeper in blocking polls, a spinner in
// non-blocking polls and a waker that waits for the sleeper's
// acknowledgement after each wake. A lost wake leaves the sleeper blocked
// forever: the waker then fails with the round and frees the sleeper
// through a pipe.
CONFORMANCE_CASE(relay_race_loses_no_wake) {
    unipoll::poller p(backend_under_test);
    constexpr std::uint64_t rescue_token = 0x5E5C0E;
    auto rescue = make_pipe();
    p.add(rescue.read_end.get(), interest::read, rescue_token);

    const std::size_t rounds = scaled(20000);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> acks{0};
    std::atomic<std::uint64_t> nonblocking_woken{0};
    thread_failures failures;

    std::size_t completed = 0;
    {
        joining_thread sleeper([&] {
            failures.guard([&] {
                std::array<unipoll::event, 4> buf{};
                while (!stop.load())
                    if (p.poll(buf, unipoll::forever).woken) acks.fetch_add(1);
            });
        });
        joining_thread spinner([&] {
            failures.guard([&] {
                std::array<unipoll::event, 4> buf{};
                while (!stop.load()) {
                    if (p.poll(buf, 0ns).woken) nonblocking_woken.fetch_add(1);
                    std::this_thread::yield();
                }
            });
        });

        // The waker watches the acknowledgement closely (spinning, yielding
        // the core) so that its next wake lands while the sleeper is on its
        // way back into the kernel, at a varying point of that path.
        std::uint32_t rng = 0x9E3779B9u;
        for (; completed < rounds; ++completed) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            for (std::uint32_t spin = rng % 1024; spin > 0; --spin) (void)stop.load();
            p.wake();
            const auto deadline = steady::now() + patience;
            while (acks.load() <= completed && steady::now() < deadline)
                std::this_thread::yield();
            if (acks.load() <= completed) {
                BOOST_ERROR("round " << completed << " of " << rounds
                                     << ": wake not delivered to the sleeper within "
                                     << patience.count() << " s");
                break;
            }
        }
        stop.store(true);
        write_byte(rescue.write_end.get());
    }
    failures.check();
    BOOST_CHECK_EQUAL(completed, rounds);
    // One woken return per wake; more would be a wake reported twice. (After
    // a lost wake the rescue delivers it late, so only count on success.)
    if (completed == rounds) BOOST_CHECK_EQUAL(acks.load(), rounds);
    BOOST_CHECK_EQUAL(nonblocking_woken.load(), 0u);
    const auto s = p.stats();
    note(backend_under_test, "relay race: " + std::to_string(completed) + " rounds, " +
                                 std::to_string(s.relays) + " relays, " +
                                 std::to_string(s.stale_wakeups) + " stale wakeups");
}

}  // namespace
}  // namespace conformance
