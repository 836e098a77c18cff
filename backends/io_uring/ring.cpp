#include "ring.hpp"

#include "errors.hpp"

#include <cerrno>
#include <string_view>

namespace unipoll::detail::uring {
namespace {

// io_uring_setup's errors, each with the reason it usually has.
std::string_view setup_call(int err) noexcept {
    switch (err) {
        case ENOSYS:
            return "io_uring_setup (kernel without io_uring, or an emulator such as qemu-user)";
        case EPERM:
            return "io_uring_setup (kernel.io_uring_disabled or a seccomp filter forbids io_uring)";
        case ENOMEM:
            return "io_uring_setup (locked-memory limit too small for the rings: raise "
                   "RLIMIT_MEMLOCK; kernels before 5.12 charge the rings to it)";
        case EINVAL:
            return "io_uring_setup (kernel older than 5.6: no IORING_SETUP_CQSIZE/CLAMP)";
        default:
            return "io_uring_setup";
    }
}

// liburing maps the rings with one mmap per region: two with
// IORING_FEAT_SINGLE_MMAP (5.4), three without.
unsigned mmap_calls(unsigned features) noexcept {
    return (features & IORING_FEAT_SINGLE_MMAP) ? 2 : 3;
}

}  // namespace

ring::ring(unsigned sq_entries, unsigned cq_entries, stat_counters& stats) : stats_(stats) {
    io_uring_params p{};
    // No SQPOLL, SINGLE_ISSUER, COOP_TASKRUN or DEFER_TASKRUN: several
    // threads submit and reap, and a completion must reach the sleeper
    // without waiting for the thread that armed its poll to enter the
    // kernel (docs/io_uring.md, "Who submits").
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    p.cq_entries = cq_entries;
    const int rc = io_uring_queue_init_params(sq_entries, &ring_, &p);
    if (rc < 0) {
        stat_counters::bump(stats_.syscalls);
        throw_error(-rc, backend::io_uring, "create", no_fd, setup_call(-rc));
    }
    stat_counters::bump(stats_.syscalls, 1 + mmap_calls(ring_.features));
}

ring::~ring() {
    // munmap of each region and close of the ring fd.
    stat_counters::bump(stats_.syscalls, mmap_calls(ring_.features) + 1);
    io_uring_queue_exit(&ring_);
}

int ring::submit() noexcept {
    // Kernels before 5.18 stop a batch at an SQE whose fd is bad (the
    // rest stays in the SQ); a second call submits what remains.
    while (unsubmitted() > 0) {
        // With SQEs to submit, io_uring_submit makes exactly one enter.
        stat_counters::bump(stats_.syscalls);
        const int rc = io_uring_submit(&ring_);
        if (rc < 0) return rc;
        if (rc == 0) return -EAGAIN;
    }
    return 0;
}

int ring::wait(std::chrono::nanoseconds timeout) noexcept {
    __kernel_timespec ts{};
    io_uring_getevents_arg arg{};
    if (timeout.count() >= 0) {
        ts.tv_sec = timeout.count() / 1000000000;
        ts.tv_nsec = timeout.count() % 1000000000;
        arg.ts = reinterpret_cast<std::uint64_t>(&ts);
    }
    stat_counters::bump(stats_.syscalls);
    // io_uring_enter2 takes the EXT_ARG struct through its sigset pointer.
    return io_uring_enter2(ring_.ring_fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                           reinterpret_cast<sigset_t*>(&arg), sizeof arg);
}

int ring::flush_overflow() noexcept {
    stat_counters::bump(stats_.syscalls);
    const int rc = io_uring_get_events(&ring_);
    return rc < 0 ? rc : 0;
}

}  // namespace unipoll::detail::uring
