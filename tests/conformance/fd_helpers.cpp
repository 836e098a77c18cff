#include "fd_helpers.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

namespace conformance {
namespace {

[[noreturn]] void fail(const std::string& call) {
    throw std::system_error(errno, std::generic_category(), call);
}

void make_nonblocking_cloexec(int fd) {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        fail("fcntl(O_NONBLOCK) fd " + std::to_string(fd));
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) fail("fcntl(FD_CLOEXEC) fd " + std::to_string(fd));
}

}  // namespace

void unique_fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

pipe_fds make_pipe() {
    int fds[2];
    if (::pipe(fds) != 0) fail("pipe");
    pipe_fds p{unique_fd(fds[0]), unique_fd(fds[1])};
    make_nonblocking_cloexec(fds[0]);
    make_nonblocking_cloexec(fds[1]);
    return p;
}

socket_pair make_socketpair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) fail("socketpair");
    socket_pair s{unique_fd(fds[0]), unique_fd(fds[1])};
    make_nonblocking_cloexec(fds[0]);
    make_nonblocking_cloexec(fds[1]);
    return s;
}

void write_byte(int fd) {
    const char byte = 'x';
    while (::write(fd, &byte, 1) != 1)
        if (errno != EINTR) fail("write fd " + std::to_string(fd));
}

std::size_t drain(int fd) {
    std::array<char, 4096> buf;
    std::size_t total = 0;
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n > 0) {
            total += static_cast<std::size_t>(n);
        } else if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
            return total;
        } else if (errno != EINTR) {
            fail("read fd " + std::to_string(fd));
        }
    }
}

std::size_t fill(int fd) {
    const std::array<char, 4096> buf{};
    std::size_t total = 0;
    std::size_t chunk = buf.size();
    for (;;) {
        const ssize_t n = ::write(fd, buf.data(), chunk);
        if (n > 0) {
            total += static_cast<std::size_t>(n);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            // Top up with single bytes so the buffer is really full (a
            // stream socket may refuse a large chunk but take a small one).
            if (chunk == 1) return total;
            chunk = 1;
        } else if (errno != EINTR) {
            fail("write fd " + std::to_string(fd));
        }
    }
}

bool try_write_byte(int fd) {
    const char byte = 'w';
    ssize_t n;
    while ((n = ::write(fd, &byte, 1)) < 0 && errno == EINTR) {
    }
    return n == 1;
}

bool read_sees_end(int fd) {
    std::array<char, 4096> buf;
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n > 0) continue;
        if (n == 0) return true;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        return true;  // ECONNRESET and the like: the other end is gone
    }
}

void shut_write(int fd) {
    if (::shutdown(fd, SHUT_WR) != 0) fail("shutdown(SHUT_WR) fd " + std::to_string(fd));
}

unique_fd open_regular_file() {
    std::string path = "/tmp/unipoll-conformance-XXXXXX";
    if (const char* dir = std::getenv("TMPDIR"); dir && *dir)
        path = std::string(dir) + "/unipoll-conformance-XXXXXX";
    const int fd = ::mkstemp(path.data());
    if (fd < 0) fail("mkstemp " + path);
    ::unlink(path.c_str());
    return unique_fd(fd);
}

unique_fd open_directory() {
    const int fd = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("open(\".\")");
    return unique_fd(fd);
}

// Counted portably (Linux, macOS, BSDs).
std::size_t open_descriptor_count() {
    std::size_t n = 0;
    const long max = std::min<long>(::sysconf(_SC_OPEN_MAX), 65536);
    for (int fd = 0; fd < max; ++fd)
        if (::fcntl(fd, F_GETFD) != -1) ++n;
    return n;
}

double process_cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto secs = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return secs(ru.ru_utime) + secs(ru.ru_stime);
}

unique_fd open_device(const char* path) {
    const int fd = ::open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) fail(std::string("open ") + path);
    return unique_fd(fd);
}

terminal_pair open_terminal() {
    unique_fd controller(::posix_openpt(O_RDWR | O_NOCTTY));
    if (controller.get() < 0) fail("posix_openpt");
    if (::grantpt(controller.get()) != 0) fail("grantpt");
    if (::unlockpt(controller.get()) != 0) fail("unlockpt");
    const char* name = ::ptsname(controller.get());
    if (!name) fail("ptsname");
    unique_fd terminal(::open(name, O_RDWR | O_NOCTTY));
    if (terminal.get() < 0) fail(std::string("open ") + name);
    make_nonblocking_cloexec(controller.get());
    make_nonblocking_cloexec(terminal.get());
    return {std::move(controller), std::move(terminal)};
}

std::vector<unique_fd> duplicate(int fd, std::size_t count) {
    std::vector<unique_fd> dups;
    dups.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (d < 0) fail("fcntl(F_DUPFD_CLOEXEC) fd " + std::to_string(fd));
        dups.emplace_back(d);
    }
    return dups;
}

}  // namespace conformance
