// The iocp backend (Windows): readiness through AFD polls (afd.hpp) whose
// completions, and the wake, arrive on one I/O completion port, reaped with
// GetQueuedCompletionStatusEx. Level and oneshot; no edge (below).
//
// Wake: PostQueuedCompletionStatus with a completion key no socket uses.
// A posted packet is delivered exactly once, to one waiter, and consumed by
// that delivery; packets are never merged. That is EVFILT_USER with
// EV_CLEAR without the merging, so the wake protocol of the core applies
// unchanged: a non-blocking poll that takes the wake packet reports it and
// the core relays it to the sleeper (tests/model, mode "packets").
//
// Readiness: every registered socket has at most one AFD poll in flight, on
// its base handle (SIO_BASE_HANDLE), through one of the backend's AFD
// helper handles (32 sockets per helper: AFD's cancellation slows down with
// the number of polls in flight on one handle, as wepoll and trio measured).
// A poll completes once with the events true at that moment, so:
//  - level: a socket whose event was reported is polled again by the next
//    wait, before it reaps (a poll submitted at once would report the
//    readiness of this moment later, after the caller may have drained the
//    socket). One NtDeviceIoControlFile per reported event, as io_uring's
//    one-shot polls.
//  - oneshot: nothing is submitted after the event until modify().
//  - edge: not supported. A poll submitted while data is unread completes
//    at once, so waiting for the next arrival of data (a new edge) would
//    need to see the caller's recv() reach WSAEWOULDBLOCK (mio wraps the
//    socket I/O for that) or to spin; add() with trigger::edge is ENOTSUP.
//  - add() and modify() submit at once, so a sleeping poll sees them;
//    modify() and remove() of a socket with a poll in flight cancel it
//    (NtCancelIoFileEx). The socket's state lives until that poll's packet is
//    reaped: the kernel writes into it until then, and the packet is then
//    recognised and dropped, so nothing of a removed socket is delivered.
//  - AFD_POLL_LOCAL_CLOSE is always requested: a socket closed without
//    remove() while its poll is in flight completes it, and the registration
//    is then dead (reports nothing; add() of the value may replace it).
#pragma once

#include "afd.hpp"
#include "backend_impl.hpp"
#include "winsock.hpp"

#include <winsock2.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace unipoll::detail::iocp {

// Completion keys: the AFD helpers' packets and the wake packet.
inline constexpr ULONG_PTR afd_key = 1;
inline constexpr ULONG_PTR wake_key = 2;

enum class poll_state : std::uint8_t {
    idle,       // no poll in flight
    pending,    // a poll in flight for the current registration
    cancelled,  // a poll in flight that modify() or remove() cancelled
};

// One registered socket. Heap-stable: the kernel writes `iosb` and `info`
// while a poll is in flight, and the packet's lpOverlapped points here.
struct sock_state {
    IO_STATUS_BLOCK iosb{};
    afd::poll_info info{};
    native_handle socket = 0;  // as the caller knows it
    HANDLE base = nullptr;     // what AFD polls (the base service provider's socket)
    HANDLE helper = nullptr;   // the AFD helper its polls go through
    std::uint64_t token = 0;
    interest what = interest::none;
    trigger how = trigger::level;
    bool armed = true;         // false: a oneshot that fired
    bool closed = false;       // closed without remove(): reports nothing
    bool removed = false;      // removed or replaced: freed when its packet comes
    bool queued = false;       // in rearm_, to be polled again by the next wait
    poll_state poll = poll_state::idle;
};

class iocp_backend final : public backend_impl {
public:
    iocp_backend();
    ~iocp_backend() override;
    iocp_backend(const iocp_backend&) = delete;
    iocp_backend& operator=(const iocp_backend&) = delete;

    backend kind() const noexcept override { return backend::iocp; }
    bool supports(trigger how) const noexcept override { return how != trigger::edge; }

    void add(native_handle s, interest what, std::uint64_t token, trigger how) override;
    void modify(native_handle s, interest what, std::uint64_t token, trigger how) override;
    void remove(native_handle s) override;

    wait_result wait(std::span<event> out, std::chrono::nanoseconds timeout) override;
    void post() noexcept override;

private:
    HANDLE base_socket(std::string_view op, native_handle s);
    HANDLE acquire_helper(std::string_view op, native_handle s);
    void release_helper(HANDLE helper) noexcept;

    // All *_locked members run with mu_ held.
    NTSTATUS submit_locked(sock_state& st);
    NTSTATUS arm_locked(sock_state& st);
    void arm_or_throw_locked(sock_state& st, std::string_view op);
    void cancel_locked(sock_state& st) noexcept;
    void retire_locked(std::unique_ptr<sock_state> st) noexcept;
    void queue_locked(sock_state& st);
    void reserve_rearm_lists_locked();
    void unqueue_locked(sock_state& st) noexcept;
    void flush_rearms_locked();
    bool reap_locked(const OVERLAPPED_ENTRY& entry, event& out);

    winsock_session session_;
    HANDLE port_ = nullptr;

    std::mutex mu_;
    std::unordered_map<native_handle, std::unique_ptr<sock_state>> sockets_;
    // Removed or replaced states whose poll is still in flight.
    std::unordered_map<sock_state*, std::unique_ptr<sock_state>> retired_;
    // Each as long as sockets_ (a socket is queued at most once), so that
    // a poll re-arms every level socket without allocating.
    std::vector<sock_state*> rearm_;     // to be polled again by the next wait
    std::vector<sock_state*> flushing_;  // rearm_'s entries while a wait submits them
    std::size_t in_flight_ = 0;       // polls whose packet has not been reaped

    struct helper {
        HANDLE handle;
        std::size_t users;
    };
    std::vector<helper> helpers_;
};

}  // namespace unipoll::detail::iocp
