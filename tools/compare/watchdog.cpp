#include "watchdog.hpp"

#include <cstdio>
#include <cstdlib>

namespace compare {

watchdog::watchdog() : thread_([this] { watch(); }) {}

watchdog::~watchdog() {
    {
        const std::lock_guard<std::mutex> hold(lock_);
        stop_ = true;
    }
    changed_.notify_one();
    thread_.join();
}

void watchdog::arm(std::string step, std::chrono::seconds limit) {
    {
        const std::lock_guard<std::mutex> hold(lock_);
        step_ = std::move(step);
        deadline_ = std::chrono::steady_clock::now() + limit;
    }
    changed_.notify_one();
}

void watchdog::watch() {
    std::unique_lock<std::mutex> hold(lock_);
    while (!stop_) {
        if (step_.empty()) {
            changed_.wait(hold);
            continue;
        }
        if (changed_.wait_until(hold, deadline_) == std::cv_status::timeout &&
            std::chrono::steady_clock::now() >= deadline_) {
            std::fprintf(stderr, "\nunipoll-compare: %s: still running after its time limit (a lost event?)\n",
                         step_.c_str());
            std::_Exit(1);
        }
    }
}

}  // namespace compare
