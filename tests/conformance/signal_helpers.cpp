#include "signal_helpers.hpp"

namespace conformance {
namespace {

volatile sig_atomic_t flag = 0;

extern "C" void set_signal_flag(int) { flag = 1; }

}  // namespace

volatile sig_atomic_t& signal_flag() { return flag; }

interrupting_handler::interrupting_handler() {
    flag = 0;
    struct sigaction sa {};
    sa.sa_handler = set_signal_flag;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART
    BOOST_REQUIRE(sigaction(SIGUSR1, &sa, &old_) == 0);
}

interrupting_handler::~interrupting_handler() { sigaction(SIGUSR1, &old_, nullptr); }

signal_storm::signal_storm(pthread_t target, std::chrono::microseconds period)
    : thread_([this, target, period] {
          while (!stop_.load()) {
              pthread_kill(target, SIGUSR1);
              sent_.fetch_add(1);
              std::this_thread::sleep_for(period);
          }
      }) {}

signal_storm::~signal_storm() {
    stop_.store(true);
    thread_.join();
}

}  // namespace conformance
