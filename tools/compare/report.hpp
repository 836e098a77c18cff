// What a run produces: one record per (scenario, subject[, size]) with
// named numbers, plus the facts about the machine. The same structure is
// read back from report.json by --merge.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace compare {

/// Scenario identifiers, as they appear in report.json.
namespace scenario {
inline constexpr const char* wake_sleeping = "wake_sleeping";
inline constexpr const char* wake_busy = "wake_busy";
inline constexpr const char* coalescing = "coalescing";
inline constexpr const char* nonblocking_poll = "nonblocking_poll";
inline constexpr const char* readiness = "readiness";
inline constexpr const char* registration = "registration";
}  // namespace scenario

struct record {
    std::string scenario;
    std::string subject;
    std::string kind;             // "unipoll", "peer", "floor"
    std::string machine;          // set by --merge only
    std::string syscalls_source;  // "kernel", "stats()", or "" (not counted)
    std::map<std::string, double> values;
    std::vector<double> curve;    // latency percentiles 0..100 (ns), if any
    std::string note;

    std::optional<double> get(const std::string& key) const {
        auto it = values.find(key);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
};

struct subject_info {
    std::string name, kind, version, detail;
};

struct goal {
    std::string text;     // what is claimed
    std::string subject;
    std::string evidence; // the numbers it was decided from
    std::optional<bool> met;  // nullopt: not measurable in this run
};

struct report {
    /// machine, os, kernel, arch, cpu_model, cpus, compiler, build_type,
    /// date, syscall_counting, ... in a stable order.
    std::vector<std::pair<std::string, std::string>> info;
    std::vector<subject_info> subjects;
    std::vector<record> records;
    std::vector<goal> goals;
    std::vector<std::string> notes;
    std::string picture;  // file name, or "" when none was drawn
    std::string picture_note;

    std::string info_value(const std::string& key) const {
        for (const auto& [k, v] : info)
            if (k == key) return v;
        return {};
    }
    const record* find(const std::string& scen, const std::string& subj) const {
        for (const auto& r : records)
            if (r.scenario == scen && r.subject == subj) return &r;
        return nullptr;
    }
};

// report_json.cpp
std::string to_json(const report&);
/// Throws std::runtime_error for malformed input.
report from_json(const std::string& text);

// report_md.cpp
/// The result tables (padded Markdown: readable on a terminal too).
std::string render_tables(const report&);
std::string render_goals(const report&);
std::string render_markdown(const report&);

// goals.cpp
/// Adds floor ratios to the latency records and decides the goals.
void evaluate(report&);

// machine.cpp
std::vector<std::pair<std::string, std::string>> machine_info();

}  // namespace compare
