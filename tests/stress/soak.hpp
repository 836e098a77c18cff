// One soak run on one poller: a waker thread and the blocking poller do
// `rounds` wake round trips (wake -> woken poll -> acknowledgement), while
// two threads poll without blocking and one adds, modifies and removes
// socketpairs, all as fast as they can.
#pragma once

#include <unipoll/poller.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace stress {

struct soak_config {
    unipoll::backend backend;
    std::uint64_t rounds;
    // How long one round may take before its wake counts as lost.
    std::chrono::seconds round_patience{10};
};

struct soak_result {
    std::string failure;  // empty on success; else names the round
    std::uint64_t rounds_done = 0;
    std::uint64_t nonblocking_polls = 0;
    std::uint64_t blocking_polls = 0;
    std::uint64_t events = 0;
    std::uint64_t churn_cycles = 0;
    unipoll::counters stats{};
    std::chrono::duration<double> wall{};
};

soak_result run_soak(const soak_config&);

}  // namespace stress
