// The contract every backend implements, and the only thing core/ knows of
// a backend. Small on purpose (compare Asio's reactor base): registration,
// one kernel wait, and the kernel half of the wake protocol ("post").
//
// What the core guarantees to a backend:
//  - at most one thread is inside wait() with a non-zero timeout at a time;
//  - any number of threads call wait() with timeout 0, add/modify/remove and
//    post() concurrently with it, so the backend locks its own tables;
//  - arguments are validated (no negative fd or INVALID_SOCKET, interest <=
//    read_write, trigger in range, out non-empty) before the backend sees
//    them. The handle is an fd on POSIX and a SOCKET on Windows
//    (native_handle); Windows backends keep their own tables, as SOCKET
//    values are not small indices.
//
// What a backend guarantees to the core, for the wake protocol of
// docs/semantics.md §"How it works: the relay protocol" (model: tests/model/):
//  - post() makes the wake event fire once more, even if it already fired
//    and was not consumed; it is async-signal-safe and never throws;
//  - the wake event is consumed on delivery: a wait() that reports
//    wake_event == true took it out of the kernel, so no other wait sees that
//    post again. Backends whose wake event is level-triggered (a pipe)
//    drain it only in blocking waits and never report it from a
//    non-blocking wait, so the event stays for the sleeper;
//  - wait() with a negative timeout waits forever, with 0 does not block,
//    and otherwise never returns before the timeout without an event, a
//    wake event or a signal (rounding up where the kernel has only ms).
#pragma once

#include "counters.hpp"

#include <unipoll/poller.hpp>

#include <chrono>
#include <cstdint>
#include <span>

namespace unipoll::detail {

struct wait_result {
    std::size_t count = 0;     // events written to out
    bool wake_event = false;   // the kernel delivered (and consumed) the wake event
    bool interrupted = false;  // EINTR (the core waits again for what is left)
};

class backend_impl {
public:
    virtual ~backend_impl() = default;

    virtual backend kind() const noexcept = 0;
    virtual bool supports(trigger) const noexcept = 0;

    virtual void add(native_handle fd, interest, std::uint64_t token, trigger) = 0;
    virtual void modify(native_handle fd, interest, std::uint64_t token, trigger) = 0;
    virtual void remove(native_handle fd) = 0;

    virtual wait_result wait(std::span<event> out, std::chrono::nanoseconds timeout) = 0;
    virtual void post() noexcept = 0;

    // Tests only: bring the wake primitive to the edge of its capacity (an
    // eventfd counter at its maximum) so the next post() takes the overflow
    // path. Returns false where the primitive has no such edge.
    virtual bool saturate_wake_for_testing() { return false; }

    // Counters are updated by the backend (syscalls, wake_posts) and by the
    // core (the wake protocol's decisions).
    stat_counters stats;
};

}  // namespace unipoll::detail
