// Creation, the runtime probe, registration, post() and the kick. The
// polling side is in io_uring_wait.cpp.
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

// Sized once; no poll ever replaces the ring. The SQ takes the arming of
// 1024 registrations per io_uring_enter. CQEs beyond the CQ wait in the
// kernel's overflow list (IORING_FEAT_NODROP) until a poll makes room, and
// a multishot poll that meets a full CQ ends and is armed again.
constexpr unsigned sq_entries = 1024;
constexpr unsigned cq_entries = 8192;

constexpr std::chrono::seconds probe_timeout{2};

}  // namespace

io_uring_backend::io_uring_backend()
    : waker_(backend::io_uring), ring_(sq_entries, cq_entries, stats) {
    // Linux 5.5 keeps overflowing CQEs instead of dropping them; 5.11 takes
    // the wait timeout in the enter call. Both predate multishot poll
    // (5.13, probed below), so only backported kernels can lack them; such
    // a kernel is refused and the next backend is used instead.
    if (!(ring_.features() & IORING_FEAT_NODROP))
        throw_usage(ENOTSUP, kind(), "create", no_fd, "kernel lacks IORING_FEAT_NODROP (Linux 5.5)");
    if (!(ring_.features() & IORING_FEAT_EXT_ARG))
        throw_usage(ENOTSUP, kind(), "create", no_fd, "kernel lacks IORING_FEAT_EXT_ARG (Linux 5.11)");
    probe();
}

io_uring_backend::~io_uring_backend() = default;

// Arms a multishot poll on the wake eventfd, posts, waits for its CQE and
// cancels the poll again: proves that this kernel (and any sandbox around
// it) runs io_uring polls, multishot included, and leaves no request that
// the creating thread would own.
void io_uring_backend::probe() {
    const std::uint64_t key = wake_key(0);  // real wake polls have generations from 1
    int first_res = 0;
    unsigned first_flags = 0;
    bool seen = false;
    bool ended = false;
    const auto deadline = std::chrono::steady_clock::now() + probe_timeout;
    auto pump = [&](auto done) {
        while (!done()) {
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left <= decltype(left)::zero()) return false;
            const int rc = ring_.wait(std::chrono::duration_cast<std::chrono::nanoseconds>(left));
            if (rc < 0 && rc != -ETIME && rc != -EINTR)
                throw_error(-rc, kind(), "create", no_fd, "io_uring_enter");
            ring_.consume([&](const io_uring_cqe& c) {
                if (c.user_data != key) return true;
                if (!seen) {
                    first_res = c.res;
                    first_flags = c.flags;
                    seen = true;
                }
                ended = ended || !(c.flags & IORING_CQE_F_MORE);
                return true;
            });
        }
        return true;
    };

    io_uring_sqe* s = ring_.sqe();  // the SQ is empty
    io_uring_prep_poll_multishot(s, waker_.fd(), POLLIN);
    io_uring_sqe_set_data64(s, key);
    if (const int rc = ring_.submit(); rc < 0) throw_error(-rc, kind(), "create", no_fd, "io_uring_enter");
    stat_counters::bump(stats.syscalls, waker_.post());
    if (!pump([&] { return seen; }))
        throw_usage(ETIMEDOUT, kind(), "create", no_fd, "the probe poll on the wake eventfd never completed");
    if (first_res == -EINVAL)
        throw_usage(ENOTSUP, kind(), "create", no_fd, "kernel rejects multishot poll (needs Linux 5.13)");
    if (first_res < 0) throw_error(-first_res, kind(), "create", no_fd, "probe poll on the wake eventfd");
    if (!(first_flags & IORING_CQE_F_MORE))
        throw_usage(ENOTSUP, kind(), "create", no_fd,
                    "kernel ended the multishot probe poll (needs Linux 5.13)");
    if (!prep_cancel(key)) throw_usage(EBUSY, kind(), "create", no_fd, "io_uring submission queue full");
    if (const int rc = ring_.submit(); rc < 0) throw_error(-rc, kind(), "create", no_fd, "io_uring_enter");
    if (!pump([&] { return ended; }))
        throw_usage(ETIMEDOUT, kind(), "create", no_fd, "the probe poll could not be cancelled");
}

// --- registration ---------------------------------------------------------

io_uring_backend::fd_state& io_uring_backend::state(int fd) {
    const auto i = static_cast<std::size_t>(fd);
    if (i >= states_.size()) states_.resize(i + 1);
    return states_[i];
}

void io_uring_backend::queue(int fd) {
    fd_state& st = states_[static_cast<std::size_t>(fd)];
    if (!st.queued) {
        pending_.push_back(fd);
        st.queued = true;
    }
    work_pending_.store(true, std::memory_order_relaxed);
}

// Backend-internal: makes a thread asleep in io_uring_enter return, so that
// it (and not the calling thread) submits what was queued. Not a wake():
// the eventfd write is not marked in wake_posted_.
void io_uring_backend::kick() {
    if (!in_kernel_ || kick_posted_) return;
    kick_posted_ = true;
    stat_counters::bump(stats.syscalls, waker_.post());
}

void io_uring_backend::forget(fd_state& st) noexcept { st.live = 0; }

// Eager cancellation, from whichever thread calls remove()/modify()/add():
// the file must be released when remove() returns, with nobody polling
// afterwards. The SQ holds nothing else (every SQE is submitted before the
// lock is released), so this thread submits only its own requests; they
// complete inline, and the calling thread owns nothing afterwards.
void io_uring_backend::cancel_now(std::uint64_t key) {
    if (ring_.unsubmitted() == 0 && prep_cancel(key)) {
        if (ring_.submit() == 0) return;
        // Refused (no memory for requests): the SQEs stay in the SQ.
    } else {
        cancels_.push_back(key);
    }
    // The next poll submits the cancellation; a thread asleep in the
    // kernel is kicked to be that poll.
    work_pending_.store(true, std::memory_order_relaxed);
    kick();
}

void io_uring_backend::add(int fd, interest what, std::uint64_t token, trigger how) {
    const file_identity id = check_pollable(kind(), "add", fd, stats);
    std::lock_guard lock(mu_);
    // Never closed, or closed and the same file put back under the number:
    // modify() is what moves the registration to the new descriptor.
    if (regs_.holder_of(fd, id) == registry::holder::same_file)
        throw_usage(EEXIST, kind(), "add", fd, "already registered");
    fd_state& st = state(fd);
    pending_.reserve(pending_.size() + 1);  // queue() below cannot throw
    // The level list and its poll(2) array hold each registration at most
    // once, and the merger gets the fd's slot: sized here, so that a poll
    // never allocates.
    ready_.reserve(regs_.size() + 1);
    checks_.reserve(regs_.size() + 1);
    merger_.reserve(fd);
    // A registration left here belongs to a file closed without remove()
    // whose number now names another file; its poll still holds the old
    // file open. The new registration replaces it under a new generation,
    // so nothing of the old one is reported again.
    const std::uint64_t dead = st.live;
    registration& r = regs_.insert(fd, what, token, how);
    registry::record_file(r, id);
    forget(st);
    if (dead) cancel_now(dead);
    if (what != interest::none) {
        queue(fd);
        kick();
    }
}

void io_uring_backend::modify(int fd, interest what, std::uint64_t token, trigger how) {
    std::lock_guard lock(mu_);
    registration* r = regs_.find(fd);
    if (!r) throw_usage(ENOENT, kind(), "modify", fd, "not registered");
    const file_identity id = check_pollable(kind(), "modify", fd, stats);
    fd_state& st = states_[static_cast<std::size_t>(fd)];
    pending_.reserve(pending_.size() + 1);
    const std::uint64_t old = st.live;
    forget(st);
    if (regs_.holder_of(fd, id) == registry::holder::other_file) {
        regs_.erase(fd);
        if (old) cancel_now(old);
        throw_usage(ENOENT, kind(), "modify", fd,
                    "not registered (closed without remove() and the number reused)");
    }
    r->what = what;
    r->token = token;
    r->how = how;
    r->armed = true;
    regs_.renew(*r);  // CQEs of the old poll are stale from here on
    if (old) cancel_now(old);
    if (what != interest::none) {
        queue(fd);
        kick();
    }
}

// No fstat: remove() of an fd closed without remove() succeeds (and its
// poll, which kept the file open, is cancelled), whatever the number now
// refers to.
void io_uring_backend::remove(int fd) {
    std::lock_guard lock(mu_);
    if (!regs_.find(fd)) throw_usage(ENOENT, kind(), "remove", fd, "not registered");
    fd_state& st = states_[static_cast<std::size_t>(fd)];
    const std::uint64_t live = st.live;
    regs_.erase(fd);
    forget(st);  // a queued arming is skipped: the fd has no registration
    if (live) cancel_now(live);
}

void io_uring_backend::post() noexcept {
    wake_posted_.store(true);
    stat_counters::bump(stats.syscalls, waker_.post());
}

bool io_uring_backend::saturate_wake_for_testing() {
    stat_counters::bump(stats.syscalls, 2);
    return waker_.saturate();
}

void io_uring_backend::simulate_dropped_completions_for_testing() {
    std::lock_guard lock(mu_);
    recover_dropped();
    kick();
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
