// Life of the iocp backend and its registrations: the port, the AFD helper
// handles, add/modify/remove, and the wake post. Waiting is iocp_wait.cpp.
#include "iocp_backend.hpp"

#include "backend_factories.hpp"
#include "errors.hpp"

#include <mswsock.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <limits>

namespace unipoll::detail::iocp {
namespace {

// Sockets per AFD helper handle (wepoll and mio use the same size).
constexpr std::size_t sockets_per_helper = 32;

}  // namespace

iocp_backend::iocp_backend() : session_(backend::iocp) {
    port_ = ::CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
    if (port_ == nullptr)
        throw_windows_error(::GetLastError(), backend::iocp, "create", no_fd,
                            "CreateIoCompletionPort");
    // One helper at once, so that creating the backend (which is how it is
    // probed) fails where AFD cannot be opened.
    try {
        acquire_helper("create", no_fd);
        release_helper(helpers_.front().handle);
    } catch (...) {
        ::CloseHandle(port_);
        throw;
    }
}

iocp_backend::~iocp_backend() {
    // The kernel writes into a state until its poll's packet is queued:
    // cancel every poll in flight and take the packets before freeing.
    for (auto& [s, st] : sockets_) cancel_locked(*st);
    for (auto& [p, st] : retired_) cancel_locked(*st);
    std::array<OVERLAPPED_ENTRY, 64> entries;
    // Cancellation completes at once; the bound only keeps a broken driver
    // from hanging the destructor.
    for (int idle_waits = 0; in_flight_ > 0 && idle_waits < 10;) {
        ULONG n = 0;
        if (!::GetQueuedCompletionStatusEx(port_, entries.data(), static_cast<ULONG>(entries.size()),
                                           &n, 100, FALSE)) {
            ++idle_waits;
            continue;
        }
        for (ULONG i = 0; i < n; ++i) {
            if (entries[i].lpCompletionKey != afd_key) continue;
            reinterpret_cast<sock_state*>(entries[i].lpOverlapped)->poll = poll_state::idle;
            --in_flight_;
        }
    }
    // A state whose packet never came may still be written to: leak it
    // rather than free memory the kernel owns.
    for (auto& [s, st] : sockets_)
        if (st->poll != poll_state::idle) (void)st.release();
    for (auto& [p, st] : retired_)
        if (st->poll != poll_state::idle) (void)st.release();
    for (const helper& h : helpers_) ::CloseHandle(h.handle);
    ::CloseHandle(port_);
}

void iocp_backend::post() noexcept {
    stat_counters::bump(stats.syscalls);
    ::PostQueuedCompletionStatus(port_, 0, wake_key, nullptr);
}

// The handle AFD polls: the socket itself unless a layered service provider
// (LSP) wraps it. The call also rejects what is not a socket (EBADF), as
// epoll_ctl does for what is not an fd.
HANDLE iocp_backend::base_socket(std::string_view op, native_handle s) {
    auto query = [&](DWORD ioctl, SOCKET& out) {
        stat_counters::bump(stats.syscalls);
        DWORD bytes = 0;
        return ::WSAIoctl(s, ioctl, nullptr, 0, &out, sizeof out, &bytes, nullptr, nullptr) == 0
                   ? 0
                   : ::WSAGetLastError();
    };
    SOCKET base = INVALID_SOCKET;
    const int err = query(SIO_BASE_HANDLE, base);
    if (err == 0) return reinterpret_cast<HANDLE>(base);
    // Some LSPs fail SIO_BASE_HANDLE on purpose; the provider-specific
    // queries then name the base socket (mio does the same).
    if (err != WSAENOTSOCK) {
        for (DWORD ioctl : {SIO_BSP_HANDLE_SELECT, SIO_BSP_HANDLE_POLL, SIO_BSP_HANDLE})
            if (query(ioctl, base) == 0 && base != s) return reinterpret_cast<HANDLE>(base);
    }
    throw_windows_error(static_cast<unsigned long>(err), backend::iocp, op, s,
                        "WSAIoctl(SIO_BASE_HANDLE)");
}

HANDLE iocp_backend::acquire_helper(std::string_view op, native_handle s) {
    for (helper& h : helpers_) {
        if (h.users < sockets_per_helper) {
            ++h.users;
            return h.handle;
        }
    }
    stat_counters::bump(stats.syscalls, 3);
    const afd::helper_open_result r = afd::open_helper(port_, afd_key);
    if (r.failed_call) throw_windows_error(r.error, backend::iocp, op, s, r.failed_call);
    helpers_.push_back(helper{r.handle, 1});
    return r.handle;
}

// Helpers stay open until the backend goes: a few handles at most, reused
// by later registrations.
void iocp_backend::release_helper(HANDLE handle) noexcept {
    for (helper& h : helpers_)
        if (h.handle == handle) --h.users;
}

NTSTATUS iocp_backend::submit_locked(sock_state& st) {
    ULONG events = afd::poll_local_close;
    if ((st.what & interest::read) == interest::read)
        events |= afd::poll_receive | afd::poll_accept | afd::poll_disconnect | afd::poll_abort |
                  afd::poll_connect_fail;
    if ((st.what & interest::write) == interest::write)
        events |= afd::poll_send | afd::poll_abort | afd::poll_connect_fail;
    st.info.timeout.QuadPart = std::numeric_limits<LONGLONG>::max();
    st.info.handle_count = 1;
    st.info.exclusive = FALSE;
    st.info.handles[0] = afd::poll_handle_info{st.base, events, 0};
    stat_counters::bump(stats.syscalls);
    const NTSTATUS status = afd::submit(st.helper, st.info, st.iosb, &st);
    if (status == afd::status_pending || status == afd::status_success) {
        st.poll = poll_state::pending;
        ++in_flight_;
    }
    return status;
}

// Starts the poll a registration wants now, if it wants one; returns the
// failure, or status_success. A socket closed without remove() (its value
// not reused) fails the submission: the registration is dead from then on.
NTSTATUS iocp_backend::arm_locked(sock_state& st) {
    unqueue_locked(st);
    if (st.poll != poll_state::idle || st.closed || !st.armed || st.what == interest::none)
        return afd::status_success;
    const NTSTATUS status = submit_locked(st);
    if (status == afd::status_pending || status == afd::status_success) return afd::status_success;
    if (status == afd::status_invalid_handle) st.closed = true;
    return status;
}

// For add() and modify(): a submission that failed is the caller's error
// (EBADF for a closed socket, as for a closed fd).
void iocp_backend::arm_or_throw_locked(sock_state& st, std::string_view op) {
    const NTSTATUS status = arm_locked(st);
    if (status != afd::status_success)
        throw_windows_error(afd::win32_error(status), backend::iocp, op, st.socket,
                            "NtDeviceIoControlFile(IOCTL_AFD_POLL)");
}

void iocp_backend::queue_locked(sock_state& st) {
    if (st.queued) return;
    st.queued = true;
    rearm_.push_back(&st);
}

// The poll's packet still comes (as a cancellation, or with the events it
// had completed with) and is then dropped; reap_locked() polls again for
// the registration as it is by then.
void iocp_backend::cancel_locked(sock_state& st) noexcept {
    if (st.poll != poll_state::pending) return;
    stat_counters::bump(stats.syscalls);
    (void)afd::cancel(st.helper, st.iosb);
    st.poll = poll_state::cancelled;
}

void iocp_backend::retire_locked(std::unique_ptr<sock_state> st) noexcept {
    unqueue_locked(*st);
    st->removed = true;
    release_helper(st->helper);
    if (st->poll == poll_state::idle) return;  // nothing in flight: freed here
    cancel_locked(*st);
    sock_state* key = st.get();
    retired_.emplace(key, std::move(st));
}

void iocp_backend::unqueue_locked(sock_state& st) noexcept {
    if (!st.queued) return;
    st.queued = false;
    rearm_.erase(std::find(rearm_.begin(), rearm_.end(), &st));
}

// Grown here, by doubling, rather than by a poll's queue_locked().
void iocp_backend::reserve_rearm_lists_locked() {
    const std::size_t need = sockets_.size();
    for (std::vector<sock_state*>* list : {&rearm_, &flushing_})
        if (list->capacity() < need) list->reserve(std::max(need, 2 * list->capacity()));
}

void iocp_backend::add(native_handle s, interest what, std::uint64_t token, trigger how) {
    const HANDLE base = base_socket("add", s);
    std::lock_guard lock(mu_);
    auto it = sockets_.find(s);
    if (it != sockets_.end()) {
        if (!it->second->closed)
            throw_usage(EEXIST, backend::iocp, "add", s,
                        "already registered (a socket closed without remove() while no poll "
                        "of it was in the kernel keeps its value registered: remove() it first)");
        // The registered socket was closed and a new one has its value.
        retire_locked(std::move(it->second));
        sockets_.erase(it);
    }
    auto st = std::make_unique<sock_state>();
    st->socket = s;
    st->base = base;
    st->helper = acquire_helper("add", s);
    st->token = token;
    st->what = what;
    st->how = how;
    sock_state& ref = *st;
    sockets_.emplace(s, std::move(st));
    try {
        reserve_rearm_lists_locked();
        arm_or_throw_locked(ref, "add");
    } catch (...) {
        // Nothing half registered.
        auto owned = std::move(sockets_.at(s));
        sockets_.erase(s);
        retire_locked(std::move(owned));
        throw;
    }
}

void iocp_backend::modify(native_handle s, interest what, std::uint64_t token, trigger how) {
    std::lock_guard lock(mu_);
    auto it = sockets_.find(s);
    if (it == sockets_.end()) throw_usage(ENOENT, backend::iocp, "modify", s, "not registered");
    sock_state& st = *it->second;
    if (st.closed) {
        // A closed socket is EBADF; a value that names a new socket now was
        // never added (the closed socket's registration is gone).
        (void)base_socket("modify", s);
        retire_locked(std::move(it->second));
        sockets_.erase(it);
        throw_usage(ENOENT, backend::iocp, "modify", s,
                    "the registered socket was closed without remove() and the value reused");
    }
    st.token = token;
    st.what = what;
    st.how = how;
    st.armed = true;
    // A poll in flight was armed for the old registration: whatever it
    // reports must not come out under the new token. Its packet re-arms.
    cancel_locked(st);
    arm_or_throw_locked(st, "modify");
}

void iocp_backend::remove(native_handle s) {
    std::lock_guard lock(mu_);
    auto it = sockets_.find(s);
    if (it == sockets_.end()) throw_usage(ENOENT, backend::iocp, "remove", s, "not registered");
    retire_locked(std::move(it->second));
    sockets_.erase(it);
}

}  // namespace unipoll::detail::iocp

namespace unipoll::detail {

std::unique_ptr<backend_impl> make_iocp_backend() { return std::make_unique<iocp::iocp_backend>(); }

}  // namespace unipoll::detail
