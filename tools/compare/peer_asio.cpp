// Boost.Asio. Wakes: post() to an io_context blocked in run_one().
// Sockets: a socket object per fd, assign() (Asio registers a descriptor
// with its reactor once, for its whole life) + async_wait(wait_read),
// re-issued by each handler, and release() to let it go. Echo: the
// async_read_some / async_write session of Asio's own echo server example.
#include "peer.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
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
        w.socket.assign(asio::local::stream_protocol(), fd);
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
        asio::local::stream_protocol::socket socket;
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
#else
    "select";
#endif

}  // namespace

subject asio_subject() {
    return {.name = "asio",
            .kind = subject_kind::peer,
            .version = asio_version(),
            .detail = "boost::asio::post to an io_context in run_one (reactor started)",
            .backend = std::nullopt,
            .make = [] { return std::make_unique<asio_loop>(); },
            .mechanism = asio_mechanism,
            .fds_detail = "socket::assign + async_wait(wait_read), re-issued by its handler / release(); "
                          "run_one() or poll()",
            .make_fd_loop = [] { return std::make_unique<asio_fds>(); },
            .echo_detail = "tcp::socket per connection; async_read_some then async_write (Asio's echo example); "
                           "run_one()",
            .make_echo_server = [] { return std::make_unique<asio_echo>(); }};
}

}  // namespace compare
