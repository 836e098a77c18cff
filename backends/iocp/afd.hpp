// The Ancillary Function Driver (AFD, afd.sys) is the kernel side of
// Winsock; its IOCTL_AFD_POLL is what select() and WSAPoll are built on. Sent
// through a plain handle to \Device\Afd (a "helper", not a socket) that is
// associated with a completion port, a poll runs asynchronously: it
// completes once one of the requested events is true of the socket (at once
// if one is true already) and queues a packet on the port. This is the
// readiness mechanism of wepoll, libuv's uv_poll and mio; it is not in the
// Windows SDK headers, so the structures and codes are declared here, as
// those projects and ReactOS/Wine's afd.h declare them.
//
// A poll reports each condition once and is done (one-shot); the backend
// submits it again as its trigger requires (iocp_backend.hpp).
#pragma once

#include <windows.h>
#include <winternl.h>


namespace unipoll::detail::afd {

// AFD_POLL_* event bits (afd.h of ReactOS and Wine).
inline constexpr ULONG poll_receive = 0x0001;            // data to read
inline constexpr ULONG poll_receive_expedited = 0x0002;  // out-of-band data
inline constexpr ULONG poll_send = 0x0004;               // room to write
inline constexpr ULONG poll_disconnect = 0x0008;         // peer's FIN (graceful close, SHUT_WR)
inline constexpr ULONG poll_abort = 0x0010;              // reset
inline constexpr ULONG poll_local_close = 0x0020;        // the socket was closed here
inline constexpr ULONG poll_accept = 0x0080;             // a connection to accept
inline constexpr ULONG poll_connect_fail = 0x0100;       // a connect() failed

inline constexpr ULONG ioctl_poll = 0x00012024;  // IOCTL_AFD_POLL

// NTSTATUS values the backend tells apart (ntstatus.h, which cannot be
// included next to windows.h without redefinitions).
inline constexpr NTSTATUS status_success = 0;
inline constexpr NTSTATUS status_pending = 0x00000103;
inline constexpr NTSTATUS status_cancelled = static_cast<NTSTATUS>(0xC0000120UL);
inline constexpr NTSTATUS status_not_found = static_cast<NTSTATUS>(0xC0000225UL);
inline constexpr NTSTATUS status_invalid_handle = static_cast<NTSTATUS>(0xC0000008UL);

struct poll_handle_info {
    HANDLE handle;   // the socket's base handle (SIO_BASE_HANDLE)
    ULONG events;    // in: events to wait for; out: events that are true
    NTSTATUS status;
};

// One socket per poll: that keeps one poll per socket in flight, which is
// the only pattern AFD handles reliably (several polls of one socket on one
// port are known to lose events: wepoll issue 35, trio issue 52).
struct poll_info {
    LARGE_INTEGER timeout;  // absolute; INT64_MAX: none
    ULONG handle_count;
    ULONG exclusive;        // FALSE: other polls of the socket stay
    poll_handle_info handles[1];
};

// Win32 error for an NTSTATUS (RtlNtStatusToDosError).
unsigned long win32_error(NTSTATUS status) noexcept;

// A handle to \Device\Afd associated with `port` under completion key
// `key`, or the call that failed and its Win32 error.
struct helper_open_result {
    HANDLE handle = nullptr;
    const char* failed_call = nullptr;  // null on success
    unsigned long error = 0;            // Win32 error of failed_call
};
helper_open_result open_helper(HANDLE port, ULONG_PTR key) noexcept;

// Starts a poll of info.handles[0] through `helper`. The completion packet
// carries `context` as its lpOverlapped. Returns status_pending or
// status_success (completed already; the packet is queued either way), or
// an error status (no packet is queued: the poll never started).
NTSTATUS submit(HANDLE helper, poll_info& info, IO_STATUS_BLOCK& iosb, void* context) noexcept;

// Cancels the poll started with `iosb`: its packet then arrives with
// status_cancelled. status_not_found means it had completed already (its
// packet is queued, or was taken). Either way the poll has one packet.
NTSTATUS cancel(HANDLE helper, IO_STATUS_BLOCK& iosb) noexcept;

}  // namespace unipoll::detail::afd
