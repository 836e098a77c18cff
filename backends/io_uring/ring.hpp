// One io_uring instance: setup with a chosen CQ size, SQ production and CQ
// consumption on the mapped rings, and io_uring_enter(2) made directly so
// that every kernel call is visible (and counted) here. liburing provides
// the setup, the mmaps and the SQE helpers; its submit and wait helpers are
// not used because they peek the CQ and may enter the kernel on their own,
// which would break the locking split and the syscall count.
//
// Not thread-safe: the backend serialises SQ production (one mutex) and CQ
// consumption (another); enter() may run concurrently with both.
#pragma once

#include "counters.hpp"

#include <liburing.h>

#include <chrono>
#include <cstdint>

namespace unipoll::detail::uring {

// A CQE copied out of a ring (kept across a ring replacement).
struct completion {
    std::uint64_t key;
    std::int32_t res;
    std::uint32_t flags;
};

class ring {
public:
    // Throws std::system_error naming io_uring_setup and the likely cause
    // (ENOSYS, EPERM, ENOMEM). cq_entries is clamped to the kernel maximum.
    ring(unsigned sq_entries, unsigned cq_entries, stat_counters& stats);
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;
    ~ring();

    int fd() const noexcept { return ring_.ring_fd; }
    unsigned features() const noexcept { return ring_.features; }
    unsigned cq_capacity() const noexcept { return ring_.cq.ring_entries; }

    // SQEs handed out but not yet consumed by the kernel.
    unsigned sq_pending() const noexcept;
    unsigned sq_space() const noexcept { return ring_.sq.ring_entries - sq_pending(); }
    // A vacant SQE, or nullptr if the SQ is full.
    io_uring_sqe* sqe() noexcept { return io_uring_get_sqe(&ring_); }

    // Makes the queued SQEs visible to the kernel (the SQ tail store) and
    // returns how many it has not consumed yet: the to_submit of the next
    // enter(). Costs no syscall.
    unsigned publish() noexcept;

    // The kernel holds completions that are not in the CQ yet (overflow,
    // or task work to run): an enter with IORING_ENTER_GETEVENTS fetches them.
    bool needs_getevents() const noexcept;

    // io_uring_enter(2). A non-negative timeout is passed with
    // IORING_ENTER_EXT_ARG (Linux 5.11); negative waits without one.
    // Returns the kernel's result or -errno. One syscall, counted.
    int enter(unsigned to_submit, unsigned min_complete, unsigned flags,
              std::chrono::nanoseconds timeout = std::chrono::nanoseconds{-1}) noexcept;

    // Calls f(const io_uring_cqe&) for each CQE in order until it returns
    // false; the accepted CQEs are then released to the kernel. No syscall.
    template <class F>
    unsigned consume(F&& f) noexcept(noexcept(f(std::declval<const io_uring_cqe&>()))) {
        const unsigned start = __atomic_load_n(ring_.cq.khead, __ATOMIC_RELAXED);
        const unsigned tail = __atomic_load_n(ring_.cq.ktail, __ATOMIC_ACQUIRE);
        unsigned head = start;
        while (head != tail && f(ring_.cq.cqes[head & ring_.cq.ring_mask])) ++head;
        if (head != start) __atomic_store_n(ring_.cq.khead, head, __ATOMIC_RELEASE);
        return head - start;
    }

private:
    io_uring ring_{};
    stat_counters& stats_;
};

}  // namespace unipoll::detail::uring
