// The libc calls a kernel's kqueue sees and an emulation in user space
// would not: a close (close, dup2 and dup3 onto an open number) deletes the
// descriptor's knotes in every kqueue (knote_fdclose), a read takes data
// whose arrival already ran the knotes' filters, and a read from a pipe
// wakes its knotes again. The test executables that link the emulation get
// these definitions ahead of libc's; each does the emulation's part and
// then calls the next definition (a sanitizer's interceptor, else libc's).
//
// Not seen: descriptors closed inside libc (fclose, closefrom, exec) and by
// close_range(2). The emulation then notices a knote whose number names
// another file, or none, and drops it at the next change or scan; a FIFO
// re-opened under the same number that way would keep its knotes.
#include "emulation.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

namespace kqueue_emulation {
namespace {

template <class F>
F next_definition(const char* name) noexcept {
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

using close_fn = int (*)(int);
using dup2_fn = int (*)(int, int);
using dup3_fn = int (*)(int, int, int);
using read_fn = ssize_t (*)(int, void*, size_t);
using readv_fn = ssize_t (*)(int, const iovec*, int);

close_fn next_close() noexcept {
    static const close_fn f = next_definition<close_fn>("close");
    return f;
}
read_fn next_read() noexcept {
    static const read_fn f = next_definition<read_fn>("read");
    return f;
}

// dup2(2)/dup3(2) close newfd first, unless oldfd is bad or newfd is
// oldfd; a newfd that is not open has nothing to close.
void closing_by_dup(int oldfd, int newfd) noexcept {
    if (oldfd != newfd && ::fcntl(oldfd, F_GETFD) != -1 && ::fcntl(newfd, F_GETFD) != -1)
        descriptor_closing(newfd);
}

}  // namespace

int real_close(int fd) noexcept {
    const close_fn f = next_close();
    return f ? f(fd) : static_cast<int>(::syscall(SYS_close, fd));
}

ssize_t real_read(int fd, void* buf, size_t n) noexcept {
    const read_fn f = next_read();
    return f ? f(fd, buf, n) : ::syscall(SYS_read, fd, buf, n);
}

}  // namespace kqueue_emulation

extern "C" {

int close(int fd) {
    if (kqueue_emulation::descriptor_table_lock::held_here()) return kqueue_emulation::real_close(fd);
    const kqueue_emulation::descriptor_table_lock lock(kqueue_emulation::descriptor_table_lock::exclusive);
    const int saved = errno;
    kqueue_emulation::descriptor_closing(fd);
    errno = saved;
    return kqueue_emulation::real_close(fd);
}

int dup2(int oldfd, int newfd) {
    static const auto next = kqueue_emulation::next_definition<kqueue_emulation::dup2_fn>("dup2");
    const kqueue_emulation::descriptor_table_lock lock(kqueue_emulation::descriptor_table_lock::exclusive);
    const int saved = errno;
    kqueue_emulation::closing_by_dup(oldfd, newfd);
    errno = saved;
    return next(oldfd, newfd);
}

int dup3(int oldfd, int newfd, int flags) {
    static const auto next = kqueue_emulation::next_definition<kqueue_emulation::dup3_fn>("dup3");
    const kqueue_emulation::descriptor_table_lock lock(kqueue_emulation::descriptor_table_lock::exclusive);
    const int saved = errno;
    kqueue_emulation::closing_by_dup(oldfd, newfd);
    errno = saved;
    return next(oldfd, newfd, flags);
}

ssize_t read(int fd, void* buf, size_t n) {
    const int saved = errno;
    kqueue_emulation::descriptor_reading(fd);
    errno = saved;
    const ssize_t got = kqueue_emulation::real_read(fd, buf, n);
    if (got > 0) {
        const int kept = errno;
        kqueue_emulation::descriptor_read(fd);
        errno = kept;
    }
    return got;
}

ssize_t readv(int fd, const iovec* iov, int count) {
    static const auto next = kqueue_emulation::next_definition<kqueue_emulation::readv_fn>("readv");
    const int saved = errno;
    kqueue_emulation::descriptor_reading(fd);
    errno = saved;
    const ssize_t got = next(fd, iov, count);
    if (got > 0) {
        const int kept = errno;
        kqueue_emulation::descriptor_read(fd);
        errno = kept;
    }
    return got;
}

}  // extern "C"
