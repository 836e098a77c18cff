// Small pieces every scenario file uses.
#pragma once

#include "peer.hpp"
#include "report.hpp"
#include "runs.hpp"
#include "syscall_counter.hpp"

#include <unipoll/poller.hpp>

#include <cstdint>
#include <optional>

namespace compare {

/// An empty record of `scen` for `s`, saying where its system call counts
/// come from: the kernel, or unipoll's own stats() where the kernel cannot
/// count (peers then have none).
inline record make_record(const char* scen, const subject& s) {
    record r;
    r.scenario = scen;
    r.subject = s.name;
    r.kind = kind_name(s.kind);
    if (syscall_counter::available()) r.syscalls_source = "kernel";
    else if (s.kind == subject_kind::unipoll) r.syscalls_source = "stats()";
    return r;
}

inline double per(double n, double d) { return d > 0 ? n / d : 0; }

/// b - a, field by field; all zero when either is missing (peers).
inline unipoll::counters delta(const std::optional<unipoll::counters>& a,
                               const std::optional<unipoll::counters>& b) {
    if (!a || !b) return {};
    return {b->syscalls - a->syscalls, b->wake_posts - a->wake_posts, b->wakes_coalesced - a->wakes_coalesced,
            b->relays - a->relays, b->stale_wakeups - a->stale_wakeups};
}

/// The record of `scen` for `s` from `runs` calls of one(), each a fresh
/// run returning its run_result.
template <class Run>
record repeated(const char* scen, const subject& s, unsigned runs, Run one) {
    std::vector<run_result> results;
    for (unsigned i = 0; i < runs; ++i) results.push_back(one());
    record r = make_record(scen, s);
    combine_runs(r, results);
    return r;
}

}  // namespace compare
