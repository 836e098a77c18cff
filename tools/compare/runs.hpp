// Repeated runs: every figure of a record is the median of several
// independent runs (a fresh loop each time), and the runs' range is kept
// beside it so that the report can show how much the machine disagreed
// with itself.
#pragma once

#include "report.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace compare {

/// The numbers of one run.
struct run_result {
    std::map<std::string, double> values;
    std::vector<double> curve;  // latency percentiles 0..100, if kept
};

/// p50_ns, p99_ns, mean_ns and max_ns of `samples` (p90 and p99.9 too, and
/// the 101-point curve, when `with_curve`).
void put_percentiles(run_result&, std::vector<std::int64_t> samples, bool with_curve = false);
/// The same for samples that each time `batch` calls: per call.
void put_batch_percentiles(run_result&, std::vector<std::int64_t> samples, std::uint64_t batch);

/// record.values = the median of each value over `runs`, record.spread =
/// [min, max] where the runs differed, values["runs"] = their number, and
/// the curve of the run whose p50_ns is the median.
void combine_runs(record&, const std::vector<run_result>& runs);

/// A share of a total for one of `runs` runs, at least `floor`.
std::uint64_t per_run(std::uint64_t total, unsigned runs, std::uint64_t floor = 1);

}  // namespace compare
