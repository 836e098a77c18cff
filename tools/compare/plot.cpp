#include "plot.hpp"

#ifdef _WIN32
#include "windows_command_line.hpp"

#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <process.h>
#else
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#ifndef _WIN32
extern char** environ;
#endif

namespace compare {

namespace {

#ifdef _WIN32
std::string executable_dir(const std::string&) {
    char buf[MAX_PATH] = {};
    const DWORD n = ::GetModuleFileNameA(nullptr, buf, sizeof buf);
    const std::string path(buf, n);
    const auto slash = path.find_last_of("\\/");
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Exit status of `args...`, or -1 if it could not start. `quiet` sends its
// output to NUL (the child inherits this process's standard handles).
// _spawnvp joins its arguments into one command line: each is quoted.
int run(std::vector<std::string> args, bool quiet) {
    for (auto& a : args) a = quote_argument(a);
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    const int saved_out = quiet ? ::_dup(1) : -1;
    const int saved_err = quiet ? ::_dup(2) : -1;
    if (quiet) {
        const int nul = ::_open("NUL", _O_WRONLY);
        ::_dup2(nul, 1);
        ::_dup2(nul, 2);
        ::_close(nul);
    }
    const auto code = ::_spawnvp(_P_WAIT, argv[0], argv.data());
    if (quiet) {
        ::_dup2(saved_out, 1);
        ::_dup2(saved_err, 2);
        ::_close(saved_out);
        ::_close(saved_err);
    }
    return code < 0 ? -1 : static_cast<int>(code);
}

bool readable(const std::string& path) { return ::_access(path.c_str(), 4) == 0; }
#else
std::string executable_dir(const std::string& argv0) {
    std::string path;
#if defined(__linux__)
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) path.assign(buf, static_cast<std::size_t>(n));
#endif
    if (path.empty()) {
        char resolved[PATH_MAX];
        if (argv0.find('/') != std::string::npos && ::realpath(argv0.c_str(), resolved)) path = resolved;
    }
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Exit status of `args...`, or -1 if it could not start. `quiet` sends its
// output to /dev/null.
int run(std::vector<std::string> args, bool quiet) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    if (quiet) {
        ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid = 0;
    const int spawned = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        const int code = WEXITSTATUS(status);
        // A missing interpreter can also show up as exit status 127.
        return code == 127 ? -1 : code;
    }
    return -2;
}

bool readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }
#endif

}  // namespace

plot_outcome draw_picture(const std::string& argv0, const std::string& python,
                          const std::string& json_path, const std::string& png_path) {
    const std::string script = executable_dir(argv0) + "/plot_report.py";
    if (!readable(script))
        return {false, "plot script not found (" + script + ")"};
    std::vector<std::string> candidates;
    if (!python.empty()) {
        candidates.push_back(python);
    } else {
        if (const char* env = std::getenv("UNIPOLL_COMPARE_PYTHON"); env && *env) candidates.emplace_back(env);
        candidates.emplace_back("python3");
        candidates.emplace_back("/usr/bin/python3");
    }
    // Probe quietly first: a python3 without matplotlib earlier in PATH
    // (pyenv, a venv) must not fill the output with its complaint.
    bool any_python = false;
    for (const auto& py : candidates) {
        const int probe = run({py, "-c", "import matplotlib"}, true);
        if (probe == -1) continue;
        any_python = true;
        if (probe != 0) continue;
        const int code = run({py, script, json_path, png_path}, false);
        if (code == 0) return {true, "drawn by " + py + " " + script};
        return {false, py + " " + script + " failed with status " + std::to_string(code)};
    }
    if (!any_python) return {false, "no Python 3 interpreter found"};
    return {false, "matplotlib not found (Debian/Ubuntu: apt-get install python3-matplotlib)"};
}

}  // namespace compare
