#include "soak.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace stress {
namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

// State shared by the threads of one run. Rounds are numbered from 1:
// `sent` is the round whose wake is out, `acked` the last one the blocking
// poller received.
struct shared_state {
    explicit shared_state(const soak_config& c) : config(c), p(c.backend) {}

    const soak_config& config;
    unipoll::poller p;
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> acked{0};
    std::atomic<steady::rep> round_started{0};
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> rounds_done{0};
    std::atomic<std::uint64_t> blocking_polls{0};
    std::atomic<std::uint64_t> nonblocking_polls{0};
    std::atomic<std::uint64_t> events{0};
    std::atomic<std::uint64_t> churn_cycles{0};

    std::mutex failure_mutex;
    std::string failure;

    void fail(const std::string& what) {
        {
            std::lock_guard lk(failure_mutex);
            if (failure.empty()) failure = what;
        }
        done.store(true);
        // Release a waker waiting for an acknowledgement that will not come.
        acked.store(~std::uint64_t{0});
        acked.notify_all();
    }

    // Runs a thread's body; an exception fails the run instead of
    // terminating the process.
    template <class F>
    void guarded(const char* who, F&& body) {
        try {
            body();
        } catch (const std::exception& e) {
            fail(std::string(who) + ": " + e.what());
        }
    }
};

void waker(shared_state& s) {
    for (std::uint64_t k = 1; k <= s.config.rounds && !s.done.load(); ++k) {
        s.round_started.store(steady::now().time_since_epoch().count());
        s.sent.store(k);
        s.p.wake();
        // Wait for the acknowledgement (futex-backed, no spinning).
        for (std::uint64_t seen = s.acked.load(); seen < k; seen = s.acked.load())
            s.acked.wait(seen);
    }
}

// The only blocking poller: acknowledges each wake, detects lost ones and
// wakes reported with no wake outstanding.
void sleeper(shared_state& s) {
    std::array<unipoll::event, 64> buf{};
    const auto patience = std::chrono::duration_cast<steady::duration>(s.config.round_patience);
    while (s.acked.load() < s.config.rounds && !s.done.load()) {
        const auto r = s.p.poll(buf, 1s);
        s.blocking_polls.fetch_add(1, std::memory_order_relaxed);
        s.events.fetch_add(r.count, std::memory_order_relaxed);
        const std::uint64_t out = s.sent.load();
        const std::uint64_t got = s.acked.load();
        if (r.woken) {
            if (out == got) {
                s.fail("blocking poll woken with no wake outstanding after round " +
                       std::to_string(got));
                return;
            }
            s.rounds_done.store(out);
            s.acked.store(out);
            s.acked.notify_one();
        } else if (out > got) {
            const auto started = steady::time_point(steady::duration(s.round_started.load()));
            if (steady::now() - started > patience) {
                s.fail("wake of round " + std::to_string(out) + " lost: no woken poll for " +
                       std::to_string(s.config.round_patience.count()) + " s");
                return;
            }
        }
    }
}

void nonblocking_poller(shared_state& s) {
    std::array<unipoll::event, 64> buf{};
    while (!s.done.load()) {
        const auto r = s.p.poll(buf, 0ns);
        if (r.woken) {
            s.fail("a non-blocking poll reported woken");
            return;
        }
        s.nonblocking_polls.fetch_add(1, std::memory_order_relaxed);
        s.events.fetch_add(r.count, std::memory_order_relaxed);
        // Leave the core to the round trip now and then; two spinning
        // pollers on two cores would otherwise set the pace.
        std::this_thread::yield();
    }
}

void close_pair(int fds[2]) {
    ::close(fds[0]);
    ::close(fds[1]);
}

// Adds, modifies and removes fresh socketpairs, every other one readable, with
// every trigger the backend supports.
void churner(shared_state& s) {
    std::vector<unipoll::trigger> triggers;
    for (auto how : {unipoll::trigger::level, unipoll::trigger::edge, unipoll::trigger::oneshot})
        if (s.p.supports(how)) triggers.push_back(how);
    std::uint64_t token = 1ull << 40;
    for (std::uint64_t cycle = 0; !s.done.load(); ++cycle) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        const auto how = triggers[cycle % triggers.size()];
        try {
            s.p.add(fds[0], unipoll::interest::read, ++token, how);
            const char byte = 'x';
            if (cycle % 2 == 0 && ::write(fds[1], &byte, 1) != 1)
                throw std::system_error(errno, std::generic_category(), "write");
            s.p.modify(fds[0], cycle % 3 == 0 ? unipoll::interest::none : unipoll::interest::read_write,
                       ++token, how);
            s.p.remove(fds[0]);
        } catch (...) {
            close_pair(fds);
            throw;
        }
        close_pair(fds);
        s.churn_cycles.fetch_add(1, std::memory_order_relaxed);
    }
}

}  // namespace

soak_result run_soak(const soak_config& config) {
    const auto start = steady::now();
    soak_result out;
    {
        shared_state s(config);
        std::vector<std::thread> threads;
        threads.emplace_back([&] { s.guarded("nonblocking poller 1", [&] { nonblocking_poller(s); }); });
        threads.emplace_back([&] { s.guarded("nonblocking poller 2", [&] { nonblocking_poller(s); }); });
        threads.emplace_back([&] { s.guarded("churn", [&] { churner(s); }); });
        threads.emplace_back([&] { s.guarded("waker", [&] { waker(s); }); });
        s.guarded("blocking poller", [&] { sleeper(s); });
        s.done.store(true);
        for (auto& t : threads) t.join();

        out.failure = s.failure;
        out.rounds_done = s.rounds_done.load();
        out.blocking_polls = s.blocking_polls.load();
        out.nonblocking_polls = s.nonblocking_polls.load();
        out.events = s.events.load();
        out.churn_cycles = s.churn_cycles.load();
        out.stats = s.p.stats();
    }
    out.wall = steady::now() - start;
    return out;
}

}  // namespace stress
