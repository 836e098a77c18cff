// Bounds each measurement step. A loop that never reports what it was
// given leaves a thread blocked in the kernel for good; nothing but ending
// the process recovers from that, so the watchdog ends it, naming the step.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace compare {

class watchdog {
public:
    watchdog();
    ~watchdog();
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    /// `step` begins: if it is still running after `limit`, print its name
    /// to stderr and exit with status 1.
    void arm(std::string step, std::chrono::seconds limit);

private:
    void watch();

    std::mutex lock_;
    std::condition_variable changed_;
    std::string step_;  // "" until the first arm()
    std::chrono::steady_clock::time_point deadline_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace compare
