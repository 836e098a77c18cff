// What the kqueue emulation's tests share: a kqueue, pipes and socketpairs,
// a FIFO, and the personality in use.
#pragma once

#include "kqueue_emulation_control.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/event.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace emulation_test {

using namespace std::chrono_literals;

inline bool darwin() {
    return kqueue_emulation::current_personality() == kqueue_emulation::personality::darwin;
}


struct kq_fixture {
    int kq = ::kqueue();
    kq_fixture() { BOOST_REQUIRE(kq >= 0); }
    ~kq_fixture() {
        if (kq >= 0) ::close(kq);
    }

    // One change and no event list: returns kevent()'s result, errno set.
    int change(std::uintptr_t ident, short filter, unsigned short flags, unsigned int fflags = 0,
               std::int64_t data = 0, void* udata = nullptr) {
        struct kevent ev;
        EV_SET(&ev, ident, filter, flags, fflags, data, udata);
        return ::kevent(kq, &ev, 1, nullptr, 0, nullptr);
    }
    int change_fd(int fd, short filter, unsigned short flags, void* udata = nullptr) {
        return change(static_cast<std::uintptr_t>(fd), filter, flags, 0, 0, udata);
    }

    // Non-blocking (or bounded) fetch of up to n events.
    std::vector<struct kevent> fetch(int n = 8, std::chrono::nanoseconds timeout = 0ns) {
        std::vector<struct kevent> out(static_cast<std::size_t>(n));
        timespec ts{static_cast<time_t>(timeout.count() / 1'000'000'000),
                    static_cast<long>(timeout.count() % 1'000'000'000)};
        const int got = ::kevent(kq, nullptr, 0, out.data(), n, &ts);
        BOOST_REQUIRE(got >= 0);
        out.resize(static_cast<std::size_t>(got));
        return out;
    }
};

struct fd_pair {
    int fd[2];
    explicit fd_pair(bool socket = false) {
        BOOST_REQUIRE((socket ? ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd)
                              : ::pipe2(fd, O_NONBLOCK)) == 0);
    }
    ~fd_pair() { close_both(); }
    void close_end(int i) {
        if (fd[i] >= 0) ::close(fd[i]);
        fd[i] = -1;
    }
    void close_both() {
        close_end(0);
        close_end(1);
    }
    void put(int i, std::size_t n) {
        std::vector<char> bytes(n, 'x');
        BOOST_REQUIRE(::write(fd[i], bytes.data(), n) == static_cast<ssize_t>(n));
    }
    std::size_t take(int i, std::size_t n) {
        std::vector<char> bytes(n);
        const ssize_t got = ::read(fd[i], bytes.data(), n);
        return got > 0 ? static_cast<std::size_t>(got) : 0;
    }
};

inline void* tag(std::uintptr_t v) { return reinterpret_cast<void*>(v); }
inline std::uintptr_t id(int fd) { return static_cast<std::uintptr_t>(fd); }

// A FIFO in a private directory, removed with it.
struct fifo {
    std::string dir, path;
    fifo() {
        std::string templ = "/tmp/kqemu-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(templ.data()));
        dir = templ;
        path = dir + "/fifo";
        BOOST_REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    }
    ~fifo() {
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
    int open(int flags) const { return ::open(path.c_str(), flags | O_NONBLOCK | O_CLOEXEC); }
};

}  // namespace emulation_test
