// What docs/semantics.md lets a poller report, kept alongside the poller
// under test. The model is fed every operation and its outcome and throws
// `divergence` when the poller does something the contract rules out.
//
// It is deliberately sound rather than complete: it only demands what the
// contract guarantees, so every divergence is a real bug (or a model bug,
// to be fixed here). docs/fuzzing.md lists each rule and why it holds.
#pragma once

#include "fd_pool.hpp"

#include <unipoll/poller.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace unipoll_fuzz {

struct divergence {
    std::string what;
};

// How much a backend's events can lag behind the descriptors' state.
struct backend_traits {
    // Events describe readiness when poll() runs: epoll and poll(2) re-check
    // the file, kqueue re-runs its filters. io_uring does not: a completion
    // carries the mask of the moment the kernel's poll fired, possibly
    // several operations earlier.
    bool events_current;
    // poll(out, 0) reports everything that is ready. Not io_uring, where
    // readiness arrives as completions posted by kernel task work and a
    // non-blocking poll may read the completion queue without entering
    // the kernel; its blocking polls are checked instead.
    bool nonblocking_sees_all;
};

backend_traits traits_of(unipoll::backend);

// An event the poller must report on this poll: a registration whose
// readiness the contract promises to deliver.
struct required_event {
    std::uint64_t token;
    int fd;
    bool readable;
    bool writable;
};

class reference_model {
public:
    reference_model(backend_traits traits, const fd_pool& pool) : traits_(traits), pool_(pool) {}

    // Unique per registration, so an event's token names exactly one add
    // or modify; half of them have every high bit set (UINT64_MAX included).
    std::uint64_t next_token(bool inverted) noexcept {
        const std::uint64_t serial = serial_++;
        return inverted ? ~serial : serial;
    }

    // `got` is 0 for success or the errno of the std::system_error thrown.
    // `supported` is poller::supports(trigger) for an in-range trigger.
    void check_add(int fd, std::uint8_t interest, std::uint8_t trigger, bool supported,
                   std::uint64_t token, int got);
    void check_modify(int fd, std::uint8_t interest, std::uint8_t trigger, bool supported,
                      std::uint64_t token, int got);
    void check_remove(int fd, int got);

    // Whether fd has a live registration (closing it then is a forgotten remove()).
    bool registered(int fd) const {
        auto it = regs_.find(fd);
        return it != regs_.end() && it->second.state == reg_state::live;
    }

    // Descriptor life: a new number from pipe2/socketpair, and an end the
    // program closed without remove().
    void opened(int fd);
    void closed(int fd);
    // Bytes written into the end `to` (readable there now).
    void data_arrived(endpoint to);
    // Any write, read or close on either end of a slot: the only things
    // that change a descriptor's readiness here.
    void touched(int slot);
    void woke() noexcept { wake_pending_ = true; }

    std::vector<required_event> required(bool blocking) const;
    void check_poll(bool blocking, std::chrono::nanoseconds timeout, std::size_t span,
                    std::span<const unipoll::event> events, bool woken,
                    std::chrono::nanoseconds elapsed, const std::vector<required_event>& required);

private:
    enum class reg_state {
        live,
        closed,  // the fd was closed without remove()
        unsure,  // closed, and a modify() failed on it: the backend may have dropped it
    };
    struct registration {
        reg_state state = reg_state::live;
        std::uint8_t interest = 0;
        std::uint8_t trigger = 0;
        std::uint64_t token = 0;
        bool armed = true;            // oneshot: not reported since add/modify
        int edge_credit = 1;          // edge: reports allowed before another readiness change
        bool edge_data_pending = false;  // edge: data arrived, not yet reported readable
        bool data_since_report = false;  // data was readable at some point since the last report
    };
    enum class token_state {
        live,
        // Its fd was closed without remove(): events may still come, with
        // any flags, until that number is remove()d or add()ed again.
        tolerated,
        retired,  // removed, replaced by modify, or its closed number removed or added again: never again
    };
    struct token_info {
        token_state state;
        int fd;
    };

    void retire(const registration&);
    // A remove() or a successful add() of `fd`: the registrations closed
    // without remove() under that number are over for good.
    void retire_tolerated(int fd);
    void register_live(int fd, std::uint8_t interest, std::uint8_t trigger, std::uint64_t token);
    void check_event(const unipoll::event&);

    backend_traits traits_;
    const fd_pool& pool_;
    std::map<int, registration> regs_;  // by fd number, like the poller's own table
    std::unordered_map<std::uint64_t, token_info> tokens_;
    std::uint64_t serial_ = 0;
    bool wake_pending_ = false;
};

}  // namespace unipoll_fuzz
