// stats().syscalls against the kernel's own count of this thread's system
// calls (a perf counter on raw_syscalls:sys_enter, the counter
// unipoll-compare uses): add() and remove() of a socket, which costs an
// fstat, of an eventfd, which also costs the readiness probe of
// core/src/fd_checks.cpp, and add() of files the check refuses (EPERM): a
// regular file (after the probe, on Linux) and a directory (after the fstat
// alone). Where the kernel cannot count
// (not Linux, perf_event_open not permitted) the case is a visible skip.
// The kqueue emulation's kevent() makes system calls a kernel's would not,
// but none runs here: add() queues its changes and remove() cancels them.
#include "fixture.hpp"

#include "fd_helpers.hpp"
#include "syscall_counter.hpp"

#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <cerrno>

namespace conformance {
namespace {

// Runs `calls` twice: once to size the poller's tables and to load what
// a first throw loads (the allocator may ask the kernel for memory then),
// and once counted, by the kernel and by stats(), which must agree.
template <class F>
void expect_counted_like_the_kernel(unipoll::poller& p, const char* what, F&& calls) {
    calls();
    compare::syscall_counter counter;
    const auto before = p.stats().syscalls;
    counter.start();
    calls();
    const std::uint64_t kernel = counter.stop();
    const std::uint64_t counted = p.stats().syscalls - before;
    BOOST_TEST_CONTEXT(what) {
        BOOST_CHECK_MESSAGE(counted == kernel, "stats() counted " << counted << " system calls, the kernel "
                                                                  << kernel);
    }
}

void add_refused(unipoll::poller& p, int fd) {
    try {
        p.add(fd, interest::read, 3);
        BOOST_ERROR("add() of a file without readiness succeeded");
    } catch (const std::system_error& e) {
        BOOST_CHECK_EQUAL(e.code().value(), EPERM);
    }
}

CONFORMANCE_CASE(stats_count_every_call_of_add_and_remove) {
    if (!compare::syscall_counter::available()) {
        note(backend_under_test, "SKIPPED case stats_count_every_call_of_add_and_remove: the kernel cannot "
                                 "count system calls here: " +
                                     compare::syscall_counter::unavailable_reason());
        return;
    }
    unipoll::poller p(backend_under_test);
    auto s = make_socketpair();
    expect_counted_like_the_kernel(p, "add()+remove() of a socket (no probe)", [&] {
        p.add(s.a.get(), interest::read, 1);
        p.remove(s.a.get());
    });
#ifdef __linux__
    const unique_fd counter_fd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    BOOST_REQUIRE(counter_fd.get() >= 0);
    expect_counted_like_the_kernel(p, "add()+remove() of an eventfd (probed)", [&] {
        p.add(counter_fd.get(), interest::read, 2);
        p.remove(counter_fd.get());
    });
#endif
    const auto file = open_regular_file();
    expect_counted_like_the_kernel(p, "add() of a regular file (EPERM)",
                                   [&] { add_refused(p, file.get()); });
    const auto dir = open_directory();
    expect_counted_like_the_kernel(p, "add() of a directory (EPERM without a probe)",
                                   [&] { add_refused(p, dir.get()); });
}

}  // namespace
}  // namespace conformance
