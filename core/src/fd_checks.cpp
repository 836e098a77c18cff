#include "fd_checks.hpp"

#include "errors.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace unipoll::detail {

file_identity check_pollable(backend b, std::string_view op, int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_error(errno, b, op, fd, "fstat");
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        throw_usage(EPERM, b, op, fd, "regular files and directories have no readiness to poll");
    return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace unipoll::detail
