// TCP over loopback for the echo scenario: a listener on 127.0.0.1, the
// clients that connect to it and the server ends accepted from it. POSIX
// sockets only.
#pragma once

#include <cstdint>
#include <vector>

namespace compare {

class tcp_listener {
public:
    /// Listens on 127.0.0.1 on a port the kernel picks.
    tcp_listener();
    ~tcp_listener();
    tcp_listener(const tcp_listener&) = delete;
    tcp_listener& operator=(const tcp_listener&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    int fd() const noexcept { return fd_; }
    /// Accepts what is pending (non-blocking), appending each as a
    /// non-blocking, close-on-exec socket with TCP_NODELAY. Returns after
    /// `wait_ms` without a new connection.
    void accept_some(std::vector<int>& out, int wait_ms) const;

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

/// A client socket connected to 127.0.0.1:port: TCP_NODELAY, non-blocking,
/// and closed with a reset (SO_LINGER 0), so that thousands of closes a run
/// leave no TIME_WAIT behind to exhaust the ephemeral ports. Throws
/// std::system_error.
int connect_loopback(std::uint16_t port);

}  // namespace compare
