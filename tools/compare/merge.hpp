// Combining the report.json files of several runs (machines, OSes).
#pragma once

#include "report.hpp"

#include <string>
#include <vector>

namespace compare {

/// Records of every file, each tagged with its machine. Throws
/// std::runtime_error naming the file that cannot be read or parsed.
report merge_reports(const std::vector<std::string>& paths);
/// merged.md: where each report came from, then the tables with a machine column.
std::string render_merged(const report& merged);

}  // namespace compare
