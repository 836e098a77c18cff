// Windows only: the pollers take sockets, and any other handle is EBADF
// (docs/semantics.md), where POSIX says EPERM for a file and EBADF for what
// is no descriptor at all.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <windows.h>

#include <cerrno>

namespace conformance {
namespace {

CONFORMANCE_CASE(non_socket_handles_are_ebadf) {
    unipoll::poller p(backend_under_test);
    auto file = open_regular_file();
    auto dir = open_directory();
    unique_fd event(static_cast<int>(
        reinterpret_cast<std::intptr_t>(::CreateEventW(nullptr, TRUE, FALSE, nullptr))));
    BOOST_REQUIRE(event.get() > 0);
    for (int h : {file.get(), dir.get(), event.get()}) {
        expect_errno([&] { p.add(h, interest::read, 1); }, EBADF, h, "add(non-socket handle)");
        // Nothing half registered.
        expect_errno([&] { p.remove(h); }, ENOENT, h, "remove(non-socket handle)");
    }
    check_poller_still_works(p);
}

}  // namespace
}  // namespace conformance
