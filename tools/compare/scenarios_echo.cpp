// Scenario 7: a TCP echo server under load. One server thread per subject
// serves C loopback connections; a separate client process (echo_load.cpp)
// keeps R requests in flight over them. The clients time each request;
// the server thread counts its own system calls and CPU time over the
// measured window. The first pass (each connection's first request) is the
// warm-up, reported apart.
#include "scenarios.hpp"

#include "echo_load.hpp"
#include "fd_limit.hpp"
#include "loopback.hpp"
#include "scenario_util.hpp"
#include "syscall_counter.hpp"
#include "timing.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <stdexcept>
#include <thread>

namespace compare {

namespace {

std::int64_t thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// What the server thread measures between the coordinator's two marks.
struct server_window {
    std::atomic<int> mark{0};  // 1: start counting at the next turn, 2: stop
    std::atomic<bool> started{false}, stopped{false}, done{false};
    std::uint64_t syscalls = 0, bytes = 0;
    std::int64_t cpu_ns = 0;
    std::string error;
};

void serve(echo_server& server, server_window& w) {
    try {
        syscall_counter counter;
        std::uint64_t bytes0 = 0;
        std::int64_t cpu0 = 0;
        server.serve([&] {
            const int mark = w.mark.load(std::memory_order_acquire);
            if (mark == 1 && !w.started.load(std::memory_order_relaxed)) {
                bytes0 = server.echoed();
                cpu0 = thread_cpu_ns();
                counter.start();
                w.started.store(true, std::memory_order_release);
            } else if (mark == 2 && !w.stopped.load(std::memory_order_relaxed)) {
                w.syscalls = counter.stop();
                w.cpu_ns = thread_cpu_ns() - cpu0;
                w.bytes = server.echoed() - bytes0;
                w.stopped.store(true, std::memory_order_release);
            }
        });
    } catch (const std::exception& e) {
        w.error = e.what();
    }
    w.done.store(true, std::memory_order_release);
}

// Sleeps (this thread is not measured) until pred() holds; throws naming
// `what` after `timeout_ns`, or as soon as the server or the clients fail.
template <class Pred>
void await(Pred pred, std::int64_t timeout_ns, const char* what, load_process& load, const server_window& w) {
    const std::int64_t deadline = now_ns() + timeout_ns;
    while (!pred()) {
        if (w.done.load(std::memory_order_acquire) && !w.error.empty()) throw std::runtime_error(w.error);
        load.running();  // throws the clients' error
        if (now_ns() > deadline) throw std::runtime_error(std::string("echo: timed out waiting for ") + what);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

run_result echo_run(const subject& s, std::uint64_t connections, unsigned threads, const options& o) {
    tcp_listener listener;
    load_process load({connections, o.in_flight, o.message_bytes, threads, listener.port()});
    auto server = s.make_echo_server();
    std::vector<int> accepted;
    const std::int64_t deadline = now_ns() + 60'000'000'000;
    for (std::uint64_t adopted = 0; adopted < connections;) {
        if (!load.running() || now_ns() > deadline)
            throw std::runtime_error("echo: " + std::to_string(load.connected()) + " of " +
                                     std::to_string(connections) + " clients connected");
        accepted.clear();
        listener.accept_some(accepted, 20);
        for (std::size_t i = 0; i < accepted.size(); ++i, ++adopted) {
            try {
                server->adopt(accepted[i]);
            } catch (...) {
                for (std::size_t j = i; j < accepted.size(); ++j) ::close(accepted[j]);
                throw;
            }
        }
    }

    server_window w;
    std::thread server_thread([&] { serve(*server, w); });
    load_numbers n;
    std::int64_t first_pass_ns = 0, recorded_ns = 0;
    try {
        const std::int64_t go = now_ns();
        load.go();
        await([&] { return load.first_pass_done(); }, 60'000'000'000, "the first reply on every connection", load, w);
        first_pass_ns = now_ns() - go;
        w.mark.store(1, std::memory_order_release);
        await([&] { return w.started.load(std::memory_order_acquire); }, 10'000'000'000,
              "the server to start counting", load, w);
        const std::int64_t t0 = now_ns();
        load.start_recording();
        std::this_thread::sleep_for(std::chrono::nanoseconds(o.echo_ns / o.runs));
        load.stop_recording();
        recorded_ns = now_ns() - t0;
        w.mark.store(2, std::memory_order_release);
        await([&] { return w.stopped.load(std::memory_order_acquire); }, 10'000'000'000,
              "the server to stop counting", load, w);
        load.finish();
        n = load.wait(30'000'000'000);
        await([&] { return w.done.load(std::memory_order_acquire); }, 30'000'000'000,
              "the server to see every client leave", load, w);
    } catch (...) {
        load.kill();  // its connections reset, so the server's loop ends
        server_thread.join();
        throw;
    }
    server_thread.join();
    if (!w.error.empty()) throw std::runtime_error(w.error);

    const double server_requests = static_cast<double>(w.bytes) / static_cast<double>(o.message_bytes);
    run_result run;
    run.values["requests"] = static_cast<double>(n.requests);
    run.values["requests_per_s"] = per(static_cast<double>(n.requests) * 1e9, static_cast<double>(recorded_ns));
    run.values["p50_ns"] = n.p50_ns;
    run.values["p99_ns"] = n.p99_ns;
    run.values["mean_ns"] = n.mean_ns;
    run.values["max_ns"] = n.max_ns;
    run.values["cpu_ns_per_request"] = per(static_cast<double>(w.cpu_ns), server_requests);
    if (syscall_counter::available())
        run.values["server_syscalls_per_request"] = per(static_cast<double>(w.syscalls), server_requests);
    run.values["warmup_requests_per_s"] = per(static_cast<double>(connections) * 1e9, static_cast<double>(first_pass_ns));
    run.values["warmup_p50_ns"] = n.first_pass_p50_ns;
    return run;
}

unsigned load_threads(const options& o) {
    if (o.load_threads) return o.load_threads;
    // The server thread gets a CPU; the clients share the others.
    const unsigned cpus = std::thread::hardware_concurrency();
    return std::clamp(cpus > 1 ? cpus - 1 : 1u, 1u, 4u);
}

}  // namespace

std::vector<record> measure_echo(const subject& s, const options& o) {
    const unsigned threads = load_threads(o);
    std::vector<record> out;
    for (const std::uint64_t connections : o.connections) {
        // Each process holds one end of every connection.
        const fd_limit lim = raise_fd_limit(connections + 64);
        record r;
        if (lim.soft < connections + 64) {
            r = make_record(scenario::echo, s);
            r.note = "skipped: " + (lim.note.empty() ? "RLIMIT_NOFILE is " + std::to_string(lim.soft) : lim.note);
        } else {
            r = repeated(scenario::echo, s, o.runs, [&] { return echo_run(s, connections, threads, o); });
        }
        // Only the kernel counts the server's reads and writes.
        if (r.syscalls_source != "kernel") r.syscalls_source.clear();
        r.values["connections"] = static_cast<double>(connections);
        r.values["in_flight"] = static_cast<double>(o.in_flight);
        r.values["message_bytes"] = static_cast<double>(o.message_bytes);
        r.values["load_threads"] = threads;
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace compare
