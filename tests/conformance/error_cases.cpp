// Bad input gets the same std::system_error on every backend, naming the
// fd, leaves nothing half registered, and leaves the poller working.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <array>
#include <cerrno>

namespace conformance {
namespace {

CONFORMANCE_CASE(negative_fd_is_ebadf) {
    unipoll::poller p(backend_under_test);
    expect_errno([&] { p.add(-1, interest::read, 1); }, EBADF, -1, "add(-1)");
    expect_errno([&] { p.modify(-1, interest::read, 1); }, EBADF, -1, "modify(-1)");
    expect_errno([&] { p.remove(-1); }, EBADF, -1, "remove(-1)");
    check_poller_still_works(p);
}

CONFORMANCE_CASE(closed_fd_is_ebadf) {
    unipoll::poller p(backend_under_test);
    int closed;
    {
        auto fds = make_pipe();
        closed = fds.read_end.get();
    }
    expect_errno([&] { p.add(closed, interest::read, 1); }, EBADF, closed, "add(closed fd)");
    check_poller_still_works(p);
}

CONFORMANCE_CASE(double_add_is_eexist) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    const int fd = fds.read_end.get();
    p.add(fd, interest::read, 81);
    expect_errno([&] { p.add(fd, interest::write, 82); }, EEXIST, fd, "second add");
    // The first registration is untouched.
    write_byte(fds.write_end.get());
    const polled r = poll_for(p, patience);
    BOOST_CHECK_MESSAGE(r.has(81), "original registration lost after a failed add");
    BOOST_CHECK_MESSAGE(!r.has(82), "failed add changed the token");
    p.remove(fd);
    check_poller_still_works(p);
}

CONFORMANCE_CASE(modify_or_remove_of_unknown_fd_is_enoent) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    const int fd = fds.read_end.get();
    expect_errno([&] { p.modify(fd, interest::read, 1); }, ENOENT, fd, "modify(unregistered)");
    expect_errno([&] { p.remove(fd); }, ENOENT, fd, "remove(unregistered)");
    p.add(fd, interest::read, 83);
    p.remove(fd);
    expect_errno([&] { p.remove(fd); }, ENOENT, fd, "second remove");
    expect_errno([&] { p.modify(fd, interest::read, 1); }, ENOENT, fd, "modify after remove");
    // The failed modify did not register it.
    write_byte(fds.write_end.get());
    expect_quiet(p);
    check_poller_still_works(p);
}

CONFORMANCE_CASE(bad_interest_is_einval) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    const int fd = fds.read_end.get();
    const auto bad = static_cast<interest>(7);
    expect_errno([&] { p.add(fd, bad, 1); }, EINVAL, fd, "add(interest 7)");
    // Nothing half registered: a correct add of the same fd works.
    p.add(fd, interest::read, 84);
    expect_errno([&] { p.modify(fd, bad, 1); }, EINVAL, fd, "modify(interest 7)");
    write_byte(fds.write_end.get());
    const auto e = await_token(p, 84);
    BOOST_CHECK_MESSAGE(e && e->readable, "registration changed by a failed modify");
    p.remove(fd);
    check_poller_still_works(p);
}

CONFORMANCE_CASE(bad_trigger_is_einval) {
    unipoll::poller p(backend_under_test);
    auto fds = make_pipe();
    const int fd = fds.read_end.get();
    const auto bad = static_cast<trigger>(3);
    expect_errno([&] { p.add(fd, interest::read, 1, bad); }, EINVAL, fd, "add(trigger 3)");
    p.add(fd, interest::read, 85);
    expect_errno([&] { p.modify(fd, interest::read, 1, bad); }, EINVAL, fd, "modify(trigger 3)");
    write_byte(fds.write_end.get());
    const auto e = await_token(p, 85);
    BOOST_CHECK_MESSAGE(e && e->readable, "registration changed by a failed modify");
    p.remove(fd);
    check_poller_still_works(p);
}

CONFORMANCE_CASE(empty_event_span_is_einval) {
    unipoll::poller p(backend_under_test);
    std::span<unipoll::event> empty;
    expect_errno([&] { (void)p.poll(empty, 0ns); }, EINVAL, no_fd, "poll(empty span, 0)");
    expect_errno([&] { (void)p.poll(empty, 10ms); }, EINVAL, no_fd, "poll(empty span, 10 ms)");
    expect_errno([&] { (void)p.poll(empty, unipoll::forever); }, EINVAL, no_fd,
                 "poll(empty span, forever)");
    check_poller_still_works(p);
}

CONFORMANCE_CASE(regular_file_and_directory_are_eperm) {
    if (skip_without(needs::posix_files, backend_under_test)) return;
    unipoll::poller p(backend_under_test);
    auto file = open_regular_file();
    auto dir = open_directory();
    expect_errno([&] { p.add(file.get(), interest::read, 1); }, EPERM, file.get(),
                 "add(regular file)");
    expect_errno([&] { p.add(dir.get(), interest::read, 1); }, EPERM, dir.get(), "add(directory)");
    check_poller_still_works(p);
}

CONFORMANCE_CASE(unsupported_triggers_are_refused) {
    unipoll::poller p(backend_under_test);
    std::size_t supported = 0;
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot})
        if (trigger_supported(p, how)) ++supported;
    BOOST_CHECK_MESSAGE(p.supports(trigger::level), "every backend supports level");
    BOOST_TEST_MESSAGE(supported << " triggers supported");
    check_poller_still_works(p);
}

}  // namespace
}  // namespace conformance
