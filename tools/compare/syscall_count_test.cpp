// The kernel's system call count (perf, raw_syscalls:sys_enter) and the
// epoll backend's own stats().syscalls agree on a fixed scenario: this is
// what lets unipoll-compare fall back to stats() where perf is refused.
// Exits 77 (ctest: skipped) when perf_event_open is not permitted.
#include "syscall_counter.hpp"

#include <unipoll/poller.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <thread>

namespace {

int failures = 0;

void expect_agree(const char* step, std::uint64_t kernel, std::uint64_t stats) {
    const bool ok = kernel == stats;
    std::printf("%-44s kernel %4llu  stats() %4llu  %s\n", step, static_cast<unsigned long long>(kernel),
                static_cast<unsigned long long>(stats), ok ? "ok" : "MISMATCH");
    if (!ok) ++failures;
}

}  // namespace

int main() {
    using namespace std::chrono_literals;
    using compare::syscall_counter;
    if (!syscall_counter::available()) {
        std::printf("skipped: kernel syscall counting unavailable: %s\n",
                    syscall_counter::unavailable_reason().c_str());
        return 77;
    }
    unipoll::poller p(unipoll::backend::epoll);
    std::array<unipoll::event, 16> events{};
    std::array<std::array<int, 2>, 3> pairs{};
    for (auto& sv : pairs)
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv.data()) != 0) {
            std::perror("socketpair");
            return 1;
        }
    syscall_counter counter;

    // Each window holds only calls into the poller; the test's own writes
    // and sleeps stay outside.
    auto window = [&](const char* step, auto&& body) {
        const auto before = p.stats().syscalls;
        counter.start();
        body();
        const std::uint64_t kernel = counter.stop();
        expect_agree(step, kernel, p.stats().syscalls - before);
    };
    window("add 3, modify 1, remove 1", [&] {
        for (std::size_t i = 0; i < pairs.size(); ++i) p.add(pairs[i][0], unipoll::interest::read, i);
        p.modify(pairs[0][0], unipoll::interest::read, 7);
        p.remove(pairs[1][0]);
    });
    window("50 non-blocking polls", [&] {
        for (int i = 0; i < 50; ++i) p.poll(events, 0ns);
    });
    const char byte = 'x';
    if (::write(pairs[2][1], &byte, 1) != 1) return 1;
    window("poll with one fd ready", [&] { p.poll(events, 1s); });
    char drained = 0;
    if (::read(pairs[2][0], &drained, 1) != 1) return 1;
    window("wake with nobody asleep, then consume it", [&] {
        p.wake();
        p.poll(events, 1s);
    });

    // A sleeping poller woken from another thread: each thread counts its own.
    const auto before = p.stats().syscalls;
    std::uint64_t sleeper_calls = 0, waker_calls = 0;
    std::thread sleeper([&] {
        syscall_counter own;
        own.start();
        while (!p.poll(events, 5s).woken) {
        }
        sleeper_calls = own.stop();
    });
    std::thread waker([&] {
        std::this_thread::sleep_for(50ms);  // outside the window: let the sleeper block
        syscall_counter own;
        own.start();
        p.wake();
        waker_calls = own.stop();
    });
    sleeper.join();
    waker.join();
    expect_agree("sleeping wake, both threads", sleeper_calls + waker_calls, p.stats().syscalls - before);
    std::printf("  (sleeper %llu, waker %llu)\n", static_cast<unsigned long long>(sleeper_calls),
                static_cast<unsigned long long>(waker_calls));

    for (auto& sv : pairs) {
        ::close(sv[0]);
        ::close(sv[1]);
    }
    return failures == 0 ? 0 : 1;
}
