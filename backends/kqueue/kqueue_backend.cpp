// Registration: add, modify and remove, queued or submitted at once
// (kqueue_backend.hpp), and the kqueue's life.
#include "kqueue_backend.hpp"

#include "errors.hpp"
#include "fd_checks.hpp"
#include "fork_guard.hpp"
#include "kqueue_keys.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>

namespace unipoll::detail {
namespace {

// add: two EV_ADDs; modify: two EV_DELETEs and two EV_ADDs.
constexpr int max_changes = 4;

kq::flags_t trigger_flags(trigger how) noexcept {
    switch (how) {
        case trigger::level: break;
        case trigger::edge: return kq::as_flags(EV_CLEAR);
        case trigger::oneshot: return kq::as_flags(kq::oneshot_flag);
    }
    return 0;
}

// Appends the knotes for `what` under key `k`; returns how many.
int add_changes(kq::kevent_t* changes, int fd, interest what, trigger how, std::uint64_t k) noexcept {
    const kq::flags_t flags = kq::as_flags(EV_ADD | trigger_flags(how));
    const auto ident = static_cast<std::uintptr_t>(fd);
    int n = 0;
    if (kq::wants(what, interest::read))
        changes[n++] = kq::make_kevent(ident, EVFILT_READ, flags, 0, kq::udata_bits(k));
    if (kq::wants(what, interest::write))
        changes[n++] = kq::make_kevent(ident, EVFILT_WRITE, flags, 0, kq::udata_bits(k));
    return n;
}

// udata 0 is never a key, so an error a queued delete comes back with is
// recognised as nobody's (kqueue_wait.cpp).
int delete_changes(kq::kevent_t* changes, int fd, interest what) noexcept {
    const auto ident = static_cast<std::uintptr_t>(fd);
    const kq::flags_t flags = kq::as_flags(EV_DELETE);
    int n = 0;
    if (kq::wants(what, interest::read)) changes[n++] = kq::make_kevent(ident, EVFILT_READ, flags, 0, 0);
    if (kq::wants(what, interest::write)) changes[n++] = kq::make_kevent(ident, EVFILT_WRITE, flags, 0, 0);
    return n;
}

bool is_delete(const kq::kevent_t& change) noexcept { return (change.flags & EV_DELETE) != 0; }

std::string_view call_of(const kq::kevent_t& change) noexcept {
    return is_delete(change) ? "kevent(EV_DELETE)" : "kevent(EV_ADD)";
}

}  // namespace

kqueue_backend::kqueue_backend(int kq) noexcept : kq_(kq), born_(fork_generation()) {
    stat_counters::bump(stats.syscalls, 2);  // open_kqueue: kqueue, fcntl
}

// A kqueue is not inherited by fork() (kqueue(2) on FreeBSD and macOS): in a
// child its number is free and may belong to anything the child opened
// since, its own poller's kqueue included. Only the process that opened it
// closes it.
kqueue_backend::~kqueue_backend() {
    if (fork_generation() == born_) ::close(kq_);
}

int kqueue_backend::submit_now(kq::kevent_t* changes, int n, int* errors) noexcept {
    for (int i = 0; i < n; ++i) errors[i] = 0;
    const timespec zero{};
    if constexpr (kq::has_receipt) {
        // With EV_RECEIPT every change yields one entry (EV_ERROR set, data =
        // 0 or the errno), in changelist order, and the call returns them
        // without scanning: an event list exactly that long drains nothing.
        std::array<kq::kevent_t, kq::change_list::capacity> receipts{};
        for (int i = 0; i < n; ++i) changes[i].flags = kq::as_flags(changes[i].flags | kq::receipt_flag);
        int got;
        do {
            stat_counters::bump(stats.syscalls);
            got = ::kevent(kq_, changes, n, receipts.data(), n, &zero);
        } while (got < 0 && errno == EINTR);
        if (got < 0) return errno;
        for (int i = 0; i < got && i < n; ++i) {
            const kq::kevent_t& rc = receipts[static_cast<std::size_t>(i)];
            if ((rc.flags & EV_ERROR) && rc.data != 0) errors[i] = static_cast<int>(rc.data);
        }
    } else {
        // Without it, one change per call and no event list: the call fails
        // with exactly that change's errno and scans nothing.
        for (int i = 0; i < n; ++i) {
            int rc;
            do {
                stat_counters::bump(stats.syscalls);
                rc = ::kevent(kq_, &changes[i], 1, nullptr, 0, &zero);
            } while (rc < 0 && errno == EINTR);
            if (rc < 0) errors[i] = errno;
        }
    }
    return 0;
}

void kqueue_backend::apply_now(std::string_view op, int fd, kq::kevent_t* changes,
                               const kq::kevent_t* undo, int n) {
    std::array<int, max_changes> errors{};
    if (const int err = submit_now(changes, n, errors.data()))
        throw_error(err, kind(), op, fd, "kevent");
    std::array<bool, max_changes> applied{};
    int failed = -1;
    for (int i = 0; i < n; ++i) {
        const int err = errors[static_cast<std::size_t>(i)];
        // Closing a descriptor deletes its knotes (knote_fdclose, FreeBSD and
        // XNU), even when the same file comes back under the number (a FIFO
        // opened again, dup2 of a surviving duplicate): nothing to delete.
        if (err == ENOENT && is_delete(changes[i])) continue;
        if (err == 0) applied[static_cast<std::size_t>(i)] = true;
        else if (failed < 0) failed = i;
    }
    if (failed < 0) return;
    std::array<kq::kevent_t, max_changes> redo{};
    std::array<int, max_changes> ignored{};
    int m = 0;
    for (int i = n; i-- > 0;)
        if (applied[static_cast<std::size_t>(i)]) redo[static_cast<std::size_t>(m++)] = undo[i];
    if (m > 0) submit_now(redo.data(), m, ignored.data());
    throw_error(errors[static_cast<std::size_t>(failed)], kind(), op, fd, call_of(changes[failed]));
}

void kqueue_backend::change_locked(std::string_view op, int fd, kq::kevent_t* changes,
                                   const kq::kevent_t* undo, int n) {
    if (n == 0) return;  // interest::none on both sides: nothing for the kernel
    if (in_kernel_) {
        // A thread sleeps in kevent() and must see the change now. The queue
        // is empty (that wait applied it before sleeping), so this call is
        // ordered after every earlier change; its errors are the caller's.
        apply_now(op, fd, changes, undo, n);
        return;
    }
    if (!queued_.has_room(static_cast<std::size_t>(n))) flush_locked();
    for (int i = 0; i < n; ++i) {
        if (is_delete(changes[i]))
            queued_.push_delete(changes[i]);
        else
            queued_.push(changes[i]);
    }
}

void kqueue_backend::flush_locked() {
    if (queued_.empty()) return;
    const int n = static_cast<int>(queued_.size());
    std::array<int, kq::change_list::capacity> errors{};
    const int err = submit_now(queued_.data(), n, errors.data());
    for (int i = 0; i < n; ++i) {
        const int e = err ? err : errors[static_cast<std::size_t>(i)];
        if (e != 0) change_failed_locked(queued_.data()[i]);
    }
    queued_.clear();
}

void kqueue_backend::change_failed_locked(const kq::kevent_t& change) {
    // A delete's udata is no key: its knote is gone either way (ENOENT,
    // EBADF after a close), and so is its registration.
    const std::uint64_t k = kq::key_of(change);
    registration* r = registry_.lookup(k);
    if (!r || !r->armed) return;
    // Half of a read_write pair may have been added: silence both until
    // modify() or remove(), after one error event for the token.
    r->armed = false;
    failed_.push_back(k);
}

void kqueue_backend::forget_dead_locked(int fd) {
    const registration* r = registry_.find(fd);
    // Its changes still queued never reached the kernel: dropping them is
    // all. Applied ones either preceded the close, which deleted their
    // knotes, or came after it (a queued EV_ADD applied once the number
    // named the new file): then the kernel holds knotes of the dead
    // registration on the new file, which must go before the new file's
    // own are added. Both are possible, so delete; an ENOENT is harmless.
    if (!queued_.drop(static_cast<std::uintptr_t>(fd))) {
        std::array<kq::kevent_t, max_changes> deletes{};
        const int n = delete_changes(deletes.data(), fd, r->what);
        if (in_kernel_) {
            std::array<int, max_changes> ignored{};
            if (n > 0) submit_now(deletes.data(), n, ignored.data());
        } else {
            if (!queued_.has_room(static_cast<std::size_t>(n))) flush_locked();
            for (int i = 0; i < n; ++i) queued_.push_delete(deletes[static_cast<std::size_t>(i)]);
        }
    }
    registry_.erase(fd);
}

void kqueue_backend::register_wake(const kq::kevent_t& change) {
    kq::kevent_t c = change;
    int err = 0;
    if (const int e = submit_now(&c, 1, &err)) err = e;
    if (err) throw_error(err, kind(), "create", no_fd, "kevent(EV_ADD) of the wake pipe");
}

void kqueue_backend::add(int fd, interest what, std::uint64_t token, trigger how) {
    const file_identity id = check_pollable(kind(), "add", fd, stats);

    std::lock_guard lock(mutex_);
    if (fd == internal_fd())
        throw_usage(EEXIST, kind(), "add", fd, "the poller uses this descriptor itself");
    switch (registry_.holder_of(fd, id)) {
        case registry::holder::none: break;
        case registry::holder::same_file:
            // Never closed, or closed and the same file put back under the
            // number: either way modify() is what arms it again.
            throw_usage(EEXIST, kind(), "add", fd, "already registered");
        case registry::holder::other_file:
            // The registered file was closed without remove() and the
            // number now names another file.
            forget_dead_locked(fd);
            break;
    }
    merger_.reserve(fd);
    registration& r = registry_.insert(fd, what, token, how);
    registry::record_file(r, id);
    std::array<kq::kevent_t, max_changes> changes{};
    std::array<kq::kevent_t, max_changes> undo{};
    const int n = add_changes(changes.data(), fd, what, how, registry::key(fd, r.gen));
    delete_changes(undo.data(), fd, what);
    try {
        change_locked("add", fd, changes.data(), undo.data(), n);
    } catch (...) {
        registry_.erase(fd);
        throw;
    }
}

void kqueue_backend::modify(int fd, interest what, std::uint64_t token, trigger how) {
    std::lock_guard lock(mutex_);
    registration* r = registry_.find(fd);
    // ENOENT before EBADF: an fd that is not registered is "not
    // registered" whether or not it is open, the same on every backend.
    if (!r) throw_usage(ENOENT, kind(), "modify", fd, "not registered");
    // A registered fd closed without remove() gives EBADF and stays
    // registered until remove().
    const file_identity id = check_pollable(kind(), "modify", fd, stats);
    if (registry_.holder_of(fd, id) == registry::holder::other_file) {
        // Same number, other file: the registered one was closed without
        // remove(), so it is not registered any more, as on epoll.
        forget_dead_locked(fd);
        throw_usage(ENOENT, kind(), "modify", fd, "not registered (the registered file was closed)");
    }

    // Delete and re-add rather than edit in place: a repeated EV_ADD
    // updates only udata and the filter's data (FreeBSD kqueue_register,
    // XNU kevent_register: EV_CLEAR/EV_DISPATCH are fixed when the knote is
    // created), and a fresh knote evaluates the fd's current state, so a
    // level or edge condition that holds is reported again.
    const registration old = *r;
    const std::uint32_t gen = registry_.renew(*r);
    std::array<kq::kevent_t, max_changes> changes{};
    std::array<kq::kevent_t, max_changes> undo{};
    const int deleted = delete_changes(changes.data(), fd, old.what);
    add_changes(undo.data(), fd, old.what, old.how, registry::key(fd, old.gen));
    const int added = add_changes(changes.data() + deleted, fd, what, how, registry::key(fd, gen));
    delete_changes(undo.data() + deleted, fd, what);
    try {
        change_locked("modify", fd, changes.data(), undo.data(), deleted + added);
    } catch (...) {
        *r = old;
        throw;
    }
    r->what = what;
    r->token = token;
    r->how = how;
    r->armed = true;
}

void kqueue_backend::remove(int fd) {
    std::lock_guard lock(mutex_);
    registration* r = registry_.find(fd);
    if (!r) throw_usage(ENOENT, kind(), "remove", fd, "not registered");

    std::array<kq::kevent_t, max_changes> changes{};
    const int n = delete_changes(changes.data(), fd, r->what);
    if (n > 0 && in_kernel_) {
        std::array<int, max_changes> errors{};
        if (const int err = submit_now(changes.data(), n, errors.data()))
            throw_error(err, kind(), "remove", fd, "kevent");
        for (int i = 0; i < n; ++i) {
            const int err = errors[static_cast<std::size_t>(i)];
            // EBADF (FreeBSD) or ENOENT (XNU, or the number reused): the fd
            // was closed, which deleted its knotes.
            if (err != 0 && err != EBADF && err != ENOENT)
                throw_error(err, kind(), "remove", fd, "kevent(EV_DELETE)");
        }
    } else if (n > 0) {
        if (!queued_.has_room(static_cast<std::size_t>(n))) flush_locked();
        for (int i = 0; i < n; ++i) queued_.push_delete(changes[static_cast<std::size_t>(i)]);
    }
    registry_.erase(fd);
}

int open_kqueue(backend owner) {
    const int kq = ::kqueue();
    if (kq < 0) throw_error(errno, owner, "create", no_fd, "kqueue");
    // kqueues are not inherited across fork, but they are across exec.
    ::fcntl(kq, F_SETFD, FD_CLOEXEC);
    return kq;
}

}  // namespace unipoll::detail
