// The io_uring backend (docs/io_uring.md): readiness through POLL_ADD
// requests, the wake event through a multishot poll on an eventfd.
//
//   every trigger: a multishot POLL_ADD, armed once (again only if the
//            kernel ends it: a full CQ, a thread exit)
//   level    a reported fd is checked again by every later poll with
//            poll(2), until it is not ready
//   edge     each CQE is an event
//   oneshot  the first CQE to report is the event; the poll is cancelled
//            until modify()
//
// Who submits: only threads that poll. add() and modify() queue the arming
// of a registration for the next poll (and kick a thread asleep in the
// kernel so that it is that poll); remove() and modify() cancel what the
// kernel holds at once, from their own thread, with requests that complete
// inline; the blocking poller arms the wake poll. A thread that never polls
// therefore owns no request, and no completion task work (which the kernel
// runs in the thread that submitted the request) ever lands on it.
//
// Locking: one mutex guards the ring, the registry and the queues; the
// blocking poller drops it while it sleeps in io_uring_enter, so the other
// threads poll, register and remove meanwhile. Every SQE is submitted
// before the mutex is released, so the SQ holds no one else's requests
// when a thread fills it.
#pragma once

#include "backend_impl.hpp"
#include "event_merger.hpp"
#include "eventfd_waker.hpp"
#include "registry.hpp"
#include "ring.hpp"

#include <poll.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace unipoll::detail::uring {

class io_uring_backend final : public backend_impl {
public:
    io_uring_backend();  // creates the ring and proves that multishot polls work
    ~io_uring_backend() override;

    backend kind() const noexcept override { return backend::io_uring; }
    bool supports(trigger) const noexcept override { return true; }

    void add(int fd, interest, std::uint64_t token, trigger) override;
    void modify(int fd, interest, std::uint64_t token, trigger) override;
    void remove(int fd) override;

    wait_result wait(std::span<event> out, std::chrono::nanoseconds timeout) override;
    void post() noexcept override;
    bool saturate_wake_for_testing() override;

    // Tests only: what a poll does when the kernel reports dropped CQEs
    // (-EBADR).
    void simulate_dropped_completions_for_testing();

private:
    // Per fd, beside the registry: the request the kernel holds for it and
    // the work queued for it.
    struct fd_state {
        std::uint64_t live = 0;   // key of the poll request in the kernel (0: none)
        bool queued = false;      // fd is in pending_
        bool in_ready = false;    // fd is in ready_
    };

    // --- io_uring_backend.cpp (mu_ held)
    void probe();
    fd_state& state(int fd);
    void queue(int fd);
    void kick();
    void cancel_now(std::uint64_t key);
    static void forget(fd_state& st) noexcept;

    // --- io_uring_wait.cpp (mu_ held)
    wait_result wait_blocking(std::span<event> out, std::chrono::nanoseconds timeout);
    void collect(std::span<event> out, wait_result& r, bool blocking);
    void reap(std::span<event> out, wait_result& r);
    bool take(const io_uring_cqe& c, std::span<event> out, wait_result& r);
    void verify_ready(std::span<event> out, wait_result& r);
    bool submit_pending(bool blocking);
    bool arm(int fd, registration& reg, fd_state& st);
    io_uring_sqe* next_sqe();
    bool prep_cancel(std::uint64_t key);
    void recover_dropped();

    std::mutex mu_;
    eventfd_waker waker_;  // outlives the ring that polls it
    ring ring_;
    registry regs_;
    std::vector<fd_state> states_;
    // Several CQEs of one fd in one poll (a multishot poll that fired
    // twice, a level fd's CQE and its poll(2) check) make one event.
    event_merger merger_;

    // The one queue of pending submissions: fds whose registration needs a
    // poll request, and requests to cancel. Filled by anyone, turned into
    // SQEs only by polls.
    std::vector<int> pending_;
    std::vector<std::uint64_t> cancels_;
    bool cancel_all_ = false;
    // Level fds reported and not yet found not ready: every poll checks them
    // (verify_ready), with `checks_` as its poll(2) array.
    std::vector<int> ready_;
    std::vector<pollfd> checks_;
    // Lock-free "nothing to do" for non-blocking polls: the queue or ready_
    // holds something.
    std::atomic<bool> work_pending_{false};

    // The wake poll: its key, the thread that armed it (its completions run
    // there), and a generation for its key.
    std::uint64_t wake_live_ = 0;
    std::uint64_t wake_owner_ = 0;
    std::uint32_t wake_gen_ = 0;

    // post() marks its eventfd write here; a kick (backend-internal) does
    // not, so only user wakes are reported as wake events.
    std::atomic<bool> wake_posted_{false};
    bool kick_posted_ = false;  // a kick is on its way to the sleeper
    bool in_kernel_ = false;    // a blocking poller sleeps (or is about to) in io_uring_enter

    bool sq_dirty_ = false;  // SQEs were prepared since the last submission
    bool stalled_ = false;   // the last submission left work the kernel would not take
};

}  // namespace unipoll::detail::uring
