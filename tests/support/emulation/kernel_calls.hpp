// The system calls the emulation makes on the user's descriptors, as the
// kernel it stands for would look at them from inside: raw syscall(2), past
// libc and past a sanitizer's interceptors. A thread sanitizer models each
// descriptor as memory and would order these looks against the user's own
// socketpair() and close() of the number, which a kernel's kevent() never
// races with; its reports would be about the emulation, not the code under
// test.
#pragma once

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kqueue_emulation::kernel {

inline int fstat(int fd, struct stat* st) noexcept {
    return static_cast<int>(::syscall(SYS_fstat, fd, st));
}
inline int ioctl(int fd, unsigned long request, int* arg) noexcept {
    return static_cast<int>(::syscall(SYS_ioctl, fd, request, arg));
}
inline int fcntl(int fd, int cmd) noexcept { return static_cast<int>(::syscall(SYS_fcntl, fd, cmd)); }
inline off_t lseek(int fd, off_t offset, int whence) noexcept {
    return static_cast<off_t>(::syscall(SYS_lseek, fd, offset, whence));
}
inline int getsockopt(int fd, int level, int name, void* value, socklen_t* len) noexcept {
    return static_cast<int>(::syscall(SYS_getsockopt, fd, level, name, value, len));
}
// A zero-timeout poll of one descriptor (ppoll: aarch64 has no poll).
inline int poll_now(pollfd* p) noexcept {
    const timespec zero{};
    return static_cast<int>(::syscall(SYS_ppoll, p, 1, &zero, nullptr, 0));
}

inline int epoll_ctl(int epfd, int op, int fd, epoll_event* ev) noexcept {
    return static_cast<int>(::syscall(SYS_epoll_ctl, epfd, op, fd, ev));
}

}  // namespace kqueue_emulation::kernel
