// Waking a poller from a signal handler: wake() is async-signal-safe (an
// atomic exchange and at most one write/kevent), so a handler can hand work
// to the poller thread without a self-pipe of its own.
//
//   signal_wake [N]   deliver N SIGALRMs from an interval timer (default 20)
//                     and count the wakes; exits 0 when every signal was seen
#include <unipoll/poller.hpp>

#include <sys/time.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

unipoll::poller* g_poller = nullptr;
std::atomic<int> g_signals{0};

extern "C" void on_alarm(int) {
    g_signals.fetch_add(1);
    g_poller->wake();
}

}  // namespace

int main(int argc, char** argv) try {
    const int wanted = argc > 1 ? std::atoi(argv[1]) : 20;
    unipoll::poller p;
    g_poller = &p;

    struct sigaction sa {};
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, nullptr);

    itimerval every_5ms{{0, 5000}, {0, 5000}};
    setitimer(ITIMER_REAL, &every_5ms, nullptr);

    // Each signal's wake either ends a blocking poll or coalesces with one
    // that has not been consumed yet; once `wanted` signals have arrived, one
    // more woken poll must follow (the last wake is never lost).
    unipoll::event events[4];
    int woken = 0;
    int seen_at_last_wake = 0;
    while (seen_at_last_wake < wanted) {
        const auto r = p.poll(events);
        if (r.woken) {
            ++woken;
            seen_at_last_wake = g_signals.load();
        }
    }
    itimerval off{};
    setitimer(ITIMER_REAL, &off, nullptr);
    std::printf("signal_wake: %s backend, %d signals, %d woken polls, %llu wake posts\n",
                std::string(unipoll::name(p.kind())).c_str(), g_signals.load(), woken,
                static_cast<unsigned long long>(p.stats().wake_posts));
    return woken > 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "signal_wake: %s\n", e.what());
    return 1;
}
