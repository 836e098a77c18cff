// Facts about the machine and the build, for the report header.
#include "report.hpp"

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/utsname.h>
#include <unistd.h>
#endif

#include <ctime>
#include <fstream>
#include <string>
#include <thread>

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__)
#include <sys/sysctl.h>
#include <sys/types.h>
#endif

namespace compare {

namespace {

std::string cpu_model() {
#if defined(__linux__)
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    // x86 says "model name"; some arm64 kernels only "Hardware"/"CPU part".
    for (const char* key : {"model name", "Hardware", "CPU part"}) {
        in.clear();
        in.seekg(0);
        while (std::getline(in, line)) {
            if (line.rfind(key, 0) != 0) continue;
            const auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
        }
    }
    return "unknown";
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__)
#if defined(__APPLE__)
    const char* key = "machdep.cpu.brand_string";
#else
    const char* key = "hw.model";
#endif
    char buf[256] = {};
    std::size_t len = sizeof buf - 1;
    if (::sysctlbyname(key, buf, &len, nullptr, 0) == 0) return buf;
    return "unknown";
#else
    return "unknown";
#endif
}

std::string compiler() {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("g++ ") + __VERSION__;
#else
    return "unknown";
#endif
}

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
#ifdef _WIN32
    ::gmtime_s(&tm, &t);
#else
    ::gmtime_r(&t, &tm);
#endif
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

#ifdef _WIN32
// ntdll's exports, looked up because the SDK declares neither.
template <class F>
F ntdll_function(const char* name) {
    // Through void(*)(): the generic function pointer type, which compilers
    // accept as the bridge between two others without a cast warning.
    return reinterpret_cast<F>(reinterpret_cast<void (*)()>(
        ::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), name)));
}

// Windows' own version (RtlGetVersion does not lie to unmanifested
// programs as GetVersionEx does), or Wine's: its numbers are not Windows'.
std::string windows_version() {
    if (const auto wine = ntdll_function<const char* (*)()>("wine_get_version"))
        return std::string("Wine ") + wine();
    OSVERSIONINFOW v{};
    v.dwOSVersionInfoSize = sizeof v;
    if (const auto get = ntdll_function<LONG(WINAPI*)(OSVERSIONINFOW*)>("RtlGetVersion");
        get && get(&v) == 0)
        return std::to_string(v.dwMajorVersion) + "." + std::to_string(v.dwMinorVersion) + "." +
               std::to_string(v.dwBuildNumber);
    return "unknown";
}
#endif

}  // namespace

std::vector<std::pair<std::string, std::string>> machine_info() {
#ifdef _WIN32
    char host[MAX_COMPUTERNAME_LENGTH + 1] = {};
    DWORD host_len = sizeof host;
    ::GetComputerNameA(host, &host_len);
    const std::string os = "Windows";
    const std::string kernel = windows_version();
#if defined(_M_ARM64) || defined(__aarch64__)
    const std::string arch = "arm64";
#else
    const std::string arch = "x86_64";
#endif
#else
    utsname u{};
    ::uname(&u);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string os = u.sysname;
    const std::string kernel = std::string(u.release) + " " + u.version;
    const std::string arch = u.machine;
#endif
    return {
        {"machine", host},
        {"os", os},
        {"kernel", kernel},
        {"arch", arch},
        {"cpu_model", cpu_model()},
        {"cpus", std::to_string(std::thread::hardware_concurrency())},
        {"compiler", compiler()},
        {"build_type", *UNIPOLL_COMPARE_BUILD_TYPE ? UNIPOLL_COMPARE_BUILD_TYPE : "none"},
        {"date", utc_now()},
    };
}

}  // namespace compare
