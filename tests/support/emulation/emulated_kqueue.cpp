// Changes, activation and the scan of one emulated kqueue. Where FreeBSD
// (sys/kern/kern_event.c) and XNU (bsd/kern/kern_event.c, xnu-11417.101.15)
// differ, the personality picks; each such place names the function (and
// the XNU line) it follows.
#include "emulated_kqueue.hpp"
#include "kernel_calls.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <optional>

namespace kqueue_emulation {
namespace {

constexpr std::uint64_t notify_tag = ~std::uint64_t{0};

bool darwin() { return current_personality() == personality::darwin; }

}  // namespace

void emulated_kqueue::enqueue(knote& kn) noexcept {
    kn.queued = true;
    kn.next = nullptr;
    kn.prev = tail_;
    (tail_ ? tail_->next : head_) = &kn;
    tail_ = &kn;
    ++queued_;
}

void emulated_kqueue::dequeue(knote& kn) noexcept {
    if (!kn.queued) return;
    (kn.prev ? kn.prev->next : head_) = kn.next;
    (kn.next ? kn.next->prev : tail_) = kn.prev;
    kn.next = kn.prev = nullptr;
    kn.queued = false;
    --queued_;
}

void emulated_kqueue::activate(const knote_ptr& kn) {
    // knote(): the filter runs, and only a knote whose filter fires is
    // activated; one already active stays so until a scan finds it idle.
    struct kevent now {};
    if (!evaluate(*kn, now)) return;
    kn->fired = now;
    kn->active = true;
    if (kn->enabled && !kn->queued) enqueue(*kn);
}

void emulated_kqueue::remove_knote(const knote_ptr& kn) {
    kn->deleted = true;
    dequeue(*kn);
    if (kn->filter == EVFILT_USER) {
        users_.erase(kn->ident);
        return;
    }
    auto it = fds_.find(kn->ident);
    if (it == fds_.end()) return;
    (kn->filter == EVFILT_READ ? it->second.read : it->second.write).reset();
    if (!it->second.read && !it->second.write) purge(it);
}

void emulated_kqueue::purge(std::map<std::uintptr_t, fd_entry>::iterator it) {
    for (knote_ptr* kn : {&it->second.read, &it->second.write}) {
        if (!*kn) continue;
        (*kn)->deleted = true;
        dequeue(**kn);
    }
    // Fails harmlessly when the file was closed unseen: epoll forgot it.
    if (it->second.in_epoll) kernel::epoll_ctl(epfd_, EPOLL_CTL_DEL, static_cast<int>(it->first), nullptr);
    fds_.erase(it);
}

void emulated_kqueue::descriptor_closing(int fd) {
    std::lock_guard lock(mutex_);
    auto it = fds_.find(static_cast<std::uintptr_t>(fd));
    if (it != fds_.end()) purge(it);
}

void emulated_kqueue::take_in_changes(int fd) {
    std::lock_guard lock(mutex_);
    if (fds_.count(static_cast<std::uintptr_t>(fd)) == 0) return;
    harvest();
    signal_sleepers();
}

void emulated_kqueue::pipe_read(dev_t dev, ino_t ino) {
    std::lock_guard lock(mutex_);
    for (auto it = fds_.begin(); it != fds_.end();) {
        // activate() may purge the entry; keep the iterator valid.
        auto next = std::next(it);
        const fd_entry& e = it->second;
        if (e.dev == dev && e.ino == ino) {
            const knote_ptr read = e.read;
            const knote_ptr write = e.write;
            if (read) activate(read);
            if (write && !write->deleted) activate(write);
        }
        it = next;
    }
    signal_sleepers();
}

int emulated_kqueue::apply(const struct kevent& change) {
    struct kevent c = change;
    if ((c.flags & (EV_ENABLE | EV_DISABLE)) == (EV_ENABLE | EV_DISABLE)) {
        // FreeBSD kqueue_register refuses both; XNU kevent_register lets
        // EV_DISABLE win.
        if (!darwin()) return EINVAL;
        c.flags = static_cast<unsigned short>(c.flags & ~EV_ENABLE);
    }
    switch (c.filter) {
        case EVFILT_READ:
        case EVFILT_WRITE: return apply_fd(c);
        case EVFILT_USER: return apply_user(c);
        default: return EINVAL;
    }
}

int emulated_kqueue::apply_fd(const struct kevent& change) {
    if (change.ident > static_cast<std::uintptr_t>(INT_MAX)) return EBADF;
    const int fd = static_cast<int>(change.ident);
    struct stat st {};
    const bool open = kernel::fstat(fd, &st) == 0;
    auto it = fds_.find(change.ident);
    if (it != fds_.end() && (!open || it->second.dev != st.st_dev || it->second.ino != st.st_ino)) {
        // Closed where the emulation could not see it: the kernel would
        // have dropped the knotes then.
        purge(it);
        it = fds_.end();
    }
    // FreeBSD kqueue_register looks the descriptor up (fget) before the
    // knote: every change naming a closed one fails with EBADF. XNU
    // kevent_register looks for the knote first (kq_find_knote_and_kq_lock)
    // and the descriptor only to attach a new one: a delete or enable of a
    // closed descriptor is ENOENT there.
    if (!open && !darwin()) return EBADF;
    knote_ptr* slot = nullptr;
    if (it != fds_.end()) slot = change.filter == EVFILT_READ ? &it->second.read : &it->second.write;

    if (change.flags & EV_DELETE) {
        if (!slot || !*slot) return ENOENT;
        remove_knote(*slot);
        return 0;
    }
    if (!slot || !*slot) {
        if (!(change.flags & EV_ADD)) return ENOENT;
        if (!open) return EBADF;
        if (it == fds_.end()) {
            fd_entry e;
            e.dev = st.st_dev;
            e.ino = st.st_ino;
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
            ev.data.u64 = change.ident;
            if (kernel::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0)
                e.in_epoll = true;
            else if (errno != EPERM)  // EPERM: regular file or directory
                return errno;
            it = fds_.emplace(change.ident, e).first;
        }
        slot = change.filter == EVFILT_READ ? &it->second.read : &it->second.write;
        *slot = std::make_shared<knote>();
        (*slot)->ident = change.ident;
        (*slot)->filter = change.filter;
        (*slot)->flags = static_cast<unsigned short>(change.flags & kept_flags);
    }
    // Every change that is not a delete replaces udata (FreeBSD
    // kqueue_register, `kn->kn_kevent.udata = kev->udata`; XNU
    // kevent_register, 4252-4255). The flags a knote was created with stay
    // (FreeBSD keeps kn_kevent.flags; XNU's knote_apply_touch takes only
    // the enable state).
    const knote_ptr kn = *slot;
    kn->udata = change.udata;
    if (change.flags & EV_DISABLE) kn->enabled = false;
    else if (change.flags & EV_ENABLE) kn->enabled = true;
    // Registration runs the filter (FreeBSD f_event after kqueue_register;
    // XNU f_attach/f_touch): a condition that holds now is reported.
    if (kn->enabled) activate(kn);
    return 0;
}

int emulated_kqueue::apply_user(const struct kevent& change) {
    if ((change.fflags & NOTE_TRIGGER) && !(change.flags & EV_DELETE))
        if (const int err = user_trigger_error()) return err;
    auto it = users_.find(change.ident);
    if (change.flags & EV_DELETE) {
        if (it == users_.end()) return ENOENT;
        remove_knote(it->second);
        return 0;
    }
    const bool fire = (change.fflags & NOTE_TRIGGER) && !user_events_broken();
    if (it == users_.end()) {
        if (!(change.flags & EV_ADD)) return ENOENT;
        auto kn = std::make_shared<knote>();
        kn->ident = change.ident;
        kn->filter = EVFILT_USER;
        kn->flags = static_cast<unsigned short>(change.flags & kept_flags);
        kn->sfflags = change.fflags;
        kn->sdata = change.data;
        // FreeBSD kqueue_register zeroes kev->fflags before the attach, and
        // filt_userattach reads kn_fflags: a NOTE_TRIGGER that comes with
        // EV_ADD is ignored. XNU filt_userattach (1935) reads kn_sfflags,
        // which keeps it: the new event fires.
        kn->triggered = fire && darwin();
        it = users_.emplace(change.ident, kn).first;
    } else {
        // filt_usertouch: FreeBSD sets the trigger, combines fflags, takes
        // data, and then an EV_CLEAR in the change resets the trigger, even
        // one this change set. XNU (1946-1972) has no EV_CLEAR step.
        knote& kn = *it->second;
        const unsigned int value = change.fflags & NOTE_FFLAGSMASK;
        switch (change.fflags & NOTE_FFCTRLMASK) {
            case NOTE_FFAND: kn.sfflags &= value; break;
            case NOTE_FFOR: kn.sfflags |= value; break;
            case NOTE_FFCOPY: kn.sfflags = value; break;
            default: break;
        }
        kn.sdata = change.data;
        if (fire) kn.triggered = true;
        if ((change.flags & EV_CLEAR) && !darwin()) kn.triggered = false;
    }
    knote& kn = *it->second;
    kn.udata = change.udata;
    if (change.flags & EV_DISABLE) kn.enabled = false;
    else if (change.flags & EV_ENABLE) kn.enabled = true;
    if (kn.triggered) activate(it->second);
    return 0;
}

void emulated_kqueue::harvest() {
    epoll_event evs[64];
    for (;;) {
        const int n = ::epoll_wait(epfd_, evs, 64, 0);
        for (int i = 0; i < n; ++i) {
            if (evs[i].data.u64 == notify_tag) {
                std::uint64_t v;
                while (real_read(notify_fd_, &v, sizeof v) < 0 && errno == EINTR) {
                }
                notified_ = false;
                continue;
            }
            auto it = fds_.find(static_cast<std::uintptr_t>(evs[i].data.u64));
            if (it == fds_.end()) continue;
            const std::uint32_t e = evs[i].events;
            const knote_ptr read = it->second.read;
            const knote_ptr write = it->second.write;
            if (read && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) activate(read);
            if (write && !write->deleted && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))) activate(write);
        }
        if (n < 64) return;
    }
}

int emulated_kqueue::scan(struct kevent* events, int nevents) {
    int n = 0;
    // Each queued knote is looked at once per scan (FreeBSD's marker, XNU's
    // suppression), so level-triggered ones that stay ready take turns.
    for (std::size_t budget = queued_; budget > 0 && head_ && n < nevents; --budget) {
        // Owned by the maps; held here because evaluating may drop it.
        const knote_ptr kn = head_->shared_from_this();
        dequeue(*kn);
        if (kn->deleted || !kn->active || !kn->enabled) continue;
        if ((kn->flags & EV_ONESHOT) && !darwin()) {
            // FreeBSD kqueue_scan copies an EV_ONESHOT knote out as it was
            // activated and drops it, without running f_event again: what
            // it reports may no longer hold.
            events[n++] = kn->fired;
            remove_knote(kn);
            continue;
        }
        // FreeBSD f_event / XNU knote_process -> f_process (4388): gone idle,
        // the knote leaves the queue without an event.
        if (!evaluate(*kn, events[n])) {
            kn->active = false;
            continue;
        }
        ++n;
        // Dispositions (FreeBSD kqueue_scan; XNU knote_process 4432-4441).
        if (kn->flags & EV_ONESHOT) {
            remove_knote(kn);
            continue;
        }
        if (kn->flags & (EV_CLEAR | EV_DISPATCH)) {
            kn->active = false;
            // Delivery clears a user trigger (FreeBSD filt_usertouch
            // EVENT_PROCESS; XNU filt_userprocess 1975-1990).
            if (kn->flags & EV_CLEAR) kn->triggered = false;
            if (kn->flags & EV_DISPATCH) kn->enabled = false;
            continue;
        }
        enqueue(*kn);
    }
    return n;
}

void emulated_kqueue::signal_sleepers() {
    if (sleepers_ == 0 || notified_ || !head_) return;
    const std::uint64_t one = 1;
    while (::write(notify_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
    notified_ = true;
}

int emulated_kqueue::kevent(const struct kevent* changes, int nchanges, struct kevent* events,
                            int nevents, const timespec* timeout) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    // Changes and filters name user descriptors: not while one is closed
    // (emulation.hpp). Let go of while asleep.
    std::optional<descriptor_table_lock> table(std::in_place, descriptor_table_lock::shared);
    std::unique_lock lock(mutex_);

    int nerrors = 0;
    for (int i = 0; i < nchanges; ++i) {
        struct kevent change = changes[i];
        const int err = apply(change);
        if (!err && !(change.flags & EV_RECEIPT)) continue;
        if (nerrors == nevents) {
            // No room for the entry. FreeBSD kqueue_kevent returns at once:
            // the error, or for a receipt success with nothing applied after
            // it. XNU kevent_internal (8189-8206) goes on past a receipt and
            // stops at an error.
            if (!err && darwin()) continue;
            signal_sleepers();
            if (!err) return 0;
            errno = err;
            return -1;
        }
        // FreeBSD replaces the flags with EV_ERROR; XNU adds it.
        change.flags = static_cast<unsigned short>(darwin() ? change.flags | EV_ERROR : EV_ERROR);
        change.data = err;
        events[nerrors++] = change;
    }
    signal_sleepers();
    // Receipts and errors are returned at once, without scanning (FreeBSD
    // kqueue_kevent returns nerrors; XNU kevent_internal 8208-8209 scans
    // only with noutputs == 0).
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
        table.reset();
        pollfd p{epfd_, POLLIN, 0};
        const int rc = ::ppoll(&p, 1, wait_for, nullptr);
        const int err = errno;
        table.emplace(descriptor_table_lock::shared);
        lock.lock();
        --sleepers_;
        if (rc < 0) {
            errno = err;
            return -1;  // EINTR: the changes above stay applied (kqueue(2))
        }
    }
}

}  // namespace kqueue_emulation
