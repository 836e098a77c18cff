// The frame every conformance case is written in. A case is a plain
// function of the backend under test; CONFORMANCE_CASE registers it once and
// main.cpp instantiates it in one Boost.Test suite per backend, so a failure
// names its backend and `--run_test=<suite>` selects one backend.
//
// Timing rule: the suite runs on loaded shared machines. Lower bounds
// ("never returns before the timeout") are exact; upper bounds are only
// `patience`, seconds long, meant to catch hangs and lost wakes.
#pragma once

#include <unipoll/poller.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace conformance {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using unipoll::backend;
using unipoll::interest;
using unipoll::trigger;

// How long something that should happen "at once" may take before it counts
// as lost.
inline constexpr std::chrono::seconds patience{5};
// How long a poll waits to show that nothing is reported.
inline constexpr std::chrono::milliseconds quiet_period{50};
// Time given to another thread to enter its blocking poll.
inline constexpr std::chrono::milliseconds settle_time{20};

// ---- registration -------------------------------------------------------

using case_body = void (*)(backend);

struct case_entry {
    const char* name;
    case_body body;
    const char* file;
    std::size_t line;
};

const std::vector<case_entry>& registered_cases();

struct case_registrar {
    case_registrar(const char* name, case_body body, const char* file, std::size_t line);
};

#define CONFORMANCE_CASE(case_name)                                                        \
    static void case_name(::unipoll::backend);                                             \
    static const ::conformance::case_registrar case_name##_registrar{#case_name, &case_name, \
                                                                     __FILE__, __LINE__};  \
    static void case_name(::unipoll::backend backend_under_test)

// ---- what not every OS has -------------------------------------------------

// A case that needs one of these starts with
// `if (skip_without(needs::fork, backend_under_test)) return;`: where the OS
// lacks it, a "SKIPPED case <name>: <reason>" note is printed and the case
// ends there, visibly. Code that does not even compile there (POSIX calls)
// is kept out with `#ifndef _WIN32`, its cases registered in the `#else`
// with CONFORMANCE_SKIPPED_CASE; whole case files are listed in
// CMakeLists.txt (posix_only_case_files), which registers each of their
// cases that way.
enum class needs {
    fork,           // fork(), waitpid(), RLIMIT_NOFILE
    posix_signals,  // sigaction(), pthread_kill(), setitimer()
    fd_numbers,     // dup2(): giving a new descriptor a chosen number
    posix_files,    // regular files and directories given to add() (EPERM)
    // What a Windows backend's kernel mechanism cannot tell (docs/backends.md,
    // "Known differences on Windows"); every other OS and backend has these.
    write_shutdown_apart,  // a peer's write shutdown is no hangup for a write-only registration
    state_at_report,       // an event holds what is true of the fd when poll() reports it
    fin_behind_data,       // the peer's FIN is reported while data before it is unread
};

#ifdef _WIN32
// Wine's ntdll exports wine_get_version; Windows' does not.
bool running_under_wine();
#endif

// True, after the note, where this OS lacks `what`.
bool skip_without(needs what, backend b);

#define CONFORMANCE_SKIPPED_CASE(case_name, what)                               \
    CONFORMANCE_CASE(case_name) {                                               \
        BOOST_CHECK_MESSAGE(::conformance::skip_without(what, backend_under_test), \
                            "registered as a skip, but this OS has what it needs"); \
    }

// ---- polling --------------------------------------------------------------

struct polled {
    unipoll::poll_result result{};
    std::vector<unipoll::event> events;
    steady::duration elapsed{};

    const unipoll::event* find(std::uint64_t token) const;
    bool has(std::uint64_t token) const { return find(token) != nullptr; }
};

polled poll_for(unipoll::poller& p, std::chrono::nanoseconds timeout);

// Blocking polls until an event with `token` arrives or `patience` runs out
// (other fds' events and wakes are skipped).
std::optional<unipoll::event> await_token(unipoll::poller& p, std::uint64_t token);

// Nothing at all for `quiet_period`: no event, no wake, the poll did not
// return early and did not spin in the kernel. Only for a poller no other
// thread is using.
void expect_quiet(unipoll::poller& p);
// No event with `token` for `quiet_period` (others may come).
void expect_no_token(unipoll::poller& p, std::uint64_t token);

// A blocking poll run on its own thread. The destructor wakes the poller if
// the poll is still running, then joins.
class background_poll {
public:
    background_poll(unipoll::poller& p, std::chrono::nanoseconds timeout);
    background_poll(const background_poll&) = delete;
    background_poll& operator=(const background_poll&) = delete;
    ~background_poll();

    // True once the poll returned (or threw) within `limit`.
    bool finished_within(steady::duration limit);
    // Valid after finished_within() returned true; rethrows the poll's error.
    const polled& result();

private:
    unipoll::poller& p_;
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
    polled result_;
    std::exception_ptr error_;
    std::thread thread_;
};

// A poll from another thread that returns woken within `patience` after
// wake(); waits settle_time first so the wake usually finds a sleeper.
bool woken_from_other_thread(unipoll::poller& p);

// Wake + blocking poll round trip and an fd event: the poller still works.
void check_poller_still_works(unipoll::poller& p);

// ---- errors ---------------------------------------------------------------

// Runs `op`, expecting std::system_error with errno `err` (or `alt_err`
// when given) whose what() names `fd` (unless fd is no_fd).
inline constexpr int no_fd = -2147483647 - 1;
void expect_errno(const std::function<void()>& op, int err, int fd, const char* what_op,
                  int alt_err = 0);

// True if the poller supports `how`; otherwise checks that add() refuses it
// with ENOTSUP, prints a note and returns false.
bool trigger_supported(unipoll::poller& p, trigger how);

std::string trigger_name(trigger how);

// ---- stress ---------------------------------------------------------------

// Iteration counts times UNIPOLL_STRESS_SCALE (default 1; e.g. 0.1 under
// sanitizers), at least 1.
std::size_t scaled(std::size_t n);

// Prints an informational line into the test output.
void note(backend b, const std::string& text);

// Collects failures from helper threads, where Boost.Test assertions are
// not safe, for a check on the test's own thread after join.
class thread_failures {
public:
    void record(std::string what);
    // Runs fn, recording an escaping exception instead of terminating.
    void guard(const std::function<void()>& fn);
    void check() const;

private:
    mutable std::mutex m_;
    std::vector<std::string> failures_;
};

// std::thread that joins on destruction, so an early test failure does not
// terminate the runner.
class joining_thread {
public:
    template <class F>
    explicit joining_thread(F&& f) : t_(std::forward<F>(f)) {}
    joining_thread(const joining_thread&) = delete;
    joining_thread& operator=(const joining_thread&) = delete;
    ~joining_thread() { join(); }
    void join() {
        if (t_.joinable()) t_.join();
    }
    std::thread::native_handle_type native_handle() { return t_.native_handle(); }

private:
    std::thread t_;
};

}  // namespace conformance
