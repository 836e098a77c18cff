// The subjects: unipoll on one backend, a peer event library, or a raw
// kernel floor, each with up to three adapters: a wake_loop (wake
// scenarios, below), an fd_loop (readiness, registration) and an
// echo_server (echo). Each subject's adapters live in its own file
// (subject_unipoll.cpp, peer_*.cpp), compiled only when CMake found its
// library.
#pragma once

#include "echo_server.hpp"
#include "fd_loop.hpp"

#include <unipoll/poller.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace compare {

class wake_loop {
public:
    virtual ~wake_loop() = default;

    /// Any thread: make the loop deliver a wake (uv_async_send, ...).
    virtual void wake() = 0;
    /// Poller thread: block until a wake has been delivered to user code.
    virtual void wait_for_wake() = 0;
    /// Poller thread: one non-blocking turn of the loop; true if it
    /// delivered a wake.
    virtual bool poll_nonblocking() = 0;
    /// false where a non-blocking turn never delivers wakes by design
    /// (unipoll: the next blocking poll consumes it without a system call).
    virtual bool nonblocking_delivers_wakes() const { return true; }
    /// unipoll's own counters; nullopt for peers.
    virtual std::optional<unipoll::counters> stats() const { return std::nullopt; }
};

enum class subject_kind { unipoll, peer, floor };

struct subject {
    std::string name;     // "unipoll:epoll", "libuv", "floor:epoll"
    subject_kind kind;
    std::string version;  // library version, or the mechanism for floors
    std::string detail;   // one line: what the wake scenarios measure
    std::optional<unipoll::backend> backend;  // unipoll subjects only
    std::function<std::unique_ptr<wake_loop>()> make;
    std::string mechanism;   // kernel interface used here: "epoll", "io_uring", "poll", "kqueue"
    std::string fds_detail;  // how readiness and registration drive it
    std::function<std::unique_ptr<fd_loop>()> make_fd_loop;
    std::string fds_unavailable = {};  // why readiness and registration cannot run on it here, or ""
    std::string echo_detail;  // how its echo server is built
    std::function<std::unique_ptr<echo_server>()> make_echo_server;
};

const char* kind_name(subject_kind);

/// unipoll on every backend available on this kernel, preferred first.
std::vector<subject> unipoll_subjects();
/// The floors and peers built in, in a fixed order.
std::vector<subject> peer_subjects();

// One factory per adapter file.
subject floor_epoll_subject();
subject liburing_subject();
subject libuv_subject();
subject libevent_subject();
subject libev_subject();
subject asio_subject();

}  // namespace compare
