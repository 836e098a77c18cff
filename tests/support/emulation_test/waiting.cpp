// Timeouts, signals and fork.
#include "emulation_test/fixture.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <thread>

using namespace emulation_test;

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
