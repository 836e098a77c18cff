// io_uring specifics of registration: modify cancels the poll the kernel
// holds and arms a new one (interest, token and trigger changes), and the
// file reference a poll holds: close() does not end it, so replacing or
// removing a registration of a closed fd must cancel it, or the peer never
// sees the close.
#define BOOST_TEST_MODULE io_uring_registration
#include <boost/test/unit_test.hpp>

#if UNIPOLL_HAVE_IO_URING

#include "io_uring_test_support.hpp"

#include <cerrno>
#include <cstdlib>
#include <thread>

using namespace io_uring_test;
using unipoll::interest;
using unipoll::trigger;

namespace {

// True once the peer of `fd` reads end-of-file, i.e. the other end's file
// was really released.
bool peer_sees_eof(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < deadline) {
        char c;
        const ssize_t n = ::read(fd, &c, 1);
        if (n == 0) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(io_uring_registration, *boost::unit_test::precondition(io_uring_works{}))

BOOST_AUTO_TEST_CASE(modify_changes_interest_token_and_trigger) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair s;
    p.add(s.a, interest::read, 1, trigger::level);
    p.modify(s.a, interest::write, 2, trigger::level);
    auto e = await_token(p, 2);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->writable && !e->readable);

    p.modify(s.a, interest::read, 3, trigger::edge);
    s.send_b();
    e = await_token(p, 3);
    BOOST_REQUIRE(e);
    BOOST_CHECK(e->readable);
    s.send_b();
    BOOST_CHECK(await_token(p, 3));

    p.modify(s.a, interest::read, 4, trigger::oneshot);
    BOOST_CHECK(await_token(p, 4));
    std::array<unipoll::event, 8> buf{};
    BOOST_CHECK_EQUAL(p.poll(buf, 100ms).count, 0u);

    p.modify(s.a, interest::none, 5, trigger::level);
    BOOST_CHECK_EQUAL(p.poll(buf, 100ms).count, 0u);
    p.modify(s.a, interest::read, 6, trigger::level);
    BOOST_CHECK(await_token(p, 6));
}

BOOST_AUTO_TEST_CASE(reused_fd_number_replaces_and_releases_old_file) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair old_pair;
    p.add(old_pair.a, interest::read, 1);
    const int number = old_pair.a;
    ::close(old_pair.a);
    old_pair.a = -1;
    socket_pair fresh;
    // Put the fresh socket on the old number (socketpair may have reused it).
    if (fresh.a != number) {
        BOOST_REQUIRE(::dup2(fresh.a, number) == number);
        ::close(fresh.a);
        fresh.a = number;
    }

    p.add(fresh.a, interest::read, 2);  // different file: replaces silently
    BOOST_CHECK(peer_sees_eof(old_pair.b));
    (void)::send(old_pair.b, "x", 1, MSG_NOSIGNAL);  // token 1 if the old poll lived on
    fresh.send_b();
    const auto e = await_token(p, 2);
    BOOST_CHECK(e);
    std::array<unipoll::event, 8> buf{};
    const auto r = p.poll(buf, 100ms);
    for (std::size_t i = 0; i < r.count; ++i) BOOST_CHECK_NE(buf[i].token, 1u);
    BOOST_CHECK_EXCEPTION(p.add(fresh.a, interest::read, 3), std::system_error,
                          [](const std::system_error& x) { return x.code().value() == EEXIST; });
}

BOOST_AUTO_TEST_CASE(remove_after_close_succeeds_and_releases_file) {
    unipoll::poller p(unipoll::backend::io_uring);
    socket_pair s;
    p.add(s.a, interest::read, 1);
    ::close(s.a);
    const int number = s.a;
    s.a = -1;
    BOOST_CHECK_NO_THROW(p.remove(number));
    BOOST_CHECK(peer_sees_eof(s.b));
}

BOOST_AUTO_TEST_CASE(disable_switch_names_itself) {
    ::setenv("UNIPOLL_DISABLE_IO_URING", "1", 1);
    try {
        unipoll::poller p(unipoll::backend::io_uring);
        BOOST_ERROR("UNIPOLL_DISABLE_IO_URING=1 did not disable io_uring");
    } catch (const std::system_error& e) {
        BOOST_CHECK_EQUAL(std::string(e.what()).find("io_uring: create: disabled by UNIPOLL_DISABLE_IO_URING"), 0u);
    }
    // The cached probe of this process was taken with the switch on.
    const auto avail = unipoll::available_backends();
    BOOST_CHECK(std::find(avail.begin(), avail.end(), unipoll::backend::io_uring) == avail.end());
    BOOST_CHECK_NE(unipoll::unavailable_reason(unipoll::backend::io_uring).find("UNIPOLL_DISABLE_IO_URING"),
                   std::string::npos);
    ::setenv("UNIPOLL_DISABLE_IO_URING", "0", 1);
    BOOST_CHECK_NO_THROW(unipoll::poller(unipoll::backend::io_uring));
    ::unsetenv("UNIPOLL_DISABLE_IO_URING");
}

BOOST_AUTO_TEST_SUITE_END()

#else
BOOST_AUTO_TEST_CASE(io_uring_not_built, *boost::unit_test::disabled()) {}
#endif
