// Raw liburing, the io_uring floor: a multishot POLL_ADD on an eventfd (one
// CQE per write, the eventfd never read), waited for with
// io_uring_submit_and_wait and polled by peeking the CQ ring, which costs
// no system call at all.
#include "peer.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace compare {

namespace {

constexpr std::uint64_t wake_tag = 1;

[[noreturn]] void fail(int err, const char* call) {
    throw std::system_error(err, std::generic_category(), std::string("liburing: ") + call);
}

class liburing_loop final : public wake_loop {
public:
    liburing_loop() {
        if (const int r = io_uring_queue_init(8, &ring_, 0); r < 0) fail(-r, "io_uring_queue_init");
        efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (efd_ < 0) {
            io_uring_queue_exit(&ring_);
            fail(errno, "eventfd");
        }
        arm();
        io_uring_submit(&ring_);
    }
    ~liburing_loop() override {
        io_uring_queue_exit(&ring_);
        ::close(efd_);
    }

    void wake() override {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(efd_, &one, sizeof one);
    }

    void wait_for_wake() override {
        while (!reap()) io_uring_submit_and_wait(&ring_, 1);
    }

    bool poll_nonblocking() override {
        if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
        return reap();
    }

private:
    void arm() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        io_uring_prep_poll_multishot(sqe, efd_, POLLIN);
        io_uring_sqe_set_data64(sqe, wake_tag);
    }

    // Consumes every CQE in the ring; true if one was the wake.
    bool reap() {
        unsigned head = 0;
        unsigned seen = 0;
        bool woken = false;
        bool rearm = false;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            if (cqe->user_data != wake_tag) continue;
            if (cqe->res < 0) fail(-cqe->res, "multishot POLL_ADD(eventfd)");
            woken = true;
            // The kernel ends a multishot poll (no F_MORE) e.g. on CQ overflow.
            if (!(cqe->flags & IORING_CQE_F_MORE)) rearm = true;
        }
        io_uring_cq_advance(&ring_, seen);
        if (rearm) arm();
        return woken;
    }

    io_uring ring_{};
    int efd_ = -1;
};

}  // namespace

subject liburing_subject() {
    return {"liburing", subject_kind::floor, UNIPOLL_COMPARE_LIBURING_VERSION,
            "raw liburing: eventfd write / multishot POLL_ADD CQE", std::nullopt,
            [] { return std::make_unique<liburing_loop>(); }};
}

}  // namespace compare
