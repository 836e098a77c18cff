// The poll(2) backend's own behaviour: the pipe wake, registration changes
// that must reach a thread already blocked in poll(2), oneshot re-arming,
// fds closed without remove(), and the millisecond rounding used where
// ppoll(2) is missing.
#define BOOST_TEST_MODULE poll_backend
#include <boost/test/unit_test.hpp>

#include "../../backends/poll/poll_timeout.hpp"

#include <unipoll/poller.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <future>
#include <system_error>
#include <thread>

using namespace std::chrono_literals;
using unipoll::interest;
using unipoll::trigger;

namespace {

using clock_type = std::chrono::steady_clock;

// Long enough for a thread to be inside poll(2) on a loaded 2-core machine.
constexpr auto settle = 50ms;

struct pipe_pair {
    int rd = -1;
    int wr = -1;
    pipe_pair() {
        int fds[2];
        BOOST_REQUIRE(::pipe(fds) == 0);
        rd = fds[0];
        wr = fds[1];
        ::fcntl(rd, F_SETFL, O_NONBLOCK);
        ::fcntl(wr, F_SETFL, O_NONBLOCK);
    }
    pipe_pair(const pipe_pair&) = delete;
    pipe_pair& operator=(const pipe_pair&) = delete;
    ~pipe_pair() { close_both(); }
    void put() const { BOOST_REQUIRE(::write(wr, "x", 1) == 1); }
    void take() const {
        char c;
        BOOST_REQUIRE(::read(rd, &c, 1) == 1);
    }
    void close_both() {
        if (rd >= 0) ::close(rd);
        if (wr >= 0) ::close(wr);
        rd = wr = -1;
    }
};

struct fixture {
    unipoll::poller p{unipoll::backend::poll};
    std::array<unipoll::event, 8> ev{};

    unipoll::poll_result poll(std::chrono::nanoseconds t) { return p.poll(ev, t); }
};

template <class F>
std::errc error_of(F&& f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return static_cast<std::errc>(e.code().value());
    }
    return std::errc{};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(poll_backend, fixture)

BOOST_AUTO_TEST_CASE(wake_before_poll_is_sticky_and_consumed_once) {
    p.wake();
    p.wake();
    const auto r = poll(unipoll::forever);
    BOOST_TEST(r.woken);
    BOOST_TEST(r.count == 0u);
    const auto t0 = clock_type::now();
    const auto again = poll(30ms);
    BOOST_TEST(!again.woken);
    BOOST_TEST((clock_type::now() - t0 >= 30ms));
}

BOOST_AUTO_TEST_CASE(wake_from_another_thread_ends_a_blocking_poll) {
    std::thread waker([&] {
        std::this_thread::sleep_for(settle);
        p.wake();
    });
    const auto r = poll(unipoll::forever);
    waker.join();
    BOOST_TEST(r.woken);
    BOOST_TEST(p.stats().wake_posts == 1u);
    BOOST_TEST(p.stats().stale_wakeups == 0u);
}

BOOST_AUTO_TEST_CASE(nonblocking_polls_never_take_the_sleepers_wake) {
    pipe_pair a;
    p.add(a.rd, interest::read, 1);
    auto sleeper = std::async(std::launch::async, [&] {
        std::array<unipoll::event, 4> out{};
        return p.poll(out, 5s);
    });
    std::this_thread::sleep_for(settle);
    p.wake();
    for (int i = 0; i < 20; ++i) BOOST_TEST(!poll(0ns).woken);
    const auto r = sleeper.get();
    BOOST_TEST(r.woken);
    BOOST_TEST(p.stats().relays == 0u);
}

BOOST_AUTO_TEST_CASE(level_reports_while_ready) {
    pipe_pair a;
    p.add(a.rd, interest::read, 42);
    BOOST_TEST(poll(0ns).count == 0u);
    a.put();
    for (int i = 0; i < 2; ++i) {
        const auto r = poll(1s);
        BOOST_REQUIRE(r.count == 1u);
        BOOST_TEST(ev[0].token == 42u);
        BOOST_TEST(ev[0].readable);
        BOOST_TEST(!ev[0].writable);
        BOOST_TEST(!ev[0].hangup);
    }
    a.take();
    BOOST_TEST(poll(0ns).count == 0u);
}

BOOST_AUTO_TEST_CASE(oneshot_fires_once_until_modify) {
    pipe_pair a;
    p.add(a.rd, interest::read, 7, trigger::oneshot);
    a.put();
    BOOST_TEST(poll(1s).count == 1u);
    BOOST_TEST(poll(0ns).count == 0u);
    BOOST_TEST(poll(20ms).count == 0u);
    p.modify(a.rd, interest::read, 8, trigger::oneshot);
    const auto r = poll(1s);
    BOOST_REQUIRE(r.count == 1u);
    BOOST_TEST(ev[0].token == 8u);
}

BOOST_AUTO_TEST_CASE(add_from_another_thread_reaches_a_blocked_poll) {
    pipe_pair a;
    a.put();
    std::thread adder([&] {
        std::this_thread::sleep_for(settle);
        p.add(a.rd, interest::read, 5);
    });
    const auto t0 = clock_type::now();
    const auto r = poll(5s);
    adder.join();
    BOOST_TEST((clock_type::now() - t0 < 4s));
    BOOST_REQUIRE(r.count == 1u);
    BOOST_TEST(ev[0].token == 5u);
    // The backend's own wake for the change is not a stale wake() event.
    BOOST_TEST(p.stats().stale_wakeups == 0u);
    BOOST_TEST(!r.woken);
}

BOOST_AUTO_TEST_CASE(modify_from_another_thread_reaches_a_blocked_poll) {
    pipe_pair a;
    p.add(a.rd, interest::none, 1);
    a.put();
    std::thread changer([&] {
        std::this_thread::sleep_for(settle);
        p.modify(a.rd, interest::read, 2);
    });
    const auto r = poll(5s);
    changer.join();
    BOOST_REQUIRE(r.count == 1u);
    BOOST_TEST(ev[0].token == 2u);
}

BOOST_AUTO_TEST_CASE(remove_while_blocked_drops_the_fd) {
    pipe_pair a;
    p.add(a.rd, interest::read, 1);
    std::thread remover([&] {
        std::this_thread::sleep_for(settle);
        p.remove(a.rd);
        a.put();
    });
    const auto t0 = clock_type::now();
    const auto r = poll(300ms);
    remover.join();
    BOOST_TEST(r.count == 0u);
    BOOST_TEST(!r.woken);
    BOOST_TEST((clock_type::now() - t0 >= 300ms));
    BOOST_TEST(p.stats().stale_wakeups == 0u);
}

BOOST_AUTO_TEST_CASE(interest_none_reports_nothing_not_even_hangup) {
    pipe_pair a;
    p.add(a.rd, interest::none, 1);
    ::close(a.wr);
    a.wr = -1;
    BOOST_TEST(poll(0ns).count == 0u);
    BOOST_TEST(poll(20ms).count == 0u);
    p.modify(a.rd, interest::read, 2);
    const auto r = poll(1s);
    BOOST_REQUIRE(r.count == 1u);
    BOOST_TEST(ev[0].hangup);
}

BOOST_AUTO_TEST_CASE(write_interest_only_reports_writable) {
    pipe_pair a;
    p.add(a.wr, interest::write, 3);
    const auto r = poll(1s);
    BOOST_REQUIRE(r.count == 1u);
    BOOST_TEST(ev[0].writable);
    BOOST_TEST(!ev[0].readable);
}

BOOST_AUTO_TEST_CASE(errors_match_the_other_backends) {
    pipe_pair a;
    const int closed = ::dup(a.rd);
    ::close(closed);
    BOOST_TEST((error_of([&] { p.add(closed, interest::read, 0); }) == std::errc::bad_file_descriptor));
    p.add(a.rd, interest::read, 0);
    BOOST_TEST((error_of([&] { p.add(a.rd, interest::read, 0); }) == std::errc::file_exists));
    BOOST_TEST((error_of([&] { p.modify(a.wr, interest::read, 0); }) == std::errc::no_such_file_or_directory));
    BOOST_TEST((error_of([&] { p.remove(a.wr); }) == std::errc::no_such_file_or_directory));
    BOOST_TEST(!p.supports(trigger::edge));
    BOOST_TEST(p.supports(trigger::level));
    BOOST_TEST(p.supports(trigger::oneshot));
    BOOST_TEST((error_of([&] { p.add(a.wr, interest::write, 0, trigger::edge); }) == std::errc::not_supported));

    char path[] = "/tmp/unipoll_poll_backend_XXXXXX";
    const int file = ::mkstemp(path);
    BOOST_REQUIRE(file >= 0);
    ::unlink(path);
    BOOST_TEST((error_of([&] { p.add(file, interest::read, 0); }) == std::errc::operation_not_permitted));
    ::close(file);
    const int dir = ::open("/", O_RDONLY);
    BOOST_TEST((error_of([&] { p.add(dir, interest::read, 0); }) == std::errc::operation_not_permitted));
    ::close(dir);
    // Nothing half-registered: the failed edge add left a.wr free.
    p.add(a.wr, interest::write, 9);
    BOOST_TEST(poll(0ns).count == 1u);
}

BOOST_AUTO_TEST_CASE(fd_closed_without_remove_is_harmless) {
    pipe_pair a;
    a.put();
    p.add(a.rd, interest::read, 1);
    const int number = a.rd;
    a.close_both();
    BOOST_TEST(poll(0ns).count == 0u);
    const auto t0 = clock_type::now();
    BOOST_TEST(poll(30ms).count == 0u);
    BOOST_TEST((clock_type::now() - t0 >= 30ms));

    // The number comes back for a new pipe: adding it is not EEXIST.
    pipe_pair b;
    BOOST_REQUIRE(b.rd == number);
    p.add(b.rd, interest::read, 2);
    b.put();
    const auto r = poll(1s);
    BOOST_REQUIRE(r.count == 1u);
    BOOST_TEST(ev[0].token == 2u);
}

BOOST_AUTO_TEST_CASE(reused_number_added_again_replaces_the_dead_registration) {
    pipe_pair a;
    p.add(a.rd, interest::read, 1);
    const int number = a.rd;
    a.close_both();
    pipe_pair b;
    BOOST_REQUIRE(b.rd == number);
    p.add(b.rd, interest::read, 2);
    b.put();
    BOOST_REQUIRE(poll(1s).count == 1u);
    BOOST_TEST(ev[0].token == 2u);
}

BOOST_AUTO_TEST_CASE(number_reused_before_any_poll_forgets_the_dead_registration) {
    pipe_pair a;
    p.add(a.rd, interest::read, 1);
    const int number = a.rd;
    a.close_both();
    pipe_pair b;  // not added
    BOOST_REQUIRE(b.rd == number);
    b.put();
    // Until remove() or add() of the number, the dead registration may
    // report the new file under its old token (docs/semantics.md); modify()
    // finds the number names a file that was never added and forgets it.
    BOOST_TEST((error_of([&] { p.modify(b.rd, interest::read, 3); }) ==
                std::errc::no_such_file_or_directory));
    BOOST_TEST((error_of([&] { p.remove(b.rd); }) == std::errc::no_such_file_or_directory));
    BOOST_TEST(poll(0ns).count == 0u);
    BOOST_TEST(poll(20ms).count == 0u);
}

BOOST_AUTO_TEST_CASE(closed_registration_modify_is_ebadf_and_remove_succeeds) {
    pipe_pair a;
    p.add(a.rd, interest::read, 1);
    const int fd = a.rd;
    a.close_both();
    BOOST_TEST(poll(0ns).count == 0u);  // sees POLLNVAL
    BOOST_TEST((error_of([&] { p.modify(fd, interest::read, 2); }) == std::errc::bad_file_descriptor));
    p.remove(fd);
    BOOST_TEST((error_of([&] { p.remove(fd); }) == std::errc::no_such_file_or_directory));
}

BOOST_AUTO_TEST_CASE(small_out_span_does_not_starve_later_fds) {
    pipe_pair a, b;
    p.add(a.rd, interest::read, 1);
    p.add(b.rd, interest::read, 2);
    a.put();
    b.put();
    std::array<unipoll::event, 1> one{};
    BOOST_REQUIRE(p.poll(one, 1s).count == 1u);
    const auto first = one[0].token;
    BOOST_REQUIRE(p.poll(one, 1s).count == 1u);
    BOOST_TEST(one[0].token != first);
}

BOOST_AUTO_TEST_CASE(sub_millisecond_timeout_waits) {
    const auto t0 = clock_type::now();
    BOOST_TEST(poll(300us).count == 0u);
    BOOST_TEST((clock_type::now() - t0 >= 300us));
}

BOOST_AUTO_TEST_CASE(syscalls_are_counted_and_idle_paths_make_none) {
    const auto s0 = p.stats().syscalls;
    p.wake();  // nobody sleeps: coalesced, no write
    BOOST_TEST(poll(0ns).count == 0u);  // nothing registered: no poll(2)
    BOOST_TEST(p.stats().syscalls == s0);
    BOOST_TEST(poll(unipoll::forever).woken);
    BOOST_TEST(p.stats().syscalls == s0);
    pipe_pair a;
    p.add(a.rd, interest::read, 1);  // fstat
    BOOST_TEST(p.stats().syscalls == s0 + 1);
    BOOST_TEST(poll(0ns).count == 0u);  // poll
    BOOST_TEST(p.stats().syscalls == s0 + 2);
    a.put();
    BOOST_TEST(poll(0ns).count == 1u);  // poll only: no per-event fstat
    BOOST_TEST(p.stats().syscalls == s0 + 3);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(milliseconds_round_up_never_to_zero) {
    using unipoll::detail::poll_milliseconds;
    BOOST_TEST(poll_milliseconds(-1ns) == -1);
    BOOST_TEST(poll_milliseconds(0ns) == 0);
    BOOST_TEST(poll_milliseconds(1ns) == 1);
    BOOST_TEST(poll_milliseconds(300us) == 1);
    BOOST_TEST(poll_milliseconds(1ms) == 1);
    BOOST_TEST(poll_milliseconds(1ms + 1ns) == 2);
    BOOST_TEST(poll_milliseconds(std::chrono::nanoseconds::max()) == INT_MAX);
}

BOOST_AUTO_TEST_CASE(timespec_keeps_nanoseconds_and_caps_huge_values) {
    using unipoll::detail::poll_timespec;
    const timespec a = poll_timespec(1500ms + 7ns);
    BOOST_TEST(a.tv_sec == 1);
    BOOST_TEST(a.tv_nsec == 500'000'007);
    const timespec b = poll_timespec(std::chrono::nanoseconds::max());
    BOOST_TEST(b.tv_sec == unipoll::detail::max_timeout_seconds);
    BOOST_TEST(b.tv_nsec == 0);
}
