// A connected, non-blocking pair of stream sockets and the one-byte reads
// and writes the scenarios make, spelled portably. POSIX: an AF_UNIX
// socketpair, close-on-exec (flags set with fcntl: macOS has no
// SOCK_NONBLOCK/SOCK_CLOEXEC). Windows: a loopback TCP pair (the tests'
// tests/support/windows/loopback_pair.cpp), whose SOCKET values an int holds
// exactly, as Windows keeps handle values within 32 bits.
#pragma once

#ifdef _WIN32
#include "loopback_pair.hpp"

#include <cstdint>
#else
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <array>
#include <exception>

namespace compare {

#ifdef _WIN32
inline SOCKET as_socket(int fd) { return static_cast<SOCKET>(static_cast<std::intptr_t>(fd)); }

inline int nonblocking_socketpair(std::array<int, 2>& sv) {
    try {
        const unipoll_test::loopback_pair p = unipoll_test::make_loopback_pair();
        sv = {static_cast<int>(static_cast<std::intptr_t>(p.a)),
              static_cast<int>(static_cast<std::intptr_t>(p.b))};
        return 0;
    } catch (const std::exception&) {
        return -1;
    }
}
inline void close_socket(int fd) { ::closesocket(as_socket(fd)); }
inline bool send_byte(int fd) {
    const char byte = 'x';
    return ::send(as_socket(fd), &byte, 1, 0) == 1;
}
inline bool recv_byte(int fd) {
    char byte = 0;
    return ::recv(as_socket(fd), &byte, 1, 0) == 1;
}
#else
inline int nonblocking_socketpair(std::array<int, 2>& sv) {
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv.data()) != 0) return -1;
    for (int fd : sv) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    return 0;
}
inline void close_socket(int fd) { ::close(fd); }
inline bool send_byte(int fd) {
    const char byte = 'x';
    return ::write(fd, &byte, 1) == 1;
}
inline bool recv_byte(int fd) {
    char byte = 0;
    return ::read(fd, &byte, 1) == 1;
}
#endif

}  // namespace compare
