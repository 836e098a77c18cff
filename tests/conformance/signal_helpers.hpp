// Signal handlers installed the way language runtimes install them (Python,
// a C flag set in the handler): without SA_RESTART, so a kernel wait fails
// with EINTR, and a thread that keeps signalling another one.
#pragma once

#include "fixture.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>

namespace conformance {

// While alive: SIGUSR1 runs a handler that sets signal_flag(); restores the
// previous action on destruction.
class interrupting_handler {
public:
    interrupting_handler();
    ~interrupting_handler();
    interrupting_handler(const interrupting_handler&) = delete;
    interrupting_handler& operator=(const interrupting_handler&) = delete;

private:
    struct sigaction old_ {};
};

// Set by the handler, the flag-in-handler pattern of C programs.
volatile sig_atomic_t& signal_flag();

// Sends SIGUSR1 to `target` every `period` until destroyed.
class signal_storm {
public:
    signal_storm(pthread_t target, std::chrono::microseconds period);
    ~signal_storm();
    signal_storm(const signal_storm&) = delete;
    signal_storm& operator=(const signal_storm&) = delete;
    std::size_t sent() const { return sent_.load(); }

private:
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> sent_{0};
    joining_thread thread_;
};

}  // namespace conformance
