// Creation, the runtime probe, registration and post(). The waiting side is
// in io_uring_wait.cpp.
#include "io_uring_backend.hpp"

#include "backend_factories.hpp"
#include "errors.hpp"
#include "fd_checks.hpp"
#include "poll_ops.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace unipoll::detail {
namespace uring {
namespace {

// A ring starts small; the CQ grows with the registrations (see note_size).
constexpr unsigned initial_sq = 64;
constexpr unsigned initial_cq = 256;

constexpr std::chrono::seconds probe_timeout{2};

}  // namespace

io_uring_backend::io_uring_backend() : waker_(backend::io_uring) {
    ring_ = std::make_unique<ring>(initial_sq, initial_cq, stats);
    // Linux 5.5 keeps overflowing CQEs instead of dropping them; 5.11 takes
    // the wait timeout in the enter call. Both predate multishot poll
    // (5.13, probed below), so only backported kernels can lack them; such
    // a kernel is refused and the next backend is used instead.
    if (!(ring_->features() & IORING_FEAT_NODROP))
        throw_usage(ENOTSUP, kind(), "create", no_fd,
                    "kernel lacks IORING_FEAT_NODROP (Linux 5.5)");
    if (!(ring_->features() & IORING_FEAT_EXT_ARG))
        throw_usage(ENOTSUP, kind(), "create", no_fd,
                    "kernel lacks IORING_FEAT_EXT_ARG (Linux 5.11)");
    probe_wake_poll();
}

io_uring_backend::~io_uring_backend() = default;

// Arms the wake poll, posts once and waits for its CQE: proves that this
// kernel (and any sandbox around it) runs io_uring polls, multishot included.
void io_uring_backend::probe_wake_poll() {
    arm_wake();
    const unsigned n = ring_->publish();
    if (const int rc = ring_->enter(n, 0, 0); rc < 0)
        throw_error(-rc, kind(), "create", no_fd, "io_uring_enter");
    post();
    const int rc = ring_->enter(0, 1, IORING_ENTER_GETEVENTS, probe_timeout);
    if (rc < 0 && rc != -ETIME && rc != -EINTR)
        throw_error(-rc, kind(), "create", no_fd, "io_uring_enter");
    int res = -ETIME;
    unsigned flags = 0;
    ring_->consume([&](const io_uring_cqe& c) {
        if (c.user_data == wake_key) {
            res = c.res;
            flags = c.flags;
        }
        return true;
    });
    if (res == -EINVAL)
        throw_usage(ENOTSUP, kind(), "create", no_fd,
                    "kernel rejects multishot poll (needs Linux 5.13)");
    if (res < 0) throw_error(-res, kind(), "create", no_fd, "probe poll on the wake eventfd");
    if (!(flags & IORING_CQE_F_MORE))
        throw_usage(ENOTSUP, kind(), "create", no_fd,
                    "kernel ended the multishot probe poll (needs Linux 5.13)");
}

// --- submission side --------------------------------------------------------

io_uring_sqe* io_uring_backend::next_sqe() {
    if (ring_->sq_space() == 0) submit_now();
    return ring_->sqe();
}

void io_uring_backend::reserve(int fd, std::string_view op, unsigned n) {
    if (ring_->sq_space() < n) submit_now();
    // The kernel consumes every published SQE unless io_uring_enter failed
    // (EAGAIN/EBUSY under memory or CQ pressure): nothing is changed then.
    if (ring_->sq_space() < n)
        throw_usage(EBUSY, kind(), op, fd, "io_uring submission queue full");
}

void io_uring_backend::arm(int fd, const registration& r) {
    io_uring_sqe* s = next_sqe();
    const unsigned mask = poll_mask(r.what);
    if (r.how == trigger::edge)
        io_uring_prep_poll_multishot(s, fd, mask);
    else
        io_uring_prep_poll_add(s, fd, mask);
    io_uring_sqe_set_data64(s, registry::key(fd, r.gen));
}

void io_uring_backend::arm_wake() {
    io_uring_sqe* s = next_sqe();
    io_uring_prep_poll_multishot(s, waker_.fd(), POLLIN);
    io_uring_sqe_set_data64(s, wake_key);
}

void io_uring_backend::cancel(std::uint64_t key) {
    // close() does not end a poll (the request holds its own file
    // reference), so a retired poll is removed explicitly; its -ECANCELED
    // CQE carries a generation the registry no longer has.
    io_uring_sqe* s = next_sqe();
    io_uring_prep_poll_remove(s, key);
    io_uring_sqe_set_data64(s, cancel_key);
}

void io_uring_backend::retire(int fd, registration& r) {
    if (r.armed) cancel(registry::key(fd, r.gen));
    regs_.erase(fd);
}

void io_uring_backend::flush_rearms(std::vector<std::uint64_t>& keys) {
    std::size_t i = 0;
    for (; i < keys.size(); ++i) {
        if (ring_->sq_space() == 0) {
            submit_now();
            if (ring_->sq_space() == 0) break;  // kept for the next submission
        }
        const std::uint64_t k = keys[i];
        if (k == wake_key) {
            arm_wake();
        } else if (const registration* r = regs_.lookup(k); r && r->armed) {
            arm(registry::fd_of(k), *r);
        }
    }
    keys.erase(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i));
}

void io_uring_backend::submit_now() {
    const unsigned n = ring_->publish();
    if (n == 0) return;
    // Errors leave the SQEs queued for the next enter (EAGAIN, EBUSY,
    // EINTR); the kernel reports failures of single requests as CQEs.
    (void)ring_->enter(n, 0, 0);
}

// The CQ must hold every CQE the registrations can have outstanding, or a
// full CQ ends multishot polls and CQEs wait in the kernel's overflow list.
void io_uring_backend::note_size() {
    const std::size_t need = 2 * regs_.size() + 32;
    if (!grow_failed_ && need > ring_->cq_capacity()) grow_wanted_ = true;
}

void io_uring_backend::add(int fd, interest what, std::uint64_t token, trigger how) {
    stat_counters::bump(stats.syscalls);  // fstat
    const file_identity id = check_pollable(kind(), "add", fd);
    std::lock_guard sq(sq_mu_);
    reserve(fd, "add", 2);
    if (registration* old = regs_.find(fd)) {
        if (old->file_dev == id.dev && old->file_ino == id.ino)
            throw_usage(EEXIST, kind(), "add", fd, "already registered");
        // The fd was closed without remove() and its number reused by
        // another file: the old registration is dead, replace it.
        if (old->armed) cancel(registry::key(fd, old->gen));
    }
    registration& r = regs_.insert(fd, what, token, how);
    r.file_dev = id.dev;
    r.file_ino = id.ino;
    r.armed = what != interest::none;
    if (r.armed) arm(fd, r);
    note_size();
    submit_now();
}

void io_uring_backend::modify(int fd, interest what, std::uint64_t token, trigger how) {
    std::lock_guard sq(sq_mu_);
    registration* r = regs_.find(fd);
    if (!r) throw_usage(ENOENT, kind(), "modify", fd, "not registered");
    stat_counters::bump(stats.syscalls);  // fstat
    const file_identity id = check_pollable(kind(), "modify", fd);
    reserve(fd, "modify", 2);
    if (r->file_dev != id.dev || r->file_ino != id.ino) {
        retire(fd, *r);
        submit_now();
        throw_usage(ENOENT, kind(), "modify", fd,
                    "not registered (closed without remove() and the number reused)");
    }
    const std::uint64_t old_key = registry::key(fd, r->gen);
    const bool was_armed = r->armed;
    const bool was_multishot = r->how == trigger::edge;
    r->what = what;
    r->token = token;
    r->how = how;
    const std::uint32_t gen = regs_.renew(*r);
    r->armed = what != interest::none;
    if (r->armed && was_armed && !was_multishot && how != trigger::edge) {
        // Poll update (5.13) changes mask and user_data in place and
        // re-checks readiness, like EPOLL_CTL_MOD. Only for one-shot polls:
        // an update cannot turn one-shot into multishot, and an update that
        // races a multishot completion fails with EALREADY while that poll
        // goes on under the old key; a one-shot poll in that state ends by
        // itself, and the failed update re-arms under the new key.
        io_uring_sqe* s = next_sqe();
        io_uring_prep_poll_update(s, old_key, registry::key(fd, gen), poll_mask(what),
                                  IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA);
        io_uring_sqe_set_data64(s, update_key(fd, gen));
    } else {
        if (was_armed) cancel(old_key);
        if (r->armed) arm(fd, *r);
    }
    submit_now();
}

// No fstat: remove() of an fd closed without remove() succeeds (and its
// poll, which kept the file open, is cancelled), whatever the number now
// refers to.
void io_uring_backend::remove(int fd) {
    std::lock_guard sq(sq_mu_);
    registration* r = regs_.find(fd);
    if (!r) throw_usage(ENOENT, kind(), "remove", fd, "not registered");
    reserve(fd, "remove", 1);
    retire(fd, *r);
    submit_now();
}

void io_uring_backend::post() noexcept {
    stat_counters::bump(stats.syscalls, waker_.post());
}

bool io_uring_backend::saturate_wake_for_testing() {
    stat_counters::bump(stats.syscalls, 2);
    return waker_.saturate();
}

}  // namespace uring

std::unique_ptr<backend_impl> make_io_uring_backend() {
    // Off switch in the manner of libuv's UV_USE_IO_URING=0: for sandboxes
    // where io_uring misbehaves, and to test the fallback path.
    if (const char* off = std::getenv("UNIPOLL_DISABLE_IO_URING");
        off && *off && std::strcmp(off, "0") != 0)
        throw_usage(ENOTSUP, backend::io_uring, "create", no_fd,
                    "disabled by UNIPOLL_DISABLE_IO_URING");
    return std::make_unique<uring::io_uring_backend>();
}

}  // namespace unipoll::detail
