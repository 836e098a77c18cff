// What differs between the BSDs' <sys/event.h> and is needed to build a
// struct kevent portably: the field types (NetBSD has 32-bit unsigned
// filter and flags and a size_t count in kevent(2); macOS, FreeBSD,
// OpenBSD and DragonFly use short/unsigned short), the type of udata
// (void* on most, intptr_t on NetBSD before 10, which is 32 bits on its
// 32-bit ports) and which flags exist at all (NetBSD before 10 has no
// EV_RECEIPT, EV_DISPATCH or EVFILT_USER). The constants themselves always
// come from the system header, since their values differ too (EVFILT_USER
// is -11 on FreeBSD, -10 on macOS/OpenBSD, 8U on NetBSD).
//
// tests/support/kevent_netbsd9/ compiles the backend against a NetBSD 9
// style header on every CI run, so the branches for old NetBSD and for a
// 32-bit udata are built even though no runner has them.
#pragma once

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

#include <cstdint>
#include <type_traits>
#include <utility>

namespace unipoll::detail::kq {

using kevent_t = struct kevent;
using filter_t = decltype(std::declval<kevent_t&>().filter);
using flags_t = decltype(std::declval<kevent_t&>().flags);
using fflags_t = decltype(std::declval<kevent_t&>().fflags);
using udata_t = std::remove_cv_t<decltype(std::declval<kevent_t&>().udata)>;

// On 64-bit systems udata holds the whole registry key. Where udata has 32
// bits, it holds the generation and the fd comes back in ident, which
// EVFILT_READ/EVFILT_WRITE set to the descriptor.
inline constexpr bool udata_holds_key = sizeof(udata_t) >= sizeof(std::uint64_t);

// EV_RECEIPT (FreeBSD 8, macOS, OpenBSD, NetBSD 10): every change returns an
// entry, so several changes get their own errors from one call without
// draining events. Without it a change is submitted alone with no event
// list, and the call's own result is that change's.
#ifdef EV_RECEIPT
inline constexpr bool has_receipt = true;
inline constexpr unsigned receipt_flag = EV_RECEIPT;
#else
inline constexpr bool has_receipt = false;
inline constexpr unsigned receipt_flag = 0;
#endif

// The knote flag of trigger::oneshot. EV_DISPATCH disables the knote after
// one delivery and keeps it; without it (NetBSD before 10) EV_ONESHOT
// deletes it instead, which the backend tolerates (EV_DELETE's ENOENT).
#ifdef EV_DISPATCH
inline constexpr unsigned oneshot_flag = EV_DISPATCH;
#else
inline constexpr unsigned oneshot_flag = EV_ONESHOT;
#endif

// Templates so that only the branch for this system's udata type is
// instantiated.
template <class U = udata_t>
U to_udata(std::uint64_t bits) noexcept {
    if constexpr (std::is_pointer_v<U>)
        return reinterpret_cast<U>(static_cast<std::uintptr_t>(bits));
    else
        return static_cast<U>(bits);
}

template <class U = udata_t>
std::uint64_t from_udata(U u) noexcept {
    if constexpr (std::is_pointer_v<U>)
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(u));
    else
        return static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<U>>(u));
}

// EV_SET is a macro on every system (FreeBSD's C++ variant declares a
// local named kevp), so it is wrapped once here with typed parameters.
inline kevent_t make_kevent(std::uintptr_t ident, filter_t filter, flags_t action,
                            fflags_t filter_flags, std::uint64_t udata_bits) noexcept {
    kevent_t ev{};
    EV_SET(&ev, ident, filter, action, filter_flags, 0, to_udata(udata_bits));
    return ev;
}

inline constexpr flags_t as_flags(unsigned v) noexcept { return static_cast<flags_t>(v); }

}  // namespace unipoll::detail::kq
