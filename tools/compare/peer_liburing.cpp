// Raw liburing, the io_uring floor. Wakes: a multishot POLL_ADD on an
// eventfd (one CQE per write, the eventfd never read), waited for with
// io_uring_submit_and_wait and polled by peeking the CQ ring, which costs
// no system call at all. Sockets: a multishot POLL_ADD each, cancelled
// with POLL_REMOVE, submitted in batches by the next turn; for echo one
// read and one write per completion, as a readiness loop would do.
#include "echo_io.hpp"
#include "peer.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
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

// A ring for many polls: room for 65,536 completions, SQEs submitted
// whenever the SQ fills. COOP_TASKRUN (5.19) spares the loop's thread the
// interrupts of task work; older kernels get a plain ring. Not
// SINGLE_ISSUER: the echo server's ring is made on one thread and
// submitted to from another.
class poll_ring {
public:
    static constexpr std::uint64_t removal = std::uint64_t{1} << 63;

    poll_ring() {
        io_uring_params p{};
        p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
        p.cq_entries = 65536;
        int r = io_uring_queue_init_params(4096, &ring_, &p);
        if (r == -EINVAL) {
            p = {};
            p.flags = IORING_SETUP_CQSIZE;
            p.cq_entries = 65536;
            r = io_uring_queue_init_params(4096, &ring_, &p);
        }
        if (r < 0) fail(-r, "io_uring_queue_init_params");
    }
    ~poll_ring() { io_uring_queue_exit(&ring_); }
    poll_ring(const poll_ring&) = delete;
    poll_ring& operator=(const poll_ring&) = delete;

    void arm(int fd, std::uint64_t data) {
        io_uring_sqe* sqe = next_sqe();
        io_uring_prep_poll_multishot(sqe, fd, POLLIN);
        io_uring_sqe_set_data64(sqe, data);
    }
    void cancel(std::uint64_t data) {
        io_uring_sqe* sqe = next_sqe();
        io_uring_prep_poll_remove(sqe, data);
        io_uring_sqe_set_data64(sqe, removal);
    }
    /// Submits what is queued (waiting for a completion if `block`), then
    /// calls on_poll(data, res, more) for each poll completion.
    template <class OnPoll>
    void turn(bool block, OnPoll on_poll) {
        if (block) io_uring_submit_and_wait(&ring_, 1);
        else if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
        unsigned head = 0, seen = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            if (cqe->user_data != removal) on_poll(cqe->user_data, cqe->res, (cqe->flags & IORING_CQE_F_MORE) != 0);
        }
        io_uring_cq_advance(&ring_, seen);
    }

private:
    io_uring_sqe* next_sqe() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe) return sqe;
        io_uring_submit(&ring_);  // the SQ is full: make room
        if (!(sqe = io_uring_get_sqe(&ring_))) fail(EBUSY, "io_uring_get_sqe");
        return sqe;
    }

    io_uring ring_{};
};

class liburing_fds final : public fd_loop {
public:
    void watch(int fd, std::uint32_t token) override {
        if (fds_.size() <= token) fds_.resize(token + 1, -1);
        fds_[token] = fd;
        ring_.arm(fd, token);
    }
    void unwatch(int, std::uint32_t token) override {
        fds_[token] = -1;
        ring_.cancel(token);
    }
    void turn(bool block, std::vector<std::uint32_t>& readable) override {
        ring_.turn(block, [&](std::uint64_t token, int res, bool more) {
            if (token >= fds_.size() || fds_[token] < 0) return;  // a poll being cancelled
            if (res > 0) readable.push_back(static_cast<std::uint32_t>(token));
            if (!more) ring_.arm(fds_[token], token);  // the kernel ended it (CQ overflow, ...)
        });
    }

private:
    poll_ring ring_;
    std::vector<int> fds_;  // by token; -1 when not watched
};

class liburing_echo final : public echo_server {
public:
    void adopt(int fd) override {
        ring_.arm(fd, static_cast<std::uint64_t>(fd));
        connections_.add(fd);
        ++open_;
    }

    void serve(const std::function<void()>& after_turn) override {
        while (open_ > 0) {
            ring_.turn(true, [&](std::uint64_t data, int res, bool more) {
                const auto fd = static_cast<int>(data);
                if (!connections_.contains(fd)) return;
                const long n = res > 0 ? echo_back(fd, buffer_) : 0;
                if (n > 0) echoed_ += static_cast<std::uint64_t>(n);
                if (n >= 0) {
                    if (!more) ring_.arm(fd, data);
                    return;
                }
                // The poll holds a reference to the file: cancel it, or
                // the close would not reach the client.
                ring_.cancel(data);
                connections_.close(fd);
                --open_;
            });
            after_turn();
        }
    }

private:
    open_connections connections_;  // declared first: closed after the ring is gone
    poll_ring ring_;
    std::array<char, 65536> buffer_{};
};

}  // namespace

subject liburing_subject() {
    return {.name = "liburing",
            .kind = subject_kind::floor,
            .version = UNIPOLL_COMPARE_LIBURING_VERSION,
            .detail = "raw liburing: eventfd write / multishot POLL_ADD CQE",
            .backend = std::nullopt,
            .make = [] { return std::make_unique<liburing_loop>(); },
            .mechanism = "io_uring",
            .fds_detail = "multishot POLL_ADD(POLLIN) / POLL_REMOVE, submitted by the next turn; submit_and_wait or CQ peek",
            .make_fd_loop = [] { return std::make_unique<liburing_fds>(); },
            .echo_detail = "multishot POLL_ADD(POLLIN) per connection; submit_and_wait; "
                           "one read and one write per completion",
            .make_echo_server = [] { return std::make_unique<liburing_echo>(); }};
}

}  // namespace compare
