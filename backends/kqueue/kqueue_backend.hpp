// The part of the kqueue and kqueue-pipe backends that does not depend on
// the wake primitive: one kqueue, an EVFILT_READ and/or EVFILT_WRITE knote
// per registered fd, and the translation of kevents into unipoll events.
//
// Mapping (docs/semantics.md §"Registrations and events"):
//  - level   -> plain knote; edge -> EV_CLEAR; oneshot -> EV_DISPATCH.
//    EV_DISPATCH rather than EV_ONESHOT: a dispatched knote stays in the
//    kqueue, disabled, so every registered fd has exactly the knotes of its
//    interest whether or not it fired, and modify()/remove() can treat any
//    error from EV_DELETE as real. With two filters per fd, "oneshot" means
//    one report per fd: the registry's `armed` flag drops the other
//    filter's event, which EV_DISPATCH lets through at most once and then
//    disables in the kernel, so no extra kevent call is spent disarming it.
//  - interest::none -> no knotes at all (the fd stays in the registry).
//  - udata = registry::key(fd, generation): an event still queued for a
//    removed or modified registration no longer matches and is dropped.
//  - Registration changes carry EV_RECEIPT and are submitted by add, modify
//    and remove themselves, so their errors are reported synchronously, per
//    change, and no pending event is drained by them.
#pragma once

#include "backend_impl.hpp"
#include "kevent_compat.hpp"
#include "registry.hpp"

#include <unipoll/poller.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>

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
    explicit kqueue_backend(int kq) noexcept : kq_(kq) {
        stat_counters::bump(stats.syscalls, 2);  // open_kqueue: kqueue, fcntl
    }

    int kq() const noexcept { return kq_; }

    // udata of the wake event: bit 31 set, so it is never an fd key.
    static constexpr std::uint64_t wake_key = 0x80000000u;

    // Hooks for the wake primitive of each variant.
    //
    // A change to submit with the next wait's kevent call (the kqueue-pipe
    // variant registers its pipe that way, saving a syscall): return true
    // after filling `change`. Called at most once unless
    // wake_registration_failed() is called.
    virtual bool take_wake_registration(kq::kevent_t& change) noexcept;
    virtual void wake_registration_failed() noexcept {}
    // A descriptor the backend itself keeps in the kqueue (add() refuses it).
    virtual int internal_fd() const noexcept { return -1; }
    virtual bool is_wake_event(const kq::kevent_t& ev) const noexcept = 0;
    // The wake event was returned by kevent: consume it as the primitive
    // requires and say whether to report wake_event to the core.
    virtual bool on_wake_event(bool blocking) noexcept = 0;

    // One kevent(2) call for registration changes, all sent with EV_RECEIPT.
    // Fills errors[i] with the errno of changes[i] (0: applied). Returns 0,
    // or the errno of the call itself (then nothing is known to be applied).
    int submit_changes(kq::kevent_t* changes, int n, int* errors) noexcept;

private:
    // Appends the knotes for `what` under key `k` to changes; returns count.
    static int add_changes(kq::kevent_t* changes, int fd, interest what, trigger how,
                           std::uint64_t k) noexcept;
    static int delete_changes(kq::kevent_t* changes, int fd, interest what) noexcept;
    void apply(std::string_view op, int fd, kq::kevent_t* changes, const kq::kevent_t* undo,
               int n);

    // Appends the events of `evs` to out[count...] and returns the new
    // count; an fd already among out[0..count) (fds[] holds their fds) has
    // the new filter merged into its event instead.
    std::size_t translate(kq::kevent_t* evs, int n, std::span<event> out, bool blocking,
                          bool& wake_event, int* fds, std::size_t count);

    int kq_;
    std::mutex mutex_;   // guards registry_ and keeps kernel and registry in step
    registry registry_;
};

// kqueue() with FD_CLOEXEC (there is no portable kqueue1/kqueuex); throws
// std::system_error naming `owner`.
int open_kqueue(backend owner);

}  // namespace unipoll::detail
