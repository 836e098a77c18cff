// What the Windows backends (iocp, and poll through WSAPoll) share: a
// Winsock session per poller and the mapping of Windows error codes to the
// errno values every other backend throws (docs/semantics.md, "Errors").
//
// Windows reports failures as Win32 errors (GetLastError), Winsock errors
// (WSAGetLastError, 10000 and up, plus a few Win32 codes such as
// WSA_INVALID_HANDLE) and NTSTATUS values (the native calls of the iocp
// backend, converted to Win32 errors first). The same input must give the
// same errno as on POSIX: a value that is not a socket, or a closed socket,
// is EBADF (WSAENOTSOCK, ERROR_INVALID_HANDLE), bad arguments are EINVAL.
#pragma once

#include <unipoll/poller.hpp>

#include <string_view>

namespace unipoll::detail {

// errno for a Win32 or Winsock error code; EIO for codes without a
// counterpart (the message keeps the original code).
int errno_from_windows_error(unsigned long code) noexcept;

// std::system_error (generic category) whose message names the backend, the
// operation, the socket, the call and the Windows code:
// "iocp: add(socket 356): WSAIoctl(SIO_BASE_HANDLE), Windows error 10038:
// Bad file descriptor".
[[noreturn]] void throw_windows_error(unsigned long code, backend b, std::string_view op,
                                      native_handle socket, std::string_view call);

// WSAStartup/WSACleanup around a poller's life: Winsock counts them, so a
// poller works whether or not the application started Winsock itself.
class winsock_session {
public:
    explicit winsock_session(backend owner);  // throws std::system_error
    winsock_session(const winsock_session&) = delete;
    winsock_session& operator=(const winsock_session&) = delete;
    ~winsock_session();
};

}  // namespace unipoll::detail
