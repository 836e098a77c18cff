// The throughput goals: unipoll on epoll moves at least as many events/s
// (readiness) and requests/s (echo) as the best epoll-based peer, within
// the noise of the runs, at no more system calls per event; and io_uring
// serves at least as many requests/s as epoll at the largest connection
// count, or the report says what it spends more on.
#include "goals.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace compare {

namespace {

constexpr double min_noise = 0.10;       // the least allowance for timing noise
constexpr double syscall_slack = 0.02;   // per event or request

std::string fmt(const char* pattern, double v) {
    char buf[96];
    std::snprintf(buf, sizeof buf, pattern, v);
    return buf;
}

std::string rate(double v) {
    return v >= 1e6 ? fmt("%.2fM", v / 1e6) : v >= 1e3 ? fmt("%.1fk", v / 1e3) : fmt("%.0f", v);
}

// Timing noise between two records: 10%, or the spread of their runs
// where that is larger.
double allowance(const record& a, const record& b, const std::string& key) {
    return std::max(min_noise, a.relative_spread(key) + b.relative_spread(key));
}

// How far two records' system calls per unit can differ by timing alone:
// the half-ranges of their runs. An echo server's waits per request depend
// on how many events each wait returns, which moves with the load; reads
// and writes, and the readiness scenario's calls (key nullptr), do not.
double calls_noise(const record& a, const record& b, const char* key) {
    double sum = 0;
    if (!key) return sum;
    for (const record* r : {&a, &b}) {
        const auto it = r->spread.find(key);
        if (it != r->spread.end()) sum += (it->second.second - it->second.first) / 2;
    }
    return sum;
}

// The epoll-based peer with the highest `key` among the records of
// (scenario, size).
const record* best_epoll_peer(const report& rep, const std::string& scen,
                              const std::vector<std::pair<std::string, double>>& size, const std::string& key) {
    const record* best = nullptr;
    for (const auto& s : rep.subjects) {
        if (s.kind != "peer" || s.mechanism != "epoll") continue;
        const record* r = rep.find(scen, s.name, size);
        if (r && r->get(key) && (!best || *r->get(key) > *best->get(key))) best = r;
    }
    return best;
}

// unipoll:epoll against the best epoll-based peer: throughput `rate_key`
// (higher is better) and system calls per unit (`calls` of each record).
template <class Calls>
void versus_best_peer(report& rep, const std::string& scen, const std::vector<std::pair<std::string, double>>& size,
                      const std::string& what, const std::string& rate_key, const char* unit, const char* calls_key,
                      Calls calls) {
    const std::string per_what = scen == scenario::echo ? "request" : "event";
    const std::string text =
        what + ": " + unit + " >= the best epoll-based peer (within noise), at <= its system calls per " + per_what;
    const record* u = rep.find(scen, "unipoll:epoll", size);
    const record* peer = best_epoll_peer(rep, scen, size, rate_key);
    if (!u || !u->get(rate_key) || !peer) {
        const char* why = !u || !u->get(rate_key) ? "unipoll:epoll not measured" : "no epoll-based peer measured";
        rep.goals.push_back({text, "unipoll:epoll", why, std::nullopt});
        return;
    }
    const double mine = *u->get(rate_key), theirs = *peer->get(rate_key);
    const double noise = allowance(*u, *peer, rate_key);
    const bool fast_enough = mine >= theirs * (1 - noise);
    std::string evidence = rate(mine) + " vs " + rate(theirs) + " " + unit + " " + peer->subject +
                           fmt(" (allowance %.0f%%)", noise * 100);
    const auto my_calls = calls(*u), their_calls = calls(*peer);
    std::optional<bool> met;
    if (my_calls && their_calls) {
        const double slack = syscall_slack + calls_noise(*u, *peer, calls_key);
        evidence += fmt("; %.3f", *my_calls) + fmt(" vs %.3f system calls per ", *their_calls) + per_what +
                    fmt(" (allowance %.3f)", slack);
        met = fast_enough && *my_calls <= *their_calls + slack;
    } else {
        evidence += "; system calls not counted";
    }
    rep.goals.push_back({text, "unipoll:epoll", evidence, met});
}

void readiness_goals(report& rep) {
    std::vector<double> registered, ready;
    for (const auto& r : rep.records)
        if (r.scenario == scenario::readiness && r.get("registered") && r.get("ready")) {
            registered.push_back(*r.get("registered"));
            ready.push_back(*r.get("ready"));
        }
    if (registered.empty()) return;
    std::sort(registered.begin(), registered.end());
    registered.erase(std::unique(registered.begin(), registered.end()), registered.end());
    const double most_ready = *std::max_element(ready.begin(), ready.end());
    for (const double n : registered)
        versus_best_peer(rep, scenario::readiness, {{"registered", n}, {"ready", most_ready}},
                         fmt("readiness, %.0f registered", n) + fmt(", %.0f ready", most_ready), "events_per_s",
                         "events/s", nullptr, [&](const record& r) -> std::optional<double> {
                             const auto sc = r.get("syscalls_per_round");
                             if (!sc) return std::nullopt;
                             return *sc / most_ready;
                         });
}

std::vector<double> echo_connections(const report& rep) {
    std::vector<double> out;
    for (const auto& r : rep.records)
        if (r.scenario == scenario::echo && r.get("requests_per_s")) out.push_back(*r.get("connections"));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// io_uring against epoll, both unipoll, at the largest connection count.
void io_uring_goal(report& rep, double connections) {
    const std::string text = fmt("echo, %.0f connections: io_uring requests/s >= epoll's (within noise)", connections);
    const std::vector<std::pair<std::string, double>> size = {{"connections", connections}};
    const record* uring = rep.find(scenario::echo, "unipoll:io_uring", size);
    const record* epoll = rep.find(scenario::echo, "unipoll:epoll", size);
    if (!uring || !uring->get("requests_per_s") || !epoll || !epoll->get("requests_per_s")) {
        rep.goals.push_back({text, "unipoll:io_uring",
                             !uring || !uring->get("requests_per_s") ? "io_uring not available or not measured in this run"
                                                                     : "epoll not measured",
                             std::nullopt});
        return;
    }
    const double mine = *uring->get("requests_per_s"), theirs = *epoll->get("requests_per_s");
    const double noise = allowance(*uring, *epoll, "requests_per_s");
    const bool met = mine >= theirs * (1 - noise);
    std::string evidence = rate(mine) + " vs " + rate(theirs) + fmt(" requests/s (allowance %.0f%%)", noise * 100);
    const auto sc_u = uring->get("server_syscalls_per_request"), sc_e = epoll->get("server_syscalls_per_request");
    const auto cpu_u = uring->get("cpu_ns_per_request"), cpu_e = epoll->get("cpu_ns_per_request");
    if (sc_u && sc_e) evidence += fmt("; %.3f", *sc_u) + fmt(" vs %.3f system calls/request", *sc_e);
    if (cpu_u && cpu_e) evidence += fmt("; %.2f", *cpu_u / 1000) + fmt(" vs %.2f us CPU/request", *cpu_e / 1000);
    if (!met) {
        evidence += "; why not: ";
        if (sc_u && sc_e && *sc_u > *sc_e + syscall_slack) evidence += "io_uring makes more system calls per request";
        else if (cpu_u && cpu_e && *cpu_u > *cpu_e * 1.05) evidence += "io_uring spends more CPU per request";
        else evidence += "no more system calls or CPU per request on the server; the clients or the machine set the pace";
    }
    rep.goals.push_back({text, "unipoll:io_uring", evidence, met});
}

}  // namespace

void evaluate_throughput_goals(report& rep) {
    readiness_goals(rep);
    const auto connections = echo_connections(rep);
    for (const double c : connections)
        versus_best_peer(rep, scenario::echo, {{"connections", c}}, fmt("echo, %.0f connections", c), "requests_per_s",
                         "requests/s", "server_syscalls_per_request", [](const record& r) { return r.get("server_syscalls_per_request"); });
    if (!connections.empty()) io_uring_goal(rep, connections.back());
}

}  // namespace compare
