#include "runs.hpp"

#include "stats.hpp"

#include <algorithm>

namespace compare {

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

void put_percentiles(run_result& run, std::vector<std::int64_t> samples, bool with_curve) {
    const latency_summary l = summarize(std::move(samples));
    run.values["p50_ns"] = l.p50;
    run.values["p99_ns"] = l.p99;
    run.values["mean_ns"] = l.mean;
    run.values["max_ns"] = l.max;
    if (!with_curve) return;
    run.values["p90_ns"] = l.p90;
    run.values["p999_ns"] = l.p999;
    run.curve = l.curve;
}

void put_batch_percentiles(run_result& run, std::vector<std::int64_t> samples, std::uint64_t batch) {
    put_percentiles(run, std::move(samples));
    for (const char* key : {"p50_ns", "p99_ns", "mean_ns", "max_ns"}) run.values[key] /= static_cast<double>(batch);
}

void combine_runs(record& r, const std::vector<run_result>& runs) {
    if (runs.empty()) return;
    std::map<std::string, std::vector<double>> by_key;
    for (const auto& run : runs)
        for (const auto& [k, v] : run.values) by_key[k].push_back(v);
    for (auto& [k, vs] : by_key) {
        const auto [lo, hi] = std::minmax_element(vs.begin(), vs.end());
        if (*lo != *hi) r.spread[k] = {*lo, *hi};
        r.values[k] = median(vs);
    }
    r.values["runs"] = static_cast<double>(runs.size());
    // The curve of one real run (a median of curves is no run's shape).
    std::vector<const run_result*> order;
    for (const auto& run : runs) order.push_back(&run);
    std::sort(order.begin(), order.end(), [](const run_result* a, const run_result* b) {
        const auto pa = a->values.find("p50_ns"), pb = b->values.find("p50_ns");
        return (pa == a->values.end() ? 0 : pa->second) < (pb == b->values.end() ? 0 : pb->second);
    });
    r.curve = order[(order.size() - 1) / 2]->curve;
}

std::uint64_t per_run(std::uint64_t total, unsigned runs, std::uint64_t floor) {
    return std::max(floor, total / std::max(1u, runs));
}

}  // namespace compare
