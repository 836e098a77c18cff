// The default constructor probes backends in preference order and stops at
// the first that works: where epoll works, `unipoll::poller p;` must never
// touch io_uring. A seccomp filter in a forked child kills the process on
// io_uring_setup, as hardened kernels and container policies may do; a
// program that never asked for io_uring must survive it.
#define BOOST_TEST_MODULE default_selection
#include <boost/test/unit_test.hpp>

#include <unipoll/poller.hpp>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <functional>

namespace {

constexpr int no_seccomp = 10;

// Kills the process on io_uring_setup, allows everything else.
bool kill_on_io_uring_setup() {
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// Runs `body` in a forked child under the filter. Returns the wait status,
// or -1 if the child could not install the filter (qemu-user has no
// seccomp): then the test says so and skips.
int run_under_filter(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        if (!kill_on_io_uring_setup()) ::_exit(no_seccomp);
        ::_exit(body());
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == no_seccomp) {
        BOOST_TEST_MESSAGE("SKIPPED: no seccomp filters here, io_uring_setup cannot be trapped");
        return -1;
    }
    return status;
}

}  // namespace

BOOST_AUTO_TEST_CASE(filter_really_kills_on_io_uring_setup) {
    // Without this the test below could pass because the filter did nothing.
    const int status = run_under_filter([] {
        return ::syscall(SYS_io_uring_setup, 1, nullptr) == -1 ? 0 : 1;
    });
    if (status == -1) return;
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS));
}

BOOST_AUTO_TEST_CASE(default_poller_does_not_touch_io_uring_when_epoll_works) {
    // Nothing in this process may probe before the fork: the child would
    // inherit the probe results and never run the probes under the filter.
    const int status = run_under_filter([] {
        ::unsetenv("UNIPOLL_BACKEND");
        unipoll::poller p;
        if (p.kind() != unipoll::backend::epoll) return 2;
        p.wake();
        unipoll::event ev[1];
        return p.poll(ev).woken ? 0 : 3;
    });
    if (status == -1) return;
    bool epoll_here = false;
    for (unipoll::backend b : unipoll::available_backends())
        epoll_here = epoll_here || b == unipoll::backend::epoll;
    if (!epoll_here) {
        BOOST_TEST_MESSAGE("SKIPPED: epoll is not available here");
        return;
    }
    BOOST_TEST(!WIFSIGNALED(status), "the default constructor called io_uring_setup (killed by signal "
                                         << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ")");
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0),
               "child exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1)
                                    << " (2: not epoll, 3: wake lost)");
}
