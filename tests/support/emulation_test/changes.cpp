// Changes, receipts and errors, close and kevent() on a closed kqueue.
#include "emulation_test/fixture.hpp"

#include <array>
#include <cerrno>

using namespace emulation_test;

BOOST_FIXTURE_TEST_SUITE(changes, kq_fixture)

BOOST_AUTO_TEST_CASE(receipts_report_each_change_and_drain_nothing) {
    // Both kernels return receipts and errors without scanning (FreeBSD
    // kqueue_kevent returns nerrors; XNU kevent_internal 8208-8209).
    fd_pair p;
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    std::array<struct kevent, 2> ch{};
    EV_SET(&ch[0], id(p.fd[0]), EVFILT_READ, EV_ADD | EV_RECEIPT, 0, 0, nullptr);
    EV_SET(&ch[1], 5, EVFILT_USER, EV_DELETE | EV_RECEIPT, 0, 0, nullptr);
    std::array<struct kevent, 4> out{};
    const int n = ::kevent(kq, ch.data(), 2, out.data(), 4, nullptr);
    BOOST_REQUIRE_EQUAL(n, 2);
    BOOST_TEST((out[0].flags & EV_ERROR) != 0);
    BOOST_TEST(out[0].data == 0);
    BOOST_TEST((out[1].flags & EV_ERROR) != 0);
    BOOST_TEST(out[1].data == ENOENT);
    BOOST_TEST(fetch().size() == 1u);  // the user event was left queued
}

BOOST_AUTO_TEST_CASE(receipts_without_an_event_list) {
    std::array<struct kevent, 2> ch{};
    EV_SET(&ch[0], 1, EVFILT_USER, EV_ADD | EV_RECEIPT, 0, 0, nullptr);
    EV_SET(&ch[1], 2, EVFILT_USER, EV_ADD | EV_RECEIPT, 0, 0, nullptr);
    BOOST_TEST(::kevent(kq, ch.data(), 2, nullptr, 0, nullptr) == 0);
    // FreeBSD kqueue_kevent: a receipt with no room returns at once, so the
    // second change is never applied. XNU kevent_internal (8189) copies a
    // receipt only while there is room and goes on.
    const int rc = change(2, EVFILT_USER, EV_DELETE);
    BOOST_TEST(rc == (darwin() ? 0 : -1));
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_DELETE), 0);
}

BOOST_AUTO_TEST_CASE(errors_go_to_the_eventlist_when_it_has_room) {
    std::array<struct kevent, 2> ch{};
    EV_SET(&ch[0], 100000, EVFILT_READ, EV_ADD, 0, 0, nullptr);  // not an open fd
    EV_SET(&ch[1], 3, EVFILT_USER, EV_ENABLE, 0, 0, nullptr);    // no such event
    std::array<struct kevent, 4> out{};
    BOOST_REQUIRE_EQUAL(::kevent(kq, ch.data(), 2, out.data(), 4, nullptr), 2);
    BOOST_TEST(out[0].data == EBADF);
    BOOST_TEST(out[1].data == ENOENT);
    // FreeBSD sets flags to EV_ERROR; XNU adds EV_ERROR to them.
    BOOST_TEST(out[1].flags == (darwin() ? (EV_ENABLE | EV_ERROR) : EV_ERROR));
    // No room: the call fails with the first error, the rest unapplied.
    BOOST_TEST(::kevent(kq, ch.data(), 2, nullptr, 0, nullptr) == -1);
    BOOST_TEST(errno == EBADF);
}

BOOST_AUTO_TEST_CASE(bad_filter_and_bad_timeout_are_einval) {
    BOOST_TEST(change(1, 42, EV_ADD) == -1);
    BOOST_TEST(errno == EINVAL);
    struct kevent ev;
    const timespec bad{0, 1'000'000'000};
    BOOST_TEST(::kevent(kq, nullptr, 0, &ev, 1, &bad) == -1);
    BOOST_TEST(errno == EINVAL);
}

BOOST_AUTO_TEST_CASE(closing_a_descriptor_deletes_its_knotes) {
    // knote_fdclose: FreeBSD from closefp, XNU kern_descrip.c 1767-1768.
    auto* p = new fd_pair;
    const int rd = p->fd[0];
    BOOST_REQUIRE_EQUAL(change_fd(rd, EVFILT_READ, EV_ADD, tag(1)), 0);
    p->put(1, 1);
    delete p;
    // A change naming the closed number: FreeBSD kqueue_register looks the
    // descriptor up first (EBADF); XNU looks for the knote first (ENOENT).
    BOOST_TEST(change_fd(rd, EVFILT_READ, EV_DELETE) == -1);
    BOOST_TEST(errno == (darwin() ? ENOENT : EBADF));
    fd_pair q;  // reuses the number
    BOOST_REQUIRE_EQUAL(q.fd[0], rd);
    q.put(1, 1);
    BOOST_TEST(fetch().empty());
    BOOST_TEST(change_fd(rd, EVFILT_READ, EV_DELETE) == -1);
    BOOST_TEST(errno == ENOENT);
}

BOOST_AUTO_TEST_CASE(the_same_file_back_under_the_number_has_no_knotes) {
    // knote_fdclose goes by number, whatever becomes of the file: a FIFO
    // opened again, or a surviving duplicate put back with dup2.
    fifo f;
    const int reader = f.open(O_RDONLY);
    const int writer = f.open(O_WRONLY);
    BOOST_REQUIRE(reader >= 0 && writer >= 0);
    BOOST_REQUIRE_EQUAL(change_fd(reader, EVFILT_READ, EV_ADD), 0);
    ::close(reader);
    BOOST_REQUIRE_EQUAL(f.open(O_RDONLY), reader);
    BOOST_REQUIRE(::write(writer, "x", 1) == 1);
    BOOST_TEST(fetch().empty());
    BOOST_TEST(change_fd(reader, EVFILT_READ, EV_DELETE) == -1);
    BOOST_TEST(errno == ENOENT);

    fd_pair p;
    const int keeper = ::dup(p.fd[0]);
    BOOST_REQUIRE_EQUAL(change_fd(p.fd[0], EVFILT_READ, EV_ADD), 0);
    ::close(p.fd[0]);
    BOOST_REQUIRE_EQUAL(::dup2(keeper, p.fd[0]), p.fd[0]);
    p.put(1, 1);
    BOOST_TEST(fetch().empty());
    BOOST_TEST(change_fd(p.fd[0], EVFILT_READ, EV_DELETE) == -1);
    BOOST_TEST(errno == ENOENT);
    // dup2 onto a registered number closes it too.
    BOOST_REQUIRE_EQUAL(change_fd(p.fd[0], EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(::dup2(keeper, p.fd[0]), p.fd[0]);
    BOOST_TEST(fetch().empty());
    ::close(keeper);
    ::close(reader);
    ::close(writer);
}

BOOST_AUTO_TEST_CASE(kevent_on_a_closed_kqueue_is_ebadf) {
    // FreeBSD kqueue_acquire, XNU kevent_get_kqfile: the number must be a
    // kqueue, also once it is reused by something else.
    const int old = kq;
    ::close(kq);
    kq = -1;
    struct kevent ev;
    const timespec zero{};
    BOOST_TEST(::kevent(old, nullptr, 0, &ev, 1, &zero) == -1);
    BOOST_TEST(errno == EBADF);
    fd_pair p;  // takes the number
    BOOST_REQUIRE_EQUAL(p.fd[0], old);
    BOOST_TEST(::kevent(old, nullptr, 0, &ev, 1, &zero) == -1);
    BOOST_TEST(errno == EBADF);
}

BOOST_AUTO_TEST_CASE(a_repeated_add_keeps_the_knotes_flags) {
    // FreeBSD kqueue_register touches an existing knote without changing
    // kn_kevent.flags; XNU's knote_apply_touch keeps them too: a level knote
    // added again with EV_CLEAR stays level.
    fd_pair p;
    BOOST_REQUIRE_EQUAL(change_fd(p.fd[0], EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change_fd(p.fd[0], EVFILT_READ, EV_ADD | EV_CLEAR), 0);
    p.put(1, 1);
    BOOST_TEST(fetch().size() == 1u);
    BOOST_TEST(fetch().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
