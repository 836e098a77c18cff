// The part of the kqueue and kqueue-pipe backends that does not depend on
// the wake primitive: one kqueue, an EVFILT_READ and/or EVFILT_WRITE knote
// per registered fd, and the translation of kevents into unipoll events.
// docs/kqueue.md explains each choice; the kernel behaviour it relies on is
// cited from FreeBSD's and XNU's sys/kern/kern_event.c where it is used.
//
// Mapping (docs/semantics.md §"Registrations and events"):
//  - level -> plain knote; edge -> EV_CLEAR; oneshot -> EV_DISPATCH
//    (EV_ONESHOT where there is none). With two filters per fd, "oneshot"
//    means one report per fd: the registry's `armed` flag drops the other
//    filter's event, which EV_DISPATCH lets through at most once.
//  - interest::none -> no knotes at all (the fd stays in the registry).
//  - udata = registry::key(fd, generation): an event still queued for a
//    removed or modified registration no longer matches and is dropped.
//  - Registration changes are queued (change_list.hpp) and applied by the
//    next kevent() call, except while a thread sleeps in kevent(): then
//    they are submitted at once, so the sleeper sees them. Everything the
//    caller can get wrong (EBADF, EPERM, EEXIST, ENOENT) is decided before
//    a change is queued; a queued change that the kernel still refuses is
//    reported as an error event for its own token.
#pragma once

#include "backend_impl.hpp"
#include "change_list.hpp"
#include "event_merger.hpp"
#include "kevent_compat.hpp"
#include "registry.hpp"

#include <unipoll/poller.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

namespace unipoll::detail {

class kqueue_backend : public backend_impl {
public:
    kqueue_backend(const kqueue_backend&) = delete;
    kqueue_backend& operator=(const kqueue_backend&) = delete;
    ~kqueue_backend() override;

    bool supports(trigger) const noexcept override { return true; }

    void add(int fd, interest what, std::uint64_t token, trigger how) override;
    void modify(int fd, interest what, std::uint64_t token, trigger how) override;
    void remove(int fd) override;

    wait_result wait(std::span<event> out, std::chrono::nanoseconds timeout) override;

protected:
    // Takes ownership of kq, a descriptor from open_kqueue().
    explicit kqueue_backend(int kq) noexcept;

    int kq() const noexcept { return kq_; }

    // Registers the wake primitive's knote (kqueue-pipe's pipe) at
    // construction; throws std::system_error naming "create".
    void register_wake(const kq::kevent_t& change);

    // Hooks for the wake primitive of each variant.
    // A descriptor the backend itself keeps in the kqueue (add() refuses it).
    virtual int internal_fd() const noexcept { return -1; }
    virtual bool is_wake_event(const kq::kevent_t& ev) const noexcept = 0;
    // The wake event was returned by kevent: consume it as the primitive
    // requires and say whether to report wake_event to the core.
    virtual bool on_wake_event(bool blocking) noexcept = 0;

    // post() could not make its kernel call and, async-signal-safe, cannot
    // throw: the next poll throws err instead.
    void post_failed(int err) noexcept { post_error_.store(err, std::memory_order_relaxed); }

private:
    // Submits `changes` now (with EV_RECEIPT where there is one), so each
    // change gets its own result in errors[i] (0: applied) and no pending
    // event is drained. Returns 0, or the errno of the call itself.
    int submit_now(kq::kevent_t* changes, int n, int* errors) noexcept;
    // Applies `changes` for op now, undoing the applied ones and throwing the
    // first failure. A delete that finds no knote (ENOENT) is not a failure:
    // a close deleted it, and the file is open again under the same number.
    void apply_now(std::string_view op, int fd, kq::kevent_t* changes, const kq::kevent_t* undo,
                   int n);
    // Queues changes, or applies them now if a thread sleeps in kevent().
    void change_locked(std::string_view op, int fd, kq::kevent_t* changes,
                       const kq::kevent_t* undo, int n);
    // Submits the queued changes on their own (the queue is full, or the
    // caller's span has no room for their errors).
    void flush_locked();
    // Drops fd's registration, whose file was closed without remove(), and
    // whatever of it the kernel may still hold.
    void forget_dead_locked(int fd);
    // A queued change the kernel refused: its registration reports an error.
    void change_failed_locked(const kq::kevent_t& change);

    // The wait, in kqueue_wait.cpp.
    int kevent_call(const kq::kevent_t* changes, int nchanges, kq::kevent_t* evs, int nevents,
                    const timespec* ts) noexcept;
    // Applies the queue in a zero-timeout call that also scans; false if
    // that call could not scan (the queue went apart, or the kernel refused
    // a change and returned only errors).
    bool apply_queued_and_scan_locked(std::span<event> out, bool blocking, wait_result& r);
    // Zero-timeout calls until `out` is full or the kernel has nothing more.
    void scan_locked(std::span<event> out, bool blocking, wait_result& r);
    void translate_locked(const kq::kevent_t* evs, int n, std::span<event> out, bool blocking,
                          wait_result& r);
    void report_failed_locked(std::span<event> out, wait_result& r);
    void throw_post_error();

    int kq_;
    std::uint64_t born_;   // fork generation of the process that opened kq_
    std::mutex mutex_;     // guards everything below
    registry registry_;
    event_merger merger_;
    kq::change_list queued_;
    // Keys of registrations whose queued EV_ADD the kernel refused, to be
    // reported once as error events.
    std::vector<std::uint64_t> failed_;
    // A blocking wait is inside kevent() without the lock: changes go to the
    // kernel at once instead of the queue.
    bool in_kernel_ = false;
    // Event lists, grown to the largest span seen (never per poll): one for
    // calls made under the lock, one for the blocking wait's sleep.
    std::vector<kq::kevent_t> events_;
    std::vector<kq::kevent_t> sleep_events_;
    std::atomic<int> post_error_{0};
};

// kqueue() with FD_CLOEXEC (there is no portable kqueue1/kqueuex); throws
// std::system_error naming `owner`.
int open_kqueue(backend owner);

}  // namespace unipoll::detail
