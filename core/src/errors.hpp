// errno -> std::system_error with a message naming the backend, the
// operation, the fd and the kernel call: "epoll: add(fd 7): epoll_ctl: Bad
// file descriptor". Errors use std::generic_category() so that
// e.code() == std::errc::bad_file_descriptor holds on every OS.
#pragma once

#include <unipoll/poller.hpp>

#include <string_view>
#include <system_error>

namespace unipoll::detail {

// `op` is the poller operation ("add", "poll", "create"). Pass no_fd for
// operations that concern no descriptor; any other value, -1 included, is
// printed.
inline constexpr int no_fd = -2147483647 - 1;

[[noreturn]] void throw_error(int err, backend b, std::string_view op, int fd,
                              std::string_view call);

// For errors detected by unipoll itself rather than a kernel call.
[[noreturn]] void throw_usage(int err, backend b, std::string_view op, int fd,
                              std::string_view why);

// The error throw_usage() throws, built without throwing it (probes record
// its message as a reason).
std::system_error usage_error(int err, backend b, std::string_view op, int fd,
                              std::string_view why);

}  // namespace unipoll::detail
