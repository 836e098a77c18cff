// --merge: one table from the report.json files of several machines.
#include "merge.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace compare {

namespace {

report load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::stringstream text;
    text << in.rdbuf();
    try {
        return from_json(text.str());
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

// "host (Linux 6.1.0 x86_64)": short enough for a table column.
std::string label(const report& rep) {
    std::string kernel = rep.info_value("kernel");
    kernel = kernel.substr(0, kernel.find(' '));
    return rep.info_value("machine") + " (" + rep.info_value("os") + " " + kernel + " " +
           rep.info_value("arch") + ")";
}

}  // namespace

report merge_reports(const std::vector<std::string>& paths) {
    report merged;
    merged.info.emplace_back("merged_reports", std::to_string(paths.size()));
    std::vector<std::string> used;
    for (const auto& path : paths) {
        report one = load(path);
        std::string machine = label(one);
        // Two runs of one machine (before/after a change) stay apart.
        const auto same = static_cast<std::size_t>(std::count(used.begin(), used.end(), machine));
        used.push_back(machine);
        if (same > 0) machine += " #" + std::to_string(same + 1);
        merged.notes.push_back(machine + ": " + path + ", " + one.info_value("date") + ", " +
                               one.info_value("cpu_model") + ", " + one.info_value("compiler") +
                               ", syscalls: " + one.info_value("syscall_counting"));
        for (auto& r : one.records) {
            r.machine = machine;
            merged.records.push_back(std::move(r));
        }
    }
    return merged;
}

std::string render_merged(const report& merged) {
    std::string out = "# unipoll-compare: merged reports\n\n## Reports\n\n";
    for (const auto& n : merged.notes) out += "- " + n + "\n";
    out += "\n## Results\n\n" + render_tables(merged);
    return out;
}

}  // namespace compare
