// The poll(2) backend: the portable fallback, level and oneshot only (poll
// has no notion of an edge).
//
// poll(2) keeps no registrations in the kernel: each wait hands it an array
// built from the registry. The blocking waiter keeps its own array and
// rebuilds it only when a registration changed; a change made while it is
// inside the kernel posts the wake pipe so it comes back, rebuilds and waits
// again. Non-blocking waits use a second array under the lock, so they can
// run concurrently with the sleeper.
//
// poll(2) never forgets a closed fd: it reports POLLNVAL, or, once the
// number is reused, the new file's readiness. add() and modify() fstat(2)
// the fd and compare the file's identity with the one the registry keeps, so
// they tell a reused number apart; events get no such check (an fstat per
// event would double the cost of a poll), so until remove() or add() of the
// number a dead registration may report the new file under its old token.
// A POLLNVAL registration is disarmed but stays until remove(), like a
// closed fd under epoll.
//
// The wake event is a pipe (level-triggered): only the blocking waiter
// drains it, and non-blocking waits leave it out of their array, so they
// can never steal a wake (backend_impl.hpp).
#pragma once

#include "backend_impl.hpp"
#include "pipe_waker.hpp"
#include "registry.hpp"

#include <poll.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace unipoll::detail {

// A pollfd array and, per entry, the registry key it was built from, so a
// result is mapped back only to the registration it was armed for.
struct poll_set {
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> keys;
    std::size_t next = 0;  // where the next scan for results starts, so a
                           // small `out` does not starve the later fds
};

class poll_backend final : public backend_impl {
public:
    poll_backend();

    backend kind() const noexcept override { return backend::poll; }
    bool supports(trigger how) const noexcept override { return how != trigger::edge; }

    void add(int fd, interest what, std::uint64_t token, trigger how) override;
    void modify(int fd, interest what, std::uint64_t token, trigger how) override;
    void remove(int fd) override;

    wait_result wait(std::span<event> out, std::chrono::nanoseconds timeout) override;
    void post() noexcept override;

private:
    wait_result wait_blocking(std::span<event> out, std::chrono::nanoseconds timeout);
    wait_result wait_nonblocking(std::span<event> out);

    void rebuild_locked(poll_set& set, int waker_fd);
    std::size_t collect_locked(poll_set& set, std::size_t first, std::span<event> out);
    void mark_changed_locked() noexcept;
    void wake_sleeper_for_change() noexcept;

    pipe_waker waker_;

    std::mutex mu_;
    registry reg_;                // guarded by mu_
    poll_set nonblocking_;        // guarded by mu_
    bool nonblocking_stale_ = true;  // guarded by mu_
    poll_set sleeper_;            // the blocking waiter's; entry 0 is the wake pipe

    // All seq_cst. A change stores sleeper_stale_ and then loads in_wait_;
    // the sleeper stores in_wait_ and then exchanges sleeper_stale_. One of
    // the two sees the other (Dekker, as in poller_core), so a change is
    // either in the sleeper's array or wakes it.
    alignas(64) std::atomic<bool> in_wait_{false};
    std::atomic<bool> sleeper_stale_{true};
    // A change post is in the pipe and not yet drained: later changes need
    // not write again.
    std::atomic<bool> change_posted_{false};
    // post() was called since the last drain: a drain reports wake_event
    // only then, so the backend's own change posts never count as stale
    // wakeups in the core.
    std::atomic<bool> wake_posted_{false};
};

}  // namespace unipoll::detail
