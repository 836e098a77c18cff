// The kqueue backends' registration changes, counted with stats(): queued
// and applied by the next kevent() call (add()+remove() costs the fstat of
// the add and nothing else), submitted at once while a thread sleeps in
// kevent() so the sleeper sees them, errors the caller can cause thrown at
// once, and a queued change the kernel refuses reported as an error event
// for its own token. Also a poll's size: as many events as the span holds,
// and no allocation once the span has been seen. Runs on the emulation,
// once per personality (unit.kqueue_changes.<personality>).
#define BOOST_TEST_MODULE kqueue_changes
#include <boost/test/unit_test.hpp>

#include "kqueue_emulation_control.hpp"

#include <unipoll/poller.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using unipoll::backend;
using unipoll::interest;
using unipoll::trigger;

constexpr auto patience = 5s;
// Ready descriptors in one poll: more than the backend's old cap of 1024.
constexpr std::size_t n = 1500;

// Counts heap allocations of this thread, when asked to.
thread_local bool counting = false;
thread_local std::size_t allocations = 0;

}  // namespace

// The replacements pair malloc with free; GCC at -O2 takes the free in a
// replaced operator delete for a mismatch with operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    if (counting) ++allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

struct pipe_pair {
    int rd = -1;
    int wr = -1;
    pipe_pair() {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
            throw std::system_error(errno, std::generic_category(), "pipe2");
        rd = fds[0];
        wr = fds[1];
    }
    pipe_pair(const pipe_pair&) = delete;
    pipe_pair& operator=(const pipe_pair&) = delete;
    pipe_pair(pipe_pair&& o) noexcept : rd(std::exchange(o.rd, -1)), wr(std::exchange(o.wr, -1)) {}
    ~pipe_pair() {
        if (rd >= 0) ::close(rd);
        if (wr >= 0) ::close(wr);
    }
    void put() const {
        const char byte = 1;
        BOOST_REQUIRE(::write(wr, &byte, 1) == 1);
    }
};

std::uint64_t syscalls(const unipoll::poller& p) { return p.stats().syscalls; }

// The errno of the std::system_error `op` throws, or 0.
int error_of(const std::function<void()>& op) {
    try {
        op();
    } catch (const std::system_error& e) {
        return e.code().value();
    }
    return 0;
}

// Runs the case body once for each kqueue variant.
void for_each_variant(const std::function<void(backend)>& body) {
    for (backend b : {backend::kqueue, backend::kqueue_pipe}) {
        BOOST_TEST_CONTEXT(unipoll::name(b) << " on the " << kqueue_emulation::personality_name(
                                                   kqueue_emulation::current_personality())
                                            << " emulation") {
            body(b);
        }
    }
}

const unipoll::event* find(std::span<const unipoll::event> evs, std::uint64_t token) {
    for (const auto& e : evs)
        if (e.token == token) return &e;
    return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_CASE(add_then_remove_costs_the_fstat_alone) {
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        pipe_pair fds;
        const auto before = syscalls(p);
        for (int i = 0; i < 100; ++i) {
            p.add(fds.rd, interest::read_write, 1, trigger::edge);
            p.modify(fds.rd, interest::read, 2, trigger::oneshot);
            p.remove(fds.rd);
        }
        // One fstat each for add and modify; the queued EV_ADDs are
        // cancelled by the deletes, and no kevent() is made at all.
        BOOST_TEST(syscalls(p) - before == 200u);
        std::array<unipoll::event, 4> out{};
        fds.put();
        BOOST_TEST(p.poll(out, 0ns).count == 0u);  // nothing was left registered
    });
}

BOOST_AUTO_TEST_CASE(queued_changes_ride_on_the_next_poll) {
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        std::vector<pipe_pair> fds(40);
        const auto before = syscalls(p);
        for (std::size_t i = 0; i < fds.size(); ++i) {
            fds[i].put();
            p.add(fds[i].rd, interest::read, i, trigger::level);
        }
        BOOST_TEST(syscalls(p) - before == fds.size());  // the fstats
        std::array<unipoll::event, 64> out{};
        const auto at_poll = syscalls(p);
        const auto r = p.poll(out, 0ns);
        BOOST_TEST(r.count == fds.size());
        // One kevent() applied the 40 EV_ADDs and returned their events.
        BOOST_TEST(syscalls(p) - at_poll == 1u);
        for (std::size_t i = 0; i < fds.size(); ++i) p.remove(fds[i].rd);
        const auto at_removes = syscalls(p);
        BOOST_TEST(p.poll(out, 0ns).count == 0u);
        BOOST_TEST(syscalls(p) - at_removes == 1u);  // the deletes rode along
    });
}

BOOST_AUTO_TEST_CASE(a_blocking_poll_applies_queued_changes_before_it_sleeps) {
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        pipe_pair fds;
        p.add(fds.rd, interest::read, 7);
        std::array<unipoll::event, 4> out{};
        const auto before = syscalls(p);
        // Nothing ready: one zero-timeout call applies the queue and scans,
        // one call sleeps.
        BOOST_TEST(p.poll(out, 20ms).count == 0u);
        BOOST_TEST(syscalls(p) - before == 2u);
        const auto again = syscalls(p);
        BOOST_TEST(p.poll(out, 20ms).count == 0u);
        BOOST_TEST(syscalls(p) - again == 1u);  // nothing queued: the sleep alone
    });
}

BOOST_AUTO_TEST_CASE(a_sleeping_poll_sees_a_change_at_once) {
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        pipe_pair fds;
        fds.put();
        std::array<unipoll::event, 4> out{};
        const auto before = syscalls(p);
        std::atomic<std::size_t> got{0};
        std::atomic<std::uint64_t> token{0};
        std::thread sleeper([&] {
            const auto r = p.poll(out, patience);
            got = r.count;
            if (r.count > 0) token = out[0].token;
        });
        // The sleeper's kevent() call is counted before it is made.
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (syscalls(p) == before && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
        std::this_thread::sleep_for(50ms);  // into the kernel
        const auto at_add = syscalls(p);
        const auto started = std::chrono::steady_clock::now();
        p.add(fds.rd, interest::read, 9);
        // The fstat, and the EV_ADD submitted at once rather than queued.
        BOOST_TEST(syscalls(p) - at_add == 2u);
        sleeper.join();
        BOOST_TEST(got.load() == 1u);
        BOOST_TEST(token.load() == 9u);
        BOOST_TEST((std::chrono::steady_clock::now() - started < patience));
    });
}

BOOST_AUTO_TEST_CASE(caller_errors_are_thrown_at_once_without_a_kevent) {
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        pipe_pair fds;
        char path[] = "/tmp/unipoll-kq-XXXXXX";
        const int file = ::mkstemp(path);
        BOOST_REQUIRE(file >= 0);
        ::unlink(path);
        p.add(fds.rd, interest::read, 1);
        const int closed = ::dup(fds.wr);
        ::close(closed);
        const auto before = syscalls(p);
        BOOST_TEST(error_of([&] { p.add(closed, interest::read, 2); }) == EBADF);
        BOOST_TEST(error_of([&] { p.add(file, interest::read, 3); }) == EPERM);
        BOOST_TEST(error_of([&] { p.add(fds.rd, interest::read, 4); }) == EEXIST);
        BOOST_TEST(error_of([&] { p.modify(fds.wr, interest::write, 5); }) == ENOENT);
        BOOST_TEST(error_of([&] { p.remove(fds.wr); }) == ENOENT);
        // An fstat for each add, and for the regular file the readiness
        // probe of core/src/fd_checks.cpp (3 calls on Linux, where this
        // runs); the others need none; no kevent() at all.
        BOOST_TEST(syscalls(p) - before == 6u);
        ::close(file);
    });
}

BOOST_AUTO_TEST_CASE(a_refused_queued_change_is_an_error_event_of_its_token) {
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        pipe_pair doomed, other;
        other.put();
        p.add(doomed.rd, interest::read, 11);
        p.add(other.rd, interest::read, 12);
        // Closed without remove() while its EV_ADD is queued: the kernel
        // refuses that change (EBADF) when the poll submits it.
        ::close(std::exchange(doomed.rd, -1));
        std::array<unipoll::event, 8> out{};
        unipoll::poll_result r{};
        BOOST_CHECK_NO_THROW(r = p.poll(out, 0ns));
        const std::span<const unipoll::event> got(out.data(), r.count);
        const auto* failed = find(got, 11);
        BOOST_REQUIRE_MESSAGE(failed, "the refused change was not reported for its token");
        BOOST_TEST(failed->error);
        BOOST_TEST(!failed->readable);
        const auto* fine = find(got, 12);
        BOOST_REQUIRE_MESSAGE(fine, "the other fd's event was lost with the refused change");
        BOOST_TEST(fine->readable);
        BOOST_TEST(!fine->error);
        // Reported once; then the registration is silent until modify/remove.
        r = p.poll(out, 0ns);
        BOOST_TEST(!find({out.data(), r.count}, 11));
    });
}

BOOST_AUTO_TEST_CASE(a_full_queue_is_submitted_without_throwing_at_the_unlucky_caller) {
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        std::vector<pipe_pair> fds(70);
        // The queue holds 64 changes; the first add's fd is closed before
        // the add that finds the queue full submits it.
        p.add(fds[0].rd, interest::read, 100);
        ::close(std::exchange(fds[0].rd, -1));
        for (std::size_t i = 1; i < fds.size(); ++i)
            BOOST_CHECK_NO_THROW(p.add(fds[i].rd, interest::read, 100 + i));
        std::array<unipoll::event, 128> out{};
        const auto r = p.poll(out, 0ns);
        const auto* failed = find({out.data(), r.count}, 100);
        BOOST_REQUIRE_MESSAGE(failed, "the change refused in a full queue was not reported");
        BOOST_TEST(failed->error);
    });
}

BOOST_AUTO_TEST_CASE(one_poll_returns_as_many_events_as_the_span_holds_without_allocating) {
    rlimit lim{};
    BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
    if (lim.rlim_cur < 2 * n + 64) {
        lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 2 * n + 64);
        BOOST_REQUIRE_MESSAGE(::setrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur >= 2 * n + 64,
                              "needs RLIMIT_NOFILE of " << 2 * n + 64);
    }
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        std::vector<pipe_pair> fds(n);
        for (std::size_t i = 0; i < n; ++i) {
            fds[i].put();
            p.add(fds[i].rd, interest::read, i, trigger::level);
        }
        std::vector<unipoll::event> out(n);
        // Each kind of poll has seen the span once; from then on neither
        // allocates.
        BOOST_TEST(p.poll(out, 0ns).count == n);
        BOOST_TEST(p.poll(out, 1s).count == n);
        allocations = 0;
        counting = true;
        const auto nonblocking = p.poll(out, 0ns);
        const auto blocking = p.poll(out, 1s);
        counting = false;
        BOOST_TEST(nonblocking.count == n);
        BOOST_TEST(blocking.count == n);
        BOOST_TEST(allocations == 0u);
    });
}

BOOST_AUTO_TEST_CASE(a_wake_whose_post_failed_is_reported_by_the_next_poll) {
    // Only the EVFILT_USER variant posts with kevent(); a pipe cannot fail
    // a write that matters (a full pipe is readable already).
    unipoll::poller p(backend::kqueue);
    std::array<unipoll::event, 4> out{};
    const auto before = syscalls(p);
    std::atomic<bool> woken{false};
    std::thread sleeper([&] { woken = p.poll(out, 300ms).woken; });
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (syscalls(p) == before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    std::this_thread::sleep_for(50ms);  // into the kernel, so wake() posts
    kqueue_emulation::fail_user_triggers(ENOMEM);
    p.wake();
    kqueue_emulation::fail_user_triggers(0);
    sleeper.join();
    // The post was lost: the sleeper returned at its timeout (woken, since
    // the wake was pending by then).
    BOOST_TEST(woken.load());
    try {
        p.poll(out, 0ns);
        BOOST_ERROR("the failed post was not reported");
    } catch (const std::system_error& e) {
        BOOST_TEST(e.code().value() == ENOMEM);
        BOOST_TEST(std::string(e.what()).find("NOTE_TRIGGER") != std::string::npos);
    }
    // Reported once; the poller works again.
    std::thread waker([&] {
        std::this_thread::sleep_for(20ms);
        p.wake();
    });
    BOOST_TEST(p.poll(out, patience).woken);
    waker.join();
}

BOOST_AUTO_TEST_CASE(a_queued_add_applied_after_close_and_reuse_does_not_stick) {
    // add() queues; the fd is closed without remove() and its number taken
    // by a new pipe; a poll applies the dead registration's EV_ADD to the
    // new file. An edge registration of the new file must then be edge,
    // not the level knote the dead one left (a repeated EV_ADD keeps a
    // knote's flags).
    for_each_variant([](backend b) {
        unipoll::poller p(b);
        auto* old = new pipe_pair;
        const int number = old->rd;
        p.add(number, interest::read, 1, trigger::level);
        delete old;
        pipe_pair fresh;
        BOOST_REQUIRE_EQUAL(fresh.rd, number);
        fresh.put();
        std::array<unipoll::event, 4> out{};
        (void)p.poll(out, 0ns);  // applies the dead EV_ADD to the new file
        p.add(number, interest::read, 2, trigger::edge);
        auto r = p.poll(out, 0ns);
        BOOST_TEST(r.count == 1u);
        BOOST_TEST(out[0].token == 2u);
        r = p.poll(out, 0ns);
        BOOST_TEST(r.count == 0u);  // no new data: no new edge
        fresh.put();
        r = p.poll(out, 0ns);
        BOOST_TEST(r.count == 1u);
    });
}
