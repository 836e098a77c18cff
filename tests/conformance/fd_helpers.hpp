// Descriptors for the cases: RAII ownership, non-blocking pipes and
// socketpairs, and the reads and writes that change their readiness.
// Portable to Linux, macOS and the BSDs (no pipe2/SOCK_NONBLOCK: macOS lacks
// them). Failures throw std::system_error naming the call.
//
// On Windows (fd_helpers_windows.cpp) the descriptors are sockets, the only
// thing its pollers take: a pipe and a socketpair are both a loopback TCP
// pair (tests/support/windows), and an int holds the SOCKET value, which
// converts back exactly (64-bit Windows keeps handle values within 32 bits
// for 32-bit interoperability), so the cases pass it to add() unchanged.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace conformance {

class unique_fd {
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

struct pipe_fds {
    unique_fd read_end;
    unique_fd write_end;
};

struct socket_pair {
    unique_fd a;
    unique_fd b;
};

// Both ends non-blocking and close-on-exec.
pipe_fds make_pipe();
// socketpair(AF_UNIX, SOCK_STREAM), both ends non-blocking and close-on-exec.
socket_pair make_socketpair();

// Writes one byte; the fd must have room for it.
void write_byte(int fd);
// Reads until EAGAIN or end of file; returns the bytes read.
std::size_t drain(int fd);
// Writes until EAGAIN; returns the bytes written.
std::size_t fill(int fd);
// Writes one byte if there is room: false when the fd is full or broken
// (its peer gone), which the caller may expect.
bool try_write_byte(int fd);
// Whether the other end of a socket was closed: reads what is there
// (without blocking) and says true at end of file or a reset connection.
bool read_sees_end(int fd);
// shutdown() of a socket's writing side: its peer reads end of file.
void shut_write(int fd);

// A regular file (already unlinked) and a directory: fds without readiness.
unique_fd open_regular_file();
unique_fd open_directory();

// Descriptors (handles on Windows) open in this process.
std::size_t open_descriptor_count();
// CPU time this process has used, user and system, in seconds.
double process_cpu_seconds();

// A character device opened read-write and non-blocking (e.g. "/dev/null").
unique_fd open_device(const char* path);

// A pseudo-terminal: both ends non-blocking, the controller side and the
// terminal side (a character device whose driver reports readiness).
struct terminal_pair {
    unique_fd controller;
    unique_fd terminal;
};
terminal_pair open_terminal();

// `count` duplicates of fd (close-on-exec), each its own descriptor number.
std::vector<unique_fd> duplicate(int fd, std::size_t count);

}  // namespace conformance
