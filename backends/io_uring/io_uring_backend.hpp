// The io_uring backend (docs/io_uring.md): readiness through POLL_ADD
// requests, the wake event through a multishot poll on an eventfd.
//
//   level    one-shot POLL_ADD, re-armed for each delivery; the re-arm is
//            submitted by the next poll (with its wait, when it blocks), so
//            the readiness it checks is that of the next poll
//   edge     multishot POLL_ADD, re-armed when a CQE lacks IORING_CQE_F_MORE
//   oneshot  one-shot POLL_ADD, not re-armed until modify()
//
// Locking: `sq_mu_` guards SQ production, the registry and the re-arm list;
// `cq_mu_` guards CQ consumption and is released by the blocking poller
// while it sleeps inside io_uring_enter, so non-blocking polls and
// registrations proceed meanwhile. Order: cq_mu_ before sq_mu_.
#pragma once

#include "backend_impl.hpp"
#include "eventfd_waker.hpp"
#include "registry.hpp"
#include "ring.hpp"

#include <memory>
#include <mutex>
#include <vector>

namespace unipoll::detail::uring {

class io_uring_backend final : public backend_impl {
public:
    io_uring_backend();  // creates the ring and proves the wake poll works
    ~io_uring_backend() override;

    backend kind() const noexcept override { return backend::io_uring; }
    bool supports(trigger) const noexcept override { return true; }

    void add(int fd, interest, std::uint64_t token, trigger) override;
    void modify(int fd, interest, std::uint64_t token, trigger) override;
    void remove(int fd) override;

    wait_result wait(std::span<event> out, std::chrono::nanoseconds timeout) override;
    void post() noexcept override;
    bool saturate_wake_for_testing() override;

private:
    // --- submission side (sq_mu_ held)
    io_uring_sqe* next_sqe();
    void reserve(int fd, std::string_view op, unsigned n);
    void arm(int fd, const registration& r);
    void arm_wake();
    void cancel(std::uint64_t key);
    void retire(int fd, registration& r);
    void flush_rearms(std::vector<std::uint64_t>& keys);
    void submit_now();
    void note_size();
    void probe_wake_poll();

    // --- completion side (cq_mu_ and sq_mu_ held)
    wait_result poll_now(std::span<event> out);
    wait_result wait_blocking(std::unique_lock<std::mutex>& cq, std::span<event> out,
                              std::chrono::nanoseconds timeout);
    void begin_pass();
    void reap(std::span<event> out, wait_result& r);
    bool take(const completion& c, bool from_old_ring, std::span<event> out, wait_result& r);
    bool place(int fd, const event& ev, std::span<event> out, wait_result& r);
    void maybe_grow();
    void replace_ring(unsigned cq_entries);

    std::mutex cq_mu_;
    std::mutex sq_mu_;

    eventfd_waker waker_;        // outlives the ring that polls it
    std::unique_ptr<ring> ring_;  // replaced (grown) only with both locks held and nobody in the kernel
    registry regs_;

    // Keys whose poll ended and must be armed again, turned into SQEs by a
    // poll and skipped if stale by then. Level re-arms wait for the next
    // poll (arming checks readiness, and the caller may drain the fd
    // first). The others (the wake poll, a multishot that ended, a poll
    // cancelled by a thread exit, a failed update) cannot wait when a
    // non-blocking poll finds them: a thread may be asleep in the kernel
    // counting on that poll.
    std::vector<std::uint64_t> level_rearms_;
    std::vector<std::uint64_t> rearms_;

    // CQEs drained from a ring that was replaced, delivered before the new
    // ring's; their polls were armed afresh on the new ring.
    std::vector<completion> carried_;
    std::size_t carried_pos_ = 0;

    // Per fd: the reap pass that last placed an event for it, and where, so
    // that several CQEs of one fd in one poll make one event.
    struct placed {
        std::uint32_t pass = 0;
        std::uint32_t index = 0;
    };
    std::vector<placed> placed_;
    std::uint32_t pass_ = 0;

    bool in_kernel_ = false;     // cq_mu_: a blocking poller sleeps in io_uring_enter on ring_
    bool grow_wanted_ = false;   // sq_mu_: the CQ is small for the registrations
    bool grow_failed_ = false;   // sq_mu_: a bigger ring could not be created
};

}  // namespace unipoll::detail::uring
