#include "loopback_waker.hpp"

#include "errors.hpp"
#include "winsock.hpp"

#include <ws2tcpip.h>

#include <array>
#include <cerrno>
#include <initializer_list>
#include <utility>

namespace unipoll::detail {
namespace {

// Closes the socket on every error path of the constructor.
class owned_socket {
public:
    explicit owned_socket(SOCKET s) noexcept : s_(s) {}
    owned_socket(const owned_socket&) = delete;
    owned_socket& operator=(const owned_socket&) = delete;
    ~owned_socket() {
        if (s_ != INVALID_SOCKET) ::closesocket(s_);
    }
    SOCKET get() const noexcept { return s_; }
    SOCKET release() noexcept { return std::exchange(s_, INVALID_SOCKET); }

private:
    SOCKET s_;
};

[[noreturn]] void fail(backend owner, const char* call) {
    throw_windows_error(static_cast<unsigned long>(::WSAGetLastError()), owner, "create", no_fd,
                        call);
}

SOCKET tcp_socket(backend owner) {
    const SOCKET s = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET) fail(owner, "socket");
    // Not inherited by child processes, as O_CLOEXEC on POSIX.
    ::SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
    return s;
}

bool same_address(const sockaddr_in& a, const sockaddr_in& b) noexcept {
    return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}

}  // namespace

loopback_waker::loopback_waker(backend owner) {
    owned_socket listener(tcp_socket(owner));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int len = sizeof addr;
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        fail(owner, "bind(127.0.0.1)");
    if (::listen(listener.get(), 1) != 0) fail(owner, "listen");
    if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        fail(owner, "getsockname");

    owned_socket writer(tcp_socket(owner));
    if (::connect(writer.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        fail(owner, "connect(127.0.0.1)");
    sockaddr_in writer_addr{};
    len = sizeof writer_addr;
    if (::getsockname(writer.get(), reinterpret_cast<sockaddr*>(&writer_addr), &len) != 0)
        fail(owner, "getsockname");

    // Any local process can connect to the listener while it is open: take
    // only the connection that comes from our own writer.
    SOCKET reader = INVALID_SOCKET;
    for (int attempt = 0; attempt < 8 && reader == INVALID_SOCKET; ++attempt) {
        sockaddr_in peer{};
        len = sizeof peer;
        owned_socket accepted(::accept(listener.get(), reinterpret_cast<sockaddr*>(&peer), &len));
        if (accepted.get() == INVALID_SOCKET) fail(owner, "accept");
        if (same_address(peer, writer_addr)) reader = accepted.release();
    }
    if (reader == INVALID_SOCKET)
        throw_usage(EIO, owner, "create", no_fd, "another process kept connecting to the wake socket");
    owned_socket read_end(reader);
    ::SetHandleInformation(reinterpret_cast<HANDLE>(reader), HANDLE_FLAG_INHERIT, 0);

    // Nagle would hold a second one-byte post back until the first is
    // acknowledged.
    const BOOL on = TRUE;
    if (::setsockopt(writer.get(), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on),
                     sizeof on) != 0)
        fail(owner, "setsockopt(TCP_NODELAY)");
    for (SOCKET s : {read_end.get(), writer.get()}) {
        u_long nonblocking = 1;
        if (::ioctlsocket(s, FIONBIO, &nonblocking) != 0) fail(owner, "ioctlsocket(FIONBIO)");
    }
    rd_ = read_end.release();
    wr_ = writer.release();
}

loopback_waker::~loopback_waker() {
    ::closesocket(wr_);
    ::closesocket(rd_);
}

unsigned loopback_waker::post() noexcept {
    const char byte = 1;
    // WSAEWOULDBLOCK: the buffer is full of earlier posts, the reader is
    // readable; nothing else can fail on a connected loopback socket that
    // only this object closes.
    (void)::send(wr_, &byte, 1, 0);
    return 1;
}

unsigned loopback_waker::drain() noexcept {
    std::array<char, 256> buf;
    unsigned calls = 0;
    for (;;) {
        ++calls;
        const int n = ::recv(rd_, buf.data(), static_cast<int>(buf.size()), 0);
        if (n < static_cast<int>(buf.size())) return calls;
    }
}

}  // namespace unipoll::detail
