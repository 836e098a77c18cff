// Runs one decoded fuzz input against a fresh poller of one backend and the
// reference model side by side. A divergence from the contract, a harness
// error or an unexpected exception prints the program with the failing
// operation marked and aborts, which libFuzzer records as a crash.
#pragma once

#include <unipoll/poller.hpp>

#include <cstdint>
#include <span>

namespace unipoll_fuzz {

// Process-wide setup (SIGPIPE ignored) and a check that the backend works
// here: 0, exit_skipped if it is unavailable, or 1 if the harness cannot
// run; the reason is printed.
int prepare(unipoll::backend);

void run(unipoll::backend, std::span<const std::uint8_t> input);

// Exit status of a fuzz binary whose backend is unavailable; ctest's
// SKIP_RETURN_CODE and ci/fuzz.sh treat it as a skip.
inline constexpr int exit_skipped = 77;

}  // namespace unipoll_fuzz
