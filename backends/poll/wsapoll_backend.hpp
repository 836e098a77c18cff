// The poll backend on Windows: WSAPoll, the Winsock counterpart of poll(2),
// level and oneshot only. Sockets only (WSAPoll, like everything Winsock,
// knows no other handle).
//
// It works like the POSIX poll backend (poll_backend.hpp): no registrations
// in the kernel, an array built from the table for each wait, a private
// array for the blocking waiter that is rebuilt when a registration changed
// (a change made while it waits posts the wake socket so it comes back),
// and a second array for non-blocking waits. The wake event is the read end
// of a loopback TCP pair (loopback_waker.hpp), level-triggered: only the
// blocking waiter drains it and non-blocking waits leave it out, so they can
// never steal a wake.
//
// Registrations are keyed by SOCKET value in a hash table: socket values are
// handles, not small indices. A socket closed without remove() shows up as
// POLLNVAL while its value is unused: the registration is then disarmed and
// marked closed, and an add() of the value (reused by a new socket) replaces
// it. There is no way to ask whether a value still names the socket that
// was added (POSIX backends compare the file's identity), so an add() of a
// reused value before any poll saw POLLNVAL is EEXIST (docs/semantics.md).
#pragma once

#include "backend_impl.hpp"
#include "loopback_waker.hpp"
#include "winsock.hpp"

#include <winsock2.h>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace unipoll::detail {

struct socket_registration {
    std::uint64_t token = 0;
    std::uint64_t gen = 0;     // changes with every add, so stale results are dropped
    interest what = interest::none;
    trigger how = trigger::level;
    bool armed = true;         // false: a oneshot that fired, or a closed socket
    bool closed = false;       // WSAPoll reported POLLNVAL: closed without remove()
};

// A WSAPOLLFD array and, per entry, the generation of the registration it
// was built from.
struct wsapoll_set {
    std::vector<WSAPOLLFD> fds;
    std::vector<std::uint64_t> gens;
    std::size_t next = 0;  // where the next scan for results starts
};

class wsapoll_backend final : public backend_impl {
public:
    wsapoll_backend();

    backend kind() const noexcept override { return backend::poll; }
    bool supports(trigger how) const noexcept override { return how != trigger::edge; }

    void add(native_handle s, interest what, std::uint64_t token, trigger how) override;
    void modify(native_handle s, interest what, std::uint64_t token, trigger how) override;
    void remove(native_handle s) override;

    wait_result wait(std::span<event> out, std::chrono::nanoseconds timeout) override;
    void post() noexcept override;

private:
    wait_result wait_blocking(std::span<event> out, std::chrono::nanoseconds timeout);
    wait_result wait_nonblocking(std::span<event> out);

    void check_socket(std::string_view op, native_handle s);
    void rebuild_locked(wsapoll_set& set, bool with_waker);
    std::size_t collect_locked(wsapoll_set& set, std::size_t first, std::span<event> out);
    void disarm_closed_locked(const wsapoll_set& set, std::size_t first);
    void mark_changed_locked() noexcept;
    void wake_sleeper_for_change() noexcept;

    winsock_session session_;
    loopback_waker waker_;

    std::mutex mu_;
    std::unordered_map<native_handle, socket_registration> regs_;  // guarded by mu_
    std::uint64_t next_gen_ = 0;                                    // guarded by mu_
    wsapoll_set nonblocking_;                                       // guarded by mu_
    bool nonblocking_stale_ = true;                                 // guarded by mu_
    wsapoll_set sleeper_;  // the blocking waiter's; entry 0 is the wake socket

    // The same seq_cst handshake as the POSIX poll backend: a change stores
    // sleeper_stale_ then loads in_wait_; the sleeper stores in_wait_ then
    // exchanges sleeper_stale_. One of them sees the other.
    alignas(64) std::atomic<bool> in_wait_{false};
    std::atomic<bool> sleeper_stale_{true};
    std::atomic<bool> change_posted_{false};
    std::atomic<bool> wake_posted_{false};
};

}  // namespace unipoll::detail
