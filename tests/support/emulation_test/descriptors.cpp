// EVFILT_READ and EVFILT_WRITE on pipes and sockets.
#include "emulation_test/fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <vector>

using namespace emulation_test;

BOOST_FIXTURE_TEST_SUITE(descriptors, kq_fixture)

BOOST_AUTO_TEST_CASE(read_reports_bytes_available) {
    fd_pair p;
    BOOST_REQUIRE_EQUAL(change_fd(p.fd[0], EVFILT_READ, EV_ADD, tag(9)), 0);
    BOOST_TEST(fetch().empty());
    p.put(1, 5);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].filter == EVFILT_READ);
    BOOST_TEST(evs[0].data == 5);
    BOOST_TEST(evs[0].udata == tag(9));
    BOOST_TEST((evs[0].flags & EV_EOF) == 0);
}

BOOST_AUTO_TEST_CASE(write_reports_room_and_a_full_buffer_nothing) {
    // filt_pipewrite / filt_sowrite: data is the room to write.
    fd_pair pipe_, sock(true);
    for (int fd : {pipe_.fd[1], sock.fd[0]}) {
        BOOST_REQUIRE_EQUAL(change_fd(fd, EVFILT_WRITE, EV_ADD), 0);
        auto evs = fetch();
        BOOST_REQUIRE_EQUAL(evs.size(), 1u);
        BOOST_TEST(evs[0].data > 0);
        std::vector<char> chunk(65536, 'x');
        while (::write(fd, chunk.data(), chunk.size()) > 0) {
        }
        BOOST_TEST(fetch().empty());
        BOOST_REQUIRE_EQUAL(change_fd(fd, EVFILT_WRITE, EV_DELETE), 0);
    }
}

BOOST_AUTO_TEST_CASE(level_repeats_and_clear_reports_each_change_once) {
    fd_pair level, edge;
    BOOST_REQUIRE_EQUAL(change_fd(level.fd[0], EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change_fd(edge.fd[0], EVFILT_READ, EV_ADD | EV_CLEAR), 0);
    level.put(1, 1);
    edge.put(1, 1);
    BOOST_TEST(fetch().size() == 2u);
    auto again = fetch();
    BOOST_REQUIRE_EQUAL(again.size(), 1u);
    BOOST_TEST(again[0].ident == id(level.fd[0]));
    edge.put(1, 1);  // new data: a new edge
    BOOST_TEST(fetch().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_read_from_a_pipe_fires_its_edge_knote_again) {
    // pipe_read ends with pipeselwakeup(rpipe), which runs the knotes of
    // both ends (they hang on the reading side's list): FreeBSD when at
    // least PIPE_BUF (512) bytes are free, XNU (sys_pipe.c) when any are.
    fd_pair p;
    BOOST_REQUIRE_EQUAL(change_fd(p.fd[0], EVFILT_READ, EV_ADD | EV_CLEAR), 0);
    p.put(1, 10);
    BOOST_TEST(fetch().size() == 1u);
    BOOST_TEST(fetch().empty());
    BOOST_REQUIRE_EQUAL(p.take(0, 4), 4u);  // six bytes left
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].data == 6);
    BOOST_REQUIRE_EQUAL(p.take(0, 6), 6u);  // nothing left: no event
    BOOST_TEST(fetch().empty());

    // Nearly full, a small read frees less than FreeBSD's PIPE_BUF.
    std::vector<char> chunk(65536, 'x');
    while (::write(p.fd[1], chunk.data(), chunk.size()) > 0) {
    }
    BOOST_TEST(fetch().size() == 1u);
    BOOST_REQUIRE_EQUAL(p.take(0, 100), 100u);
    BOOST_TEST(fetch().size() == (darwin() ? 1u : 0u));
}

BOOST_AUTO_TEST_CASE(oneshot_and_dispatch_on_descriptors) {
    fd_pair a, b;
    BOOST_REQUIRE_EQUAL(change_fd(a.fd[0], EVFILT_READ, EV_ADD | EV_ONESHOT), 0);
    BOOST_REQUIRE_EQUAL(change_fd(b.fd[0], EVFILT_READ, EV_ADD | EV_DISPATCH), 0);
    a.put(1, 1);
    b.put(1, 1);
    BOOST_TEST(fetch().size() == 2u);
    BOOST_TEST(fetch().empty());
    BOOST_TEST(change_fd(a.fd[0], EVFILT_READ, EV_DELETE) == -1);
    BOOST_TEST(errno == ENOENT);
    BOOST_REQUIRE_EQUAL(change_fd(b.fd[0], EVFILT_READ, EV_ENABLE), 0);
    BOOST_TEST(fetch().size() == 1u);  // still readable when enabled again
}

BOOST_AUTO_TEST_CASE(a_oneshot_knote_whose_condition_went_away) {
    // FreeBSD kqueue_scan copies an EV_ONESHOT knote out as it was
    // activated, without f_event, and drops it. XNU knote_process calls
    // f_process for every knote (4388): gone idle, it reports nothing and
    // stays registered.
    fd_pair p;
    BOOST_REQUIRE_EQUAL(change_fd(p.fd[0], EVFILT_READ, EV_ADD | EV_ONESHOT), 0);
    p.put(1, 3);
    BOOST_REQUIRE_EQUAL(p.take(0, 3), 3u);
    auto evs = fetch();
    if (darwin()) {
        BOOST_TEST(evs.empty());
        BOOST_TEST(change_fd(p.fd[0], EVFILT_READ, EV_DELETE) == 0);
    } else {
        BOOST_REQUIRE_EQUAL(evs.size(), 1u);
        BOOST_TEST(evs[0].data == 3);  // what it was, not what it is
        BOOST_TEST(change_fd(p.fd[0], EVFILT_READ, EV_DELETE) == -1);
    }
}

BOOST_AUTO_TEST_CASE(eof_on_hangup) {
    fd_pair pipe_, sock(true);
    BOOST_REQUIRE_EQUAL(change_fd(pipe_.fd[0], EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change_fd(sock.fd[0], EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change_fd(sock.fd[0], EVFILT_WRITE, EV_ADD | EV_CLEAR), 0);
    BOOST_TEST(fetch().size() == 1u);  // the socket's send space
    pipe_.close_end(1);
    sock.close_end(1);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 3u);
    for (const auto& ev : evs) {
        BOOST_TEST((ev.flags & EV_EOF) != 0);
        BOOST_TEST(ev.fflags == 0u);  // no socket error, just the peer gone
    }
}

BOOST_AUTO_TEST_CASE(half_close_is_eof_on_the_read_filter_only) {
    // filt_soread: EV_EOF once the peer stops sending (SBS_CANTRCVMORE);
    // filt_sowrite: only once this socket can send no more.
    fd_pair sock(true);
    BOOST_REQUIRE_EQUAL(change_fd(sock.fd[0], EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change_fd(sock.fd[0], EVFILT_WRITE, EV_ADD), 0);
    BOOST_REQUIRE(::shutdown(sock.fd[1], SHUT_WR) == 0);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 2u);
    for (const auto& ev : evs)
        BOOST_TEST(((ev.flags & EV_EOF) != 0) == (ev.filter == EVFILT_READ));
}

BOOST_AUTO_TEST_CASE(a_socket_error_comes_in_fflags_with_eof) {
    // filt_sowrite/filt_soread: kn_fflags = so_error with EV_EOF. A
    // connection refused on the loopback: nothing listens on the port.
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    BOOST_REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(listener);  // the port is free and refuses connections
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    BOOST_REQUIRE(s >= 0);
    const int rc = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    BOOST_REQUIRE(rc == 0 || errno == EINPROGRESS || errno == ECONNREFUSED);
    BOOST_REQUIRE_EQUAL(change_fd(s, EVFILT_WRITE, EV_ADD), 0);
    auto evs = fetch(8, 1s);
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST((evs[0].flags & EV_EOF) != 0);
    BOOST_TEST(evs[0].fflags == static_cast<unsigned>(ECONNREFUSED));
    ::close(s);
}

BOOST_AUTO_TEST_CASE(level_events_take_turns_in_a_short_eventlist) {
    fd_pair p[3];
    for (auto& x : p) {
        BOOST_REQUIRE_EQUAL(change_fd(x.fd[0], EVFILT_READ, EV_ADD), 0);
        x.put(1, 1);
    }
    std::vector<std::uintptr_t> seen;
    for (int i = 0; i < 3; ++i) {
        auto evs = fetch(1);
        BOOST_REQUIRE_EQUAL(evs.size(), 1u);
        seen.push_back(evs[0].ident);
    }
    BOOST_TEST(seen[0] != seen[1]);
    BOOST_TEST(seen[1] != seen[2]);
    BOOST_TEST(seen[0] != seen[2]);
}

BOOST_AUTO_TEST_SUITE_END()
