#include "process_usage.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace stress {

std::size_t open_fd_count() {
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        std::size_t n = 0;
        while (const dirent* e = ::readdir(dir))
            if (e->d_name[0] != '.') ++n;
        ::closedir(dir);
        return n - 1;  // the directory stream's own descriptor
    }
    std::size_t n = 0;
    const long max = std::min<long>(::sysconf(_SC_OPEN_MAX), 65536);
    for (int fd = 0; fd < max; ++fd)
        if (::fcntl(fd, F_GETFD) != -1) ++n;
    return n;
}

std::size_t resident_bytes() {
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        unsigned long size = 0, resident = 0;
        const int got = std::fscanf(f, "%lu %lu", &size, &resident);
        std::fclose(f);
        if (got == 2) return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    }
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
#ifdef __APPLE__
    return static_cast<std::size_t>(u.ru_maxrss);  // bytes on macOS
#else
    return static_cast<std::size_t>(u.ru_maxrss) * 1024;  // KiB elsewhere
#endif
}

}  // namespace stress
