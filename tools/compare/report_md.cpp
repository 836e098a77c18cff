// The tables (stdout and report.md) and report.md itself.
#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>

namespace compare {

namespace {

enum class fmt { us, syscalls, ratio, count, rate, ns, spread };

struct column {
    const char* header;
    const char* key;
    fmt format;  // fmt::spread: the runs' spread of `key`
};

struct table_spec {
    const char* scenario;
    const char* title;
    const char* what;
    std::vector<column> columns;
    std::vector<const char*> order;  // values the rows are sorted by, before the subject order
};

const std::vector<table_spec>& tables() {
    static const std::vector<table_spec> specs = {
        {scenario::wake_sleeping, "1. Wake round trip, poller asleep",
         "One thread blocked in the loop's wait, another wakes it and spins until it acknowledges. "
         "Latency is wake() to acknowledgement; `first` is the first round on a new loop; system calls are per "
         "round trip and per thread.",
         {{"p50 us", "p50_ns", fmt::us}, {"±", "p50_ns", fmt::spread}, {"p99 us", "p99_ns", fmt::us},
          {"max us", "max_ns", fmt::us}, {"first us", "first_round_ns", fmt::us},
          {"p50 / floor", "floor_ratio", fmt::ratio}, {"waker sc", "waker_syscalls", fmt::syscalls},
          {"sleeper sc", "sleeper_syscalls", fmt::syscalls}},
         {}},
        {scenario::wake_busy, "2. Wake, poller busy",
         "The poller runs non-blocking polls in a loop; another thread wakes it. System calls on the waker's side "
         "per wake.",
         {{"p50 us", "p50_ns", fmt::us}, {"±", "p50_ns", fmt::spread}, {"p99 us", "p99_ns", fmt::us},
          {"first us", "first_round_ns", fmt::us}, {"waker sc/wake", "waker_syscalls", fmt::syscalls}},
         {}},
        {scenario::coalescing, "3. Coalescing",
         "4 threads wake one poller as fast as they can; kernel posts (waker system calls) per wake, how often the "
         "poller returned per wake, and the time per wake (p50/p99 over batches of 256; `first`: a new loop's "
         "first wake).",
         {{"wakes", "wakes", fmt::count}, {"posts/wake", "posts_per_wake", fmt::syscalls},
          {"returns/wake", "deliveries_per_wake", fmt::syscalls}, {"ns/wake", "ns_per_wake", fmt::ns},
          {"±", "ns_per_wake", fmt::spread}, {"p50 ns", "p50_ns", fmt::ns}, {"p99 ns", "p99_ns", fmt::ns},
          {"first ns", "first_round_ns", fmt::ns}},
         {}},
        {scenario::nonblocking_poll, "4. Non-blocking poll, nothing ready",
         "One turn of the loop with a zero timeout (p50/p99 over batches of 100; `first`: a new loop's first turn).",
         {{"ns/call", "ns_per_call", fmt::ns}, {"±", "ns_per_call", fmt::spread}, {"p50 ns", "p50_ns", fmt::ns},
          {"p99 ns", "p99_ns", fmt::ns}, {"first ns", "first_round_ns", fmt::ns},
          {"sc/call", "syscalls_per_call", fmt::syscalls}},
         {}},
        {scenario::readiness, "5. Readiness throughput and scaling",
         "Sockets watched for reading (both ends of each pair); each round makes `ready` of them readable and "
         "times only the turns of the loop that report them. p50/p99 are per round; `first` is the first round "
         "after the sockets joined a new loop (kept out of the others); events/s = ready / p50 round. io_uring "
         "completes polls as task work of the thread that submitted them, here the one that also writes: for the "
         "io_uring subjects the turns show mostly the reaping (docs/compare.md).",
         {{"registered", "registered", fmt::count}, {"ready", "ready", fmt::count},
          {"p50 us/round", "p50_ns", fmt::us}, {"p99 us/round", "p99_ns", fmt::us},
          {"first us", "first_round_ns", fmt::us}, {"events/s", "events_per_s", fmt::rate},
          {"±", "events_per_s", fmt::spread}, {"sc/round", "syscalls_per_round", fmt::syscalls}},
         {"registered", "ready"}},
        {scenario::registration, "6. Registration",
         "Each round: start watching `fds` sockets, one non-blocking turn, stop watching them all, one more turn "
         "(loops that apply changes lazily apply them in the turns). Per add+remove pair; p50/p99 over rounds; "
         "`first` is a new loop's first round; add+remove/s at the p50 round.",
         {{"fds", "fds", fmt::count}, {"add+remove/s", "pairs_per_s", fmt::rate}, {"±", "pairs_per_s", fmt::spread},
          {"p50 ns/pair", "p50_ns", fmt::ns}, {"p99 ns/pair", "p99_ns", fmt::ns},
          {"first ns/pair", "first_round_ns", fmt::ns}, {"sc/pair", "syscalls_per_pair", fmt::syscalls}},
         {"fds"}},
        {scenario::echo, "7. Echo server under load",
         "One server thread serves `conns` loopback TCP connections; a client process keeps `in flight` requests "
         "outstanding, round-robin over the connections. Request latency as the clients see it; system calls and "
         "CPU time are the server thread's, per request; `first pass` is the rate while each connection carried its "
         "first request (the warm-up, kept out of the others).",
         {{"conns", "connections", fmt::count}, {"in flight", "in_flight", fmt::count},
          {"requests/s", "requests_per_s", fmt::rate}, {"±", "requests_per_s", fmt::spread},
          {"p50 us", "p50_ns", fmt::us}, {"p99 us", "p99_ns", fmt::us},
          {"server sc/req", "server_syscalls_per_request", fmt::syscalls},
          {"CPU us/req", "cpu_ns_per_request", fmt::us}, {"first pass req/s", "warmup_requests_per_s", fmt::rate}},
         {"connections"}},
    };
    return specs;
}

std::string format_value(double v, fmt f) {
    char buf[48];
    switch (f) {
        case fmt::us: {
            const double us = v / 1000.0;
            std::snprintf(buf, sizeof buf, us < 10 ? "%.2f" : us < 1000 ? "%.1f" : "%.0f", us);
            break;
        }
        // Small non-zero rates (a relay in 10,000 wakes) must not print as 0.00.
        case fmt::syscalls:
            std::snprintf(buf, sizeof buf, v > 0 && v < 0.001 ? "%.1e" : v > 0 && v < 0.01 ? "%.4f" : "%.2f", v);
            break;
        case fmt::ratio: std::snprintf(buf, sizeof buf, "%.2fx", v); break;
        case fmt::count: std::snprintf(buf, sizeof buf, "%.0f", v); break;
        case fmt::ns: std::snprintf(buf, sizeof buf, v < 100 ? "%.1f" : "%.0f", v); break;
        // Runs that disagree by orders of magnitude (a thread descheduled
        // for whole time slices) need no more digits than that.
        case fmt::spread: std::snprintf(buf, sizeof buf, v >= 10 ? ">999%%" : "%.0f%%", v * 100); break;
        case fmt::rate:
            if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
            else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
            else std::snprintf(buf, sizeof buf, "%.0f", v);
            break;
    }
    return buf;
}

bool is_syscall_column(const column& c) {
    return c.format == fmt::syscalls && std::string(c.key) != "deliveries_per_wake";
}

// Padded Markdown table. Columns from `first_numeric` on are right-aligned.
std::string render_grid(const std::vector<std::vector<std::string>>& rows,
                        std::size_t first_numeric = ~std::size_t{0}) {
    std::vector<std::size_t> width(rows.front().size(), 0);
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    std::string out;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        out += '|';
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
            const std::string& cell = rows[r][c];
            const std::string pad(width[c] - cell.size(), ' ');
            out += ' ';
            if (c < first_numeric || r == 0) out.append(cell).append(pad);
            else out.append(pad).append(cell);
            out += " |";
        }
        out += '\n';
        if (r == 0) {
            out += '|';
            // Appended piecewise: g++ 12 misreports -Wrestrict on
            // literal + std::string chains.
            for (std::size_t c = 0; c < width.size(); ++c) {
                const bool left = c < first_numeric;
                if (left) out += ':';
                out.append(width[c] + 1, '-');
                out += left ? "|" : ":|";
            }
            out += '\n';
        }
    }
    return out;
}

}  // namespace

std::string render_tables(const report& rep) {
    const bool merged = std::any_of(rep.records.begin(), rep.records.end(),
                                    [](const record& r) { return !r.machine.empty(); });
    bool any_stats_source = false;
    std::string out;
    for (const auto& spec : tables()) {
        std::vector<std::vector<std::string>> rows;
        std::vector<std::string> header;
        if (merged) header.emplace_back("machine");
        header.emplace_back("subject");
        for (const auto& c : spec.columns) header.emplace_back(c.header);
        rows.push_back(header);
        std::vector<std::string> notes;
        std::vector<const record*> selected;
        for (const auto& r : rep.records)
            if (r.scenario == spec.scenario) selected.push_back(&r);
        // Rows of one size together, subjects in run order within it.
        std::stable_sort(selected.begin(), selected.end(), [&](const record* a, const record* b) {
            for (const char* key : spec.order) {
                const double va = a->get(key).value_or(0), vb = b->get(key).value_or(0);
                if (va != vb) return va < vb;
            }
            return false;
        });
        for (const record* rp : selected) {
            const record& r = *rp;
            std::vector<std::string> row;
            if (merged) row.push_back(r.machine);
            row.push_back(r.subject);
            for (const auto& c : spec.columns) {
                std::optional<double> v = r.get(c.key);
                if (c.format == fmt::spread && v) v = r.relative_spread(c.key);
                const bool one_run = c.format == fmt::spread && r.get("runs").value_or(1) < 2;  // no spread
                std::string cell = one_run ? std::string(1, '-') : v ? format_value(*v, c.format) : std::string("n/a");
                if (v && is_syscall_column(c) && r.syscalls_source == "stats()") {
                    cell += '*';
                    any_stats_source = true;
                }
                row.push_back(cell);
            }
            rows.push_back(std::move(row));
            if (!r.note.empty()) notes.push_back(r.subject + ": " + r.note);
        }
        if (rows.size() == 1) continue;
        out += "### " + std::string(spec.title) + "\n\n" + spec.what + "\n\n" + render_grid(rows, merged ? 2 : 1);
        for (const auto& n : notes) out += "\n- " + n;
        out += notes.empty() ? "\n" : "\n\n";
    }
    if (any_stats_source)
        out += "`*` counted by unipoll's own stats(): the kernel counter was not permitted here.\n\n";
    if (!out.empty())
        out += "Each figure is the median of the record's runs (`runs` in report.json); `±` is half their range, "
               "relative to the median.\n\n";
    return out;
}

std::string render_goals(const report& rep) {
    std::vector<std::vector<std::string>> rows = {{"goal", "subject", "evidence", "result"}};
    for (const auto& g : rep.goals)
        rows.push_back({g.text, g.subject, g.evidence, !g.met ? "not measured" : *g.met ? "met" : "NOT MET"});
    if (rows.size() == 1) return "No goals could be evaluated (no unipoll wake measurements).\n";
    return render_grid(rows);
}

std::string render_markdown(const report& rep) {
    std::string out = "# unipoll-compare report\n\n";
    std::vector<std::vector<std::string>> info = {{"", ""}};
    for (const auto& [k, v] : rep.info) info.push_back({k, v});
    out += "## Machine and build\n\n" + render_grid(info) + "\n";
    std::vector<std::vector<std::string>> subjects = {{"subject", "kind", "version", "what is measured"}};
    for (const auto& s : rep.subjects) subjects.push_back({s.name, s.kind, s.version, s.detail});
    out += "## Subjects\n\n" + render_grid(subjects) + "\n";
    std::vector<std::vector<std::string>> driven = {{"subject", "kernel interface", "readiness and registration", "echo"}};
    for (const auto& s : rep.subjects) driven.push_back({s.name, s.mechanism, s.fds_detail, s.echo_detail});
    out += "How the fd and echo scenarios drive each subject:\n\n" + render_grid(driven) + "\n";
    out += "`sc` = system calls counted per thread; `floor` = raw eventfd + EPOLLET epoll_wait, "
           "no library, measured in the same run.\n\n";
    out += "## Results\n\n" + render_tables(rep);
    out += "## Goals\n\n" + render_goals(rep) + "\n";
    if (!rep.picture.empty())
        out += "## Picture\n\n![wake latency, system calls, registration, readiness scaling and the echo server "
               "against the peers](" + rep.picture + ")\n\n";
    else if (!rep.picture_note.empty())
        out += "## Picture\n\nNone: " + rep.picture_note + "\n\n";
    if (!rep.notes.empty() || !rep.not_built.empty()) {
        out += "## Notes\n\n";
        for (const auto& [scen, why] : rep.not_built) out += "- Scenario " + scen + " not run: " + why + "\n";
        for (const auto& n : rep.notes) out += "- " + n + "\n";
    }
    return out;
}

}  // namespace compare
