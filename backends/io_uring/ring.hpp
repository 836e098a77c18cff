// One io_uring instance through liburing: setup with fixed SQ and CQ sizes,
// SQEs from io_uring_get_sqe, submission with io_uring_submit, the wait as
// one io_uring_enter2 (liburing's wrapper of the system call, so that the
// wait is exactly one counted syscall that returns to the backend whatever
// it was woken by), and CQ consumption with io_uring_for_each_cqe. Every
// kernel call is counted in the poller's stats here.
//
// Not thread-safe: the backend holds its lock around everything but
// wait(), which only enters the kernel, and ready_hint(), which only reads.
#pragma once

#include "counters.hpp"

#include <liburing.h>

#include <chrono>
#include <cstdint>

namespace unipoll::detail::uring {

class ring {
public:
    // Throws std::system_error naming io_uring_setup and the likely cause
    // (ENOSYS, EPERM, ENOMEM). Sizes are clamped to the kernel's maximum.
    ring(unsigned sq_entries, unsigned cq_entries, stat_counters& stats);
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;
    ~ring();

    unsigned features() const noexcept { return ring_.features; }

    // A vacant SQE, or nullptr when the SQ is full.
    io_uring_sqe* sqe() noexcept { return io_uring_get_sqe(&ring_); }
    // SQEs handed out and not yet consumed by the kernel.
    unsigned unsubmitted() const noexcept { return io_uring_sq_ready(&ring_); }

    // Submits every SQE handed out (one io_uring_enter per call to
    // io_uring_submit; more only if the kernel takes a batch in parts).
    // Returns 0, or -errno when the kernel refused the rest (they stay
    // queued for the next submit).
    int submit() noexcept;

    // Waits for one CQE, at most `timeout` (negative: no limit), passed
    // with IORING_ENTER_EXT_ARG. The kernel's result or -errno.
    int wait(std::chrono::nanoseconds timeout) noexcept;

    // Moves CQEs the kernel keeps in its overflow list into the CQ
    // (IORING_FEAT_NODROP). 0 or -errno (-EBADR: CQEs were dropped).
    int flush_overflow() noexcept;
    bool has_overflow() const noexcept { return io_uring_cq_has_overflow(&ring_); }

    // Lock-free: whether the CQ may hold CQEs or the kernel holds overflowed
    // ones, read while another thread may be consuming.
    bool ready_hint() const noexcept {
        return __atomic_load_n(ring_.cq.ktail, __ATOMIC_ACQUIRE) !=
                   __atomic_load_n(ring_.cq.khead, __ATOMIC_RELAXED) ||
               has_overflow();
    }

    // Calls f(const io_uring_cqe&) for each CQE in order until it returns
    // false; the accepted CQEs are released to the kernel. No syscall.
    template <class F>
    unsigned consume(F&& f) {
        unsigned head = 0;
        unsigned taken = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            if (!f(*cqe)) break;
            ++taken;
        }
        io_uring_cq_advance(&ring_, taken);
        return taken;
    }

private:
    io_uring ring_{};
    stat_counters& stats_;
};

}  // namespace unipoll::detail::uring
