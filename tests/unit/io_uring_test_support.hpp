// Shared by the io_uring unit tests: a visible skip where io_uring does not
// work (old kernel, seccomp, kernel.io_uring_disabled), socket pairs, and
// polling until a token shows up.
#pragma once

#include <unipoll/poller.hpp>

#include <boost/test/unit_test.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>

namespace io_uring_test {

using namespace std::chrono_literals;

// Long enough for a thread to be inside io_uring_enter on a loaded 2-core machine.
constexpr auto settle = 100ms;
constexpr auto patience = 5s;

inline bool available() {
    try {
        unipoll::poller p(unipoll::backend::io_uring);
        return true;
    } catch (const std::system_error& e) {
        BOOST_TEST_MESSAGE("io_uring unavailable: " << e.what());
        return false;
    }
}

// Boost.Test precondition: skips (visibly) where io_uring does not work.
struct io_uring_works {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        return available();
    }
};

struct socket_pair {
    int a = -1;
    int b = -1;
    socket_pair() {
        int fds[2];
        BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
        a = fds[0];
        b = fds[1];
    }
    socket_pair(socket_pair&& o) noexcept : a(o.a), b(o.b) { o.a = o.b = -1; }
    socket_pair(const socket_pair&) = delete;
    socket_pair& operator=(const socket_pair&) = delete;
    ~socket_pair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
    void send_b() const { BOOST_REQUIRE(::write(b, "x", 1) == 1); }
    void drain_a() const {
        char buf[64];
        while (::read(a, buf, sizeof buf) > 0) {
        }
    }
};

// Polls (blocking, bounded) until an event with `token` arrives.
inline std::optional<unipoll::event> await_token(unipoll::poller& p, std::uint64_t token) {
    std::array<unipoll::event, 16> buf{};
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto r = p.poll(buf, 100ms);
        for (std::size_t i = 0; i < r.count; ++i)
            if (buf[i].token == token) return buf[i];
    }
    return std::nullopt;
}

// Raises the soft fd limit to the hard one; returns the new soft limit.
inline rlim_t raise_fd_limit() {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

}  // namespace io_uring_test
