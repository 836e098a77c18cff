// Test-only stand-in for the BSD <sys/event.h> on Linux: the subset of
// kqueue(2) that unipoll's kqueue backends use, emulated on epoll by
// kqueue_emulation.cpp, so the shared conformance suite can run the
// backends' own code on Linux. Never part of the installed library.
//
// Layout and constant values follow FreeBSD's header. C++ only: the two
// functions have C++ linkage, so they cannot collide with a C library
// symbol of the same name (glibc has none; libkqueue would).
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdint>

struct kevent {
    std::uintptr_t ident;  // a descriptor for READ/WRITE, any number for USER
    short filter;
    unsigned short flags;
    unsigned int fflags;
    std::int64_t data;
    void* udata;
    std::uint64_t ext[4];
};

#define EV_SET(kevp_, a, b, c, d, e, f) \
    do {                                \
        struct kevent* ev_set_p_ = (kevp_); \
        ev_set_p_->ident = (a);         \
        ev_set_p_->filter = (b);        \
        ev_set_p_->flags = (c);         \
        ev_set_p_->fflags = (d);        \
        ev_set_p_->data = (e);          \
        ev_set_p_->udata = (f);         \
        ev_set_p_->ext[0] = 0;          \
        ev_set_p_->ext[1] = 0;          \
        ev_set_p_->ext[2] = 0;          \
        ev_set_p_->ext[3] = 0;          \
    } while (0)

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EVFILT_USER (-11)

// actions
#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
// flags
#define EV_ONESHOT 0x0010
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_DISPATCH 0x0080
// returned values
#define EV_EOF 0x8000
#define EV_ERROR 0x4000

// EVFILT_USER fflags: the top two bits of an input fflags say how its low
// 24 bits combine with the event's; NOTE_TRIGGER fires the event.
#define NOTE_FFNOP 0x00000000u
#define NOTE_FFAND 0x40000000u
#define NOTE_FFOR 0x80000000u
#define NOTE_FFCOPY 0xc0000000u
#define NOTE_FFCTRLMASK 0xc0000000u
#define NOTE_FFLAGSMASK 0x00ffffffu
#define NOTE_TRIGGER 0x01000000u

int kqueue();
// The function shares its name with the struct, as on every BSD; GCC's
// -Wshadow objects, which it does not for a real system header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist,
           int nevents, const struct timespec* timeout);
#pragma GCC diagnostic pop
