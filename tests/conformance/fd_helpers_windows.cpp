// fd_helpers.hpp on Windows: every descriptor is a socket of a loopback TCP
// pair (tests/support/windows), reads and writes are recv()/send(), and the
// "files" of the EPERM case are real file and directory handles, which the
// pollers refuse as non-sockets (windows_cases.cpp).
#include "fd_helpers.hpp"

#include "loopback_pair.hpp"

#include <windows.h>

#include <array>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace conformance {
namespace {

[[noreturn]] void fail_wsa(const std::string& call) {
    throw std::system_error(::WSAGetLastError(), std::system_category(), call);
}

SOCKET as_socket(int fd) noexcept {
    // Sign-extended, as Windows extends 32-bit handle values.
    return static_cast<SOCKET>(static_cast<std::intptr_t>(fd));
}

int as_int(SOCKET s) noexcept { return static_cast<int>(static_cast<std::intptr_t>(s)); }

socket_pair pair_of_sockets() {
    const unipoll_test::loopback_pair p = unipoll_test::make_loopback_pair();
    return socket_pair{unique_fd(as_int(p.a)), unique_fd(as_int(p.b))};
}

// File and directory handles are closed with CloseHandle, sockets with
// closesocket; unique_fd tells them apart by asking Winsock.
bool is_socket(SOCKET s) noexcept {
    int type = 0;
    int len = sizeof type;
    return ::getsockopt(s, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) == 0;
}

}  // namespace

void unique_fd::reset(int fd) noexcept {
    if (fd_ >= 0) {
        const SOCKET s = as_socket(fd_);
        if (is_socket(s))
            ::closesocket(s);
        else
            ::CloseHandle(reinterpret_cast<HANDLE>(s));
    }
    fd_ = fd;
}

pipe_fds make_pipe() {
    socket_pair p = pair_of_sockets();
    return pipe_fds{std::move(p.a), std::move(p.b)};
}

socket_pair make_socketpair() { return pair_of_sockets(); }

void write_byte(int fd) {
    const char byte = 'x';
    if (::send(as_socket(fd), &byte, 1, 0) != 1) fail_wsa("send socket " + std::to_string(fd));
}

std::size_t drain(int fd) {
    std::array<char, 4096> buf;
    std::size_t total = 0;
    for (;;) {
        const int n = ::recv(as_socket(fd), buf.data(), static_cast<int>(buf.size()), 0);
        if (n > 0) {
            total += static_cast<std::size_t>(n);
            continue;
        }
        // 0: end of stream. A reset peer is the end of the stream too
        // (Wine 8 returns 0 there already).
        const int err = n == 0 ? 0 : ::WSAGetLastError();
        if (n == 0 || err == WSAEWOULDBLOCK || err == WSAECONNRESET) return total;
        fail_wsa("recv socket " + std::to_string(fd));
    }
}

std::size_t fill(int fd) {
    const std::array<char, 4096> buf{};
    std::size_t total = 0;
    int chunk = static_cast<int>(buf.size());
    for (;;) {
        const int n = ::send(as_socket(fd), buf.data(), chunk, 0);
        if (n > 0) {
            total += static_cast<std::size_t>(n);
        } else if (::WSAGetLastError() == WSAEWOULDBLOCK) {
            // Top up with single bytes so that the buffer is really full.
            if (chunk == 1) return total;
            chunk = 1;
        } else {
            fail_wsa("send socket " + std::to_string(fd));
        }
    }
}

bool try_write_byte(int fd) {
    const char byte = 'w';
    return ::send(as_socket(fd), &byte, 1, 0) == 1;
}

bool read_sees_end(int fd) {
    std::array<char, 4096> buf;
    for (;;) {
        const int n = ::recv(as_socket(fd), buf.data(), static_cast<int>(buf.size()), 0);
        if (n > 0) continue;
        if (n == 0) return true;
        return ::WSAGetLastError() != WSAEWOULDBLOCK;  // reset: the other end is gone
    }
}

void shut_write(int fd) {
    if (::shutdown(as_socket(fd), SD_SEND) != 0) fail_wsa("shutdown(SD_SEND) socket " + std::to_string(fd));
}

unique_fd open_regular_file() {
    std::array<wchar_t, MAX_PATH + 1> dir{};
    std::array<wchar_t, MAX_PATH + 1> path{};
    if (::GetTempPathW(static_cast<DWORD>(dir.size()), dir.data()) == 0 ||
        ::GetTempFileNameW(dir.data(), L"upc", 0, path.data()) == 0)
        throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                                "GetTempFileName");
    const HANDLE h = ::CreateFileW(path.data(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                                   CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE, nullptr);
    if (h == INVALID_HANDLE_VALUE)
        throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                                "CreateFile(temporary file)");
    return unique_fd(as_int(reinterpret_cast<SOCKET>(h)));
}

unique_fd open_directory() {
    const HANDLE h = ::CreateFileW(L".", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                   OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (h == INVALID_HANDLE_VALUE)
        throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                                "CreateFile(\".\")");
    return unique_fd(as_int(reinterpret_cast<SOCKET>(h)));
}

std::size_t open_descriptor_count() {
    DWORD n = 0;
    ::GetProcessHandleCount(::GetCurrentProcess(), &n);
    return n;
}

double process_cpu_seconds() {
    FILETIME created, exited, kernel, user;
    if (!::GetProcessTimes(::GetCurrentProcess(), &created, &exited, &kernel, &user)) return 0;
    auto secs = [](const FILETIME& t) {
        const auto ticks = (static_cast<std::uint64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime;
        return static_cast<double>(ticks) / 1e7;  // 100 ns units
    };
    return secs(kernel) + secs(user);
}

}  // namespace conformance
