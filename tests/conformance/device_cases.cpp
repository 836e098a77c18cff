// Files without readiness support get EPERM on every backend: the kernel's
// own test (does the file's driver report readiness?) decides, not the
// backend's mechanism. poll(2) and io_uring would report /dev/null as
// always ready where epoll refuses it; docs/semantics.md states the rule.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <unistd.h>

#include <cerrno>

namespace conformance {
namespace {

CONFORMANCE_CASE(devices_without_readiness_are_eperm) {
    unipoll::poller p(backend_under_test);
    for (const char* path : {"/dev/null", "/dev/zero"}) {
        auto dev = open_device(path);
        const int fd = dev.get();
        for (interest what : {interest::read, interest::write, interest::read_write})
            expect_errno([&] { p.add(fd, what, 1); }, EPERM, fd, path);
        // Nothing was registered.
        expect_errno([&] { p.modify(fd, interest::read, 1); }, ENOENT, fd, path);
        expect_errno([&] { p.remove(fd); }, ENOENT, fd, path);
    }
    check_poller_still_works(p);
    expect_quiet(p);
}

CONFORMANCE_CASE(terminals_are_character_devices_with_readiness) {
    unipoll::poller p(backend_under_test);
    auto tty = open_terminal();
    const int fd = tty.terminal.get();
    p.add(fd, interest::read, 7);
    expect_no_token(p, 7);
    // A line typed at the controller side makes the terminal readable.
    const char line[] = "x\n";
    BOOST_REQUIRE(::write(tty.controller.get(), line, 2) == 2);
    const auto e = await_token(p, 7);
    BOOST_CHECK_MESSAGE(e && e->readable, "typed line not reported on the terminal");
    p.modify(fd, interest::write, 8);
    const auto w = await_token(p, 8);
    BOOST_CHECK_MESSAGE(w && w->writable, "terminal not reported writable");
    p.remove(fd);
    check_poller_still_works(p);
}

}  // namespace
}  // namespace conformance
