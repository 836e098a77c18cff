// Running a case's body in a forked child, and the checks such a child can
// make without Boost.Test: shared by the cases that fork (fork_cases.cpp,
// fork_order_cases.cpp). A child reports through its exit status and a line
// of text on a pipe, which the parent checks and prints.
#pragma once

#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

namespace conformance {

// qemu-user (the cross-aarch64-linux test preset) aborts when a forked child
// of a multi-threaded process starts threads (qemu 7.2: "cpu_exec: cpu ==
// current_cpu"). The preset sets UNIPOLL_TEST_EMULATOR; the fork cases then
// report a visible skip note instead of crashing the emulator.
bool skipped_under_emulator(backend b);

// ---- the child process ----------------------------------------------------

struct child_outcome {
    bool exited = false;   // false: killed by a signal
    int code = 0;          // exit status, or the signal number
    bool hung = false;     // killed by the parent after its time limit
    std::string report;
};

// Runs body in a forked child, which the parent kills if it outlives
// `limit`; the body returns the exit status and appends what it saw to
// `report`.
class child_process {
public:
    child_process(const std::function<int(std::string& report)>& body, std::chrono::seconds limit)
        : deadline_(steady::now() + limit) {
        auto report = make_pipe();
        pid_ = ::fork();
        BOOST_REQUIRE_MESSAGE(pid_ >= 0, "fork: " << std::strerror(errno));
        if (pid_ == 0) {
            report.read_end.reset();
            // The runner's crash handlers would carry on with the rest of
            // the suite inside the child: a child that crashes must die.
            for (int sig : {SIGALRM, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
                ::signal(sig, SIG_DFL);
            std::string text;
            int code = 0;
            try {
                code = body(text);
            } catch (const std::exception& e) {
                text += std::string(" uncaught exception: ") + e.what();
                code = 100;
            } catch (...) {
                text += " uncaught exception of unknown type";
                code = 100;
            }
            const int fd = report.write_end.get();
            // The write end is non-blocking; a report is far below the pipe
            // buffer, so one pass writes it.
            for (std::size_t off = 0; off < text.size();) {
                const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
                if (n <= 0 && errno != EINTR) break;
                if (n > 0) off += static_cast<std::size_t>(n);
            }
            ::_exit(code);
        }
        report.write_end.reset();
        report_ = std::move(report.read_end);
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() {
        if (!reaped_) {
            ::kill(pid_, SIGKILL);
            while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
            }
        }
    }

    // False once the child has ended (or was killed for running too long).
    bool running() {
        if (reaped_) return false;
        const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            return false;
        }
        if (r == 0 && steady::now() > deadline_) {
            hung_ = true;
            ::kill(pid_, SIGKILL);
        }
        return r == 0 || errno == EINTR;
    }

    child_outcome wait() {
        while (running()) std::this_thread::sleep_for(1ms);
        child_outcome o;
        o.exited = WIFEXITED(status_);
        o.code = o.exited ? WEXITSTATUS(status_) : WTERMSIG(status_);
        o.hung = hung_;
        std::array<char, 512> buf;
        for (;;) {
            const ssize_t n = ::read(report_.get(), buf.data(), buf.size());
            if (n > 0) o.report.append(buf.data(), static_cast<std::size_t>(n));
            else if (n == 0 || errno != EINTR) break;
        }
        return o;
    }

private:
    steady::time_point deadline_;
    pid_t pid_ = -1;
    int status_ = 0;
    bool reaped_ = false;
    bool hung_ = false;
    unique_fd report_;
};

// Waits for the child and checks it exited with 0, printing its report.
void expect_child_success(child_process& child, backend b);

// Blocking polls until one returns woken, for at most `patience`; returns
// what went wrong, or an empty string.
std::string woken_within_patience(unipoll::poller& p);
// A byte written to the pipe is reported with `token` on p.
std::string pipe_event_problem(unipoll::poller& p, pipe_fds& fds, std::uint64_t token);
// A wake round trip and a pipe event on p. A child of a process with
// threads passes child_of_threads: under ThreadSanitizer it cannot start a
// thread, and wakes itself from a signal handler instead.
std::string poller_problem(unipoll::poller& p, bool child_of_threads = false);

}  // namespace conformance
