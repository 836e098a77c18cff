// Command line of unipoll-compare.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace compare {

struct options {
    bool help = false;
    bool list = false;          // print backends and peers as JSON, exit
    bool quick = false;
    bool plot = true;
    std::string out = "report";
    std::vector<std::string> merge;   // --merge a.json b.json ...
    std::vector<std::string> only;    // subject names (empty: all)
    std::vector<std::string> scenarios;  // scenario ids (empty: all)
    std::string python;               // interpreter for the plot ("" = search)

    // Sizes; --quick picks smaller defaults, explicit options win. Counts
    // and time budgets are totals per record, shared by its runs.
    unsigned runs = 3;                // independent runs per record (median, spread)
    std::uint64_t rounds = 30000;     // wake round trips, sleeping and busy
    std::uint64_t warmup = 500;       // per run
    std::int64_t gap_ns = 50'000;     // waker pause so the poller is asleep
    std::int64_t wake_budget_ns = 5'000'000'000;  // time cap per wake record
    std::uint64_t coalesce_wakes = 200000;  // per waker thread
    unsigned coalesce_threads = 4;
    std::uint64_t nonblocking_calls = 200000;
    std::vector<std::uint64_t> registered = {100, 1000, 10000};  // readiness and registration
    std::vector<std::uint64_t> ready = {1, 32};
    std::uint64_t fd_rounds = 3000;   // per readiness record
    std::uint64_t fd_warmup = 20;     // rounds per run left out after the first
    std::int64_t cell_budget_ns = 900'000'000;  // time cap per readiness record
    std::uint64_t registration_pairs = 150000;  // add+remove pairs per record
    std::int64_t registration_budget_ns = 600'000'000;
    std::vector<std::uint64_t> connections = {1000, 10000};  // echo
    std::uint64_t in_flight = 100;    // echo requests outstanding at any time
    std::uint64_t message_bytes = 64;
    unsigned load_threads = 0;        // echo load generators (0: one per spare CPU, 1..4)
    std::int64_t echo_ns = 6'000'000'000;  // measured echo time per record
};

/// Parses argv; throws std::invalid_argument with a message for bad input.
options parse_options(int argc, char** argv);
const char* usage();

bool wants_subject(const options&, const std::string& name);
bool wants_scenario(const options&, const std::string& id);

}  // namespace compare
