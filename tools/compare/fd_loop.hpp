// What the readiness and registration scenarios drive: a loop watching
// many sockets for reading, through each subject's own API (unipoll
// add/remove, uv_poll, event_add/event_del, ev_io, Asio async_wait, raw
// epoll_ctl, raw io_uring POLL_ADD). docs/compare.md says how each is used.
#pragma once

#include <unipoll/poller.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace compare {

class fd_loop {
public:
    virtual ~fd_loop() = default;

    /// Starts watching `fd` for reading, as when a connection joins the
    /// loop. `token` (dense, from 0) names it in turn()'s output. Every
    /// write that follows a full drain of the fd is reported.
    virtual void watch(int fd, std::uint32_t token) = 0;
    /// Stops watching it, as when its connection ends; the fd stays open.
    virtual void unwatch(int fd, std::uint32_t token) = 0;
    /// One turn of the loop: waits until something is reported (`block`)
    /// or only takes what is ready now, and appends the tokens reported
    /// readable to `readable`. The caller drains them between turns.
    virtual void turn(bool block, std::vector<std::uint32_t>& readable) = 0;
    /// unipoll's own counters (the system calls where the kernel cannot
    /// count them); nullopt for peers.
    virtual std::optional<unipoll::counters> stats() const { return std::nullopt; }
};

}  // namespace compare
