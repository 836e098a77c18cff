#include "winsock.hpp"

#include "errors.hpp"

#include <winsock2.h>

#include <cerrno>
#include <string>

namespace unipoll::detail {

int errno_from_windows_error(unsigned long code) noexcept {
    switch (code) {
        // Not a socket, or a socket closed meanwhile: like a closed fd.
        case WSAENOTSOCK:
        case WSAEBADF:
        case ERROR_INVALID_HANDLE: return EBADF;
        case WSAEINVAL:
        case WSAEFAULT:
        case ERROR_INVALID_PARAMETER: return EINVAL;
        case WSAEINTR: return EINTR;
        case WSAEMFILE:
        case ERROR_TOO_MANY_OPEN_FILES: return EMFILE;
        case WSAENOBUFS: return ENOBUFS;
        case ERROR_NOT_ENOUGH_MEMORY:
        case ERROR_OUTOFMEMORY:
        case ERROR_NO_SYSTEM_RESOURCES:
        case ERROR_NONPAGED_SYSTEM_RESOURCES:
        case ERROR_COMMITMENT_LIMIT: return ENOMEM;
        case WSAEACCES:
        case ERROR_ACCESS_DENIED: return EACCES;
        case WSAEWOULDBLOCK: return EWOULDBLOCK;
        case WSAEOPNOTSUPP:
        case WSAEAFNOSUPPORT:
        case WSAEPROTONOSUPPORT:
        case WSAESOCKTNOSUPPORT:
        case ERROR_NOT_SUPPORTED: return ENOTSUP;
        // Winsock or the AFD driver missing or not started: the backend is
        // not available here, as ENOSYS says of a missing kernel call.
        case WSASYSNOTREADY:
        case WSAVERNOTSUPPORTED:
        case WSANOTINITIALISED:
        case ERROR_INVALID_FUNCTION:
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND: return ENOSYS;
        case WSAENETDOWN: return ENETDOWN;
        case WSAECONNRESET: return ECONNRESET;
        case WSAECONNREFUSED: return ECONNREFUSED;
        case WSAEADDRINUSE: return EADDRINUSE;
        case ERROR_OPERATION_ABORTED: return ECANCELED;
        default: return EIO;
    }
}

void throw_windows_error(unsigned long code, backend b, std::string_view op,
                         native_handle socket, std::string_view call) {
    std::string what(call);
    what += ", Windows error ";
    what += std::to_string(code);
    throw_error(errno_from_windows_error(code), b, op, socket, what);
}

winsock_session::winsock_session(backend owner) {
    WSADATA data;
    // WSAStartup returns its error instead of setting WSAGetLastError().
    if (const int rc = ::WSAStartup(MAKEWORD(2, 2), &data); rc != 0)
        throw_windows_error(static_cast<unsigned long>(rc), owner, "create", no_fd, "WSAStartup");
}

winsock_session::~winsock_session() { ::WSACleanup(); }

}  // namespace unipoll::detail
