// What the io_uring backend puts in and reads out of poll requests: the
// user_data of its own requests and the poll(2) masks of a registration.
#pragma once

#include "registry.hpp"

#include <unipoll/poller.hpp>

#include <poll.h>

#include <cstdint>

namespace unipoll::detail::uring {

// The backend's own requests set registry::own_bit, which registry keys
// never have. None of these equals liburing's reserved
// LIBURING_UDATA_TIMEOUT (UINT64_MAX): the high half of a wake key is a
// generation that starts at 1 and wraps to 1 (the runtime probe's is 0).

// The multishot poll on the wake eventfd, generation `gen`. Not the
// constant registry::wake_key of the backends that register their wake
// event once: this one is armed again and again (by each new blocking
// thread, after its owner exited, after a full CQ ended it), and CQEs of
// the poll it replaces still arrive after that, ending without
// IORING_CQE_F_MORE. Taken for the live poll's, such a CQE would make the
// backend arm a second wake poll beside the live one, so each arming gets
// a new generation and a replaced poll's CQEs are told apart.
constexpr std::uint64_t wake_key(std::uint32_t gen) noexcept {
    return (std::uint64_t{gen} << 32) | registry::own_bit | 1u;
}
constexpr bool is_wake_key(std::uint64_t k) noexcept {
    return (k & 0xffffffffu) == (registry::own_bit | 1u);
}

// POLL_REMOVE and ASYNC_CANCEL requests; their completions carry nothing
// the backend needs.
inline constexpr std::uint64_t cancel_key = registry::own_bit | 2u;

// Events requested for an interest. The kernel adds POLLERR, POLLHUP and
// POLLRDHUP to every poll request's mask (io_uring/poll.c, IO_POLL_UNMASK),
// so a write-only poll also completes when the peer shuts down its writing
// side; to_event() does not report that.
constexpr unsigned poll_mask(interest what) noexcept {
    unsigned m = 0;
    if ((what & interest::read) != interest::none) m |= POLLIN | POLLRDHUP;
    if ((what & interest::write) != interest::none) m |= POLLOUT;
    return m;
}

// The event reported for a completed poll (docs/semantics.md, "hangup"):
// directions masked by interest; hangup for POLLHUP whatever the interest,
// and for POLLRDHUP only with read interest.
inline event to_event(std::uint64_t token, interest what, unsigned revents) noexcept {
    const bool read = (what & interest::read) != interest::none;
    const bool write = (what & interest::write) != interest::none;
    event ev{};
    ev.token = token;
    ev.readable = read && (revents & POLLIN) != 0;
    ev.writable = write && (revents & POLLOUT) != 0;
    ev.hangup = (revents & POLLHUP) != 0 || (read && (revents & POLLRDHUP) != 0);
    ev.error = (revents & (POLLERR | POLLNVAL)) != 0;
    return ev;
}

inline bool reportable(const event& ev) noexcept {
    return ev.readable || ev.writable || ev.hangup || ev.error;
}

}  // namespace unipoll::detail::uring
