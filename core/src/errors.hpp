// errno -> std::system_error with a message naming the backend, the
// operation, the fd and the kernel call: "epoll: add(fd 7): epoll_ctl: Bad
// file descriptor" ("iocp: add(socket 356): ..." on Windows, where the
// handle is a SOCKET). Errors use std::generic_category() so that
// e.code() == std::errc::bad_file_descriptor holds on every OS.
#pragma once

#include <unipoll/poller.hpp>

#include <string_view>
#include <system_error>

namespace unipoll::detail {

// `op` is the poller operation ("add", "poll", "create"). Pass no_fd for
// operations that concern no descriptor; any other value, -1 (and
// INVALID_SOCKET, printed as -1) included, is printed.
inline constexpr native_handle no_fd = static_cast<native_handle>(-2147483647 - 1);

// The value no open descriptor or socket can have: a negative fd, or
// INVALID_SOCKET (~0) on Windows.
constexpr bool is_invalid_handle(native_handle h) noexcept {
#ifdef _WIN32
    return h == ~native_handle{0};
#else
    return h < 0;
#endif
}

[[noreturn]] void throw_error(int err, backend b, std::string_view op, native_handle fd,
                              std::string_view call);

// For errors detected by unipoll itself rather than a kernel call.
[[noreturn]] void throw_usage(int err, backend b, std::string_view op, native_handle fd,
                              std::string_view why);

// The error throw_usage() throws, built without throwing it (probes record
// its message as a reason).
std::system_error usage_error(int err, backend b, std::string_view op, native_handle fd,
                              std::string_view why);

}  // namespace unipoll::detail
