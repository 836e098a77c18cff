// One emulated kqueue: the model of the BSD kernels, kept in user space.
//  - a knote per (ident, filter) holds its flags, udata, enabled state and
//    the kevent its filter produced when it was last activated;
//  - activation evaluates the filter (filters.cpp) and queues the knote if
//    it fired, as the kernels' knote() hooks do: on an epoll edge of the
//    descriptor (every readiness change: data, space, hangup), on a change
//    that registers or touches it, and on a read from a pipe;
//  - kevent() applies the changes, then scans the queue: each knote is
//    evaluated again (not EV_ONESHOT ones under FreeBSD); one whose
//    condition no longer holds leaves the queue; a reported one is reset
//    (EV_CLEAR), deleted (EV_ONESHOT), disabled (EV_DISPATCH) or,
//    level-triggered, queued again at the tail;
//  - the kqueue's descriptor is the epoll descriptor; a blocked kevent()
//    sleeps in ppoll(2) on it (nanosecond timeouts, EINTR), and an eventfd
//    in the set wakes it when another thread queues something for it.
// Everything runs under one mutex per kqueue, so a triggered EV_CLEAR user
// event is handed to exactly one caller.
#pragma once

#include "emulation.hpp"

#include <sys/event.h>

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

namespace kqueue_emulation {

// Flags a knote keeps from the change that created it and returns with each
// event (FreeBSD kqueue_register drops only the action flags).
constexpr unsigned short kept_flags = EV_ONESHOT | EV_CLEAR | EV_DISPATCH | EV_RECEIPT;

struct knote : std::enable_shared_from_this<knote> {
    std::uintptr_t ident = 0;
    short filter = 0;
    unsigned short flags = 0;
    void* udata = nullptr;
    bool enabled = true;
    bool active = false;  // fired, may have something to report
    bool queued = false;
    bool deleted = false;
    knote* next = nullptr;  // on the queue, which is intrusive (the kernels'
    knote* prev = nullptr;  // TAILQ): queueing never allocates
    struct kevent fired {};  // what the filter reported at activation
    // EVFILT_USER state.
    bool triggered = false;
    unsigned int sfflags = 0;
    std::int64_t sdata = 0;
};
using knote_ptr = std::shared_ptr<knote>;

// A descriptor with READ and/or WRITE knotes, and the file it named when
// the first was added: a knote whose number names another file now was
// closed in a way the emulation did not see (inside libc) and is purged.
struct fd_entry {
    dev_t dev = 0;
    ino_t ino = 0;
    bool in_epoll = false;  // false: epoll refuses it (regular file); always ready
    int so_error = 0;       // a socket error, kept as the kernels keep so_error
    knote_ptr read;
    knote_ptr write;
};

class emulated_kqueue {
public:
    emulated_kqueue(int epfd, int notify_fd) noexcept : epfd_(epfd), notify_fd_(notify_fd) {}
    emulated_kqueue(const emulated_kqueue&) = delete;
    emulated_kqueue& operator=(const emulated_kqueue&) = delete;
    // Both descriptors are the kqueue's; the epoll one is its number, closed
    // by whoever closes the kqueue.
    ~emulated_kqueue() { real_close(notify_fd_); }

    int epfd() const noexcept { return epfd_; }
    int notify_fd() const noexcept { return notify_fd_; }

    int kevent(const struct kevent* changes, int nchanges, struct kevent* events, int nevents,
               const timespec* timeout);

    // knote_fdclose(): the descriptor is being closed.
    void descriptor_closing(int fd);
    // Activates the knotes of every readiness change epoll has seen, if fd
    // has knotes here.
    void take_in_changes(int fd);
    // A read took data out of the pipe whose ends have identity dev/ino:
    // the knotes of both ends are evaluated again.
    void pipe_read(dev_t dev, ino_t ino);

private:
    int apply(const struct kevent& change);
    int apply_fd(const struct kevent& change);
    int apply_user(const struct kevent& change);
    void purge(std::map<std::uintptr_t, fd_entry>::iterator it);
    void remove_knote(const knote_ptr& kn);
    void activate(const knote_ptr& kn);
    void enqueue(knote& kn) noexcept;
    void dequeue(knote& kn) noexcept;
    void harvest();
    int scan(struct kevent* events, int nevents);
    void signal_sleepers();
    // filters.cpp: fills `out` and returns true if the knote's filter fires.
    bool evaluate(knote& kn, struct kevent& out);
    bool evaluate_fd(knote& kn, fd_entry& e, struct kevent& out);

    std::mutex mutex_;
    const int epfd_;
    const int notify_fd_;
    int sleepers_ = 0;
    bool notified_ = false;
    std::map<std::uintptr_t, fd_entry> fds_;
    std::map<std::uintptr_t, knote_ptr> users_;
    // The queue of active knotes; the maps above own them, and a knote
    // leaves the queue before it is dropped.
    knote* head_ = nullptr;
    knote* tail_ = nullptr;
    std::size_t queued_ = 0;
};

}  // namespace kqueue_emulation
