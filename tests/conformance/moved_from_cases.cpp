// A poller that was moved from is an empty shell, not a trap: every member
// function either returns the values poller.hpp documents (kind() keeps its
// backend, supports() is false, stats() is zero, wake() does nothing) or
// throws std::system_error with EBADF naming the call; nothing crashes. It
// comes back to life when another poller is moved into it.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <array>
#include <cerrno>
#include <utility>

namespace conformance {
namespace {

// Checks every member of a poller whose state moved elsewhere; `fd` is any
// open descriptor (the calls must fail before they look at it).
void expect_moved_from(unipoll::poller& p, backend b, int fd) {
    BOOST_CHECK(p.kind() == b);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        BOOST_CHECK_MESSAGE(!p.supports(how),
                            "moved-from poller claims to support " << trigger_name(how));
    const unipoll::counters c = p.stats();
    BOOST_CHECK_EQUAL(c.syscalls, 0u);
    BOOST_CHECK_EQUAL(c.wake_posts, 0u);
    BOOST_CHECK_EQUAL(c.wakes_coalesced, 0u);
    BOOST_CHECK_EQUAL(c.relays, 0u);
    BOOST_CHECK_EQUAL(c.stale_wakeups, 0u);
    p.wake();
    p.wake();

    expect_errno([&] { p.add(fd, interest::read, 1); }, EBADF, fd, "add on a moved-from poller");
    expect_errno([&] { p.modify(fd, interest::write, 2); }, EBADF, fd,
                 "modify on a moved-from poller");
    expect_errno([&] { p.remove(fd); }, EBADF, fd, "remove on a moved-from poller");
    std::array<unipoll::event, 4> out{};
    expect_errno([&] { p.poll(out, 0ns); }, EBADF, no_fd, "non-blocking poll on a moved-from poller");
    expect_errno([&] { p.poll(out, 10ms); }, EBADF, no_fd, "blocking poll on a moved-from poller");
    expect_errno([&] { p.poll(out); }, EBADF, no_fd, "poll(forever) on a moved-from poller");
    expect_errno([&] { p.poll({}, 0ns); }, EBADF, no_fd, "poll(empty span) on a moved-from poller");
}

CONFORMANCE_CASE(moved_from_poller_fails_cleanly) {
    auto fds = make_pipe();
    const int fd = fds.read_end.get();
    unipoll::poller source(backend_under_test);
    const backend b = source.kind();
    source.add(fd, interest::read, 41);

    unipoll::poller target(std::move(source));
    expect_moved_from(source, b, fd);

    // The registration moved with the state.
    write_byte(fds.write_end.get());
    const auto e = await_token(target, 41);
    BOOST_CHECK_MESSAGE(e && e->readable, "registration lost by the move");
    target.remove(fd);
    check_poller_still_works(target);
}

CONFORMANCE_CASE(moved_from_poller_moves_on_and_revives) {
    auto fds = make_pipe();
    const int fd = fds.read_end.get();
    unipoll::poller live(backend_under_test);
    const backend b = live.kind();
    unipoll::poller other(std::move(live));

    // Moving an empty shell gives another empty shell.
    unipoll::poller shell(std::move(live));
    expect_moved_from(shell, b, fd);
    expect_moved_from(live, b, fd);

    // Assigning a live poller into a moved-from one revives it; the source
    // becomes the shell.
    live = std::move(other);
    check_poller_still_works(live);
    expect_moved_from(other, b, fd);

    // Self-assignment through an alias changes nothing, live or empty.
    unipoll::poller& alias = live;
    live = std::move(alias);
    check_poller_still_works(live);
    unipoll::poller& empty_alias = other;
    other = std::move(empty_alias);
    expect_moved_from(other, b, fd);

    // Assigning a shell over a live poller releases the live one's state.
    live = std::move(shell);
    expect_moved_from(live, b, fd);
}

CONFORMANCE_CASE(failed_construction_leaves_the_target_untouched) {
    unipoll::poller p(backend_under_test);
    const backend b = p.kind();
    // A backend this build lacks (iocp is Windows only, epoll Linux only):
    // its constructor throws before anything is assigned, so p keeps its
    // state.
#ifdef _WIN32
    const backend missing = backend::epoll;
#else
    const backend missing = backend::iocp;
#endif
    try {
        p = unipoll::poller(missing);
        BOOST_ERROR("constructing a poller of a backend this build lacks did not throw");
    } catch (const std::system_error& e) {
        BOOST_CHECK(e.code() == std::errc::not_supported);
    }
    BOOST_CHECK(p.kind() == b);
    check_poller_still_works(p);
}

}  // namespace
}  // namespace conformance
