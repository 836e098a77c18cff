// What the io_uring backend puts in and reads out of poll requests: the
// user_data of its own requests and the poll(2) masks of a registration.
#pragma once

#include "registry.hpp"

#include <unipoll/poller.hpp>

#include <poll.h>

#include <cstdint>

namespace unipoll::detail::uring {

// Registry keys never have bit 31 set (registry.hpp), so the backend's own
// requests use it. None of these equals liburing's reserved
// LIBURING_UDATA_TIMEOUT (UINT64_MAX).
inline constexpr std::uint64_t own_bit = 0x80000000u;

// The multishot poll on the wake eventfd.
inline constexpr std::uint64_t wake_key = own_bit | 1u;

// POLL_REMOVE requests; their completions carry nothing we need.
inline constexpr std::uint64_t cancel_key = own_bit | 2u;

// A poll update (modify) of fd to generation gen: if the kernel no longer
// has the old poll (it completed meanwhile), the update fails and the
// registration is armed afresh under gen.
constexpr std::uint64_t update_key(int fd, std::uint32_t gen) noexcept {
    return registry::key(fd, gen) | own_bit;
}
constexpr bool is_update_key(std::uint64_t k) noexcept {
    return (k & own_bit) != 0 && registry::gen_of(k) != 0;
}
constexpr std::uint64_t updated_key(std::uint64_t update) noexcept {
    return update & ~std::uint64_t{own_bit};
}

// Events requested for an interest. The kernel always adds POLLERR, POLLHUP
// and POLLRDHUP to a poll request's mask (io_uring/poll.c, IO_POLL_UNMASK).
constexpr unsigned poll_mask(interest what) noexcept {
    unsigned m = 0;
    if ((what & interest::read) != interest::none) m |= POLLIN | POLLRDHUP;
    if ((what & interest::write) != interest::none) m |= POLLOUT;
    return m;
}

// The event reported for a completed poll, directions masked by interest.
inline event to_event(std::uint64_t token, interest what, unsigned revents) noexcept {
    event ev{};
    ev.token = token;
    ev.readable = (what & interest::read) != interest::none && (revents & (POLLIN | POLLPRI)) != 0;
    ev.writable = (what & interest::write) != interest::none && (revents & POLLOUT) != 0;
    ev.hangup = (revents & (POLLHUP | POLLRDHUP)) != 0;
    ev.error = (revents & (POLLERR | POLLNVAL)) != 0;
    return ev;
}

inline bool reportable(const event& ev) noexcept {
    return ev.readable || ev.writable || ev.hangup || ev.error;
}

}  // namespace unipoll::detail::uring
