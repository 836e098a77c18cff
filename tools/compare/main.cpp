// unipoll-compare: measures unipoll's backends next to peer event libraries
// and raw kernel floors, and writes report.md, report.json and report.png.
// See docs/compare.md.
#include "merge.hpp"
#include "options.hpp"
#include "peer.hpp"
#include "plot.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "syscall_counter.hpp"
#include "watchdog.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <stdexcept>

namespace compare {

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string json_list(const std::vector<std::string>& names) {
    std::string out = "[";
    for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", \"" : "\"") + names[i] + "\"";
    return out + "]";
}

int list_build() {
    std::vector<std::string> backends, peers;
    for (const auto& s : unipoll_subjects()) backends.push_back(s.name);
    for (const auto& s : peer_subjects()) peers.push_back(s.name);
    std::printf("{\"backends\": %s, \"peers\": %s}\n", json_list(backends).c_str(), json_list(peers).c_str());
    return 0;
}

int merge(const options& o) {
    const report merged = merge_reports(o.merge);
    std::filesystem::create_directories(o.out);
    const auto path = std::filesystem::path(o.out) / "merged.md";
    const std::string md = render_merged(merged);
    write_file(path, md);
    std::fputs(md.c_str(), stdout);
    std::printf("\nMerged table: %s\n", path.string().c_str());
    return 0;
}

// Runs one measurement; a subject that cannot be measured here (a ring
// the kernel refuses, a library error) becomes a visible row, not a crash.
void measure(report& rep, progress& bar, watchdog& dog, const char* scen, const subject& s,
             const std::function<std::vector<record>()>& body) {
    bar.step(std::string(scen) + ": " + s.name);
    dog.arm(std::string(scen) + " / " + s.name, std::chrono::minutes(5));
    try {
        for (auto& r : body()) rep.records.push_back(std::move(r));
    } catch (const std::exception& e) {
        record r;
        r.scenario = scen;
        r.subject = s.name;
        r.kind = kind_name(s.kind);
        r.note = std::string("failed: ") + e.what();
        rep.records.push_back(std::move(r));
    }
}

#ifndef UNIPOLL_COMPARE_WITH_ECHO
// The echo scenario is not in this build: the report names it with the
// reason, and each subject gets a row per connection count asked for that
// says so.
void echo_not_built_rows(report& rep, const std::vector<subject>& subjects, const options& o) {
    rep.not_built.emplace_back(scenario::echo, echo_not_built);
    for (const auto& s : subjects)
        for (const std::uint64_t connections : o.connections) {
            record r;
            r.scenario = scenario::echo;
            r.subject = s.name;
            r.kind = kind_name(s.kind);
            r.values["connections"] = static_cast<double>(connections);
            r.note = std::string("skipped: ") + echo_not_built;
            rep.records.push_back(std::move(r));
        }
}
#endif

std::vector<double> as_doubles(const std::vector<std::uint64_t>& v) { return {v.begin(), v.end()}; }

int run(const options& o, const std::string& argv0) {
    std::vector<subject> subjects;
    for (auto& s : unipoll_subjects())
        if (wants_subject(o, s.name)) subjects.push_back(std::move(s));
    for (auto& s : peer_subjects())
        if (wants_subject(o, s.name)) subjects.push_back(std::move(s));
    if (subjects.empty()) throw std::invalid_argument("--only matches no subject (see --list)");

    report rep;
    rep.info = machine_info();
    rep.info.emplace_back("unipoll", UNIPOLL_COMPARE_UNIPOLL_VERSION);
    rep.info.emplace_back("syscall_counting", syscall_counter::available()
        ? "kernel: perf_event_open on raw_syscalls:sys_enter, per thread"
        : "unipoll stats() only (peers n/a): " + syscall_counter::unavailable_reason());
    rep.info.emplace_back("mode", o.quick ? "quick" : "full");
    rep.info.emplace_back("runs", std::to_string(o.runs));
    if (!syscall_counter::probe_note().empty()) rep.notes.push_back(syscall_counter::probe_note());
    if (!syscall_counter::available())
        std::fprintf(stderr, "unipoll-compare: kernel syscall counting unavailable (%s); using stats()\n",
                     syscall_counter::unavailable_reason().c_str());
    for (const auto& s : subjects)
        rep.subjects.push_back({s.name, kind_name(s.kind), s.version, s.detail, s.mechanism, s.fds_detail, s.echo_detail});
    if (wants_scenario(o, scenario::readiness) || wants_scenario(o, scenario::registration)) {
        rep.sizes.emplace_back("registered", as_doubles(o.registered));
        rep.sizes.emplace_back("ready", as_doubles(o.ready));
    }
    if (wants_scenario(o, scenario::echo)) {
        rep.sizes.emplace_back("connections", as_doubles(o.connections));
        rep.sizes.emplace_back("in_flight", std::vector<double>{static_cast<double>(o.in_flight)});
    }

    using wake_fn = record (*)(const subject&, const options&);
    const std::pair<const char*, wake_fn> wake_scenarios[] = {
        {scenario::wake_sleeping, measure_wake_sleeping},
        {scenario::wake_busy, measure_wake_busy},
        {scenario::coalescing, measure_coalescing},
        {scenario::nonblocking_poll, measure_nonblocking_poll},
    };
    using fds_fn = std::vector<record> (*)(const subject&, const options&);
    const std::pair<const char*, fds_fn> fd_scenarios[] = {
        {scenario::readiness, measure_readiness},
        {scenario::registration, measure_registration},
    };
    int steps = 0;
    for (const auto& s : subjects) {
        for (const auto& [id, fn] : wake_scenarios) steps += wants_scenario(o, id) ? 1 : 0;
        for (const auto& [id, fn] : fd_scenarios) steps += wants_scenario(o, id) && s.make_fd_loop ? 1 : 0;
        steps += wants_scenario(o, scenario::echo) && s.make_echo_server ? 1 : 0;
    }

    {
        watchdog dog;
        progress bar(steps);
        for (const auto& [id, fn] : wake_scenarios) {
            if (!wants_scenario(o, id)) continue;
            for (const auto& s : subjects)
                measure(rep, bar, dog, id, s, [&, f = fn] { return std::vector<record>{f(s, o)}; });
        }
        for (const auto& [id, fn] : fd_scenarios) {
            if (!wants_scenario(o, id)) continue;
            for (const auto& s : subjects)
                if (s.make_fd_loop) measure(rep, bar, dog, id, s, [&, f = fn] { return f(s, o); });
        }
#ifdef UNIPOLL_COMPARE_WITH_ECHO
        if (wants_scenario(o, scenario::echo))
            for (const auto& s : subjects)
                if (s.make_echo_server) measure(rep, bar, dog, scenario::echo, s, [&] { return measure_echo(s, o); });
#else
        if (wants_scenario(o, scenario::echo)) echo_not_built_rows(rep, subjects, o);
#endif
    }
    evaluate(rep);

    const std::filesystem::path dir(o.out);
    std::filesystem::create_directories(dir);
    const auto json_path = dir / "report.json";
    write_file(json_path, to_json(rep));
    if (o.plot) {
        const auto png = dir / "report.png";
        const plot_outcome drawn = draw_picture(argv0, o.python, json_path.string(), png.string());
        if (drawn.drawn) rep.picture = "report.png";
        else std::fprintf(stderr, "unipoll-compare: no picture: %s\n", drawn.note.c_str());
        rep.picture_note = drawn.note;
    } else {
        rep.picture_note = "not requested (--no-plot)";
    }
    write_file(json_path, to_json(rep));
    write_file(dir / "report.md", render_markdown(rep));

    std::printf("unipoll-compare on %s: %s %s, %s; %s\n\n", rep.info_value("machine").c_str(),
                rep.info_value("os").c_str(), rep.info_value("kernel").c_str(),
                rep.info_value("cpu_model").c_str(), rep.info_value("syscall_counting").c_str());
    std::fputs(render_tables(rep).c_str(), stdout);
    std::printf("### Goals\n\n%s\n", render_goals(rep).c_str());
    std::printf("Report: %s (%s, %s)\n", (dir / "report.md").string().c_str(), json_path.string().c_str(),
                rep.picture.empty() ? "no picture" : (dir / rep.picture).string().c_str());
    return 0;
}

}  // namespace

}  // namespace compare

int main(int argc, char** argv) {
    using namespace compare;
#ifdef UNIPOLL_COMPARE_WITH_ECHO
    // A client that resets while the echo server writes to it must cost
    // an EPIPE, not the process.
    std::signal(SIGPIPE, SIG_IGN);
#endif
    options o;
    try {
        o = parse_options(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "unipoll-compare: %s\n", e.what());
        return 2;
    }
    if (o.help) {
        std::fputs(usage(), stdout);
        return 0;
    }
    try {
        if (o.list) return list_build();
        if (!o.merge.empty()) return merge(o);
        return run(o, argv[0]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unipoll-compare: %s\n", e.what());
        return 1;
    }
}
