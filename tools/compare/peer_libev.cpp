// libev. Wakes: ev_async_send() from the waker to a loop running ev_run().
// Sockets: an ev_io watcher per fd, ev_io_start / ev_io_stop. Echo: an
// ev_io per connection whose callback reads and writes back, the way
// libev's documentation leaves I/O to the program.
#include "echo_io.hpp"
#include "peer.hpp"

#include <ev.h>

#include <unistd.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace compare {

namespace {

struct ev_loop* new_loop() {
    struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
    if (!loop) throw std::runtime_error("libev: ev_loop_new failed");
    return loop;
}

class libev_loop final : public wake_loop {
public:
    libev_loop() : loop_(new_loop()) {
        ev_async_init(&async_, [](struct ev_loop*, ev_async* w, int) {
            static_cast<libev_loop*>(w->data)->delivered_ = true;
        });
        async_.data = this;
        ev_async_start(loop_, &async_);
    }
    ~libev_loop() override {
        ev_async_stop(loop_, &async_);
        ev_loop_destroy(loop_);
    }

    void wake() override { ev_async_send(loop_, &async_); }

    void wait_for_wake() override {
        while (!delivered_) ev_run(loop_, EVRUN_ONCE);
        delivered_ = false;
    }

    bool poll_nonblocking() override {
        ev_run(loop_, EVRUN_NOWAIT);
        return std::exchange(delivered_, false);
    }

private:
    struct ev_loop* loop_ = nullptr;
    ev_async async_{};
    bool delivered_ = false;  // only the loop's thread touches it
};

class libev_fds final : public fd_loop {
public:
    libev_fds() : loop_(new_loop()) {}
    ~libev_fds() override {
        for (auto& w : watchers_) ev_io_stop(loop_, &w->io);
        ev_loop_destroy(loop_);
    }

    void watch(int fd, std::uint32_t token) override {
        while (watchers_.size() <= token) watchers_.push_back(std::make_unique<watcher>());
        watcher& w = *watchers_[token];
        w.self = this;
        w.token = token;
        ev_io_init(&w.io, [](struct ev_loop*, ev_io* io, int) {
            const auto* hit = static_cast<watcher*>(io->data);
            hit->self->readable_->push_back(hit->token);
        }, fd, EV_READ);
        w.io.data = &w;
        ev_io_start(loop_, &w.io);
    }
    void unwatch(int, std::uint32_t token) override { ev_io_stop(loop_, &watchers_[token]->io); }
    void turn(bool block, std::vector<std::uint32_t>& readable) override {
        readable_ = &readable;
        ev_run(loop_, block ? EVRUN_ONCE : EVRUN_NOWAIT);
        readable_ = nullptr;
    }

private:
    struct watcher {
        ev_io io{};
        libev_fds* self = nullptr;
        std::uint32_t token = 0;
    };
    struct ev_loop* loop_;
    std::vector<std::unique_ptr<watcher>> watchers_;  // by token; libev holds their address
    std::vector<std::uint32_t>* readable_ = nullptr;
};

class libev_echo final : public echo_server {
public:
    libev_echo() : loop_(new_loop()) {}
    ~libev_echo() override {
        for (auto& c : connections_)
            if (c) {
                ev_io_stop(loop_, &c->io);
                ::close(c->io.fd);
            }
        ev_loop_destroy(loop_);
    }

    void adopt(int fd) override {
        auto c = std::make_unique<connection>();
        c->self = this;
        ev_io_init(&c->io, on_readable, fd, EV_READ);
        c->io.data = c.get();
        ev_io_start(loop_, &c->io);
        if (connections_.size() <= static_cast<std::size_t>(fd)) connections_.resize(static_cast<std::size_t>(fd) + 1);
        connections_[static_cast<std::size_t>(fd)] = std::move(c);
        ++open_;
    }

    void serve(const std::function<void()>& after_turn) override {
        while (open_ > 0) {
            ev_run(loop_, EVRUN_ONCE);
            after_turn();
        }
    }

private:
    struct connection {
        ev_io io{};
        libev_echo* self = nullptr;
    };

    static void on_readable(struct ev_loop* loop, ev_io* io, int) {
        auto* self = static_cast<connection*>(io->data)->self;
        const long n = echo_back(io->fd, self->buffer_);
        if (n > 0) self->echoed_ += static_cast<std::uint64_t>(n);
        if (n >= 0) return;
        const int fd = io->fd;
        ev_io_stop(loop, io);
        ::close(fd);
        self->connections_[static_cast<std::size_t>(fd)].reset();
        --self->open_;
    }

    struct ev_loop* loop_;
    std::vector<std::unique_ptr<connection>> connections_;  // by fd
    std::array<char, 65536> buffer_{};
};

std::string backend_name(unsigned backend) {
    switch (backend) {
        case EVBACKEND_EPOLL: return "epoll";
        case EVBACKEND_KQUEUE: return "kqueue";
        case EVBACKEND_POLL: return "poll";
        case EVBACKEND_SELECT: return "select";
        default: return "libev backend " + std::to_string(backend);  // linuxaio, io_uring: opt-in only
    }
}

// The backend EVFLAG_AUTO picks here.
std::string libev_mechanism() {
    struct ev_loop* probe = ev_loop_new(EVFLAG_AUTO);
    if (!probe) return "unknown";
    std::string name = backend_name(ev_backend(probe));
    ev_loop_destroy(probe);
    return name;
}

}  // namespace

subject libev_subject() {
    return {.name = "libev",
            .kind = subject_kind::peer,
            .version = std::to_string(ev_version_major()) + "." + std::to_string(ev_version_minor()),
            .detail = "ev_async_send to a loop in ev_run",
            .backend = std::nullopt,
            .make = [] { return std::make_unique<libev_loop>(); },
            .mechanism = libev_mechanism(),
            .fds_detail = "ev_io_init + ev_io_start(EV_READ) / ev_io_stop; ev_run(ONCE or NOWAIT)",
            .make_fd_loop = [] { return std::make_unique<libev_fds>(); },
            .echo_detail = "ev_io(EV_READ) per connection; the callback reads and writes back; ev_run(ONCE)",
            .make_echo_server = [] { return std::make_unique<libev_echo>(); }};
}

}  // namespace compare
