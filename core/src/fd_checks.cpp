#include "fd_checks.hpp"

#include "errors.hpp"

#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/epoll.h>
#else
#include <sys/event.h>
#include <sys/time.h>
#endif

#include <cerrno>

namespace unipoll::detail {
namespace {

// Closes the probe's own descriptor on every path, and counts the close.
struct probe_fd {
    int fd;
    stat_counters& stats;
    ~probe_fd() {
        if (fd < 0) return;
        stat_counters::bump(stats.syscalls);
        ::close(fd);
    }
};

// Whether the kernel can report readiness for fd, asked of the kernel itself
// rather than guessed from the file type: a driver either has a poll method
// or not (ttys, eventfds, /proc and sysfs files have one; files on disk,
// directories, /dev/null, /dev/zero, block devices have none). poll(2) and
// io_uring's POLL_ADD report a file without one as always ready; epoll_ctl
// refuses it with EPERM, and so does this probe, for every backend. A
// throwaway instance per probe: no hidden long-lived descriptor that a
// fork or a close-all-fds loop could share or clobber.
bool kernel_reports_readiness(backend b, std::string_view op, int fd, stat_counters& stats) {
    stat_counters::bump(stats.syscalls);
#if defined(__linux__)
    const probe_fd probe{::epoll_create1(EPOLL_CLOEXEC), stats};
    if (probe.fd < 0) throw_error(errno, b, op, fd, "epoll_create1 (readiness probe)");
    epoll_event ev{};
    ev.events = EPOLLIN;
    stat_counters::bump(stats.syscalls);
    if (::epoll_ctl(probe.fd, EPOLL_CTL_ADD, fd, &ev) == 0) return true;
    if (errno == EPERM) return false;
    throw_error(errno, b, op, fd, "epoll_ctl (readiness probe)");
#else
    // kqueue(2): a vnode or device without a kqfilter is refused by EV_ADD
    // (EINVAL on macOS, ENODEV/EOPNOTSUPP on the BSDs); the kqueue
    // descriptor is closed with the knote.
    const probe_fd probe{::kqueue(), stats};
    if (probe.fd < 0) throw_error(errno, b, op, fd, "kqueue (readiness probe)");
    struct kevent change;
    EV_SET(&change, static_cast<uintptr_t>(fd), EVFILT_READ, EV_ADD, 0, 0, 0);
    const timespec zero{};
    stat_counters::bump(stats.syscalls);
    if (::kevent(probe.fd, &change, 1, nullptr, 0, &zero) == 0) return true;
    if (errno == EBADF || errno == ENOMEM || errno == EINTR)
        throw_error(errno, b, op, fd, "kevent (readiness probe)");
    return false;
#endif
}

}  // namespace

file_identity check_pollable(backend b, std::string_view op, int fd, stat_counters& stats) {
    struct stat st {};
    stat_counters::bump(stats.syscalls);
    if (::fstat(fd, &st) != 0) throw_error(errno, b, op, fd, "fstat");
    file_identity id{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    // Sockets and FIFOs always have readiness: no probe on the hot path.
    if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)) return id;
    bool pollable = false;
#if defined(__linux__)
    // Regular files too go to the probe: files on disk have no poll method,
    // but /proc, sysfs and cgroup files do, and epoll accepts them.
    const bool probe = !S_ISDIR(st.st_mode);
#else
    // kqueue's EVFILT_READ accepts regular files (always readable).
    const bool probe = !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode);
#endif
    if (probe) pollable = kernel_reports_readiness(b, op, fd, stats);
    if (!pollable)
        throw_usage(EPERM, b, op, fd,
                    "the kernel reports no readiness for this file (a regular file, "
                    "directory or device without poll support)");
    return id;
}

}  // namespace unipoll::detail
