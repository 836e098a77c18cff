// What a knote carries back: the registry key in udata (or, where udata has
// 32 bits, the generation, with the fd in ident), and which directions of an
// interest have a knote. Shared by registration and the wait.
#pragma once

#include "kevent_compat.hpp"
#include "registry.hpp"

#include <unipoll/poller.hpp>

#include <cstdint>

namespace unipoll::detail::kq {

inline bool wants(interest what, interest dir) noexcept { return (what & dir) != interest::none; }

inline std::uint64_t udata_bits(std::uint64_t key) noexcept {
    if constexpr (udata_holds_key)
        return key;
    else
        return registry::gen_of(key);
}

inline std::uint64_t key_of(const kevent_t& ev) noexcept {
    const std::uint64_t bits = from_udata(ev.udata);
    if constexpr (udata_holds_key)
        return bits;
    else
        return registry::key(static_cast<int>(ev.ident), static_cast<std::uint32_t>(bits));
}

}  // namespace unipoll::detail::kq
