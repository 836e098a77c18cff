// The filters: whether a knote fires and the kevent it reports, read off
// the descriptor with poll(2), FIONREAD and friends. What they report
// follows the BSD filters for pipes (FreeBSD filt_piperead/filt_pipewrite,
// XNU filt_piperead_common/filt_pipewrite_common) and sockets (FreeBSD
// filt_soread/filt_sowrite in uipc_socket.c, the same in XNU):
//  - EVFILT_READ: data = bytes readable; EV_EOF once the writing side is
//    gone (a pipe's writer closed, a socket's peer shut down writing);
//  - EVFILT_WRITE: data = room to write; EV_EOF once nobody will read (a
//    pipe's reader closed, a socket that can send no more);
//  - with EV_EOF, a socket's pending error in fflags. A socket error
//    without EV_EOF fires the filter and reports nothing else.
#include "emulated_kqueue.hpp"
#include "kernel_calls.hpp"

#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace kqueue_emulation {
namespace {

std::int64_t readable_bytes(int fd) {
    int bytes = 0;
    return kernel::ioctl(fd, FIONREAD, &bytes) == 0 ? bytes : 0;
}

// Room left: a pipe's size less what it holds; a socket's send buffer less
// what is queued in it.
std::int64_t writable_bytes(int fd, const struct stat& st) {
    if (S_ISFIFO(st.st_mode)) {
        const int size = kernel::fcntl(fd, F_GETPIPE_SZ);
        return size > 0 ? std::max<std::int64_t>(size - readable_bytes(fd), 0) : 0;
    }
    if (S_ISSOCK(st.st_mode)) {
        int size = 0;
        socklen_t len = sizeof size;
        int queued = 0;
        if (kernel::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) != 0) return 0;
        if (kernel::ioctl(fd, SIOCOUTQ, &queued) != 0) queued = 0;
        return std::max<std::int64_t>(size - queued, 0);
    }
    return 0;
}

}  // namespace

bool emulated_kqueue::evaluate(knote& kn, struct kevent& out) {
    out = {};
    out.ident = kn.ident;
    out.filter = kn.filter;
    out.flags = kn.flags;
    out.udata = kn.udata;
    if (kn.filter == EVFILT_USER) {
        if (!kn.triggered) return false;
        // filt_usertouch EVENT_PROCESS (FreeBSD), filt_userprocess (XNU):
        // the event's own fflags and data.
        out.fflags = kn.sfflags;
        out.data = kn.sdata;
        return true;
    }
    auto it = fds_.find(kn.ident);
    if (it == fds_.end()) return false;
    return evaluate_fd(kn, it->second, out);
}

bool emulated_kqueue::evaluate_fd(knote& kn, fd_entry& e, struct kevent& out) {
    const int fd = static_cast<int>(kn.ident);
    struct stat st {};
    if (kernel::fstat(fd, &st) != 0 || st.st_dev != e.dev || st.st_ino != e.ino) {
        // Closed where the emulation could not see it (and maybe reused).
        purge(fds_.find(kn.ident));
        return false;
    }
    const bool read = kn.filter == EVFILT_READ;
    if (!e.in_epoll) {
        // Regular files are always ready; READ reports the bytes left.
        if (read && S_ISREG(st.st_mode)) {
            const off_t pos = kernel::lseek(fd, 0, SEEK_CUR);
            out.data = pos >= 0 && st.st_size > pos ? st.st_size - pos : 0;
        }
        return true;
    }
    pollfd p{fd, static_cast<short>(read ? (POLLIN | POLLRDHUP) : POLLOUT), 0};
    if (kernel::poll_now(&p) < 0) return false;
    const bool socket = S_ISSOCK(st.st_mode);
    if (socket && (p.revents & POLLERR) && e.so_error == 0) {
        // Linux clears SO_ERROR when it is read; the emulation keeps it, as
        // the kernels keep so_error, for every later evaluation.
        int err = 0;
        socklen_t len = sizeof err;
        if (kernel::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0) e.so_error = err;
    }
    bool eof;
    if (read) {
        eof = (p.revents & (POLLRDHUP | POLLHUP)) != 0;
        if (!(p.revents & POLLIN) && !eof && !(socket && e.so_error)) return false;
        out.data = readable_bytes(fd);
    } else {
        // POLLERR on a pipe's write end: its reader is gone.
        eof = (p.revents & POLLHUP) || (!socket && (p.revents & POLLERR));
        if (!(p.revents & POLLOUT) && !eof && !(socket && e.so_error)) return false;
        out.data = writable_bytes(fd, st);
    }
    if (eof) {
        out.flags = static_cast<unsigned short>(out.flags | EV_EOF);
        if (socket) out.fflags = static_cast<unsigned int>(e.so_error);
    }
    return true;
}

}  // namespace kqueue_emulation
