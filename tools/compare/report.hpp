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
inline constexpr const char* echo = "echo";
}  // namespace scenario

struct record {
    std::string scenario;
    std::string subject;
    std::string kind;             // "unipoll", "peer", "floor"
    std::string machine;          // set by --merge only
    std::string syscalls_source;  // "kernel", "stats()", or "" (not counted)
    std::map<std::string, double> values;  // each the median of values["runs"] runs
    /// [min, max] over the runs, for the values that differed between runs.
    std::map<std::string, std::pair<double, double>> spread;
    std::vector<double> curve;    // latency percentiles 0..100 (ns), if any
    std::string note;

    std::optional<double> get(const std::string& key) const {
        auto it = values.find(key);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
    /// Half the runs' range of `key` relative to its median (0.05 = ±5%);
    /// 0 when every run measured the same.
    double relative_spread(const std::string& key) const {
        const auto it = spread.find(key);
        const auto median = get(key);
        if (it == spread.end() || !median || *median == 0) return 0;
        return (it->second.second - it->second.first) / 2 / *median;
    }
};

struct subject_info {
    std::string name, kind, version, detail;
    std::string mechanism;  // the kernel interface it ran on here: "epoll", "io_uring", ...
    std::string fds_detail, echo_detail;  // how the fd and echo scenarios drive it
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
    /// The sizes this run asked for (registered, ready, connections, ...),
    /// so that a checker can tell a missing record from one not asked for.
    std::vector<std::pair<std::string, std::vector<double>>> sizes;
    std::vector<record> records;
    std::vector<goal> goals;
    std::vector<std::string> notes;
    /// Scenarios asked for that this build leaves out, with the reason
    /// (their rows say "skipped: <reason>").
    std::vector<std::pair<std::string, std::string>> not_built;
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
    /// The record of (scenario, subject) whose values hold every `where` pair.
    const record* find(const std::string& scen, const std::string& subj,
                       const std::vector<std::pair<std::string, double>>& where) const {
        for (const auto& r : records) {
            if (r.scenario != scen || r.subject != subj) continue;
            bool all = true;
            for (const auto& [k, v] : where) all = all && r.get(k) == v;
            if (all) return &r;
        }
        return nullptr;
    }
    const subject_info* subject(const std::string& name) const {
        for (const auto& s : subjects)
            if (s.name == name) return &s;
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
