// The library's own version, fixed when the library is compiled (the
// header's macros are fixed when the program is).
#include <unipoll/version.hpp>

namespace unipoll {

std::string_view version() noexcept { return UNIPOLL_VERSION; }

}  // namespace unipoll
