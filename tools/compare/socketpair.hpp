// A non-blocking, close-on-exec AF_UNIX socketpair, spelled portably: macOS
// has no SOCK_NONBLOCK/SOCK_CLOEXEC, so the flags are set with fcntl.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>

#include <array>

namespace compare {

inline int nonblocking_socketpair(std::array<int, 2>& sv) {
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv.data()) != 0) return -1;
    for (int fd : sv) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    return 0;
}

}  // namespace compare
