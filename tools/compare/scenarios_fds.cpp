// Readiness throughput as the number of watched sockets grows, and the
// cost of watching a socket and letting it go, for every subject through
// its fd_loop. Each run starts a fresh loop, so its first round (right
// after the sockets joined) is reported apart from the rounds that follow.
#include "scenarios.hpp"

#include "fd_limit.hpp"
#include "scenario_util.hpp"
#include "socket_fds.hpp"
#include "syscall_counter.hpp"
#include "timing.hpp"

#include <algorithm>

namespace compare {

namespace {

// The loop's system calls between two points: the kernel's count where it
// can count, unipoll's stats() where not, nothing for peers then.
std::optional<double> syscalls(std::uint64_t kernel, const std::optional<unipoll::counters>& before,
                               const std::optional<unipoll::counters>& after) {
    if (syscall_counter::available()) return static_cast<double>(kernel);
    if (before && after) return static_cast<double>(after->syscalls - before->syscalls);
    return std::nullopt;
}

// One run of a (registered, ready) cell: each round writes to `ready`
// spread-out sockets and times only the turns of the loop that report
// them (the writes and the draining reads are the harness's own).
run_result readiness_run(const subject& s, const socket_fds& fds, std::uint64_t registered,
                         std::uint64_t ready, const options& o) {
    auto loop = s.make_fd_loop();
    for (std::uint64_t i = 0; i < registered; ++i) loop->watch(fds.fd(i), static_cast<std::uint32_t>(i));
    const std::uint64_t max_rounds = 1 + o.fd_warmup + per_run(o.fd_rounds, o.runs, 20);
    syscall_counter counter;
    std::vector<std::uint32_t> readable;
    readable.reserve(4096);
    std::vector<std::int64_t> round_ns;
    round_ns.reserve(max_rounds);  // growing it would mmap inside a counted turn
    std::uint64_t calls = 0;
    std::optional<unipoll::counters> before;
    std::int64_t first_round = 0;
    const std::int64_t budget_end = now_ns() + o.cell_budget_ns / o.runs;
    const std::uint64_t stride = registered / ready;
    for (std::uint64_t round = 0; round < max_rounds; ++round) {
        const bool measured = round > o.fd_warmup;
        if (round == o.fd_warmup + 1) before = loop->stats();
        const std::uint64_t base = round * 7919 % registered;
        for (std::uint64_t k = 0; k < ready; ++k) fds.make_ready((base + k * stride) % registered);
        std::uint64_t drained = 0;
        std::int64_t this_round = 0;
        while (drained < ready) {
            readable.clear();
            if (measured) counter.start();
            const std::int64_t t0 = now_ns();
            loop->turn(true, readable);
            const std::int64_t t1 = now_ns();
            if (measured) calls += counter.stop();
            this_round += t1 - t0;
            for (const auto token : readable) drained += fds.drain(token) ? 1 : 0;
        }
        if (round == 0) first_round = this_round;
        if (measured) round_ns.push_back(this_round);
        if (round_ns.size() >= 20 && now_ns() > budget_end) break;
    }
    const auto sc = syscalls(calls, before, loop->stats());
    std::int64_t polled = 0;
    for (const auto ns : round_ns) polled += ns;
    const auto rounds = static_cast<double>(round_ns.size());

    run_result run;
    run.values["first_round_ns"] = static_cast<double>(first_round);
    run.values["rounds"] = rounds;
    run.values["ns_per_round"] = per(static_cast<double>(polled), rounds);
    if (sc) run.values["syscalls_per_round"] = per(*sc, rounds);
    put_percentiles(run, std::move(round_ns));
    // At the median round: a round in which the machine took the CPU away
    // says nothing about the loop.
    run.values["events_per_s"] = per(static_cast<double>(ready) * 1e9, run.values["p50_ns"]);
    return run;
}

// One run of registration: each round watches `n` sockets, takes one
// non-blocking turn (loops that apply registrations lazily apply them
// there), lets them all go and takes another turn.
run_result registration_run(const subject& s, const socket_fds& fds, std::uint64_t n, const options& o) {
    auto loop = s.make_fd_loop();
    const std::uint64_t max_rounds = 1 + per_run(o.registration_pairs / n, o.runs, 3);
    syscall_counter counter;
    std::vector<std::uint32_t> readable;
    readable.reserve(4096);
    std::vector<std::int64_t> pair_ns;
    pair_ns.reserve(max_rounds);
    std::optional<unipoll::counters> before;
    std::int64_t first_round = 0, total = 0;
    const std::int64_t budget_end = now_ns() + o.registration_budget_ns / o.runs;
    for (std::uint64_t round = 0; round < max_rounds; ++round) {
        if (round == 1) {
            before = loop->stats();
            counter.start();
        }
        const std::int64_t t0 = now_ns();
        for (std::uint64_t i = 0; i < n; ++i) loop->watch(fds.fd(i), static_cast<std::uint32_t>(i));
        loop->turn(false, readable);
        for (std::uint64_t i = 0; i < n; ++i) loop->unwatch(fds.fd(i), static_cast<std::uint32_t>(i));
        loop->turn(false, readable);
        const std::int64_t t1 = now_ns();
        readable.clear();
        if (round == 0) {
            first_round = t1 - t0;
            continue;
        }
        total += t1 - t0;
        pair_ns.push_back((t1 - t0) / static_cast<std::int64_t>(n));
        if (pair_ns.size() >= 3 && now_ns() > budget_end) break;
    }
    const auto sc = syscalls(counter.stop(), before, loop->stats());
    const auto pairs = static_cast<double>(pair_ns.size() * n);

    run_result run;
    run.values["first_round_ns"] = per(static_cast<double>(first_round), static_cast<double>(n));
    run.values["rounds"] = static_cast<double>(pair_ns.size());
    run.values["ns_per_pair"] = per(static_cast<double>(total), pairs);
    if (sc) run.values["syscalls_per_pair"] = per(*sc, pairs);
    put_percentiles(run, std::move(pair_ns));
    run.values["pairs_per_s"] = per(1e9, run.values["p50_ns"]);  // at the median round, as events/s
    return run;
}

// Calls body(fds, n, out) for each registered count n, with sockets enough
// for the largest; a count RLIMIT_NOFILE does not allow becomes a record
// that says so.
template <class Body>
std::vector<record> over_sizes(const char* scen, const char* size_key, const subject& s, const options& o,
                               Body body) {
    const std::uint64_t largest = *std::max_element(o.registered.begin(), o.registered.end());
    const fd_limit lim = raise_fd_limit(largest + 64);
    const std::uint64_t usable = lim.soft > 64 ? std::min(largest, (lim.soft - 64) / 2 * 2) : 0;
    const socket_fds fds(usable);
    std::vector<record> out;
    for (const std::uint64_t n : o.registered) {
        if (n <= usable) {
            body(fds, n, out);
            continue;
        }
        record r = make_record(scen, s);
        r.values[size_key] = static_cast<double>(n);
        r.note = "skipped: " + (lim.note.empty() ? "RLIMIT_NOFILE is " + std::to_string(lim.soft) : lim.note);
        out.push_back(std::move(r));
    }
    return out;
}

// A row that says the subject cannot watch the scenarios' sockets here
// (subject::fds_unavailable), for one cell asked for.
record unavailable(const char* scen, const subject& s, const std::vector<std::pair<const char*, std::uint64_t>>& cell) {
    record r = make_record(scen, s);
    for (const auto& [key, n] : cell) r.values[key] = static_cast<double>(n);
    r.note = "skipped: " + s.fds_unavailable;
    return r;
}

}  // namespace

std::vector<record> measure_readiness(const subject& s, const options& o) {
    if (!s.fds_unavailable.empty()) {
        std::vector<record> out;
        for (const std::uint64_t registered : o.registered)
            for (const std::uint64_t ready : o.ready)
                if (ready <= registered)
                    out.push_back(unavailable(scenario::readiness, s, {{"registered", registered}, {"ready", ready}}));
        return out;
    }
    return over_sizes(scenario::readiness, "registered", s, o,
                      [&](const socket_fds& fds, std::uint64_t registered, std::vector<record>& out) {
                          for (const std::uint64_t ready : o.ready) {
                              if (ready > registered) continue;
                              record r = repeated(scenario::readiness, s, o.runs,
                                                  [&] { return readiness_run(s, fds, registered, ready, o); });
                              r.values["registered"] = static_cast<double>(registered);
                              r.values["ready"] = static_cast<double>(ready);
                              out.push_back(std::move(r));
                          }
                      });
}

std::vector<record> measure_registration(const subject& s, const options& o) {
    if (!s.fds_unavailable.empty()) {
        std::vector<record> out;
        for (const std::uint64_t n : o.registered) out.push_back(unavailable(scenario::registration, s, {{"fds", n}}));
        return out;
    }
    return over_sizes(scenario::registration, "fds", s, o,
                      [&](const socket_fds& fds, std::uint64_t n, std::vector<record>& out) {
                          record r = repeated(scenario::registration, s, o.runs,
                                              [&] { return registration_run(s, fds, n, o); });
                          r.values["fds"] = static_cast<double>(n);
                          out.push_back(std::move(r));
                      });
}

}  // namespace compare
