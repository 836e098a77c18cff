#include "fd_pool.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace unipoll_fuzz {
namespace {

// Large enough for one fill step; static so a run allocates nothing per op.
std::array<char, 65536> scratch{};

// A fill stops here even if the kernel keeps accepting (it does not: pipes
// hold 64 KiB and Unix sockets a few hundred).
constexpr std::size_t fill_limit = 16u << 20;

}  // namespace

fd_pool::~fd_pool() {
    for (auto& s : slots_)
        for (int& fd : s.fds)
            if (fd >= 0) ::close(fd);
}

bool fd_pool::open(int slot_index, bool socket) {
    slot_state& s = slots_[static_cast<std::size_t>(slot_index)];
    if (s.fds[0] >= 0 || s.fds[1] >= 0) return false;
    int fds[2];
    // socketpair/pipe + fcntl: macOS has neither SOCK_NONBLOCK nor pipe2.
    const int rc = socket ? ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : ::pipe(fds);
    if (rc != 0) throw harness_error{socket ? "socketpair failed" : "pipe failed"};
    for (int fd : fds) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    s = slot_state{socket, {fds[0], fds[1]}, {fds[0], fds[1]}, {}, {}};
    return true;
}

int fd_pool::close(endpoint e, bool registered) {
    slot_state& s = slot(e);
    const int fd = s.fds[e.end];
    if (fd < 0) return -1;
    ::close(fd);
    s.fds[e.end] = -1;
    s.lingering[e.end] = registered;
    // What was queued for this end is gone with it.
    s.queued[e.end] = 0;
    return fd;
}

int fd_pool::number(endpoint e) const noexcept {
    const slot_state& s = slot(e);
    return s.fds[e.end] >= 0 ? s.fds[e.end] : s.last[e.end];
}

std::optional<endpoint> fd_pool::locate(int fd) const noexcept {
    if (fd < 0) return std::nullopt;
    for (int i = 0; i < pool_slots; ++i)
        for (int end = 0; end < 2; ++end)
            if (slots_[static_cast<std::size_t>(i)].fds[static_cast<std::size_t>(end)] == fd)
                return endpoint{i, end};
    return std::nullopt;
}

endpoint fd_pool::writer(endpoint e) const noexcept {
    return is_socket(e.slot) ? e : endpoint{e.slot, 1};
}

endpoint fd_pool::reader(endpoint e) const noexcept {
    return is_socket(e.slot) ? e : endpoint{e.slot, 0};
}

std::size_t fd_pool::incoming(endpoint e) const noexcept {
    return can_read(e) ? slot(e).queued[e.end] : 0;
}

std::size_t fd_pool::outgoing(endpoint e) const noexcept {
    return can_write(e) ? slot(e).queued[1 - e.end] : 0;
}

long fd_pool::write_once(int fd, bool socket, std::size_t bytes) {
    bytes = std::min(bytes, scratch.size());
    // MSG_NOSIGNAL: a write to a closed peer must give EPIPE, not kill the
    // fuzzer (the harness also ignores SIGPIPE for the pipes).
    return socket ? ::send(fd, scratch.data(), bytes, MSG_NOSIGNAL)
                  : ::write(fd, scratch.data(), bytes);
}

std::size_t fd_pool::write(endpoint from, std::size_t bytes) {
    from = writer(from);
    const int fd = this->fd(from);
    if (fd < 0) return 0;
    const long n = write_once(fd, is_socket(from.slot), bytes);
    if (n < 0) {
        if (errno == EAGAIN || errno == EPIPE || errno == ECONNRESET) return 0;
        throw harness_error{"write failed with an unexpected errno"};
    }
    if (peer_gone(from)) throw harness_error{"write to a closed peer succeeded"};
    slot(from).queued[1 - from.end] += static_cast<std::size_t>(n);
    return static_cast<std::size_t>(n);
}

std::size_t fd_pool::fill(endpoint from) {
    std::size_t total = 0;
    while (total < fill_limit) {
        const std::size_t n = write(from, scratch.size());
        if (n == 0) break;
        total += n;
    }
    return total;
}

std::size_t fd_pool::read(endpoint at, std::size_t bytes) {
    at = reader(at);
    const int fd = this->fd(at);
    if (fd < 0) return 0;
    std::size_t& queued = slot(at).queued[at.end];
    std::size_t total = 0;
    for (;;) {
        const std::size_t want = bytes ? std::min(bytes - total, scratch.size()) : scratch.size();
        const long n = ::read(fd, scratch.data(), want);
        if (n < 0) {
            // ECONNRESET: the peer closed with data of ours unread; Linux
            // reports it once on the next read of an empty socket.
            if (errno == EAGAIN || errno == ECONNRESET) break;
            throw harness_error{"read failed with an unexpected errno"};
        }
        if (n == 0) break;
        if (static_cast<std::size_t>(n) > queued) throw harness_error{"read more bytes than were written"};
        queued -= static_cast<std::size_t>(n);
        total += static_cast<std::size_t>(n);
        if (bytes && total == bytes) break;
    }
    if (queued != 0 && (bytes == 0 || total < bytes))
        throw harness_error{"read stopped short while bytes were queued"};
    return total;
}

}  // namespace unipoll_fuzz
