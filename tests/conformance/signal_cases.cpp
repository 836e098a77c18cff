// By default a signal does not end a blocking poll (the core resumes the
// wait), and a wake() racing with the signal must still be delivered.
// poller_options::return_on_signal: return_on_signal_cases.cpp.
#include "signal_helpers.hpp"

#include <atomic>

namespace conformance {
namespace {

CONFORMANCE_CASE(signal_does_not_lose_concurrent_wake) {
    unipoll::poller p(backend_under_test);
    interrupting_handler handler;
    const pthread_t poller_thread = pthread_self();
    const std::size_t rounds = scaled(30);
    std::uint64_t early_returns = 0;

    for (std::size_t round = 0; round < rounds; ++round) {
        std::atomic<bool> stop{false};
        const std::size_t wake_after = 5 + (round * 7) % 40;  // signals sent before the wake
        bool woken = false;
        {
            joining_thread signaller([&] {
                for (std::size_t sent = 0; !stop.load(); ++sent) {
                    pthread_kill(poller_thread, SIGUSR1);
                    if (sent == wake_after) p.wake();
                    std::this_thread::sleep_for(100us);
                }
            });
            const auto deadline = steady::now() + patience;
            while (!woken && steady::now() < deadline) {
                const polled r = poll_for(p, patience);
                woken = r.result.woken;
                if (!woken) ++early_returns;
            }
            stop.store(true);
        }
        BOOST_REQUIRE_MESSAGE(woken, "round " << round << ": wake lost among signals");
    }
    note(backend_under_test, std::to_string(early_returns) +
                                 " polls ended early by a signal before the wake");
    expect_quiet(p);
}

}  // namespace
}  // namespace conformance
