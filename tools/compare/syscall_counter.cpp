#include "syscall_counter.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>

// A sanitizer's runtime makes system calls of its own in the counted
// thread (ASan maps memory for its allocator, also while an exception is
// thrown), which a count of the code under test must not include.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COMPARE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define COMPARE_SANITIZED 1
#endif
#endif

#if defined(__linux__) && __has_include(<linux/perf_event.h>) && !defined(COMPARE_SANITIZED)
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#define COMPARE_HAVE_PERF 1
#endif

namespace compare {

namespace {

struct probe_result {
    bool ok = false;
    std::string reason;
    std::string note;
    std::uint64_t tracepoint = 0;
    std::uint64_t overhead = 0;  // what one start()/stop() pair counts of itself
};

#ifdef COMPARE_HAVE_PERF

constexpr const char* tracefs_dir = "/sys/kernel/tracing";
constexpr const char* id_paths[] = {
    "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
    "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
};

bool read_id(std::uint64_t& id) {
    for (const char* path : id_paths) {
        std::ifstream in(path);
        if (in >> id) return true;
    }
    return false;
}

int open_counter(std::uint64_t tracepoint) {
    perf_event_attr attr{};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof attr;
    attr.config = tracepoint;
    attr.disabled = 1;
    // pid 0, cpu -1: this thread on any CPU, and only this thread (no
    // inherit), so a waker's and a sleeper's calls are counted apart.
    return static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

std::uint64_t read_count(int fd) {
    std::uint64_t value = 0;
    if (::read(fd, &value, sizeof value) != static_cast<ssize_t>(sizeof value)) return 0;
    return value;
}

probe_result probe() {
    probe_result r;
    // Lets the fallback path be exercised where perf does work.
    if (const char* force = std::getenv("UNIPOLL_COMPARE_SYSCALLS"); force && std::string(force) == "stats") {
        r.reason = "UNIPOLL_COMPARE_SYSCALLS=stats";
        return r;
    }
    if (!read_id(r.tracepoint)) {
        // Nothing has tracefs mounted (a minimal VM or container): mount it
        // just long enough to read the id; the counter needs only the id.
        if (::mount("nodev", tracefs_dir, "tracefs", 0, nullptr) != 0) {
            r.reason = std::string("raw_syscalls:sys_enter id not found and mount(tracefs, ") +
                       tracefs_dir + "): " + std::strerror(errno);
            return r;
        }
        const bool found = read_id(r.tracepoint);
        ::umount2(tracefs_dir, MNT_DETACH);
        if (!found) {
            r.reason = "tracefs has no raw_syscalls:sys_enter event (kernel without ftrace syscalls)";
            return r;
        }
        r.note = std::string("mounted tracefs on ") + tracefs_dir + " to read the tracepoint id, then unmounted it";
    }
    const int fd = open_counter(r.tracepoint);
    if (fd < 0) {
        r.reason = std::string("perf_event_open(raw_syscalls:sys_enter): ") + std::strerror(errno);
        if (errno == EACCES || errno == EPERM) {
            std::ifstream paranoid("/proc/sys/kernel/perf_event_paranoid");
            std::string level;
            if (paranoid >> level) r.reason += " (kernel.perf_event_paranoid=" + level + ")";
        }
        return r;
    }
    // Calibrate: the disabling ioctl enters the kernel while the counter is
    // still on and counts itself; take the minimum of a few empty windows.
    r.overhead = ~std::uint64_t{0};
    for (int i = 0; i < 8; ++i) {
        ::ioctl(fd, PERF_EVENT_IOC_RESET, 0);
        ::ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
        ::ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
        const std::uint64_t c = read_count(fd);
        if (c < r.overhead) r.overhead = c;
    }
    ::close(fd);
    r.ok = true;
    return r;
}

#else

probe_result probe() {
    probe_result r;
#ifdef COMPARE_SANITIZED
    r.reason = "a sanitizer's runtime makes system calls of its own in this build";
#else
    r.reason = "no perf_event_open on this OS";
#endif
    return r;
}

#endif

const probe_result& probed() {
    static const probe_result r = probe();
    return r;
}

}  // namespace

bool syscall_counter::available() { return probed().ok; }
const std::string& syscall_counter::unavailable_reason() { return probed().reason; }
const std::string& syscall_counter::probe_note() { return probed().note; }

#ifdef COMPARE_HAVE_PERF

syscall_counter::syscall_counter() {
    if (available()) fd_ = open_counter(probed().tracepoint);
}

syscall_counter::~syscall_counter() {
    if (fd_ >= 0) ::close(fd_);
}

void syscall_counter::start() noexcept {
    if (fd_ < 0) return;
    ::ioctl(fd_, PERF_EVENT_IOC_RESET, 0);
    ::ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0);
}

std::uint64_t syscall_counter::stop() noexcept {
    if (fd_ < 0) return 0;
    ::ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0);
    const std::uint64_t c = read_count(fd_);
    const std::uint64_t overhead = probed().overhead;
    return c > overhead ? c - overhead : 0;
}

#else

syscall_counter::syscall_counter() = default;
syscall_counter::~syscall_counter() = default;
void syscall_counter::start() noexcept {}
std::uint64_t syscall_counter::stop() noexcept { return 0; }

#endif

}  // namespace compare
