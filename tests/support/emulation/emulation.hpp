// Internal to the kqueue emulation (kqueue_emulation/sys/event.h): what its
// files share. One emulated kqueue is an epoll set plus a table of knotes
// (emulated_kqueue.hpp); the process-wide part (kqueue(), kevent(), the
// table of kqueues, fork) is in kqueue_emulation.cpp, the filters in
// filters.cpp, and the libc calls the emulation must see in
// libc_interposition.cpp.
#pragma once

#include "kqueue_emulation_control.hpp"

#include <sys/types.h>

namespace kqueue_emulation {

// The personality without the environment lookup (resolved at first use).
personality current_personality();
bool user_events_broken() noexcept;
int user_trigger_error() noexcept;

// libc's own calls, past the interposed ones: the emulation closes and
// reads its private descriptors with these, so it never re-enters itself.
int real_close(int fd) noexcept;
ssize_t real_read(int fd, void* buf, size_t n) noexcept;

// The process's descriptor table, as the kernels lock theirs: close() and
// dup2()/dup3() (the knotes' removal and the real call together) hold it
// exclusively, kevent() shared while it applies its changes, so a change
// never reaches a descriptor that is half closed (its knotes gone, the file
// still open) and a thread sanitizer sees the close ordered with a change
// that names the number. A thread that holds it already (the sanitizer's
// own close() inside a kevent()) passes through.
class descriptor_table_lock {
public:
    // Whether this thread is inside the emulation: a close() from there is
    // a sanitizer's own (its symbolizer, while it reports), and must not
    // wait for the locks this thread holds.
    static bool held_here() noexcept;
    enum mode { shared, exclusive };
    explicit descriptor_table_lock(mode m) noexcept;
    ~descriptor_table_lock();
    descriptor_table_lock(const descriptor_table_lock&) = delete;
    descriptor_table_lock& operator=(const descriptor_table_lock&) = delete;

private:
    mode mode_;
    bool held_ = false;  // false: this thread held it already
};

// Called by the interposed libc functions.
// fd is about to be closed (close, dup2/dup3 onto it, close_range): every
// kqueue drops that descriptor's knotes, as knote_fdclose() does in both
// kernels (FreeBSD kern_descrip.c closefp; XNU kern_descrip.c:1767-1768),
// and a kqueue descriptor stops being one.
void descriptor_closing(int fd) noexcept;
// fd is about to be read. A kernel runs a knote's filter when the data
// arrives, so what it reports (and, for FreeBSD's EV_ONESHOT, what it
// delivers unchecked) was taken before a read; the emulation learns of
// arrivals only from epoll, and takes them in now.
void descriptor_reading(int fd) noexcept;
// Data was read from fd.
void descriptor_read(int fd) noexcept;

}  // namespace kqueue_emulation
