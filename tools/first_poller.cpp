// unipoll-first-poller: what the first `unipoll::poller p;` of a program
// costs next to constructing the backend it picks directly. Only the first
// construction in a process pays for backend selection, so every sample is
// a fresh process: this program runs itself once per sample and each child
// times a single constructor call. Prints medians and their ratio; the goal
// (docs/compare.md) is a ratio of at most 2. It measures; it decides nothing.
// Children start with posix_spawn, or CreateProcess on Windows.
//
//   unipoll-first-poller [--rounds N]      (default 200 per side)
#include <unipoll/poller.hpp>

#ifdef _WIN32
#include "compare/windows_command_line.hpp"

#include <windows.h>
#else
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#ifndef _WIN32
extern char** environ;
#endif

namespace {

// Child: one constructor call, timed; prints "<ns> <backend>".
int child(const char* which) {
    using clock = std::chrono::steady_clock;
    std::optional<unipoll::backend> direct;
    if (std::strcmp(which, "default") != 0) {
        direct = unipoll::parse_backend(which);
        if (!direct) return 2;
    }
    const auto t0 = clock::now();
    std::optional<unipoll::poller> p;
    if (direct)
        p.emplace(*direct);
    else
        p.emplace();
    const auto t1 = clock::now();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    std::printf("%lld %s\n", static_cast<long long>(ns), std::string(unipoll::name(p->kind())).c_str());
    return 0;
}

struct sample {
    double ns = 0;
    std::string backend;
};

// Runs this program as a child measuring `which`: its standard output, or
// nullopt if it could not start or failed.
#ifdef _WIN32
// `self` is this executable's path as Windows knows it (argv[0] may lack
// the directory or ".exe"); the child's standard output is a pipe.
std::optional<std::string> run_child(const char*, const char* which) {
    char self[MAX_PATH];
    const DWORD len = ::GetModuleFileNameA(nullptr, self, MAX_PATH);
    if (len == 0 || len == MAX_PATH) return std::nullopt;
    SECURITY_ATTRIBUTES inherited{};
    inherited.nLength = sizeof inherited;
    inherited.bInheritHandle = TRUE;
    HANDLE out_read = nullptr;
    HANDLE out_write = nullptr;
    if (!::CreatePipe(&out_read, &out_write, &inherited, 0)) return std::nullopt;
    ::SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);  // the child gets the write end only
    STARTUPINFOA startup{};
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = ::GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = out_write;
    startup.hStdError = ::GetStdHandle(STD_ERROR_HANDLE);
    std::string command = compare::quote_argument(self) + " --child " + compare::quote_argument(which);
    PROCESS_INFORMATION child{};
    const BOOL started =
        ::CreateProcessA(self, command.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &startup, &child);
    ::CloseHandle(out_write);
    if (!started) {
        ::CloseHandle(out_read);
        return std::nullopt;
    }
    ::CloseHandle(child.hThread);
    std::string text;
    char buf[128];
    for (DWORD n = 0; ::ReadFile(out_read, buf, sizeof buf, &n, nullptr) && n > 0;) text.append(buf, n);
    ::CloseHandle(out_read);
    DWORD code = 1;
    const bool exited = ::WaitForSingleObject(child.hProcess, INFINITE) == WAIT_OBJECT_0 &&
                        ::GetExitCodeProcess(child.hProcess, &code);
    ::CloseHandle(child.hProcess);
    if (!exited || code != 0) return std::nullopt;
    return text;
}
#else
std::optional<std::string> run_child(const char* self, const char* which) {
    int out[2];
    if (::pipe(out) != 0) return std::nullopt;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    char* argv[] = {const_cast<char*>(self), const_cast<char*>("--child"),
                    const_cast<char*>(which), nullptr};
    pid_t pid = 0;
    const int err = posix_spawnp(&pid, self, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (err != 0) {
        ::close(out[0]);
        return std::nullopt;
    }
    std::string text;
    char buf[128];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return std::nullopt;
    return text;
}
#endif

// One child's line: "<ns> <backend>".
std::optional<sample> spawn_child(const char* self, const char* which) {
    const auto text = run_child(self, which);
    if (!text) return std::nullopt;
    sample s;
    char name[32] = {};
    if (std::sscanf(text->c_str(), "%lf %31s", &s.ns, name) != 2) return std::nullopt;
    s.backend = name;
    return s;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Alternates default and direct children so that load changes hit both.
int measure(const char* self, int rounds) {
    std::vector<double> by_default;
    std::vector<double> direct;
    std::string picked;
    for (int i = 0; i < rounds; ++i) {
        const auto d = spawn_child(self, "default");
        if (!d) {
            std::fprintf(stderr, "unipoll-first-poller: the default-construction child failed\n");
            return 1;
        }
        if (picked.empty()) picked = d->backend;
        if (d->backend != picked) {
            std::fprintf(stderr, "unipoll-first-poller: default backend changed from %s to %s\n",
                         picked.c_str(), d->backend.c_str());
            return 1;
        }
        const auto b = spawn_child(self, picked.c_str());
        if (!b) {
            std::fprintf(stderr, "unipoll-first-poller: the direct-construction child failed\n");
            return 1;
        }
        by_default.push_back(d->ns);
        direct.push_back(b->ns);
    }
    const double md = median(by_default);
    const double mb = median(direct);
    std::printf("first construction in a fresh process, median of %d processes each:\n", rounds);
    const std::string direct_call = "unipoll::poller p(backend::" + picked + ");";
    std::printf("  %-40s %8.1f us  (picked %s)\n", "unipoll::poller p;", md / 1e3, picked.c_str());
    std::printf("  %-40s %8.1f us\n", direct_call.c_str(), mb / 1e3);
    std::printf("  ratio %.2f (goal: at most 2)\n", md / mb);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--child") == 0) return child(argv[2]);
    int rounds = 200;
    if (argc == 3 && std::strcmp(argv[1], "--rounds") == 0) rounds = std::atoi(argv[2]);
    // Anything else is refused: a child that misread its "--child" would
    // otherwise measure, and spawn children, itself.
    else if (argc != 1) {
        std::fprintf(stderr, "usage: %s [--rounds N]\n", argv[0]);
        return 2;
    }
    if (rounds < 1) {
        std::fprintf(stderr, "unipoll-first-poller: --rounds must be at least 1\n");
        return 2;
    }
    // Under a user-mode emulator (qemu-user, as the aarch64 cross tests
    // run) a spawned child is a foreign-architecture binary the kernel
    // cannot start: say so and skip (77, ctest's SKIP_RETURN_CODE).
    if (const char* emu = std::getenv("UNIPOLL_TEST_EMULATOR"); emu && *emu) {
        std::printf("unipoll-first-poller: skipped under %s: its children cannot be started there\n", emu);
        return 77;
    }
    return measure(argv[0], rounds);
}
