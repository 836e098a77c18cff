// The echo scenario's clients: a child process (fork) that connects them
// and keeps a fixed number of requests in flight, so that the server's
// process holds only its own ends (10,000 connections need 20,000 fds in
// one process, more than a fixed RLIMIT_NOFILE may allow) and no client
// work runs on the server's threads. POSIX only (fork, shared mmap).
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

namespace compare {

struct load_plan {
    std::uint64_t connections = 0;
    std::uint64_t in_flight = 0;      // requests outstanding at any time, over all threads
    std::uint64_t message_bytes = 0;
    unsigned threads = 1;
    std::uint16_t port = 0;           // 127.0.0.1:port
};

/// What the clients measured.
struct load_numbers {
    std::uint64_t requests = 0;       // completed while recording
    double p50_ns = 0, p99_ns = 0, mean_ns = 0, max_ns = 0;  // their latency
    double first_pass_p50_ns = 0;     // latency of each connection's first request
};

struct load_shared;

class load_process {
public:
    /// Forks the child, which starts connecting at once.
    explicit load_process(const load_plan&);
    /// Kills a child still running.
    ~load_process();
    load_process(const load_process&) = delete;
    load_process& operator=(const load_process&) = delete;

    std::uint64_t connected() const;
    /// false once the child has exited; throws with its message if it failed.
    bool running();
    /// Each client thread sends its first requests, round-robin over its
    /// connections, and sends the next one whenever a reply completes.
    void go();
    /// Every connection has had its first reply.
    bool first_pass_done() const;
    /// Completions count and are timed from start_recording() to
    /// stop_recording() only; the load itself never pauses.
    void start_recording();
    void stop_recording();
    /// No new requests: the clients wait for the replies in flight, reset
    /// every connection and exit.
    void finish();
    /// Waits for the child to exit; throws std::runtime_error with its
    /// message if it failed, or after `timeout_ns`.
    load_numbers wait(std::int64_t timeout_ns);
    /// Ends the child at once (an error elsewhere): its connections reset.
    void kill() noexcept;

private:
    load_shared* shared_ = nullptr;
    pid_t pid_ = -1;
    unsigned threads_ = 1;
    int status_ = -1;  // wait status once reaped
};

}  // namespace compare
