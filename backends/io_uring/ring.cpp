#include "ring.hpp"

#include "errors.hpp"

#include <sys/syscall.h>
#include <unistd.h>

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
    // No SQPOLL, SINGLE_ISSUER or DEFER_TASKRUN: any thread submits and any
    // thread reaps, and completions must not wait for one task to enter.
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

unsigned ring::sq_pending() const noexcept {
    return ring_.sq.sqe_tail - __atomic_load_n(ring_.sq.khead, __ATOMIC_ACQUIRE);
}

unsigned ring::publish() noexcept {
    // What liburing's own submit does before entering (2.3: the SQ index
    // array is set up once as the identity, so only the tail moves). The
    // release store orders the SQE contents before the tail the kernel reads.
    io_uring_sq& sq = ring_.sq;
    if (sq.sqe_head != sq.sqe_tail) {
        sq.sqe_head = sq.sqe_tail;
        __atomic_store_n(sq.ktail, sq.sqe_tail, __ATOMIC_RELEASE);
    }
    return sq_pending();
}

bool ring::needs_getevents() const noexcept {
    // IORING_SQ_TASKRUN only appears with IORING_SETUP_TASKRUN_FLAG, which
    // this ring does not use; checking it costs nothing.
    return (__atomic_load_n(ring_.sq.kflags, __ATOMIC_RELAXED) &
            (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
}

int ring::enter(unsigned to_submit, unsigned min_complete, unsigned flags,
                std::chrono::nanoseconds timeout) noexcept {
    __kernel_timespec ts{};
    io_uring_getevents_arg arg{};
    const void* argp = nullptr;
    std::size_t argsz = 0;
    if ((flags & IORING_ENTER_GETEVENTS) && timeout.count() >= 0) {
        ts.tv_sec = timeout.count() / 1000000000;
        ts.tv_nsec = timeout.count() % 1000000000;
        arg.ts = reinterpret_cast<std::uint64_t>(&ts);
        argp = &arg;
        argsz = sizeof arg;
        flags |= IORING_ENTER_EXT_ARG;
    }
    stat_counters::bump(stats_.syscalls);
    const long rc = ::syscall(__NR_io_uring_enter, ring_.ring_fd, to_submit, min_complete, flags,
                              argp, argsz);
    return rc < 0 ? -errno : static_cast<int>(rc);
}

}  // namespace unipoll::detail::uring
