// The goals, in two files: goals.cpp (wakes, and evaluate()) and
// goals_throughput.cpp (readiness and echo against the peers).
#pragma once

#include "report.hpp"

namespace compare {

/// Adds the readiness and echo goals to rep.goals.
void evaluate_throughput_goals(report& rep);

}  // namespace compare
