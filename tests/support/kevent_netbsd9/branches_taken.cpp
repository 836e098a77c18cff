// Compiled with the backend against kevent_netbsd9/sys/event.h: fails the
// build unless that header really selects the branches it stands for.
#include "kevent_compat.hpp"

#include <type_traits>

namespace unipoll::detail::kq {

static_assert(!udata_holds_key, "a 32-bit udata holds the generation; the fd comes in ident");
static_assert(!has_receipt, "no EV_RECEIPT before NetBSD 10: one change per call");
static_assert(oneshot_flag == EV_ONESHOT, "no EV_DISPATCH before NetBSD 10");
static_assert(std::is_same_v<filter_t, std::uint32_t> && std::is_same_v<flags_t, std::uint32_t>);
#ifdef EVFILT_USER
static_assert(false, "NetBSD before 10 has no EVFILT_USER");
#endif

}  // namespace unipoll::detail::kq
