// kqueue(2) emulated on epoll, for tests on Linux only: the subset declared
// in kqueue_emulation/sys/event.h, with the semantics of the FreeBSD manual.
//
// Model (that of the BSD kernels, kept in user space):
//  - a knote per (ident, filter) holds its flags, udata and enabled state;
//    an "active" knote may have something to report and sits on a queue;
//  - kevent() applies the changes, then scans the queue: each knote's filter
//    is evaluated again (poll(2) on the descriptor, the trigger of a user
//    event); one whose condition no longer holds leaves the queue; one
//    that is reported is reset (EV_CLEAR), deleted (EV_ONESHOT), disabled
//    (EV_DISPATCH) or, level-triggered, queued again at the tail;
//  - each descriptor with knotes is in the epoll set with EPOLLET for both
//    directions: every readiness change (new data, new space, hangup)
//    activates its knotes, which is what the kernels' knote() hooks do;
//  - the kqueue's descriptor is the epoll descriptor; a blocked kevent()
//    sleeps in ppoll(2) on it (nanosecond timeouts, EINTR), and an eventfd
//    in the set wakes it when another thread queues something for it.
// Everything runs under one mutex per kqueue, so a triggered EV_CLEAR user
// event is handed to exactly one caller.
#include "kqueue_emulation/kqueue_emulation_control.hpp"

#include <sys/event.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace kqueue_emulation {
namespace {

std::atomic<bool> user_events_broken{false};

// Flags a knote keeps from its EV_ADD and returns with each event.
constexpr unsigned short kept_flags = EV_ONESHOT | EV_CLEAR | EV_DISPATCH | EV_RECEIPT;

struct knote {
    std::uintptr_t ident = 0;
    short filter = 0;
    unsigned short flags = 0;
    void* udata = nullptr;
    bool enabled = true;
    bool active = false;   // may have something to report
    bool queued = false;
    bool deleted = false;
    // EVFILT_USER state.
    bool triggered = false;
    unsigned int sfflags = 0;
    std::int64_t sdata = 0;
};
using knote_ptr = std::shared_ptr<knote>;

// A descriptor with READ and/or WRITE knotes. The knotes belong to the open
// file seen at EV_ADD; a different dev/ino under the same number later means
// that file was closed, which deletes its knotes (kqueue(2)), so they are
// purged then.
struct fd_entry {
    dev_t dev = 0;
    ino_t ino = 0;
    bool in_epoll = false;   // false: epoll refuses it (regular file); always ready
    knote_ptr read;
    knote_ptr write;
};

constexpr std::uint64_t notify_tag = ~std::uint64_t{0};

constexpr unsigned short eof(unsigned short flags) noexcept {
    return static_cast<unsigned short>(flags | EV_EOF);
}

class kqueue_state {
public:
    kqueue_state(int epfd, int notify_fd) noexcept : epfd_(epfd), notify_fd_(notify_fd) {}
    kqueue_state(const kqueue_state&) = delete;
    kqueue_state& operator=(const kqueue_state&) = delete;
    // The epoll descriptor is the kqueue's and is closed by its owner.
    ~kqueue_state() { ::close(notify_fd_); }

    int notify_fd() const noexcept { return notify_fd_; }

    int kevent(const struct kevent* changes, int nchanges, struct kevent* events, int nevents,
               const timespec* timeout);

private:
    int apply(const struct kevent& change);
    int apply_fd(const struct kevent& change);
    int apply_user(const struct kevent& change);
    void purge(std::map<std::uintptr_t, fd_entry>::iterator it);
    void remove_knote(const knote_ptr& kn);
    void activate(const knote_ptr& kn);
    void harvest();
    int scan(struct kevent* events, int nevents);
    bool evaluate(knote& kn, struct kevent& out);
    void signal_sleepers();

    std::mutex mutex_;
    const int epfd_;
    const int notify_fd_;
    int sleepers_ = 0;
    bool notified_ = false;
    std::map<std::uintptr_t, fd_entry> fds_;
    std::map<std::uintptr_t, knote_ptr> users_;
    std::deque<knote_ptr> queue_;
};

void kqueue_state::activate(const knote_ptr& kn) {
    kn->active = true;
    if (kn->enabled && !kn->queued) {
        kn->queued = true;
        queue_.push_back(kn);
    }
}

void kqueue_state::remove_knote(const knote_ptr& kn) {
    kn->deleted = true;   // a queued copy is skipped by scan()
    if (kn->filter == EVFILT_USER) {
        users_.erase(kn->ident);
        return;
    }
    auto it = fds_.find(kn->ident);
    if (it == fds_.end()) return;
    (kn->filter == EVFILT_READ ? it->second.read : it->second.write).reset();
    if (!it->second.read && !it->second.write) purge(it);
}

void kqueue_state::purge(std::map<std::uintptr_t, fd_entry>::iterator it) {
    for (knote_ptr* kn : {&it->second.read, &it->second.write})
        if (*kn) (*kn)->deleted = true;
    // Fails harmlessly when the file was closed: epoll forgot it already.
    if (it->second.in_epoll) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, static_cast<int>(it->first), nullptr);
    fds_.erase(it);
}

int kqueue_state::apply(const struct kevent& change) {
    switch (change.filter) {
        case EVFILT_READ:
        case EVFILT_WRITE: return apply_fd(change);
        case EVFILT_USER: return apply_user(change);
        default: return EINVAL;
    }
}

int kqueue_state::apply_fd(const struct kevent& change) {
    const int fd = static_cast<int>(change.ident);
    struct stat st {};
    if (change.ident > static_cast<std::uintptr_t>(INT32_MAX) || ::fstat(fd, &st) != 0) return EBADF;
    auto it = fds_.find(change.ident);
    if (it != fds_.end() && (it->second.dev != st.st_dev || it->second.ino != st.st_ino)) {
        purge(it);
        it = fds_.end();
    }
    knote_ptr* slot = nullptr;
    if (it != fds_.end()) slot = change.filter == EVFILT_READ ? &it->second.read : &it->second.write;

    if (change.flags & EV_DELETE) {
        if (!slot || !*slot) return ENOENT;
        remove_knote(*slot);
        return 0;
    }
    if (!slot || !*slot) {
        if (!(change.flags & EV_ADD)) return ENOENT;
        if (it == fds_.end()) {
            fd_entry e;
            e.dev = st.st_dev;
            e.ino = st.st_ino;
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
            ev.data.u64 = change.ident;
            if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0)
                e.in_epoll = true;
            else if (errno != EPERM)   // EPERM: regular file or directory
                return errno;
            it = fds_.emplace(change.ident, e).first;
        }
        slot = change.filter == EVFILT_READ ? &it->second.read : &it->second.write;
        *slot = std::make_shared<knote>();
        (*slot)->ident = change.ident;
        (*slot)->filter = change.filter;
        (*slot)->flags = static_cast<unsigned short>(change.flags & kept_flags);
    }
    // Re-adding updates udata only; the flags of a knote are fixed when it
    // is created (FreeBSD).
    knote_ptr kn = *slot;
    if (change.flags & EV_ADD) kn->udata = change.udata;
    if (change.flags & EV_DISABLE) kn->enabled = false;
    else if (change.flags & EV_ENABLE) kn->enabled = true;
    // Registration evaluates the filter again: a condition that holds now
    // is reported.
    if (kn->enabled) activate(kn);
    return 0;
}

int kqueue_state::apply_user(const struct kevent& change) {
    auto it = users_.find(change.ident);
    if (change.flags & EV_DELETE) {
        if (it == users_.end()) return ENOENT;
        remove_knote(it->second);
        return 0;
    }
    if (it == users_.end()) {
        if (!(change.flags & EV_ADD)) return ENOENT;
        auto kn = std::make_shared<knote>();
        kn->ident = change.ident;
        kn->filter = EVFILT_USER;
        kn->flags = static_cast<unsigned short>(change.flags & kept_flags);
        it = users_.emplace(change.ident, kn).first;
    }
    knote& kn = *it->second;
    if (change.flags & EV_ADD) kn.udata = change.udata;
    if (change.flags & EV_DISABLE) kn.enabled = false;
    else if (change.flags & EV_ENABLE) kn.enabled = true;

    if ((change.fflags & NOTE_TRIGGER) && !user_events_broken.load()) kn.triggered = true;
    const unsigned int value = change.fflags & NOTE_FFLAGSMASK;
    switch (change.fflags & NOTE_FFCTRLMASK) {
        case NOTE_FFAND: kn.sfflags &= value; break;
        case NOTE_FFOR: kn.sfflags |= value; break;
        case NOTE_FFCOPY: kn.sfflags = value; break;
        default: break;
    }
    kn.sdata = change.data;
    // EV_CLEAR in any change resets the trigger, even one set by the same
    // change (FreeBSD): the reason a post must never carry it.
    if (change.flags & EV_CLEAR) kn.triggered = false;
    if (kn.triggered) activate(it->second);
    return 0;
}

void kqueue_state::harvest() {
    epoll_event evs[64];
    for (;;) {
        const int n = ::epoll_wait(epfd_, evs, 64, 0);
        for (int i = 0; i < n; ++i) {
            if (evs[i].data.u64 == notify_tag) {
                std::uint64_t v;
                while (::read(notify_fd_, &v, sizeof v) < 0 && errno == EINTR) {}
                notified_ = false;
                continue;
            }
            auto it = fds_.find(static_cast<std::uintptr_t>(evs[i].data.u64));
            if (it == fds_.end()) continue;
            const std::uint32_t e = evs[i].events;
            if (it->second.read && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                activate(it->second.read);
            if (it->second.write && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
                activate(it->second.write);
        }
        if (n < 64) return;
    }
}

bool kqueue_state::evaluate(knote& kn, struct kevent& out) {
    out = {};
    out.ident = kn.ident;
    out.filter = kn.filter;
    out.flags = kn.flags;
    out.udata = kn.udata;
    if (kn.filter == EVFILT_USER) {
        if (!kn.triggered) return false;
        out.fflags = kn.sfflags;
        out.data = kn.sdata;
        return true;
    }

    auto it = fds_.find(kn.ident);
    if (it == fds_.end()) return false;
    const int fd = static_cast<int>(kn.ident);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_dev != it->second.dev || st.st_ino != it->second.ino) {
        purge(it);   // closed (and maybe reused): its knotes are gone
        return false;
    }
    const bool read = kn.filter == EVFILT_READ;
    if (!it->second.in_epoll) {
        // Regular files are always ready; READ reports the bytes left.
        if (read && S_ISREG(st.st_mode)) {
            const off_t pos = ::lseek(fd, 0, SEEK_CUR);
            out.data = pos >= 0 && st.st_size > pos ? st.st_size - pos : 0;
        }
        return true;
    }
    pollfd p{fd, static_cast<short>(read ? (POLLIN | POLLRDHUP) : POLLOUT), 0};
    if (::poll(&p, 1, 0) < 0) return false;
    if (read) {
        if (!(p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))) return false;
        int bytes = 0;
        if (::ioctl(fd, FIONREAD, &bytes) == 0) out.data = bytes;
        if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) out.flags = eof(out.flags);
    } else {
        if (!(p.revents & (POLLOUT | POLLHUP | POLLERR))) return false;
        if (p.revents & (POLLHUP | POLLERR)) out.flags = eof(out.flags);
    }
    return true;
}

int kqueue_state::scan(struct kevent* events, int nevents) {
    int n = 0;
    // Each queued knote is looked at once per scan, so level-triggered ones
    // that stay ready take turns instead of starving the rest.
    for (std::size_t budget = queue_.size(); budget > 0 && n < nevents; --budget) {
        knote_ptr kn = queue_.front();
        queue_.pop_front();
        kn->queued = false;
        if (kn->deleted || !kn->active || !kn->enabled) continue;
        if (!evaluate(*kn, events[n])) {
            kn->active = false;
            continue;
        }
        ++n;
        if (kn->flags & EV_ONESHOT) {
            remove_knote(kn);
            continue;
        }
        if (kn->flags & EV_CLEAR) {
            kn->active = false;
            kn->triggered = false;
        }
        if (kn->flags & EV_DISPATCH) kn->enabled = false;
        if (kn->active && kn->enabled) {
            kn->queued = true;
            queue_.push_back(kn);
        }
    }
    return n;
}

void kqueue_state::signal_sleepers() {
    if (sleepers_ == 0 || notified_ || queue_.empty()) return;
    const std::uint64_t one = 1;
    while (::write(notify_fd_, &one, sizeof one) < 0 && errno == EINTR) {}
    notified_ = true;
}

int kqueue_state::kevent(const struct kevent* changes, int nchanges, struct kevent* events,
                         int nevents, const timespec* timeout) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    std::unique_lock lock(mutex_);

    int nerrors = 0;
    for (int i = 0; i < nchanges; ++i) {
        struct kevent change = changes[i];
        const int err = apply(change);
        if (!err && !(change.flags & EV_RECEIPT)) continue;
        if (nerrors == nevents) {
            if (!err) continue;
            signal_sleepers();
            errno = err;
            return -1;   // no room to report it: the remaining changes are not applied
        }
        change.flags = EV_ERROR;
        change.data = err;
        events[nerrors++] = change;
    }
    signal_sleepers();
    // Receipts and errors are returned at once, without draining events.
    if (nerrors > 0 || nevents == 0) return nerrors;

    for (;;) {
        harvest();
        const int n = scan(events, nevents);
        signal_sleepers();
        if (n > 0) return n;

        timespec left{};
        const timespec* wait_for = nullptr;
        if (timeout) {
            const auto total = std::chrono::seconds(timeout->tv_sec) +
                               std::chrono::nanoseconds(timeout->tv_nsec);
            const auto rest = total - (clock::now() - start);
            if (rest <= clock::duration::zero()) return 0;
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(rest).count();
            left.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
            left.tv_nsec = static_cast<long>(ns % 1'000'000'000);
            wait_for = &left;
        }
        ++sleepers_;
        lock.unlock();
        pollfd p{epfd_, POLLIN, 0};
        const int rc = ::ppoll(&p, 1, wait_for, nullptr);
        const int err = errno;
        lock.lock();
        --sleepers_;
        if (rc < 0) {
            errno = err;
            return -1;   // EINTR: the changes above stay applied (kqueue(2))
        }
    }
}

// Emulated kqueues by descriptor. The descriptor is closed with close(2),
// which the emulation cannot see, so entries whose epoll descriptor has gone
// are dropped whenever a new kqueue is made.
struct kqueue_table {
    std::mutex mutex;
    std::unordered_map<int, std::shared_ptr<kqueue_state>> by_fd;

    // Never destroyed: it outlives threads still in kevent() at exit.
    static std::atomic<kqueue_table*>& instance() {
        static std::atomic<kqueue_table*> table{new kqueue_table};
        return table;
    }
    static kqueue_table& get() { return *instance().load(); }

    // A kqueue is not inherited by fork(2): its descriptor does not exist in
    // the child. The child has one thread, which may find the table locked
    // by a thread of the parent, so it abandons the table instead of
    // locking it.
    static void forget_in_child() noexcept {
        kqueue_table* old = instance().load();
        for (auto& [fd, st] : old->by_fd) {
            ::close(fd);
            ::close(st->notify_fd());
        }
        instance().store(new kqueue_table);
    }

    // Still our epoll set: it holds our notify eventfd.
    static bool alive(int fd, const kqueue_state& st) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = notify_tag;
        return ::epoll_ctl(fd, EPOLL_CTL_MOD, st.notify_fd(), &ev) == 0;
    }
};

}  // namespace

void set_user_events_broken(bool broken) noexcept { user_events_broken.store(broken); }

}  // namespace kqueue_emulation

int kqueue() {
    using namespace kqueue_emulation;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return -1;
    const int nfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = notify_tag;
    if (nfd < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, nfd, &ev) != 0) {
        const int err = errno;
        if (nfd >= 0) ::close(nfd);
        ::close(ep);
        errno = err;
        return -1;
    }
    static std::once_flag at_fork;
    std::call_once(at_fork, [] { ::pthread_atfork(nullptr, nullptr, kqueue_table::forget_in_child); });
    auto st = std::make_shared<kqueue_state>(ep, nfd);
    kqueue_table& t = kqueue_table::get();
    std::lock_guard lock(t.mutex);
    for (auto it = t.by_fd.begin(); it != t.by_fd.end();)
        it = it->first != ep && !kqueue_table::alive(it->first, *it->second) ? t.by_fd.erase(it)
                                                                            : std::next(it);
    t.by_fd[ep] = std::move(st);
    return ep;
}

int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist,
           int nevents, const struct timespec* timeout) {
    using namespace kqueue_emulation;
    std::shared_ptr<kqueue_state> st;
    {
        kqueue_table& t = kqueue_table::get();
        std::lock_guard lock(t.mutex);
        auto it = t.by_fd.find(kq);
        if (it != t.by_fd.end()) st = it->second;
    }
    if (!st) {
        errno = EBADF;
        return -1;
    }
    if (nchanges < 0 || nevents < 0 ||
        (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000))) {
        errno = EINVAL;
        return -1;
    }
    return st->kevent(changelist, nchanges, eventlist, nevents, timeout);
}
