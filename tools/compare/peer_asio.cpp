// Boost.Asio. Wakes: post() to an io_context blocked in run_one().
// Sockets: a socket object per fd, assign() (Asio registers a descriptor
// with its reactor once, for its whole life) + async_wait(wait_read),
// re-issued by each handler, and release() to let it go. Echo: the
// async_read_some / async_write session of Asio's own echo server example.
// On Windows the watched sockets are loopback TCP pairs, and readiness and
// registration run only where release() works (release_unsupported()).
#include "peer.hpp"
#include "socketpair.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#ifndef _WIN32
#include <boost/asio/local/stream_protocol.hpp>
#endif
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/version.hpp>
#include <boost/asio/write.hpp>
#include <boost/version.hpp>

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace compare {

namespace {

namespace asio = boost::asio;

class asio_loop final : public wake_loop {
public:
    void wake() override {
        asio::post(context_, [this] { delivered_ = true; });
    }

    void wait_for_wake() override {
        while (!delivered_) context_.run_one();
        delivered_ = false;
    }

    bool poll_nonblocking() override {
        context_.poll();
        return std::exchange(delivered_, false);
    }

private:
    asio::io_context context_;
    asio::executor_work_guard<asio::io_context::executor_type> work_{context_.get_executor()};
    // An io_context without I/O objects waits on a condition variable; any
    // real program has sockets or timers, which start the reactor (epoll on
    // Linux). A timer is the cheapest way to get there.
    asio::steady_timer reactor_starter_{context_};
    bool delivered_ = false;  // only the thread running the context touches it
};

// The sockets the fd scenarios watch (socketpair.hpp): AF_UNIX pairs on
// POSIX, loopback TCP pairs on Windows, where an int holds the SOCKET.
#ifdef _WIN32
using watched_socket = asio::ip::tcp::socket;
watched_socket::protocol_type watched_protocol() { return asio::ip::tcp::v4(); }
watched_socket::native_handle_type native(int fd) { return as_socket(fd); }
#else
using watched_socket = asio::local::stream_protocol::socket;
watched_socket::protocol_type watched_protocol() { return {}; }
watched_socket::native_handle_type native(int fd) { return fd; }
#endif

#ifdef _WIN32
// Why release() cannot hand a socket back here, or "". Asio ties a socket
// to its io_context's completion port, and only FileReplaceCompletionInformation
// (Windows 8.1 and later; Wine 8 lacks it) unties it. Without it a socket
// stays bound to the first loop that watched it, and the fd scenarios
// watch the same sockets from one fresh loop after another. Tried once, on
// a socket pair of its own.
std::string release_unsupported() {
    std::array<int, 2> sv{};
    if (nonblocking_socketpair(sv) != 0) return "no loopback socket pair to try release() on";
    boost::system::error_code ec;
    {
        asio::io_context context;
        watched_socket probe(context);
        probe.assign(watched_protocol(), native(sv[0]), ec);
        if (!ec) probe.release(ec);
        if (ec && probe.is_open()) sv[0] = -1;  // still Asio's: its destructor closes it
    }
    for (const int fd : sv)
        if (fd >= 0) close_socket(fd);
    if (!ec) return "";
    return "Asio's socket release() fails here (error " + std::to_string(ec.value()) +
           "): it needs FileReplaceCompletionInformation, Windows 8.1 or later (not in Wine 8)";
}
#endif

// One thread runs each context: concurrency hint 1, as Asio recommends.
class asio_fds final : public fd_loop {
public:
    ~asio_fds() override {
        for (auto& w : watchers_)
            if (w->socket.is_open()) w->socket.release();
    }

    void watch(int fd, std::uint32_t token) override {
        while (watchers_.size() <= token) watchers_.push_back(std::make_unique<watcher>(context_));
        watcher& w = *watchers_[token];
        w.token = token;
        w.socket.assign(watched_protocol(), native(fd));
        arm(w);
    }
    // Cancels the wait (its handler runs, aborted, in a later turn) and
    // hands the fd back without closing it.
    void unwatch(int, std::uint32_t token) override { watchers_[token]->socket.release(); }
    // A blocking turn runs one handler: the first waits in the reactor,
    // which queues every ready handler; the next ones take them.
    void turn(bool block, std::vector<std::uint32_t>& readable) override {
        readable_ = &readable;
        if (block) context_.run_one();
        else context_.poll();
        readable_ = nullptr;
    }

private:
    struct watcher {
        explicit watcher(asio::io_context& c) : socket(c) {}
        watched_socket socket;
        std::uint32_t token = 0;
    };

    void arm(watcher& w) {
        w.socket.async_wait(asio::socket_base::wait_read, [this, &w](const boost::system::error_code& ec) {
            if (ec) return;  // released
            readable_->push_back(w.token);
            arm(w);
        });
    }

    asio::io_context context_{1};
    asio::executor_work_guard<asio::io_context::executor_type> work_{context_.get_executor()};
    std::vector<std::unique_ptr<watcher>> watchers_;  // by token; handlers hold their address
    std::vector<std::uint32_t>* readable_ = nullptr;
};

#ifdef UNIPOLL_COMPARE_WITH_ECHO
class asio_echo final : public echo_server {
public:
    void adopt(int fd) override {
        std::make_shared<session>(*this, asio::ip::tcp::socket(context_, asio::ip::tcp::v4(), fd))->start();
        ++open_;
    }

    void serve(const std::function<void()>& after_turn) override {
        while (open_ > 0) {
            context_.run_one();
            after_turn();
        }
    }

private:
    class session : public std::enable_shared_from_this<session> {
    public:
        session(asio_echo& server, asio::ip::tcp::socket socket) : server_(server), socket_(std::move(socket)) {}
        ~session() { --server_.open_; }

        void start() { read(); }

    private:
        void read() {
            socket_.async_read_some(asio::buffer(data_),
                                    [this, self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                        if (!ec) write(n);
                                    });
        }
        void write(std::size_t n) {
            server_.echoed_ += n;
            asio::async_write(socket_, asio::buffer(data_, n),
                              [this, self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                  if (!ec) read();
                              });
        }

        asio_echo& server_;
        asio::ip::tcp::socket socket_;
        std::array<char, 1024> data_{};
    };

    asio::io_context context_{1};
};
#endif

std::string asio_version() {
    constexpr int v = BOOST_ASIO_VERSION;  // XXYYZZ
    return std::to_string(v / 100000) + "." + std::to_string(v / 100 % 1000) + "." +
           std::to_string(v % 100) + " (Boost " + std::string(BOOST_LIB_VERSION) + ")";
}

// The reactor Asio was built with here.
constexpr const char* asio_mechanism =
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    "io_uring";
#elif defined(BOOST_ASIO_HAS_EPOLL)
    "epoll";
#elif defined(BOOST_ASIO_HAS_KQUEUE)
    "kqueue";
#elif defined(BOOST_ASIO_HAS_IOCP)
    "iocp";
#else
    "select";
#endif

}  // namespace

subject asio_subject() {
    subject s{.name = "asio",
              .kind = subject_kind::peer,
              .version = asio_version(),
              .detail = "boost::asio::post to an io_context in run_one (reactor started)",
              .backend = std::nullopt,
              .make = [] { return std::make_unique<asio_loop>(); },
              .mechanism = asio_mechanism,
              .fds_detail = "socket::assign + async_wait(wait_read), re-issued by its handler / release(); "
                            "run_one() or poll()",
              .make_fd_loop = [] { return std::make_unique<asio_fds>(); },
#ifdef UNIPOLL_COMPARE_WITH_ECHO
              .echo_detail = "tcp::socket per connection; async_read_some then async_write (Asio's echo example); "
                             "run_one()",
              .make_echo_server = [] { return std::make_unique<asio_echo>(); }};
#else
              .echo_detail = echo_not_built,
              .make_echo_server = nullptr};
#endif
#ifdef _WIN32
    s.fds_unavailable = release_unsupported();
#endif
    return s;
}

}  // namespace compare
