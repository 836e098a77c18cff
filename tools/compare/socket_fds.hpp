// The sockets the readiness and registration scenarios watch: connected
// pairs, both ends watched, so that fd i is made readable by a write on its
// partner, fd i^1. Watching both ends halves the fds a given count needs
// (RLIMIT_NOFILE's hard limit may be fixed).
#pragma once

#include "socketpair.hpp"

#include <array>
#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

namespace compare {

class socket_fds {
public:
    explicit socket_fds(std::size_t n) {
        fds_.reserve(n + 1);
        while (fds_.size() < n) {
            std::array<int, 2> sv{};
            if (nonblocking_socketpair(sv) != 0)
                throw std::system_error(errno, std::generic_category(),
                                        "socketpair (fd " + std::to_string(fds_.size()) + " of " +
                                            std::to_string(n) + ")");
            fds_.push_back(sv[0]);
            fds_.push_back(sv[1]);
        }
    }
    ~socket_fds() {
        for (const int fd : fds_) close_socket(fd);
    }
    socket_fds(const socket_fds&) = delete;
    socket_fds& operator=(const socket_fds&) = delete;

    int fd(std::size_t i) const { return fds_[i]; }
    void make_ready(std::size_t i) const { (void)send_byte(fds_[i ^ 1]); }
    /// Reads the byte make_ready() wrote; false if there was none.
    bool drain(std::size_t i) const { return recv_byte(fds_[i]); }

private:
    std::vector<int> fds_;
};

}  // namespace compare
