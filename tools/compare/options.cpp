#include "options.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace compare {

const char* usage() {
    return R"(Usage: unipoll-compare [options]
       unipoll-compare --merge A.json B.json ... [--out DIR]

Measures unipoll on every backend available on this kernel next to the event
libraries found at build time (libuv, libevent, libev, Boost.Asio) and raw
kernel floors (eventfd+epoll, liburing), then writes DIR/report.md,
DIR/report.json and DIR/report.png and prints the tables.

Scenarios (ids for --scenarios):
  wake_sleeping     wake round trip to a poller blocked in the kernel
  wake_busy         wake to a poller running non-blocking polls
  coalescing        4 threads waking one poller as fast as they can
  nonblocking_poll  non-blocking poll with nothing ready
  readiness         events/s with 100/1,000/10,000 registered sockets
  registration      add+remove of 100/1,000/10,000 sockets
  echo              a TCP echo server under load, 1,000 and 10,000 connections

Every figure is the median of --runs runs (the report shows their spread);
each run's warm-up is left out and reported as the first round's cost.
System calls are counted by the kernel (perf_event_open on
raw_syscalls:sys_enter), per thread; where that is not permitted, unipoll's
stats() is used and peers show "n/a".

Options:
  --out DIR           output directory (default ./report)
  --quick             smallest sizes, one run each: under a minute
  --runs N            runs per record (default 3; quick 1)
  --rounds N          wake round trips per subject (default 30000; quick 3000;
                      fewer, but at least 300, if a run exceeds 5 s; quick 0.6 s)
  --gap-us N          waker pause before each sleeping wake (default 50)
  --wakes N           wakes per thread in the coalescing scenario (200000)
  --calls N           non-blocking polls per subject (200000)
  --registered LIST   registered sockets, e.g. 100,1000,10000 (quick 100)
  --ready LIST        sockets made ready per round, e.g. 1,32
  --connections LIST  echo connections, e.g. 1000,10000 (quick 1000)
  --in-flight N       echo requests kept in flight (default 100)
  --message-bytes N   echo request size (default 64)
  --load-threads N    echo load generator threads (default: one per spare CPU, 1 to 4)
  --echo-ms N         measured echo time per record, shared by its runs
                      (default 6000; quick 300)
  --only LIST         subjects to measure, e.g. unipoll:epoll,libuv
  --scenarios LIST    scenario ids to run (default: all)
  --no-plot           do not draw report.png
  --python PATH       Python with matplotlib for the picture
  --merge FILES...    combine report.json files into one table (merged.md)
  --list              print the backends and peers of this build as JSON
  -h, --help          this text
)";
}

namespace {

std::uint64_t parse_count(std::string_view opt, const std::string& text) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v == 0)
        throw std::invalid_argument(std::string(opt) + ": expected a positive number, got '" + text + "'");
    return v;
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto piece = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!piece.empty()) out.push_back(piece);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

std::vector<std::uint64_t> parse_counts(std::string_view opt, const std::string& text) {
    std::vector<std::uint64_t> out;
    for (const auto& piece : split(text)) out.push_back(parse_count(opt, piece));
    if (out.empty()) throw std::invalid_argument(std::string(opt) + ": empty list");
    return out;
}

}  // namespace

options parse_options(int argc, char** argv) {
    options o;
    bool rounds_set = false, wakes_set = false, calls_set = false, gap_set = false;
    bool runs_set = false, registered_set = false, connections_set = false, echo_set = false;
    auto next = [&](int& i, std::string_view opt) -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(std::string(opt) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help") o.help = true;
        else if (a == "--list") o.list = true;
        else if (a == "--quick") o.quick = true;
        else if (a == "--no-plot") o.plot = false;
        else if (a == "--out") o.out = next(i, a);
        else if (a == "--python") o.python = next(i, a);
        else if (a == "--rounds") { o.rounds = parse_count(a, next(i, a)); rounds_set = true; }
        else if (a == "--gap-us") { o.gap_ns = static_cast<std::int64_t>(parse_count(a, next(i, a))) * 1000; gap_set = true; }
        else if (a == "--wakes") { o.coalesce_wakes = parse_count(a, next(i, a)); wakes_set = true; }
        else if (a == "--calls") { o.nonblocking_calls = parse_count(a, next(i, a)); calls_set = true; }
        else if (a == "--runs") { o.runs = static_cast<unsigned>(parse_count(a, next(i, a))); runs_set = true; }
        else if (a == "--registered") { o.registered = parse_counts(a, next(i, a)); registered_set = true; }
        else if (a == "--connections") { o.connections = parse_counts(a, next(i, a)); connections_set = true; }
        else if (a == "--in-flight") o.in_flight = parse_count(a, next(i, a));
        else if (a == "--message-bytes") o.message_bytes = parse_count(a, next(i, a));
        else if (a == "--load-threads") o.load_threads = static_cast<unsigned>(parse_count(a, next(i, a)));
        else if (a == "--echo-ms") {
            o.echo_ns = static_cast<std::int64_t>(parse_count(a, next(i, a))) * 1'000'000;
            echo_set = true;
        }
        else if (a == "--ready") o.ready = parse_counts(a, next(i, a));
        else if (a == "--only") o.only = split(next(i, a));
        else if (a == "--scenarios") o.scenarios = split(next(i, a));
        else if (a == "--merge") {
            while (i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--") o.merge.push_back(argv[++i]);
            if (o.merge.empty()) throw std::invalid_argument("--merge needs at least one report.json");
        } else {
            throw std::invalid_argument("unknown option '" + std::string(a) + "' (see --help)");
        }
    }
    if (o.quick) {
        if (!rounds_set) o.rounds = 3000;
        if (!wakes_set) o.coalesce_wakes = 20000;
        if (!calls_set) o.nonblocking_calls = 20000;
        if (!gap_set) o.gap_ns = 30'000;
        if (!runs_set) o.runs = 1;
        if (!registered_set) o.registered = {100};
        if (!connections_set) o.connections = {1000};
        if (!echo_set) o.echo_ns = 300'000'000;
        o.warmup = 200;
        o.wake_budget_ns = 600'000'000;
        o.fd_rounds = 300;
        o.fd_warmup = 5;
        o.cell_budget_ns = 150'000'000;
        o.registration_pairs = 5000;
        o.registration_budget_ns = 100'000'000;
    }
    if (o.message_bytes > 4096) throw std::invalid_argument("--message-bytes: at most 4096");
    for (const auto c : o.connections)
        if (c < o.in_flight)
            throw std::invalid_argument("--connections: " + std::to_string(c) + " is fewer than --in-flight " +
                                        std::to_string(o.in_flight));
    static const char* known[] = {"wake_sleeping", "wake_busy", "coalescing", "nonblocking_poll",
                                  "readiness", "registration", "echo"};
    for (const auto& s : o.scenarios)
        if (std::find(std::begin(known), std::end(known), s) == std::end(known))
            throw std::invalid_argument("--scenarios: unknown scenario '" + s + "' (see --help)");
    return o;
}

bool wants_subject(const options& o, const std::string& name) {
    return o.only.empty() || std::find(o.only.begin(), o.only.end(), name) != o.only.end();
}

bool wants_scenario(const options& o, const std::string& id) {
    return o.scenarios.empty() || std::find(o.scenarios.begin(), o.scenarios.end(), id) != o.scenarios.end();
}

}  // namespace compare
