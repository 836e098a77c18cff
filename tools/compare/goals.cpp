// The goals unipoll sets itself (docs/compare.md §"Goals"), decided from the
// numbers of this run. The thresholds leave room only for counting noise
// (a rare relay) and for timing noise on shared machines.
#include "goals.hpp"

#include <cstdio>
#include <limits>

namespace compare {

namespace {

constexpr double syscall_slack = 0.02;      // a rare extra call per 50 rounds
constexpr double max_floor_ratio = 1.5;     // "within a small ratio of the floor"
constexpr double peer_tolerance = 1.10;     // timing noise between subjects

const char* floor_name = "floor:epoll";

std::string fmt(const char* pattern, double v) {
    char buf[96];
    std::snprintf(buf, sizeof buf, pattern, v);
    return buf;
}

std::string source(const record& r) {
    return r.syscalls_source == "kernel" ? " (kernel count)" : " (" + r.syscalls_source + ")";
}

void add_floor_ratios(report& rep) {
    for (const char* scen : {scenario::wake_sleeping, scenario::wake_busy}) {
        const record* floor = rep.find(scen, floor_name);
        const auto base = floor ? floor->get("p50_ns") : std::nullopt;
        if (!base || *base <= 0) continue;
        for (auto& r : rep.records)
            if (r.scenario == scen)
                if (const auto p50 = r.get("p50_ns")) r.values["floor_ratio"] = *p50 / *base;
    }
}

}  // namespace

void evaluate(report& rep) {
    add_floor_ratios(rep);
    rep.goals.clear();

    // The best peer (libraries only, not the raw floors) on the sleeping
    // round trip.
    double best_peer = std::numeric_limits<double>::infinity();
    std::string best_peer_name;
    for (const auto& r : rep.records)
        if (r.scenario == scenario::wake_sleeping && r.kind == "peer")
            if (const auto p50 = r.get("p50_ns"); p50 && *p50 < best_peer) {
                best_peer = *p50;
                best_peer_name = r.subject;
            }

    for (const auto& r : rep.records) {
        if (r.kind != "unipoll") continue;
        const std::string& who = r.subject;
        if (r.scenario == scenario::wake_sleeping) {
            const auto waker = r.get("waker_syscalls");
            const auto sleeper = r.get("sleeper_syscalls");
            rep.goals.push_back({"sleeping wake: 1 syscall on the waker's side", who,
                                 waker ? fmt("%.3f per round trip", *waker) + source(r) : "not counted",
                                 waker ? std::optional<bool>(*waker <= 1 + syscall_slack) : std::nullopt});
            // poll(2) and kqueue-pipe wake through a level-triggered pipe or
            // eventfd that the sleeper must drain: one read more, by design.
            const bool drains = who == "unipoll:poll" || who == "unipoll:kqueue-pipe";
            const char* sleeper_goal = drains
                ? "sleeping wake: sleeper pays its wait + one drain read, no more (level-triggered wake fd)"
                : "sleeping wake: no syscall on the sleeper's side beyond its wait";
            const double sleeper_limit = (drains ? 2 : 1) + syscall_slack;
            rep.goals.push_back({sleeper_goal, who,
                                 sleeper ? fmt("%.3f per round trip", *sleeper) + source(r) : "not counted",
                                 sleeper ? std::optional<bool>(*sleeper <= sleeper_limit) : std::nullopt});
            const auto ratio = r.get("floor_ratio");
            rep.goals.push_back({fmt("latency within %.1fx of the raw floor (p50)", max_floor_ratio), who,
                                 ratio ? fmt("%.2fx ", *ratio) + floor_name : "no floor in this run",
                                 ratio ? std::optional<bool>(*ratio <= max_floor_ratio) : std::nullopt});
            const auto p50 = r.get("p50_ns");
            const bool have_peer = p50 && !best_peer_name.empty();
            rep.goals.push_back(
                {"latency no worse than the best peer (p50, 10% noise allowance)", who,
                 have_peer ? fmt("%.2f us", *p50 / 1000) + fmt(" vs %.2f us ", best_peer / 1000) + best_peer_name
                           : "no peer in this run",
                 have_peer ? std::optional<bool>(*p50 <= best_peer * peer_tolerance) : std::nullopt});
        } else if (r.scenario == scenario::wake_busy) {
            const auto waker = r.get("waker_syscalls");
            rep.goals.push_back({"busy wake: 0 syscalls", who,
                                 waker ? fmt("%.3f per wake", *waker) + source(r) : "not counted",
                                 waker ? std::optional<bool>(*waker <= syscall_slack / 2) : std::nullopt});
        } else if (r.scenario == scenario::nonblocking_poll && who == "unipoll:io_uring") {
            const auto calls = r.get("syscalls_per_call");
            rep.goals.push_back({"io_uring non-blocking poll: 0 syscalls", who,
                                 calls ? fmt("%.3f per call", *calls) + source(r) : "not counted",
                                 calls ? std::optional<bool>(*calls <= syscall_slack / 2) : std::nullopt});
        }
    }
    const bool io_uring_measured = rep.find(scenario::nonblocking_poll, "unipoll:io_uring") != nullptr;
    if (!io_uring_measured)
        rep.goals.push_back({"io_uring non-blocking poll: 0 syscalls", "unipoll:io_uring",
                             "io_uring backend not available or not measured in this run", std::nullopt});
    evaluate_throughput_goals(rep);
}

}  // namespace compare
