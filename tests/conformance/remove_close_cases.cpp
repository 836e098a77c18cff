// remove() then close() releases the file: the peer sees the close at once,
// also when the registration's kernel poll is firing at the moment of the
// remove() (the peer keeps writing) and nobody polls afterwards. A backend
// whose kernel object holds a file reference (io_uring's poll requests,
// poll(2)'s wait) must let go of it when remove() returns.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>

namespace conformance {
namespace {

// True once `peer` reads end of file: the other end's file was released.
bool peer_sees_close(int peer, steady::duration limit) {
    const auto deadline = steady::now() + limit;
    do {
        if (read_sees_end(peer)) return true;
        std::this_thread::sleep_for(1ms);
    } while (steady::now() < deadline);
    return false;
}

// One registration at a time, added and drained by a poller thread (as an
// event loop adds the connections it accepts) while a writer thread keeps
// sending to it; the test's thread removes and closes it, so the kernel's
// poll is often delivering a write at the moment remove() lands.
void check_remove_close_under_traffic(unipoll::poller& p, trigger how) {
    BOOST_TEST_CONTEXT(trigger_name(how) << " trigger") {
        std::mutex read_mu;  // orders the poller thread's reads with the close
        int current = -1;
        std::uint64_t current_token = 0;
        bool add_wanted = false;
        std::mutex write_mu;  // orders the writer's sends with the peer's close
        int peer = -1;
        std::atomic<std::uint64_t> drains{0};
        std::atomic<bool> stop{false};
        thread_failures failures;

        joining_thread poller_thread([&] {
            failures.guard([&] {
                std::array<unipoll::event, 8> buf{};
                while (!stop.load()) {
                    {
                        std::lock_guard lk(read_mu);
                        if (add_wanted) p.add(current, interest::read, current_token, how);
                        add_wanted = false;
                    }
                    const auto r = p.poll(buf, 2ms);
                    std::lock_guard lk(read_mu);
                    for (std::size_t i = 0; i < r.count; ++i) {
                        if (buf[i].token != current_token || current < 0) continue;
                        drain(current);
                        if (how == trigger::oneshot) p.modify(current, interest::read, current_token, how);
                        drains.fetch_add(1);
                    }
                }
            });
        });
        joining_thread writer([&] {
            while (!stop.load()) {
                {
                    std::lock_guard lk(write_mu);
                    if (peer >= 0) (void)try_write_byte(peer);  // full or closed: no matter
                }
                std::this_thread::yield();
            }
        });

        // A failed check below throws: stop the threads before they are joined.
        struct stop_on_exit {
            std::atomic<bool>& stop;
            ~stop_on_exit() { stop.store(true); }
        } const stopper{stop};

        const std::size_t cycles = scaled(1000);
        std::size_t done = 0;
        for (; done < cycles; ++done) {
            auto s = make_socketpair();
            const auto before = drains.load();
            {
                std::lock_guard lk(read_mu);
                current = s.a.get();
                current_token = 0x10000 + done;
                add_wanted = true;
            }
            {
                std::lock_guard lk(write_mu);
                peer = s.b.get();
            }
            // The registration is armed and delivering before it goes.
            const auto deadline = steady::now() + patience;
            while (drains.load() == before && steady::now() < deadline) std::this_thread::yield();
            if (drains.load() == before) failures.check();  // the poller thread's error, if it died
            BOOST_REQUIRE_MESSAGE(drains.load() != before, "cycle " << done << ": data never reported");
            {
                std::lock_guard lk(read_mu);
                p.remove(current);
                s.a.reset();
                current = -1;
            }
            const bool released = peer_sees_close(s.b.get(), patience);
            {
                std::lock_guard lk(write_mu);
                peer = -1;
            }
            if (!released) {
                BOOST_ERROR("cycle " << done << ": after remove() and close() the peer still sees "
                                     << "the socket open: a kernel poll kept the file");
                break;
            }
        }
        stop.store(true);
        poller_thread.join();
        writer.join();
        failures.check();
        BOOST_CHECK_EQUAL(done, cycles);
    }
}

CONFORMANCE_CASE(remove_then_close_releases_the_file_under_traffic) {
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (p.supports(how)) check_remove_close_under_traffic(p, how);
}

// The same with nobody polling at all after the remove(): the release must
// not wait for a poll.
CONFORMANCE_CASE(remove_then_close_releases_the_file_without_a_later_poll) {
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot}) {
        unipoll::poller p(backend_under_test);
        if (!p.supports(how)) continue;
        BOOST_TEST_CONTEXT(trigger_name(how) << " trigger") {
            auto s = make_socketpair();
            p.add(s.a.get(), interest::read, 51, how);
            write_byte(s.b.get());
            BOOST_REQUIRE(await_token(p, 51));  // armed in the kernel by now
            write_byte(s.b.get());
            p.remove(s.a.get());
            s.a.reset();
            BOOST_CHECK_MESSAGE(peer_sees_close(s.b.get(), patience),
                                "after remove() and close() the peer still sees the socket open");
        }
    }
}

}  // namespace
}  // namespace conformance
