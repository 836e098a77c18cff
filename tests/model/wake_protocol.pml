/*
 * The wake protocol of core/src/poller_core.cpp, one Promela statement per
 * atomic access of the C++ (every load, store and exchange of `pending` and
 * `sleeping` is its own step, as in the seq_cst code). Comments name the
 * line of poller_core.cpp each statement stands for; docs/model.md has the
 * full table. Change this file and poller_core.cpp together.
 *
 * Kernel wake event, chosen with one of
 *   -DKERNEL_MERGING  EPOLLET on an eventfd, EVFILT_USER with EV_CLEAR:
 *                     posts merge into one pending event; whichever wait
 *                     reports it takes it (epoll, kqueue)
 *   -DKERNEL_QUEUING  a multishot poll on an eventfd: one CQE per post,
 *                     queued (or folded into one not yet reaped); a wait
 *                     may reap one or all of them (io_uring)
 *   -DKERNEL_PACKETS  I/O completion packets (PostQueuedCompletionStatus):
 *                     one packet per post, never merged, each delivered to
 *                     exactly one wait and consumed by it; a wait takes one
 *                     or several of the queued packets at once
 *                     (GetQueuedCompletionStatusEx) (iocp). Their FIFO order
 *                     does not matter here: wake packets are all alike.
 *   -DKERNEL_PIPE     a level-triggered pipe: non-blocking waits never report
 *                     or drain it, the blocking wait drains it; the poll
 *                     backend also writes a byte of its own when a
 *                     registration changes under the sleeper (poll,
 *                     kqueue-pipe)
 * Stale wake events (a post whose wake was already consumed) arise in every
 * mode from the races themselves: a post that lands after the sleeper found
 * `pending` set on its own, or a relay that raced a timeout.
 * Mutants (each must be caught by spin in at least one kernel mode):
 *   -DMUTANT_NO_RELAY       poll_nonblocking never gives a stolen event back
 *   -DMUTANT_ANNOUNCE_LATE  the sleeper checks `pending` before it stores
 *                           `sleeping`
 *   -DMUTANT_RESET_EARLY    the sleeper clears `pending` just before the
 *                           kernel wait, trusting the kernel event to carry
 *                           any wake that arrives from then on
 *   -DMUTANT_SWALLOW        the backend's non-blocking wait takes the wake
 *                           event out of the kernel without reporting it
 *                           (wait_result::wake_event stays false), so the
 *                           core cannot relay it
 * Bounds: WAKERS threads call wake() WAKES_PER_WAKER times each, POLLERS
 * threads call poll(timeout 0) POLLS_PER_POLLER times each, and the single
 * blocking poller's kernel wait returns without the wake event (timeout, fd
 * event, EINTR) at most EARLY_RETURNS times; after that it waits forever, so
 * a lost wake leaves it parked in the kernel for good.
 *
 * Property: at quiescence (spin's `timeout`: nothing can move, the sleeper
 * sits in the kernel wait) no wake is pending and every request a waker
 * published before calling wake() has been seen by the sleeper after a
 * woken return. Spin also reports invalid end states.
 */

#if !defined(KERNEL_MERGING) && !defined(KERNEL_QUEUING) && !defined(KERNEL_PACKETS) && \
    !defined(KERNEL_PIPE)
#define KERNEL_MERGING
#endif

#ifndef WAKERS
#define WAKERS 2
#endif
#ifndef WAKES_PER_WAKER
#define WAKES_PER_WAKER 2
#endif
#ifndef POLLERS
#define POLLERS 2
#endif
#ifndef POLLS_PER_POLLER
#define POLLS_PER_POLLER 2
#endif
#ifndef EARLY_RETURNS
#define EARLY_RETURNS 0
#endif

bit pending;       /* poller_core::pending_ */
bit sleeping;      /* poller_core::sleeping_ */
byte kev;          /* the kernel wake event: merging and pipe 0/1, queuing = CQEs
                      queued, packets = packets queued */

byte published;    /* requests published by wakers (written before wake()) */
byte seen;         /* requests the sleeper has seen after a woken return */
byte finished;     /* wakers and non-blocking pollers that ran to completion */

/* backend_impl::post(): make the wake event fire once more. */
inline post() {
#if defined(KERNEL_QUEUING)
    atomic {
        if
        :: kev < 255 -> kev++          /* one more CQE */
        :: kev > 0 -> skip             /* folded into a CQE not yet reaped */
        fi
    }
#elif defined(KERNEL_PACKETS)
    kev++                              /* one more packet, never merged */
#else
    kev = 1                            /* eventfd write / NOTE_TRIGGER / pipe byte */
#endif
}

/* backend_impl::wait(out, 0) that reports the wake event (and so takes it
 * out of the kernel): the guard options of an `if`. Not reporting it is
 * always possible too (nothing ready, or `out` full of other events). A pipe
 * is never reported or drained by a non-blocking wait. */
#if defined(KERNEL_MERGING)
#define NONBLOCKING_WAIT_TAKES_WAKE_EVENT \
    :: atomic { kev > 0 -> kev = 0 }
#elif defined(KERNEL_QUEUING)
#define NONBLOCKING_WAIT_TAKES_WAKE_EVENT \
    :: atomic { kev > 0 -> if :: kev-- :: kev = 0 fi }
#elif defined(KERNEL_PACKETS)
#define NONBLOCKING_WAIT_TAKES_WAKE_EVENT \
    :: atomic { kev > 0 -> kev--; do :: kev > 0 -> kev-- :: break od }
#else
#define NONBLOCKING_WAIT_TAKES_WAKE_EVENT \
    :: false
#endif

/* backend_impl::wait(out, remaining) of the blocking poller. Blocks while
 * there is no wake event and no early return is left. Whether it reported
 * the wake event only feeds the stale_wakeups counter in poll_blocking, so
 * the model does not keep it. */
inline wait_blocking() {
    if
#if defined(KERNEL_MERGING)
    :: atomic { kev > 0 -> kev = 0 }
#elif defined(KERNEL_QUEUING)
    :: atomic { kev > 0 -> if :: kev-- :: kev = 0 fi }   /* one CQE or all */
#elif defined(KERNEL_PACKETS)
    :: atomic { kev > 0 -> kev--; do :: kev > 0 -> kev-- :: break od }  /* one or more */
#else
    :: kev > 0 ->                      /* poll() reports the pipe readable ... */
       kev = 0                         /* ... and pipe_waker::drain() empties it */
#endif
    :: atomic { early > 0 -> early-- } /* timeout, fd event or EINTR */
    fi
}

/* poller_core::wake(); the exchange and the branch on its result are one
 * atomic step per outcome. */
inline wake() {
    if
    :: atomic { pending == 1 -> pending = 1 }       /* :13-15 exchange(1) == 1: coalesced */
    :: atomic { pending == 0 -> pending = 1 } ->     /* :13 exchange(1) == 0 */
        if
        :: sleeping == 1 -> post()                   /* :17-19 */
        :: else -> skip                              /* :20-24 nobody in the kernel */
        fi
    fi
}

active [WAKERS] proctype waker() {
    byte n = 0;
    do
    :: n < WAKES_PER_WAKER ->
        published++;                                 /* the caller's request */
        wake();
        n++
    :: else -> break
    od;
    finished++
}

/* poller_core::poll_nonblocking() */
active [POLLERS] proctype nonblocking_poller() {
    byte n = 0;
    do
    :: n < POLLS_PER_POLLER ->
        if                                           /* :34 wait(out, 0) */
        NONBLOCKING_WAIT_TAKES_WAKE_EVENT ->         /* :35 r.wake_event */
            if
            :: pending == 1 ->                       /* :36 pending_.load() == 1 */
                if
                :: sleeping == 1 ->                  /* :36 sleeping_.load() == 1 */
#ifndef MUTANT_NO_RELAY
                    post()                           /* :37-41 relay */
#else
                    skip                             /* the mutant: the event is lost */
#endif
                :: else -> goto recheck
                fi
            :: else ->
recheck:        if
                :: pending == 0 -> skip              /* :42-44 stale */
                :: else -> skip                      /* :45-46 sleeper checks pending next */
                fi
            fi
#ifdef MUTANT_SWALLOW
        NONBLOCKING_WAIT_TAKES_WAKE_EVENT -> skip    /* the mutant: taken, not reported */
#endif
        :: skip                                      /* no wake event reported */
        fi;
        n++                                          /* :48 return */
    :: else -> break
    od;
    finished++
}

/* poller_core::poll_blocking() in a caller's loop; a woken return marks
 * every published request seen. Any other return (events, timeout, EINTR)
 * and the retry loop of :98-105 both come back to :77. */
active proctype sleeper() {
    byte early = EARLY_RETURNS;
again:
#ifndef MUTANT_ANNOUNCE_LATE
    sleeping = 1;                                    /* :77 */
    if
    :: pending == 1 ->                               /* :78 */
        sleeping = 0;                                /* :80 */
        pending = 0;                                 /* :81 pending_.exchange(0) */
        goto woken                                   /* :82 */
    :: else -> skip
    fi;
#else
    /* The mutant: a wake() between the check and the store sees
     * sleeping == 0 and does not post. */
    if
    :: pending == 1 ->
        pending = 0;
        goto woken
    :: else -> skip
    fi;
    sleeping = 1;
#endif
#ifdef MUTANT_RESET_EARLY
    /* The mutant: a wake() that set `pending` after the check (and posted)
     * is wiped out; its kernel event then looks stale. */
    pending = 0;
#endif
end_wait:
    wait_blocking();                                 /* :84 */
    sleeping = 0;                                    /* :85 */
    if
    :: pending == 1 ->                               /* :88 */
        pending = 0;                                 /* :89 pending_.exchange(0) */
        goto woken                                   /* :90, :96 return woken */
    :: else -> skip                                  /* :91-95 stale if the wake event came */
    fi;
    goto again;                                      /* :96 return / :98-105 wait again */
woken:
    seen = published;                                /* the caller acts on the wake */
    goto again
}

#if defined(KERNEL_PIPE)
/* A pipe byte that no wake() wrote: the poll backend writes one when a
 * registration changes under the sleeper, which drains it and, finding
 * `pending` clear, waits again. */
active proctype registration_change() {
    if
    :: kev = 1
    :: skip
    fi
}
#endif

/* Runs only when nothing else can: every waker and non-blocking poller has
 * finished and the sleeper is parked in the kernel wait. */
active proctype quiescence() {
    timeout ->
    assert(finished == WAKERS + POLLERS);
    assert(pending == 0);              /* no wake left pending under a sleeper */
    assert(seen == published)          /* no published request left unseen */
}
