// The kqueue emulation against the kernels it stands in for: every point
// where FreeBSD (sys/kern/kern_event.c, sys_pipe.c) and XNU
// (bsd/kern/kern_event.c, sys_pipe.c, xnu-11417.101.15) behave differently
// is checked under the personality in use (UNIPOLL_KQUEUE_EMULATION; ctest
// runs this binary once for each), with the function or line followed.
// A backend bug must not be hidden by an emulation kinder than a kernel.
#define BOOST_TEST_MODULE kqueue_emulation
#include <boost/test/unit_test.hpp>

#include "kqueue_emulation_control.hpp"

#include <sys/event.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using kqueue_emulation::personality;

bool darwin() { return kqueue_emulation::current_personality() == personality::darwin; }

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

void* tag(std::uintptr_t v) { return reinterpret_cast<void*>(v); }
std::uintptr_t id(int fd) { return static_cast<std::uintptr_t>(fd); }

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

}  // namespace

BOOST_AUTO_TEST_CASE(personality_is_the_one_asked_for) {
    const char* env = std::getenv("UNIPOLL_KQUEUE_EMULATION");
    const std::string want = env && *env ? env : "freebsd";
    BOOST_TEST(kqueue_emulation::personality_name(kqueue_emulation::current_personality()) == want);
}

BOOST_FIXTURE_TEST_SUITE(user_events, kq_fixture)

BOOST_AUTO_TEST_CASE(without_ev_clear_a_trigger_stays_and_an_ev_clear_change) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD), 0);
    BOOST_TEST(fetch().empty());
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().size() == 1u);
    BOOST_TEST(fetch().size() == 1u);
    // FreeBSD filt_usertouch (EVENT_REGISTER): an EV_CLEAR change resets
    // the trigger. XNU filt_usertouch (1946-1972) has no such step.
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_CLEAR), 0);
    BOOST_TEST(fetch().size() == (darwin() ? 1u : 0u));
}

BOOST_AUTO_TEST_CASE(with_ev_clear_delivery_consumes_the_trigger) {
    // Both kernels: delivery clears it (FreeBSD filt_usertouch
    // EVENT_PROCESS; XNU filt_userprocess 1975-1990), and triggers merge.
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, tag(42)), 0);
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, 0, NOTE_TRIGGER, 0, tag(42)), 0);
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, 0, NOTE_TRIGGER, 0, tag(42)), 0);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].ident == 7u);
    BOOST_TEST(evs[0].filter == EVFILT_USER);
    BOOST_TEST(evs[0].udata == tag(42));
    BOOST_TEST((evs[0].flags & EV_CLEAR) != 0);
    BOOST_TEST(fetch().empty());
}

BOOST_AUTO_TEST_CASE(every_change_that_is_not_a_delete_replaces_udata) {
    // FreeBSD kqueue_register: kn->kn_kevent.udata = kev->udata for any
    // change that finds the knote; XNU kevent_register 4252-4255.
    BOOST_REQUIRE_EQUAL(change(3, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, tag(1)), 0);
    BOOST_REQUIRE_EQUAL(change(3, EVFILT_USER, 0, NOTE_TRIGGER, 0, tag(2)), 0);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].udata == tag(2));
    BOOST_REQUIRE_EQUAL(change(3, EVFILT_USER, EV_ENABLE, 0, 0, tag(3)), 0);
    BOOST_REQUIRE_EQUAL(change(3, EVFILT_USER, 0, NOTE_TRIGGER, 0, tag(3)), 0);
    evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].udata == tag(3));
}

BOOST_AUTO_TEST_CASE(ev_clear_in_the_trigger_change) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_CLEAR, NOTE_TRIGGER), 0);
    // FreeBSD filt_usertouch sets the trigger and then the EV_CLEAR resets
    // it: the reason a post must never carry EV_CLEAR. XNU fires.
    BOOST_TEST(fetch().size() == (darwin() ? 1u : 0u));
}

BOOST_AUTO_TEST_CASE(note_trigger_in_the_adding_change) {
    // FreeBSD kqueue_register zeroes the change's fflags before the attach,
    // and filt_userattach reads kn_fflags: ignored. XNU filt_userattach
    // (1935) reads kn_sfflags: the new event fires.
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().size() == (darwin() ? 1u : 0u));
}

BOOST_AUTO_TEST_CASE(fflags_combine_and_data_is_passed) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_FFCOPY | 0x5), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_FFOR | 0x2), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_FFAND | 0x6), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER, 99), 0);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].fflags == 0x6u);  // NOTE_TRIGGER is not returned
    BOOST_TEST(evs[0].data == 99);
}

BOOST_AUTO_TEST_CASE(disabled_event_is_held_until_enabled) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR | EV_DISABLE), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().empty());
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ENABLE), 0);
    BOOST_TEST(fetch().size() == 1u);
}

BOOST_AUTO_TEST_CASE(enable_and_disable_together) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    const int rc = change(1, EVFILT_USER, EV_ENABLE | EV_DISABLE);
    if (darwin()) {
        // XNU kevent_register: "delete and disable overrule".
        BOOST_TEST(rc == 0);
        BOOST_TEST(fetch().empty());
    } else {
        // FreeBSD kqueue_register refuses the pair.
        BOOST_TEST(rc == -1);
        BOOST_TEST(errno == EINVAL);
        BOOST_TEST(fetch().size() == 1u);
    }
}

BOOST_AUTO_TEST_CASE(oneshot_is_deleted_and_dispatch_disabled_after_delivery) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_ONESHOT), 0);
    BOOST_REQUIRE_EQUAL(change(2, EVFILT_USER, EV_ADD | EV_DISPATCH), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_REQUIRE_EQUAL(change(2, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().size() == 2u);
    BOOST_TEST(fetch().empty());
    BOOST_TEST(change(1, EVFILT_USER, EV_DELETE) == -1);
    BOOST_TEST(errno == ENOENT);
    BOOST_REQUIRE_EQUAL(change(2, EVFILT_USER, EV_ENABLE), 0);  // still triggered
    BOOST_TEST(fetch().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_failing_trigger_is_reported) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    kqueue_emulation::fail_user_triggers(ENOMEM);
    const int rc = change(1, EVFILT_USER, 0, NOTE_TRIGGER);
    const int err = errno;
    kqueue_emulation::fail_user_triggers(0);
    BOOST_TEST(rc == -1);
    BOOST_TEST(err == ENOMEM);
    BOOST_TEST(fetch().empty());
}

BOOST_AUTO_TEST_CASE(a_trigger_reaches_exactly_one_of_many_waiters) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    for (int round = 0; round < 20; ++round) {
        std::atomic<int> got{0};
        std::vector<std::thread> waiters;
        for (int i = 0; i < 4; ++i)
            waiters.emplace_back([&] {
                struct kevent ev;
                const timespec ts{0, 100'000'000};
                const int n = ::kevent(kq, nullptr, 0, &ev, 1, &ts);
                if (n > 0) got += n;
            });
        std::this_thread::sleep_for(5ms);
        BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
        for (auto& t : waiters) t.join();
        BOOST_TEST(got.load() == 1);
    }
}

BOOST_AUTO_TEST_CASE(a_blocked_waiter_is_woken_by_a_trigger) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    std::thread poster([&] {
        std::this_thread::sleep_for(30ms);
        change(1, EVFILT_USER, 0, NOTE_TRIGGER);
    });
    const auto start = std::chrono::steady_clock::now();
    struct kevent ev;
    const int n = ::kevent(kq, nullptr, 0, &ev, 1, nullptr);
    poster.join();
    BOOST_TEST(n == 1);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_SUITE_END()

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

BOOST_FIXTURE_TEST_SUITE(waiting, kq_fixture)

BOOST_AUTO_TEST_CASE(timeout_is_honoured_and_data_ends_it_early) {
    fd_pair p;
    BOOST_REQUIRE_EQUAL(change_fd(p.fd[0], EVFILT_READ, EV_ADD), 0);
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(fetch(1, 30ms).empty());
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 30ms));

    std::thread writer([&] {
        std::this_thread::sleep_for(20ms);
        const char byte = 1;
        (void)!::write(p.fd[1], &byte, 1);  // Boost.Test assertions are not thread-safe
    });
    start = std::chrono::steady_clock::now();
    BOOST_TEST(fetch(1, 10s).size() == 1u);
    writer.join();
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(a_signal_interrupts_a_wait_with_eintr) {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    ::sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART
    struct sigaction old {};
    BOOST_REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);
    std::atomic<int> rc{0}, err{0};
    std::thread waiter([&] {
        struct kevent ev;
        rc = ::kevent(kq, nullptr, 0, &ev, 1, nullptr);
        err = errno;
    });
    std::this_thread::sleep_for(50ms);
    ::pthread_kill(waiter.native_handle(), SIGUSR1);
    waiter.join();
    ::sigaction(SIGUSR1, &old, nullptr);
    BOOST_TEST(rc.load() == -1);
    BOOST_TEST(err.load() == EINTR);
}

BOOST_AUTO_TEST_CASE(a_kqueue_is_not_inherited_by_fork) {
    // kqueue(2), FreeBSD and macOS: the child has no such descriptor, so the
    // number is free there and the next descriptor may take it.
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        struct kevent ev;
        const timespec zero{};
        bool ok = ::kevent(kq, nullptr, 0, &ev, 1, &zero) == -1 && errno == EBADF;
        int fds[2];
        ok = ok && ::pipe(fds) == 0 && fds[0] == kq;
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
