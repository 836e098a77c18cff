#include "loopback_pair.hpp"

#include <ws2tcpip.h>

#include <initializer_list>
#include <string>
#include <system_error>

namespace unipoll_test {
namespace {

[[noreturn]] void fail(const char* call) {
    throw std::system_error(::WSAGetLastError(), std::system_category(),
                            std::string("loopback pair: ") + call);
}

void start_winsock() {
    static const int started = [] {
        WSADATA data;
        return ::WSAStartup(MAKEWORD(2, 2), &data);
    }();
    if (started != 0)
        throw std::system_error(started, std::system_category(), "loopback pair: WSAStartup");
}

SOCKET tcp_socket() {
    const SOCKET s = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET) fail("socket");
    ::SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
    return s;
}

}  // namespace

loopback_pair make_loopback_pair() {
    start_winsock();
    const SOCKET listener = tcp_socket();
    loopback_pair p;
    try {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int len = sizeof addr;
        if (::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
            fail("bind");
        if (::listen(listener, 1) != 0) fail("listen");
        if (::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            fail("getsockname");
        p.a = tcp_socket();
        if (::connect(p.a, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
            fail("connect");
        p.b = ::accept(listener, nullptr, nullptr);
        if (p.b == INVALID_SOCKET) fail("accept");
        ::SetHandleInformation(reinterpret_cast<HANDLE>(p.b), HANDLE_FLAG_INHERIT, 0);
        const BOOL on = TRUE;
        for (SOCKET s : {p.a, p.b}) {
            u_long nonblocking = 1;
            if (::ioctlsocket(s, FIONBIO, &nonblocking) != 0) fail("ioctlsocket(FIONBIO)");
            if (::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on),
                             sizeof on) != 0)
                fail("setsockopt(TCP_NODELAY)");
        }
    } catch (...) {
        ::closesocket(listener);
        if (p.a != INVALID_SOCKET) ::closesocket(p.a);
        if (p.b != INVALID_SOCKET) ::closesocket(p.b);
        throw;
    }
    ::closesocket(listener);
    return p;
}

}  // namespace unipoll_test
