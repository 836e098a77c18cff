// Facts about the machine and the build, for the report header.
#include "report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

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
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> machine_info() {
    utsname u{};
    ::uname(&u);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return {
        {"machine", host},
        {"os", u.sysname},
        {"kernel", std::string(u.release) + " " + u.version},
        {"arch", u.machine},
        {"cpu_model", cpu_model()},
        {"cpus", std::to_string(std::thread::hardware_concurrency())},
        {"compiler", compiler()},
        {"build_type", *UNIPOLL_COMPARE_BUILD_TYPE ? UNIPOLL_COMPARE_BUILD_TYPE : "none"},
        {"date", utc_now()},
    };
}

}  // namespace compare
