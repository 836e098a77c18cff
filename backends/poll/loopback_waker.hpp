// The wake primitive of the poll backend on Windows: a connected pair of
// loopback TCP sockets (WSAPoll cannot wait on a pipe, and AF_UNIX sockets
// are missing on older Windows and under Wine). post() sends one byte; the
// read end stays readable until drained, and only the blocking poller
// drains it, exactly like pipe_waker on POSIX.
#pragma once

#include <unipoll/poller.hpp>

#include <winsock2.h>

namespace unipoll::detail {

class loopback_waker {
public:
    explicit loopback_waker(backend owner);  // throws std::system_error
    loopback_waker(const loopback_waker&) = delete;
    loopback_waker& operator=(const loopback_waker&) = delete;
    ~loopback_waker();

    SOCKET read_socket() const noexcept { return rd_; }

    // Returns the system calls made. A full send buffer (WSAEWOULDBLOCK) is
    // fine: the read end is readable already.
    unsigned post() noexcept;

    // Empties the read end; returns the system calls made.
    unsigned drain() noexcept;

private:
    SOCKET rd_ = INVALID_SOCKET;
    SOCKET wr_ = INVALID_SOCKET;
};

}  // namespace unipoll::detail
