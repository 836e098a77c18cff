// The I/O of the echo servers that do their own reads and writes (unipoll,
// the floors, libev): one read of what the socket holds, written straight
// back. A client never has more bytes outstanding than the socket buffers
// hold (docs/compare.md), so a write that cannot finish is an error here,
// not a case to queue.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace compare {

/// Bytes echoed (0: nothing there, a spurious report), or -1 once the
/// client has gone (EOF, reset): the caller then stops watching and closes.
inline long echo_back(int fd, std::span<char> buf) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n == 0) return -1;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    for (ssize_t done = 0; done < n;) {
        // SIGPIPE is ignored (main.cpp): a client reset shows up as EPIPE.
        const ssize_t w = ::write(fd, buf.data() + done, static_cast<std::size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) return -1;
        if (w <= 0)
            throw std::system_error(w < 0 ? errno : EAGAIN, std::generic_category(),
                                    "echo: write(fd " + std::to_string(fd) + ") could not write the reply");
        done += w;
    }
    return static_cast<long>(n);
}

/// The connections such a server has open, by fd; it closes those left.
class open_connections {
public:
    open_connections() = default;
    ~open_connections() {
        for (std::size_t fd = 0; fd < open_.size(); ++fd)
            if (open_[fd]) ::close(static_cast<int>(fd));
    }
    open_connections(const open_connections&) = delete;
    open_connections& operator=(const open_connections&) = delete;

    void add(int fd) {
        const auto i = static_cast<std::size_t>(fd);
        if (open_.size() <= i) open_.resize(i + 1);
        open_[i] = true;
    }
    bool contains(int fd) const {
        const auto i = static_cast<std::size_t>(fd);
        return i < open_.size() && open_[i];
    }
    void close(int fd) {
        ::close(fd);
        open_[static_cast<std::size_t>(fd)] = false;
    }

private:
    std::vector<bool> open_;
};

}  // namespace compare
