// Cases that need a child process: what a forked child may do with a
// poller it inherited (it must never take the parent's wakes or events
// away), and running out of descriptors (RLIMIT_NOFILE is per process, so
// it is lowered in a child to leave the runner untouched).
//
// A child cannot use Boost.Test: it reports through its exit status and a
// line of text on a pipe, which the parent checks and prints.
#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

namespace conformance {
namespace {

// A thread started while descriptors are plentiful (sanitizer runtimes may
// need one to start a thread) that wakes p each time it is asked to.
class standby_waker {
public:
    explicit standby_waker(unipoll::poller& p)
        : thread_([this, &p] {
              for (std::uint32_t seen = 0;;) {
                  requests_.wait(seen);
                  seen = requests_.load();
                  if (seen == stop) return;
                  std::this_thread::sleep_for(settle_time);
                  p.wake();
              }
          }) {}
    standby_waker(const standby_waker&) = delete;
    standby_waker& operator=(const standby_waker&) = delete;
    ~standby_waker() {
        requests_.store(stop);
        requests_.notify_one();
        thread_.join();
    }

    void request() {
        requests_.fetch_add(1);
        requests_.notify_one();
    }

private:
    static constexpr std::uint32_t stop = ~std::uint32_t{0};
    std::atomic<std::uint32_t> requests_{0};
    std::thread thread_;
};

// ---- descriptor limits ------------------------------------------------------

// The number the next new descriptor gets.
int lowest_free_fd() {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open(/dev/null)");
    ::close(fd);
    return fd;
}

void set_fd_limit(rlim_t soft) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
        throw std::system_error(errno, std::generic_category(), "getrlimit(RLIMIT_NOFILE)");
    lim.rlim_cur = soft;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0)
        throw std::system_error(errno, std::generic_category(), "setrlimit(RLIMIT_NOFILE)");
}

rlim_t fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
        throw std::system_error(errno, std::generic_category(), "getrlimit(RLIMIT_NOFILE)");
    return lim.rlim_cur;
}

// The message of a failed create names the backend, the operation and the
// kernel call that ran out of descriptors.
bool names_create_call(const std::string& what, backend b) {
    const std::string prefix = std::string(unipoll::name(b)) + ": create: ";
    if (what.rfind(prefix, 0) != 0) return false;
    for (const char* call : {"epoll_create1", "eventfd", "io_uring_setup", "kqueue", "pipe"})
        if (what.find(call, prefix.size()) != std::string::npos) return true;
    return false;
}

// With no descriptor left, every step of creating a poller fails cleanly:
// EMFILE naming the call, and whatever the failed constructor had opened
// already is closed again.
int create_at_fd_limit(backend b, std::string& report) {
    const int first_free = lowest_free_fd();
    const rlim_t saved = fd_limit();
    bool created = false;
    int failures = 0;
    for (int spare = 0; spare < 8 && !created; ++spare) {
        set_fd_limit(static_cast<rlim_t>(first_free + spare));
        try {
            unipoll::poller p(b);
            created = true;
            report += "created once the limit was " + std::to_string(spare) +
                      " above the lowest free number; ";
        } catch (const std::system_error& e) {
            ++failures;
            if (e.code().value() != EMFILE || e.code().category() != std::generic_category()) {
                report += "with " + std::to_string(spare) + " spare: expected EMFILE, got " +
                          std::to_string(e.code().value()) + ": " + e.what();
                return 1;
            }
            if (!names_create_call(e.what(), b)) {
                report += std::string("message does not name the call: ") + e.what();
                return 1;
            }
            const std::string quoted = std::string("\"") + e.what() + "\"; ";
            if (report.find(quoted) == std::string::npos) report += quoted;
        }
        set_fd_limit(saved);
        if (lowest_free_fd() != first_free) {
            report += "descriptors leaked by a constructor that had " + std::to_string(spare) +
                      " to spare";
            return 1;
        }
    }
    if (failures == 0 || !created) {
        report += failures == 0 ? "creating a poller with no descriptor left did not throw"
                                : "no poller could be created with 8 descriptors to spare";
        return 1;
    }
    unipoll::poller p(b);
    const std::string problem = poller_problem(p);
    report += problem.empty() ? "a poller works again once the limit is raised" : problem;
    return problem.empty() ? 0 : 1;
}

CONFORMANCE_CASE(create_without_descriptors_is_emfile) {
    if (skipped_under_emulator(backend_under_test)) return;
    child_process child([b = backend_under_test](std::string& r) { return create_at_fd_limit(b, r); },
                        30s);
    expect_child_success(child, backend_under_test);
}

// A poller made before the limit drops needs no new descriptors: wakes,
// events and registrations of existing fds keep working.
int use_at_fd_limit(backend b, std::string& report) {
    unipoll::poller p(b);
    auto registered = make_pipe();
    auto later = make_pipe();
    p.add(registered.read_end.get(), interest::read, 1);
    standby_waker waker(p);
    const rlim_t saved = fd_limit();
    set_fd_limit(static_cast<rlim_t>(lowest_free_fd()));

    waker.request();
    std::string problem = woken_within_patience(p);
    problem += pipe_event_problem(p, registered, 1);
    p.add(later.read_end.get(), interest::read, 2);
    problem += pipe_event_problem(p, later, 2);
    p.modify(later.read_end.get(), interest::read, 3, trigger::oneshot);
    problem += pipe_event_problem(p, later, 3);
    p.remove(later.read_end.get());
    try {
        unipoll::poller extra(b);
        problem += "a second poller was created with no descriptor left; ";
    } catch (const std::system_error& e) {
        if (e.code().value() != EMFILE)
            problem += std::string("second poller: expected EMFILE, got ") + e.what() + "; ";
    }
    waker.request();
    problem += woken_within_patience(p);
    p.remove(registered.read_end.get());
    set_fd_limit(saved);
    report += problem.empty() ? "wake, poll, add, modify, remove all worked at the limit"
                              : problem;
    return problem.empty() ? 0 : 1;
}

CONFORMANCE_CASE(existing_poller_works_at_descriptor_limit) {
    if (skipped_under_emulator(backend_under_test)) return;
    child_process child([b = backend_under_test](std::string& r) { return use_at_fd_limit(b, r); },
                        30s);
    expect_child_success(child, backend_under_test);
}

// ---- fork -------------------------------------------------------------------

// The documented way: the child leaves the inherited poller alone (here it
// even destroys it) and makes its own. The parent's poller, its
// registrations and its sleeping poll are unaffected.
CONFORMANCE_CASE(fork_child_makes_its_own_poller) {
    if (skipped_under_emulator(backend_under_test)) return;
    std::optional<unipoll::poller> p(std::in_place, backend_under_test);
    auto fds = make_pipe();
    p->add(fds.read_end.get(), interest::read, 71);
    background_poll sleeper(*p, unipoll::forever);
    std::this_thread::sleep_for(settle_time);
    {
        child_process child(
            [&p, b = backend_under_test](std::string& r) {
                // The inherited copy is destroyed first, so its descriptors
                // (already closed by the kernel on kqueue) cannot be numbers
                // the child's own poller got.
                p.reset();
                unipoll::poller own(b);
                const std::string problem = poller_problem(own, true);
                r += problem.empty() ? "own poller works after destroying the inherited one"
                                     : problem;
                return problem.empty() ? 0 : 1;
            },
            30s);
        expect_child_success(child, backend_under_test);
    }
    BOOST_CHECK_MESSAGE(!sleeper.finished_within(0ms), "the child ended the parent's blocking poll");
    write_byte(fds.write_end.get());
    BOOST_REQUIRE_MESSAGE(sleeper.finished_within(patience),
                          "the parent's registration stopped working after the child exited");
    BOOST_CHECK(sleeper.result().has(71));
    drain(fds.read_end.get());
    p->remove(fds.read_end.get());
    check_poller_still_works(*p);
}

// Unsupported but must be harmless to the parent: the child polls, blocks
// briefly and wakes on its copy of the parent's poller. Each call may fail
// with std::system_error (kqueue: the descriptor is gone); none may crash,
// hang, or take a wake meant for the parent's sleeping poll.
int poke_inherited_poller(unipoll::poller& p, std::string& report) {
    std::array<unipoll::event, 16> buf{};
    std::size_t nonblocking = 0, blocking = 0, events = 0, woken = 0, wakes = 0;
    std::string errors;
    auto attempt = [&](const std::function<void()>& op) {
        try {
            op();
        } catch (const std::system_error& e) {
            if (errors.find(e.code().message()) == std::string::npos)
                errors += std::string(" [") + e.what() + "]";
        }
    };
    const auto end = steady::now() + 300ms;
    for (std::size_t i = 0; steady::now() < end; ++i) {
        attempt([&] {
            const auto r = p.poll(buf, 0ns);
            ++nonblocking;
            events += r.count;
        });
        if (i % 64 == 0) {
            attempt([&] {
                const auto r = p.poll(buf, 1ms);
                ++blocking;
                events += r.count;
                woken += r.woken ? 1 : 0;
            });
        }
        if (i % 256 == 0) {
            p.wake();
            ++wakes;
        }
    }
    report += std::to_string(nonblocking) + " non-blocking and " + std::to_string(blocking) +
              " blocking polls succeeded (" + std::to_string(events) + " events, " +
              std::to_string(woken) + " woken), " + std::to_string(wakes) + " wakes; errors:" +
              (errors.empty() ? std::string(" none") : errors);
    return 0;
}

// The parent's side: a thread loops in blocking polls and acknowledges each
// wake; the test thread sends wakes one at a time while the child pokes its
// copy of the poller, forked either while that thread sleeps in the kernel
// or before it starts.
void parent_wakes_survive_child(unipoll::poller& p, backend b, bool fork_while_sleeping) {
    std::atomic<std::uint64_t> sent{0}, acked{0};
    std::atomic<bool> stop{false};
    thread_failures failures;
    std::optional<joining_thread> sleeper;
    std::optional<child_process> child;
    auto start_sleeper = [&] {
        sleeper.emplace([&] {
            failures.guard([&] {
                std::array<unipoll::event, 16> buf{};
                while (!stop.load()) {
                    const auto r = p.poll(buf, patience);
                    if (!r.woken) continue;
                    if (acked.load() == sent.load() && !stop.load())
                        failures.record("woken with no wake outstanding");
                    acked.store(sent.load());
                }
            });
        });
    };
    auto start_child = [&] {
        child.emplace([&p](std::string& r) { return poke_inherited_poller(p, r); }, 20s);
    };
    if (fork_while_sleeping) {
        start_sleeper();
        std::this_thread::sleep_for(settle_time);
        start_child();
    } else {
        start_child();
        start_sleeper();
    }
    std::size_t rounds = 0;
    bool lost = false;
    while (child->running() || rounds < 100) {
        const std::uint64_t k = sent.load() + 1;
        sent.store(k);
        p.wake();
        const auto deadline = steady::now() + patience;
        while (acked.load() < k && steady::now() < deadline) std::this_thread::yield();
        if (acked.load() < k) {
            BOOST_ERROR("wake round " << k << " lost while the child used its copy of the poller");
            lost = true;
            break;
        }
        ++rounds;
    }
    stop.store(true);
    p.wake();
    if (sleeper) sleeper->join();
    failures.check();
    expect_child_success(*child, b);
    if (!lost) note(b, std::to_string(rounds) + " parent wake round trips while the child ran");
}

CONFORMANCE_CASE(fork_child_using_inherited_poller_does_not_steal_wakes) {
    if (skipped_under_emulator(backend_under_test)) return;
    unipoll::poller p(backend_under_test);
    BOOST_TEST_CONTEXT("fork while the parent sleeps in poll") {
        parent_wakes_survive_child(p, backend_under_test, true);
    }
    BOOST_TEST_CONTEXT("fork while no thread polls") {
        parent_wakes_survive_child(p, backend_under_test, false);
    }
    check_poller_still_works(p);
}

}  // namespace
}  // namespace conformance
