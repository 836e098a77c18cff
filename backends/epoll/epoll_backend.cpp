#include "epoll_backend.hpp"

#include "backend_factories.hpp"
#include "errors.hpp"

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace unipoll::detail {
namespace {

std::uint32_t epoll_mask(interest what, trigger how) {
    std::uint32_t m = 0;
    if ((what & interest::read) == interest::read) m |= EPOLLIN | EPOLLRDHUP;
    if ((what & interest::write) == interest::write) m |= EPOLLOUT;
    if (what == interest::none) {
        // epoll_ctl(2) always adds EPOLLHUP|EPOLLERR; as a level registration
        // a hung-up fd would then wake every epoll_wait. ONESHOT lets it fire
        // at most once (and wait() drops that event).
        return EPOLLONESHOT;
    }
    if (how == trigger::edge) m |= EPOLLET;
    if (how == trigger::oneshot) m |= EPOLLONESHOT;
    return m;
}

}  // namespace

epoll_backend::epoll_backend() : waker_(backend::epoll) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw_error(errno, backend::epoll, "create", no_fd, "epoll_create1");
    if (ctl(EPOLL_CTL_ADD, waker_.fd(), EPOLLIN | EPOLLET, registry::wake_key) != 0) {
        const int err = errno;
        ::close(epfd_);
        throw_error(err, backend::epoll, "create", waker_.fd(), "epoll_ctl(EPOLL_CTL_ADD)");
    }
    stat_counters::bump(stats.syscalls, 3);  // eventfd, epoll_create1, epoll_ctl
}

epoll_backend::~epoll_backend() { ::close(epfd_); }

int epoll_backend::ctl(int op, int fd, std::uint32_t events, std::uint64_t key) noexcept {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = key;
    return ::epoll_ctl(epfd_, op, fd, &ev);
}

void epoll_backend::add(int fd, interest what, std::uint64_t token, trigger how) {
    std::lock_guard lock(mu_);
    // The kernel is the judge of the fd (EBADF, EPERM) and of "already
    // registered" (EEXIST), so it is asked before the table grows for fd. If
    // the table still holds fd but EPOLL_CTL_ADD succeeds, the old file was
    // closed without remove() (epoll forgets closed files) and the number
    // reused; the fresh generation makes any event of the old one stale.
    const std::uint32_t gen = reg_.fresh_gen();
    stat_counters::bump(stats.syscalls);
    if (ctl(EPOLL_CTL_ADD, fd, epoll_mask(what, how), registry::key(fd, gen)) != 0)
        throw_error(errno, backend::epoll, "add", fd, "epoll_ctl(EPOLL_CTL_ADD)");
    try {
        reg_.insert(fd, what, token, how, gen);
    } catch (...) {
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);  // nothing half registered
        throw;
    }
}

void epoll_backend::modify(int fd, interest what, std::uint64_t token, trigger how) {
    std::lock_guard lock(mu_);
    registration* r = reg_.find(fd);
    if (!r) throw_usage(ENOENT, backend::epoll, "modify", fd, "fd is not registered");
    const registration saved = *r;
    *r = registration{token, saved.gen, what, how, true, 0, 0};
    reg_.renew(*r);  // events already queued under the old token are stale
    stat_counters::bump(stats.syscalls);
    if (ctl(EPOLL_CTL_MOD, fd, epoll_mask(what, how), registry::key(fd, r->gen)) != 0) {
        const int err = errno;
        if (err == ENOENT || err == EBADF) {
            // The file was closed without remove(): the kernel dropped it.
            reg_.erase(fd);
        } else {
            *r = saved;
        }
        throw_error(err, backend::epoll, "modify", fd, "epoll_ctl(EPOLL_CTL_MOD)");
    }
}

void epoll_backend::remove(int fd) {
    std::lock_guard lock(mu_);
    if (!reg_.find(fd)) throw_usage(ENOENT, backend::epoll, "remove", fd, "fd is not registered");
    reg_.erase(fd);
    stat_counters::bump(stats.syscalls);
    // EBADF/ENOENT: the fd was closed before remove(), and closing it already
    // took it out of the epoll set; the registration is gone either way.
    if (ctl(EPOLL_CTL_DEL, fd, 0, 0) != 0 && errno != EBADF && errno != ENOENT)
        throw_error(errno, backend::epoll, "remove", fd, "epoll_ctl(EPOLL_CTL_DEL)");
}

int epoll_backend::epoll_wait_ns(epoll_event* evs, int max, std::chrono::nanoseconds timeout) {
#ifdef SYS_epoll_pwait2
    if (!no_pwait2_.load(std::memory_order_relaxed)) {
        timespec ts{};
        timespec* tsp = nullptr;
        if (timeout.count() >= 0) {
            ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
            ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
            tsp = &ts;
        }
        stat_counters::bump(stats.syscalls);
        const long n = ::syscall(SYS_epoll_pwait2, epfd_, evs, max, tsp, nullptr, 0);
        if (n >= 0 || errno != ENOSYS) return static_cast<int>(n);
        no_pwait2_.store(true, std::memory_order_relaxed);
    }
#endif
    // Milliseconds only: round up so that a sub-millisecond timeout waits
    // (never 0, which would spin) and no wait ends early.
    int ms = -1;
    if (timeout.count() >= 0) {
        const auto up = (timeout.count() + 999'999) / 1'000'000;
        ms = static_cast<int>(std::min<long long>(up, INT_MAX));
    }
    stat_counters::bump(stats.syscalls);
    return ::epoll_wait(epfd_, evs, max, ms);
}

// The kernel's epoll_events are written into the tail of the caller's own
// span and converted to unipoll events front to back, so a poll returns as
// many events as `out` holds with no buffer of its own (no cap, no
// allocation). An epoll_event is never larger than an event (12 bytes packed
// on x86-64, 16 elsewhere), so with n slots the kernel's array starts
// n * (sizeof(event) - sizeof(epoll_event)) bytes in, and writing event j <= i
// ends before kernel entry i + 1 begins: nothing unread is overwritten.
static_assert(sizeof(epoll_event) <= sizeof(event));
static_assert((sizeof(event) - sizeof(epoll_event)) % alignof(epoll_event) == 0);
static_assert(alignof(event) % alignof(epoll_event) == 0);

wait_result epoll_backend::wait(std::span<event> out, std::chrono::nanoseconds timeout) {
    // Never ask the kernel for more events than `out` can take: an edge or
    // oneshot event that is taken out of epoll and then dropped is lost.
    // epoll_wait(2) refuses more than INT_MAX / sizeof(epoll_event) (EINVAL).
    const std::size_t slots =
        std::min<std::size_t>(out.size(), INT_MAX / sizeof(epoll_event));
    auto* const bytes = reinterpret_cast<unsigned char*>(out.data());
    unsigned char* const kernel_area = bytes + slots * (sizeof(event) - sizeof(epoll_event));
    const int n = epoll_wait_ns(reinterpret_cast<epoll_event*>(kernel_area),
                                static_cast<int>(slots), timeout);

    wait_result res;
    if (n < 0) {
        if (errno == EINTR) {
            res.interrupted = true;
            return res;
        }
        throw_error(errno, backend::epoll, "poll", no_fd, "epoll_wait");
    }
    std::unique_lock lock(mu_, std::defer_lock);
    for (int i = 0; i < n; ++i) {
        // Copied out before out[res.count] (res.count <= i) may overwrite it.
        epoll_event ev;
        std::memcpy(&ev, kernel_area + static_cast<std::size_t>(i) * sizeof ev, sizeof ev);
        if (ev.data.u64 == registry::wake_key) {
            res.wake_event = true;
            continue;
        }
        if (!lock.owns_lock()) lock.lock();
        registration* r = reg_.lookup(ev.data.u64);
        if (!r || r->what == interest::none) continue;  // removed/replaced, or muted
        if (r->how == trigger::oneshot) {
            if (!r->armed) continue;
            r->armed = false;
        }
        event e{};
        e.token = r->token;
        e.readable = (ev.events & EPOLLIN) && (r->what & interest::read) == interest::read;
        e.writable = (ev.events & EPOLLOUT) && (r->what & interest::write) == interest::write;
        e.hangup = (ev.events & (EPOLLHUP | EPOLLRDHUP)) != 0;
        e.error = (ev.events & EPOLLERR) != 0;
        out[res.count++] = e;
    }
    return res;
}

void epoll_backend::post() noexcept { stat_counters::bump(stats.syscalls, waker_.post()); }

std::unique_ptr<backend_impl> make_epoll_backend() { return std::make_unique<epoll_backend>(); }

}  // namespace unipoll::detail
