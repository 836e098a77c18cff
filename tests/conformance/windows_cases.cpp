// Windows only: the pollers take sockets, and any other handle is EBADF
// (docs/semantics.md), where POSIX says EPERM for a file and EBADF for what
// is no descriptor at all.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <windows.h>

#include <cerrno>
#include <cstdint>

namespace conformance {
namespace {

// Wine's ntdll exports wine_get_version; Windows' does not.
bool running_under_wine() {
    return ::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr;
}

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
        if (backend_under_test == backend::iocp && running_under_wine()) {
            // Wine 8's SIO_BASE_HANDLE succeeds on any handle (Windows says
            // WSAENOTSOCK), so only a poll, which interest::none does not
            // submit, finds out that it is no socket.
            note(backend_under_test, "Wine: add(non-socket, interest::none) not checked");
            continue;
        }
        expect_errno([&] { p.add(h, interest::none, 1); }, EBADF, h,
                     "add(non-socket handle, interest::none)");
    }
    check_poller_still_works(p);
}

}  // namespace
}  // namespace conformance
