#include "child_process.hpp"

#include <sys/time.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

namespace conformance {
namespace {

std::string describe(const child_outcome& o) {
    std::string s = o.exited ? "child exited with " + std::to_string(o.code)
                             : std::string("child killed by signal ") + ::strsignal(o.code);
    if (o.hung) s += " (it hung)";
    return s + ": " + o.report;
}

// ThreadSanitizer cannot start threads in a child forked from a process
// that had several; such a child then wakes itself from a signal handler.
#if defined(__SANITIZE_THREAD__)
constexpr bool tsan_build = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool tsan_build = true;
#else
constexpr bool tsan_build = false;
#endif
#else
constexpr bool tsan_build = false;
#endif

unipoll::poller* poller_to_wake = nullptr;
extern "C" void wake_from_handler(int) {
    if (poller_to_wake) poller_to_wake->wake();
}

// A wake from another thread (or from a signal handler, where the child may
// not start threads) ends a blocking poll with woken. Returns what went
// wrong, or an empty string.
std::string wake_round_trip_problem(unipoll::poller& p, bool child_of_threads) {
    std::optional<std::thread> waker;
    if (child_of_threads && tsan_build) {
        // wake() is async-signal-safe: SIGALRM 20 ms from now calls it.
        poller_to_wake = &p;
        struct sigaction sa {};
        sa.sa_handler = wake_from_handler;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGALRM, &sa, nullptr);
        itimerval once{{0, 0}, {0, 20'000}};
        ::setitimer(ITIMER_REAL, &once, nullptr);
    } else {
        waker.emplace([&p] {
            std::this_thread::sleep_for(settle_time);
            p.wake();
        });
    }
    std::string problem;
    try {
        problem = woken_within_patience(p);
    } catch (const std::exception& e) {
        // The waker thread must be joined before anything unwinds past it.
        problem = std::string("the blocking poll threw: ") + e.what() + "; ";
    }
    if (waker) waker->join();
    return problem;
}

}  // namespace

bool skipped_under_emulator(backend b) {
    const char* emu = std::getenv("UNIPOLL_TEST_EMULATOR");
    if (!emu || !*emu) return false;
    note(b, std::string("SKIPPED fork case under ") + emu +
                ": the emulator cannot run threads in a forked child");
    return true;
}

void expect_child_success(child_process& child, backend b) {
    const child_outcome o = child.wait();
    BOOST_CHECK_MESSAGE(o.exited && o.code == 0, describe(o));
    note(b, "child: " + o.report);
}

std::string woken_within_patience(unipoll::poller& p) {
    std::array<unipoll::event, 8> buf{};
    const auto start = steady::now();
    bool woken = false;
    while (!woken && steady::now() - start < patience) woken = p.poll(buf, patience).woken;
    return woken ? std::string() : "a wake from another thread did not end a blocking poll; ";
}

std::string pipe_event_problem(unipoll::poller& p, pipe_fds& fds, std::uint64_t token) {
    std::array<unipoll::event, 8> buf{};
    write_byte(fds.write_end.get());
    const auto start = steady::now();
    bool seen = false;
    while (!seen && steady::now() - start < patience) {
        const auto r = p.poll(buf, patience);
        for (std::size_t i = 0; i < r.count; ++i) seen = seen || (buf[i].token == token && buf[i].readable);
    }
    drain(fds.read_end.get());
    return seen ? std::string() : "a readable pipe was not reported; ";
}

std::string poller_problem(unipoll::poller& p, bool child_of_threads) {
    std::string problem = wake_round_trip_problem(p, child_of_threads);
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, 0xF0F0);
    problem += pipe_event_problem(p, fds, 0xF0F0);
    p.remove(fds.read_end.get());
    return problem;
}

}  // namespace conformance
