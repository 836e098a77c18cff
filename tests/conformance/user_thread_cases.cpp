// Threads as a user has them: the thread that created the poller and
// registered fds goes on to do other work (and may block in the kernel for
// a long time), other threads register and wake, and several threads poll.
// None of that may slow the polling thread down or disturb the others.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <sys/socket.h>
#ifdef __linux__
#include <sys/syscall.h>  // SYS_close_range
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/epoll.h>
#endif

#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>

namespace conformance {
namespace {

using namespace std::chrono;

// Blocks the calling thread in the kernel for `how_long`: on Linux in
// vfork(), which waits for the child without running the thread's task
// work; elsewhere in waitpid() for a forked child. The child closes its
// copies of the descriptors (so it keeps no file open), sleeps and exits.
void block_in_vfork(seconds how_long) {
    const timespec ts{static_cast<time_t>(how_long.count()), 0};
#ifdef __linux__
    const pid_t pid = ::vfork();
#else
    const pid_t pid = ::fork();
#endif
    if (pid == 0) {
#ifdef SYS_close_range
        if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
            for (int fd = 3; fd < 4096; ++fd) ::close(fd);
        ::nanosleep(&ts, nullptr);
        ::_exit(0);
    }
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "vfork");
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

// Spins until `stage` holds `value`; false after `patience` (the test
// thread failed and will not get there).
bool reach(const std::atomic<int>& stage, int value) {
    const auto deadline = steady::now() + patience;
    while (stage.load() != value)
        if (steady::now() > deadline) return false;
        else std::this_thread::yield();
    return true;
}

// How long a poll blocked in another thread takes to return after `trigger`.
template <class F>
steady::duration delay_until_return(unipoll::poller& p, F&& trigger, std::uint64_t token) {
    background_poll bg(p, unipoll::forever);
    std::this_thread::sleep_for(settle_time);
    const auto start = steady::now();
    trigger();
    BOOST_REQUIRE_MESSAGE(bg.finished_within(patience), "the sleeping poll never returned");
    const auto took = steady::now() - start;
    if (token != 0) BOOST_CHECK_MESSAGE(bg.result().has(token), "poll returned without the event");
    else BOOST_CHECK(bg.result().result.woken);
    return took;
}

// The creating and registering thread sits in vfork() for 3 s while
// another thread polls: an event and a wake reach that poll at once.
CONFORMANCE_CASE(creator_blocked_in_the_kernel_does_not_delay_the_poller) {
    std::optional<unipoll::poller> made;
    auto s = make_socketpair();
    std::atomic<int> stage{0};
    thread_failures failures;
    joining_thread creator([&] {
        failures.guard([&] {
            made.emplace(backend_under_test);
            // Edge where supported: a kernel poll armed once stays armed.
            made->add(s.a.get(), interest::read, 93,
                      made->supports(trigger::edge) ? trigger::edge : trigger::level);
            stage.store(1);
            if (!reach(stage, 2)) return;
            stage.store(3);
            block_in_vfork(3s);
        });
    });
    BOOST_REQUIRE(reach(stage, 1));
    unipoll::poller& p = *made;
    // One round before the creator blocks: the sleeper has armed what it needs.
    write_byte(s.b.get());
    BOOST_REQUIRE(await_token(p, 93));
    drain(s.a.get());
    stage.store(2);
    BOOST_REQUIRE(reach(stage, 3));
    std::this_thread::sleep_for(100ms);  // the creator is inside vfork() now

    const auto event_delay = delay_until_return(p, [&] { write_byte(s.b.get()); }, 93);
    drain(s.a.get());
    const auto wake_delay = delay_until_return(p, [&] { p.wake(); }, 0);
    note(backend_under_test, "with the creator blocked: event after " +
                                 std::to_string(duration_cast<microseconds>(event_delay).count()) +
                                 " us, wake after " +
                                 std::to_string(duration_cast<microseconds>(wake_delay).count()) + " us");
    // The creator stays blocked for 3 s; a poll that waited for it would
    // take over a second here.
    BOOST_CHECK_MESSAGE(event_delay < 1s, "event reached the sleeping poll only after the creator returned");
    BOOST_CHECK_MESSAGE(wake_delay < 1s, "wake reached the sleeping poll only after the creator returned");
    creator.join();
    failures.check();
}

// True once `peer` reads end of file: the other end's file was released.
bool peer_sees_close(int peer, steady::duration limit) {
    const auto deadline = steady::now() + limit;
    std::array<char, 4096> buf;
    do {
        const ssize_t n = ::recv(peer, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return true;
        if (n < 0) std::this_thread::sleep_for(1ms);
    } while (steady::now() < deadline);
    return false;
}

// The registering thread is blocked in the kernel while the peer writes and
// another thread polls; remove() and close() from a third thread release
// the file at once, although the fd's kernel poll is busy delivering.
CONFORMANCE_CASE(remove_then_close_while_the_registering_thread_is_blocked) {
    unipoll::poller p(backend_under_test);
    const trigger how = p.supports(trigger::edge) ? trigger::edge : trigger::level;
    auto s = make_socketpair();
    std::atomic<int> stage{0};
    std::atomic<bool> stop{false};
    std::mutex read_mu;
    bool open = true;
    thread_failures failures;
    joining_thread registrar([&] {
        failures.guard([&] {
            p.add(s.a.get(), interest::read, 95, how);
            stage.store(1);
            block_in_vfork(3s);
        });
    });
    BOOST_REQUIRE(reach(stage, 1));
    joining_thread loop([&] {
        failures.guard([&] {
            std::array<unipoll::event, 8> buf{};
            while (!stop.load()) {
                const auto r = p.poll(buf, 10ms);
                std::lock_guard lk(read_mu);
                for (std::size_t i = 0; i < r.count; ++i)
                    if (buf[i].token == 95 && open) drain(s.a.get());
            }
        });
    });
    const auto writing_until = steady::now() + 300ms;
    while (steady::now() < writing_until) {
        write_byte(s.b.get());
        std::this_thread::sleep_for(1ms);
    }
    const auto start = steady::now();
    {
        std::lock_guard lk(read_mu);
        write_byte(s.b.get());
        p.remove(s.a.get());
        s.a.reset();
        open = false;
    }
    const bool released = peer_sees_close(s.b.get(), 1s);
    note(backend_under_test, "peer saw the close after " +
                                 std::to_string(duration_cast<microseconds>(steady::now() - start).count()) +
                                 " us (the registering thread is blocked for 3 s)");
    BOOST_CHECK_MESSAGE(released, "after remove() and close() the peer still sees the socket open");
    stop.store(true);
    loop.join();
    registrar.join();
    failures.check();
}

// A thread that only creates the poller, calls add(), modify(), remove()
// and wake() is not a poller: its own unrelated system calls are not
// interrupted while the loop thread delivers that fd's events.
CONFORMANCE_CASE(registering_thread_is_not_interrupted) {
#ifdef __linux__
    std::optional<unipoll::poller> made;
    auto s = make_socketpair();
    auto other = make_pipe();
    std::atomic<int> stage{0};
    std::atomic<bool> stop{false};
    std::atomic<int> interrupted{0};
    std::atomic<int> waits{0};
    thread_failures failures;
    joining_thread registrar([&] {
        failures.guard([&] {
            made.emplace(backend_under_test);
            const trigger how = made->supports(trigger::edge) ? trigger::edge : trigger::level;
            made->add(s.a.get(), interest::read, 81, how);
            stage.store(1);
            if (!reach(stage, 2)) return;
            // Registration calls while the loop thread polls.
            made->add(other.read_end.get(), interest::read, 82, how);
            std::this_thread::sleep_for(settle_time);
            made->modify(other.read_end.get(), interest::read, 83, how);
            std::this_thread::sleep_for(settle_time);
            made->remove(other.read_end.get());
            made->wake();
            unique_fd ep(::epoll_create1(EPOLL_CLOEXEC));
            if (ep.get() < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
            for (int i = 0; i < 10; ++i) {
                epoll_event ev{};
                if (::epoll_wait(ep.get(), &ev, 1, 50) < 0 && errno == EINTR) interrupted.fetch_add(1);
                waits.fetch_add(1);
            }
            stage.store(3);
        });
    });
    BOOST_REQUIRE(reach(stage, 1));
    unipoll::poller& p = *made;
    joining_thread loop([&] {
        failures.guard([&] {
            std::array<unipoll::event, 8> buf{};
            while (!stop.load()) {
                const auto r = p.poll(buf, 10ms);
                for (std::size_t i = 0; i < r.count; ++i)
                    if (buf[i].token == 81) drain(s.a.get());
            }
        });
    });
    write_byte(s.b.get());
    write_byte(other.write_end.get());
    std::this_thread::sleep_for(settle_time);
    stage.store(2);
    const auto deadline = steady::now() + patience;
    while (stage.load() == 2 && steady::now() < deadline) {
        write_byte(s.b.get());
        std::this_thread::sleep_for(1ms);
    }
    stop.store(true);
    loop.join();
    registrar.join();
    failures.check();
    BOOST_CHECK_EQUAL(waits.load(), 10);
    BOOST_CHECK_MESSAGE(interrupted.load() == 0, "the registering thread's epoll_wait failed with EINTR "
                                                     << interrupted.load() << " times");
#else
    note(backend_under_test, "EINTR from foreign kernel work is a Linux matter; not checked here");
#endif
}

// A level fd that stays readable is reported by every poll, the blocking
// poller's included, while another thread spins in non-blocking polls.
CONFORMANCE_CASE(level_fd_reported_by_every_poll_beside_nonblocking_spinner) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    write_byte(fds.write_end.get());  // never read: stays readable
    p.add(fds.read_end.get(), interest::read, 61);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> spins{0};
    std::atomic<std::uint64_t> spin_misses{0};
    thread_failures failures;
    std::uint64_t polls = 0;
    std::uint64_t misses = 0;
    {
        joining_thread spinner([&] {
            failures.guard([&] {
                std::array<unipoll::event, 4> buf{};
                while (!stop.load()) {
                    const auto r = p.poll(buf, 0ns);
                    bool seen = false;
                    for (std::size_t i = 0; i < r.count; ++i) seen = seen || buf[i].token == 61;
                    spins.fetch_add(1);
                    if (!seen) spin_misses.fetch_add(1);
                }
            });
        });
        const auto end = steady::now() + std::chrono::milliseconds(scaled(1000));
        while (steady::now() < end || polls < 20) {
            const polled r = poll_for(p, 50ms);
            ++polls;
            if (!r.has(61)) ++misses;
        }
        stop.store(true);
    }
    failures.check();
    note(backend_under_test, std::to_string(polls) + " blocking polls, " + std::to_string(spins.load()) +
                                 " non-blocking polls beside them");
    BOOST_CHECK_MESSAGE(misses == 0, misses << " of " << polls
                                            << " blocking polls returned without the readable fd");
    BOOST_CHECK_MESSAGE(spin_misses.load() == 0, spin_misses.load() << " of " << spins.load()
                                                                    << " non-blocking polls missed it");
}

}  // namespace
}  // namespace conformance
