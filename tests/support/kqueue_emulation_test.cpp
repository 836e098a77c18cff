// The kqueue emulation against the FreeBSD kqueue(2) manual: the semantics
// the kqueue backends rely on, so that a backend bug is not hidden by an
// emulation that is kinder than a real kernel.
#define BOOST_TEST_MODULE kqueue_emulation
#include <boost/test/unit_test.hpp>

#include <sys/event.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct kq_fixture {
    int kq = ::kqueue();
    kq_fixture() { BOOST_REQUIRE(kq >= 0); }
    ~kq_fixture() { ::close(kq); }

    int change(std::uintptr_t ident, short filter, unsigned short flags, unsigned int fflags = 0,
               std::int64_t data = 0, void* udata = nullptr) {
        struct kevent ev;
        EV_SET(&ev, ident, filter, flags, fflags, data, udata);
        return ::kevent(kq, &ev, 1, nullptr, 0, nullptr);
    }

    // Non-blocking (or bounded) fetch of up to N events.
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
        BOOST_REQUIRE((socket ? ::socketpair(AF_UNIX, SOCK_STREAM, 0, fd) : ::pipe(fd)) == 0);
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
};

void* tag(std::uintptr_t v) { return reinterpret_cast<void*>(v); }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(user_events, kq_fixture)

BOOST_AUTO_TEST_CASE(without_ev_clear_a_trigger_stays_until_cleared) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD), 0);
    BOOST_TEST(fetch().empty());
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().size() == 1u);
    BOOST_TEST(fetch().size() == 1u);
    // An EV_CLEAR in a change resets the trigger.
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_CLEAR), 0);
    BOOST_TEST(fetch().empty());
}

BOOST_AUTO_TEST_CASE(with_ev_clear_delivery_consumes_the_trigger) {
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, tag(42)), 0);
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, 0, NOTE_TRIGGER), 0);   // merges
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].ident == 7u);
    BOOST_TEST(evs[0].filter == EVFILT_USER);
    BOOST_TEST(evs[0].udata == tag(42));
    BOOST_TEST((evs[0].flags & EV_CLEAR) != 0);
    BOOST_TEST(fetch().empty());
}

BOOST_AUTO_TEST_CASE(ev_clear_in_the_trigger_change_cancels_it) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_CLEAR, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().empty());
}

BOOST_AUTO_TEST_CASE(fflags_combine_and_data_is_passed) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_FFCOPY | 0x5), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_FFOR | 0x2), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_FFAND | 0x6), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER, 99), 0);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].fflags == 0x6u);   // NOTE_TRIGGER is not returned
    BOOST_TEST(evs[0].data == 99);
}

BOOST_AUTO_TEST_CASE(disabled_event_is_held_until_enabled) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR | EV_DISABLE), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().empty());
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ENABLE), 0);
    BOOST_TEST(fetch().size() == 1u);
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
    BOOST_REQUIRE_EQUAL(change(2, EVFILT_USER, EV_ENABLE), 0);   // still triggered
    BOOST_TEST(fetch().size() == 1u);
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
    fd_pair p;
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    std::array<struct kevent, 2> ch{};
    EV_SET(&ch[0], static_cast<std::uintptr_t>(p.fd[0]), EVFILT_READ, EV_ADD | EV_RECEIPT, 0, 0, nullptr);
    EV_SET(&ch[1], 5, EVFILT_USER, EV_DELETE | EV_RECEIPT, 0, 0, nullptr);
    std::array<struct kevent, 4> out{};
    const int n = ::kevent(kq, ch.data(), 2, out.data(), 4, nullptr);
    BOOST_REQUIRE_EQUAL(n, 2);
    BOOST_TEST((out[0].flags & EV_ERROR) != 0);
    BOOST_TEST(out[0].data == 0);
    BOOST_TEST((out[1].flags & EV_ERROR) != 0);
    BOOST_TEST(out[1].data == ENOENT);
    BOOST_TEST(fetch().size() == 1u);   // the user event was left queued
}

BOOST_AUTO_TEST_CASE(errors_go_to_the_eventlist_when_it_has_room) {
    std::array<struct kevent, 2> ch{};
    EV_SET(&ch[0], 100000, EVFILT_READ, EV_ADD, 0, 0, nullptr);   // not an open fd
    EV_SET(&ch[1], 3, EVFILT_USER, EV_ENABLE, 0, 0, nullptr);     // no such event
    std::array<struct kevent, 4> out{};
    BOOST_REQUIRE_EQUAL(::kevent(kq, ch.data(), 2, out.data(), 4, nullptr), 2);
    BOOST_TEST(out[0].data == EBADF);
    BOOST_TEST(out[1].data == ENOENT);
    // No room: the call fails with the first error.
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
    auto* p = new fd_pair;
    const int rd = p->fd[0];
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(rd), EVFILT_READ, EV_ADD, 0, 0, tag(1)), 0);
    p->put(1, 1);
    delete p;
    BOOST_TEST(change(static_cast<std::uintptr_t>(rd), EVFILT_READ, EV_DELETE) == -1);
    BOOST_TEST(errno == EBADF);
    fd_pair q;   // reuses the number
    BOOST_REQUIRE_EQUAL(q.fd[0], rd);
    q.put(1, 1);
    BOOST_TEST(fetch().empty());
    BOOST_TEST(change(static_cast<std::uintptr_t>(rd), EVFILT_READ, EV_DELETE) == -1);
    BOOST_TEST(errno == ENOENT);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(descriptors, kq_fixture)

BOOST_AUTO_TEST_CASE(read_reports_bytes_available) {
    fd_pair p;
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(p.fd[0]), EVFILT_READ, EV_ADD, 0, 0, tag(9)), 0);
    BOOST_TEST(fetch().empty());
    p.put(1, 5);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].filter == EVFILT_READ);
    BOOST_TEST(evs[0].data == 5);
    BOOST_TEST(evs[0].udata == tag(9));
    BOOST_TEST((evs[0].flags & EV_EOF) == 0);
}

BOOST_AUTO_TEST_CASE(level_repeats_and_clear_reports_each_change_once) {
    fd_pair level, edge;
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(level.fd[0]), EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(edge.fd[0]), EVFILT_READ, EV_ADD | EV_CLEAR), 0);
    level.put(1, 1);
    edge.put(1, 1);
    BOOST_TEST(fetch().size() == 2u);
    auto again = fetch();
    BOOST_REQUIRE_EQUAL(again.size(), 1u);
    BOOST_TEST(again[0].ident == static_cast<std::uintptr_t>(level.fd[0]));
    edge.put(1, 1);   // new data: a new edge
    BOOST_TEST(fetch().size() == 2u);
}

BOOST_AUTO_TEST_CASE(oneshot_and_dispatch_on_descriptors) {
    fd_pair a, b;
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(a.fd[0]), EVFILT_READ, EV_ADD | EV_ONESHOT), 0);
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(b.fd[0]), EVFILT_READ, EV_ADD | EV_DISPATCH), 0);
    a.put(1, 1);
    b.put(1, 1);
    BOOST_TEST(fetch().size() == 2u);
    BOOST_TEST(fetch().empty());
    BOOST_TEST(change(static_cast<std::uintptr_t>(a.fd[0]), EVFILT_READ, EV_DELETE) == -1);
    BOOST_TEST(errno == ENOENT);
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(b.fd[0]), EVFILT_READ, EV_ENABLE), 0);
    BOOST_TEST(fetch().size() == 1u);   // still readable when enabled again
}

BOOST_AUTO_TEST_CASE(eof_on_hangup) {
    fd_pair pipe_, sock(true);
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(pipe_.fd[0]), EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(sock.fd[0]), EVFILT_READ, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(sock.fd[0]), EVFILT_WRITE, EV_ADD | EV_CLEAR), 0);
    BOOST_TEST(fetch().size() == 1u);   // the socket's send space
    pipe_.close_end(1);
    sock.close_end(1);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 3u);
    for (const auto& ev : evs) BOOST_TEST((ev.flags & EV_EOF) != 0);
}

BOOST_AUTO_TEST_CASE(level_events_take_turns_in_a_short_eventlist) {
    fd_pair p[3];
    for (auto& x : p) {
        BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(x.fd[0]), EVFILT_READ, EV_ADD), 0);
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
    BOOST_REQUIRE_EQUAL(change(static_cast<std::uintptr_t>(p.fd[0]), EVFILT_READ, EV_ADD), 0);
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(fetch(1, 30ms).empty());
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 30ms));

    std::thread writer([&] {
        std::this_thread::sleep_for(20ms);
        const char byte = 1;
        (void)!::write(p.fd[1], &byte, 1);   // Boost.Test assertions are not thread-safe
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
    sa.sa_flags = 0;   // no SA_RESTART
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
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        struct kevent ev;
        const timespec zero{};
        const bool gone = ::kevent(kq, nullptr, 0, &ev, 1, &zero) == -1 && errno == EBADF;
        ::_exit(gone ? 0 : 1);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
