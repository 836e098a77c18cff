// The waiting side of the iocp backend: submit the polls the last waits
// left to re-arm, take packets off the port with GetQueuedCompletionStatusEx
// (without the lock, so non-blocking polls run beside a sleeper), and turn
// them into events.
#include "iocp_backend.hpp"

#include "errors.hpp"
#include "timeout_ms.hpp"

#include <algorithm>
#include <array>

namespace unipoll::detail::iocp {
namespace {

bool has(interest set, interest bit) noexcept { return (set & bit) == bit; }

// Packets taken per call (on the stack: a poll does not allocate). Each is
// at most one event, so no more are taken than `out` can hold; a poll calls
// again, without waiting, while a full batch leaves room in `out`.
constexpr std::size_t max_entries = 128;

constexpr ULONG readable_events = afd::poll_receive | afd::poll_accept | afd::poll_disconnect |
                                  afd::poll_abort | afd::poll_connect_fail;
constexpr ULONG writable_events = afd::poll_send | afd::poll_abort | afd::poll_connect_fail;
// A peer's FIN or reset, or a failed connect: POLLHUP/EPOLLRDHUP elsewhere.
constexpr ULONG hangup_events = afd::poll_disconnect | afd::poll_abort | afd::poll_connect_fail;
constexpr ULONG error_events = afd::poll_abort | afd::poll_connect_fail;

}  // namespace

wait_result iocp_backend::wait(std::span<event> out, std::chrono::nanoseconds timeout) {
    {
        std::lock_guard lock(mu_);
        flush_rearms_locked();
    }
    std::array<OVERLAPPED_ENTRY, max_entries> entries;
    // INFINITE is 0xFFFFFFFF; longer finite waits are cut short and resumed
    // by the core.
    const long long ms = milliseconds_rounded_up(timeout, INFINITE - 1);
    DWORD wait_ms = ms < 0 ? INFINITE : static_cast<DWORD>(ms);
    wait_result r;
    for (;;) {
        const auto capacity = static_cast<ULONG>(std::min(out.size() - r.count, entries.size()));
        ULONG n = 0;
        stat_counters::bump(stats.syscalls);
        if (!::GetQueuedCompletionStatusEx(port_, entries.data(), capacity, &n, wait_ms, FALSE)) {
            // The count is meaningful only on success (Wine 8 writes 1 on a
            // timeout).
            const DWORD err = ::GetLastError();
            // Packets already taken are events now: return them.
            if (err == WAIT_TIMEOUT || r.count > 0 || r.wake_event) return r;
            throw_windows_error(err, backend::iocp, "poll", no_fd, "GetQueuedCompletionStatusEx");
        }
        {
            std::lock_guard lock(mu_);
            for (ULONG i = 0; i < n; ++i) {
                if (entries[i].lpCompletionKey == wake_key) {
                    // Consumed by this dequeue; the core relays it if it was
                    // meant for a sleeper and this is a non-blocking poll.
                    r.wake_event = true;
                } else if (reap_locked(entries[i], out[r.count])) {
                    ++r.count;
                }
            }
        }
        // A batch cut short by max_entries may have left packets on the
        // port: take them as well, without waiting, while `out` has room (no
        // cap below the caller's span; one more call per max_entries
        // packets). A batch cut short by `out` is what epoll_wait does too.
        if (n < entries.size() || r.count == out.size()) return r;
        wait_ms = 0;
    }
}

// Level sockets reported by earlier polls are polled again now, before this
// wait reaps: a socket still ready completes at once and is reported by
// this poll, one drained meanwhile is not.
void iocp_backend::flush_rearms_locked() {
    if (rearm_.empty()) return;
    flushing_.swap(rearm_);
    NTSTATUS failed = afd::status_success;
    native_handle failed_socket = no_fd;
    for (sock_state* st : flushing_) {
        st->queued = false;
        const NTSTATUS status = arm_locked(*st);
        if (status == afd::status_success || st->closed) continue;
        // Tried again by the next poll; this one reports the error.
        queue_locked(*st);
        failed = status;
        failed_socket = st->socket;
    }
    flushing_.clear();
    if (failed != afd::status_success)
        throw_windows_error(afd::win32_error(failed), backend::iocp, "poll", failed_socket,
                            "NtDeviceIoControlFile(IOCTL_AFD_POLL)");
}

// One AFD packet. Returns true when it is an event for the caller.
bool iocp_backend::reap_locked(const OVERLAPPED_ENTRY& entry, event& e) {
    auto* st = reinterpret_cast<sock_state*>(entry.lpOverlapped);
    const poll_state was = st->poll;
    st->poll = poll_state::idle;
    --in_flight_;
    if (st->removed) {
        // The last thing the kernel had of a removed socket: free it now.
        retired_.erase(st);
        return false;
    }
    const NTSTATUS status = st->iosb.Status;
    const ULONG events = status >= 0 && st->info.handle_count > 0 ? st->info.handles[0].events : 0;
    if ((events & afd::poll_local_close) != 0) {
        // Closed without remove(): reported no more, as epoll forgets a
        // closed fd; remove() or an add() of the value ends it.
        st->closed = true;
        return false;
    }
    if (was == poll_state::cancelled || status == afd::status_cancelled) {
        // Cancelled by modify() (what it found belongs to the old
        // registration), or by the system (Windows before Vista cancels the
        // I/O of an exiting thread): poll for the registration as it is now.
        if (arm_locked(*st) != afd::status_success && !st->closed) queue_locked(*st);
        return false;
    }
    if (status == afd::status_invalid_handle) {
        st->closed = true;
        return false;
    }
    e = event{};
    e.token = st->token;
    if (status < 0) {
        // The poll itself failed: an error on the socket, as wepoll reports.
        e.error = true;
    } else {
        e.readable = has(st->what, interest::read) && (events & readable_events) != 0;
        e.writable = has(st->what, interest::write) && (events & writable_events) != 0;
        e.hangup = (events & hangup_events) != 0;
        e.error = (events & error_events) != 0;
    }
    if (!e.readable && !e.writable && !e.hangup && !e.error) {
        // Only events nobody asked for: poll again, whatever the trigger.
        queue_locked(*st);
        return false;
    }
    if (st->how == trigger::oneshot) {
        st->armed = false;
    } else {
        queue_locked(*st);
    }
    return true;
}

}  // namespace unipoll::detail::iocp
