// Compile-only stand-in for <sys/event.h> of NetBSD 9 on a 32-bit port
// (i386, earmv7): what the kqueue backend must build against there and no
// runner has. Unlike the headers the backend usually meets:
//  - filter, flags and fflags are uint32_t, and kevent() counts are size_t;
//  - udata is intptr_t, 32 bits on those ports (spelled int32_t here, so the
//    64-bit build machine compiles the 32-bit branch of kevent_compat.hpp);
//  - there is no EV_RECEIPT, EV_DISPATCH or EVFILT_USER (NetBSD 10 added
//    them), so only the kqueue-pipe variant exists.
// Values as NetBSD's; nothing here is ever linked or run.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdint>

struct kevent {
    std::uintptr_t ident;
    std::uint32_t filter;
    std::uint32_t flags;
    std::uint32_t fflags;
    std::int64_t data;
    std::int32_t udata;
};

#define EV_SET(kevp_, a, b, c, d, e, f)       \
    do {                                      \
        struct kevent* ev_set_p_ = (kevp_);   \
        ev_set_p_->ident = (a);               \
        ev_set_p_->filter = (b);              \
        ev_set_p_->flags = (c);               \
        ev_set_p_->fflags = (d);              \
        ev_set_p_->data = (e);                \
        ev_set_p_->udata = (f);               \
    } while (0)

#define EVFILT_READ 0U
#define EVFILT_WRITE 1U

#define EV_ADD 0x0001U
#define EV_DELETE 0x0002U
#define EV_ENABLE 0x0004U
#define EV_DISABLE 0x0008U
#define EV_ONESHOT 0x0010U
#define EV_CLEAR 0x0020U
#define EV_EOF 0x8000U
#define EV_ERROR 0x4000U

int kqueue();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
int kevent(int kq, const struct kevent* changelist, size_t nchanges, struct kevent* eventlist,
           size_t nevents, const struct timespec* timeout);
#pragma GCC diagnostic pop
