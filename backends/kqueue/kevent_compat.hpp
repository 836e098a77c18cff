// What differs between the BSDs' <sys/event.h> and is needed to build a
// struct kevent portably: the field types (NetBSD has 32-bit unsigned
// filter and flags and a size_t count in kevent(2); macOS, FreeBSD,
// OpenBSD and DragonFly use short/unsigned short) and the type of udata
// (void* on most, intptr_t on NetBSD before 10). The constants themselves
// always come from the system header, since their values differ too
// (EVFILT_USER is -11 on FreeBSD, -10 on macOS/OpenBSD, 8U on NetBSD).
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
        return static_cast<std::uint64_t>(u);
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
