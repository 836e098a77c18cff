// One self-overwriting status line on stderr while measuring, shown only
// when stderr is a terminal (logs and CI output stay clean).
#pragma once

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include <cstdio>
#include <string>

namespace compare {

class progress {
public:
#ifdef _WIN32
    explicit progress(int total) : total_(total), tty_(::_isatty(::_fileno(stderr)) != 0) {}
#else
    explicit progress(int total) : total_(total), tty_(::isatty(2) == 1) {}
#endif
    ~progress() { finish(); }
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

    void step(const std::string& what) {
        ++done_;
        if (!tty_) return;
        std::fprintf(stderr, "\r\033[K[%2d/%d] %s", done_, total_, what.c_str());
        std::fflush(stderr);
    }

    void finish() {
        if (tty_ && done_ > 0) std::fprintf(stderr, "\r\033[K");
        done_ = 0;
    }

private:
    int total_;
    int done_ = 0;
    bool tty_;
};

}  // namespace compare
