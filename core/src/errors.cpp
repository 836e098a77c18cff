#include "errors.hpp"

#include <cstdint>
#include <string>

namespace unipoll::detail {
namespace {

std::string prefix(backend b, std::string_view op, native_handle fd) {
    std::string s{name(b)};
    s += ": ";
    s += op;
    if (fd != no_fd) {
#ifdef _WIN32
        // Signed, so that INVALID_SOCKET reads as -1, as Winsock code spells it.
        s += "(socket ";
        s += std::to_string(static_cast<std::intptr_t>(fd));
#else
        s += "(fd ";
        s += std::to_string(fd);
#endif
        s += ')';
    }
    return s;
}

}  // namespace

void throw_error(int err, backend b, std::string_view op, native_handle fd,
                 std::string_view call) {
    std::string what = prefix(b, op, fd);
    what += ": ";
    what += call;
    throw std::system_error(err, std::generic_category(), what);
}

std::system_error usage_error(int err, backend b, std::string_view op, native_handle fd,
                              std::string_view why) {
    std::string what = prefix(b, op, fd);
    what += ": ";
    what += why;
    return std::system_error(err, std::generic_category(), what);
}

void throw_usage(int err, backend b, std::string_view op, native_handle fd,
                 std::string_view why) {
    throw usage_error(err, b, op, fd, why);
}

}  // namespace unipoll::detail
