// Percentiles of latency samples.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace compare {

struct latency_summary {
    double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
    /// The 0th..100th percentiles, for plotting the distribution.
    std::vector<double> curve;
};

/// Nearest-rank percentile of sorted samples, q in [0, 1].
inline double percentile(const std::vector<std::int64_t>& sorted, double q) {
    if (sorted.empty()) return 0;
    const auto last = sorted.size() - 1;
    auto i = static_cast<std::size_t>(q * static_cast<double>(last) + 0.5);
    return static_cast<double>(sorted[std::min(i, last)]);
}

inline latency_summary summarize(std::vector<std::int64_t> samples) {
    latency_summary s;
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    s.p50 = percentile(samples, 0.50);
    s.p90 = percentile(samples, 0.90);
    s.p99 = percentile(samples, 0.99);
    s.p999 = percentile(samples, 0.999);
    s.max = static_cast<double>(samples.back());
    double sum = 0;
    for (auto v : samples) sum += static_cast<double>(v);
    s.mean = sum / static_cast<double>(samples.size());
    s.curve.reserve(101);
    for (int p = 0; p <= 100; ++p) s.curve.push_back(percentile(samples, p / 100.0));
    return s;
}

}  // namespace compare
