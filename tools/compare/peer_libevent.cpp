// libevent. Wakes: event_active() from another thread
// (evthread_use_pthreads) on a base running event_base_loop(); libevent
// then notifies the base itself. Sockets: an event per fd, EV_READ |
// EV_PERSIST, event_add / event_del. Echo: a bufferevent per connection
// that moves its input to its output, as libevent's book builds servers.
#include "peer.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>

#include <dlfcn.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace compare {

namespace {

// libev can export a libevent emulation under the same names; if the
// linker bound those, this would drive libev with libevent's structures.
void check_real_libevent() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&event_active), &info) != 0 && info.dli_fname &&
        std::string(info.dli_fname).find("libevent") == std::string::npos)
        throw std::runtime_error(std::string("libevent: event_active resolves to ") + info.dli_fname +
                                 " (libev's emulation?): link libevent before libev");
}

// A base as a threaded program gets one: locking and the cross-thread
// notification both depend on evthread_use_pthreads, once per process,
// before the first base (every adapter's base is made the same way).
event_base* new_base() {
    check_real_libevent();
    static const int threads = evthread_use_pthreads();
    if (threads != 0) throw std::runtime_error("libevent: evthread_use_pthreads failed");
    event_base* base = event_base_new();
    if (!base) throw std::runtime_error("libevent: event_base_new failed");
    return base;
}

struct base_deleter {
    void operator()(event_base* b) const { event_base_free(b); }
};
using base_ptr = std::unique_ptr<event_base, base_deleter>;

class libevent_loop final : public wake_loop {
public:
    libevent_loop() : base_(new_base()) {
        event_ = event_new(base_.get(), -1, 0, [](evutil_socket_t, short, void* self) {
            static_cast<libevent_loop*>(self)->delivered_ = true;
        }, this);
        if (!event_) throw std::runtime_error("libevent: event_new failed");
    }
    ~libevent_loop() override { event_free(event_); }

    void wake() override { event_active(event_, EV_READ, 0); }

    void wait_for_wake() override {
        while (!delivered_) event_base_loop(base_.get(), EVLOOP_ONCE | EVLOOP_NO_EXIT_ON_EMPTY);
        delivered_ = false;
    }

    bool poll_nonblocking() override {
        event_base_loop(base_.get(), EVLOOP_NONBLOCK | EVLOOP_NO_EXIT_ON_EMPTY);
        return std::exchange(delivered_, false);
    }

private:
    base_ptr base_;
    event* event_ = nullptr;
    bool delivered_ = false;  // only the loop's thread touches it
};

class libevent_fds final : public fd_loop {
public:
    libevent_fds() : base_(new_base()) {}
    ~libevent_fds() override {
        for (auto& w : watchers_)
            if (w->ev) event_free(w->ev);
    }

    // The event is made once per token and re-added after every delete.
    void watch(int fd, std::uint32_t token) override {
        while (watchers_.size() <= token) watchers_.push_back(std::make_unique<watcher>());
        watcher& w = *watchers_[token];
        if (!w.ev || w.fd != fd) {
            if (w.ev) event_free(w.ev);
            w.self = this;
            w.token = token;
            w.fd = fd;
            w.ev = event_new(base_.get(), fd, EV_READ | EV_PERSIST, [](evutil_socket_t, short, void* arg) {
                const auto* hit = static_cast<watcher*>(arg);
                hit->self->readable_->push_back(hit->token);
            }, &w);
            if (!w.ev) throw std::runtime_error("libevent: event_new failed");
        }
        if (event_add(w.ev, nullptr) != 0) throw std::runtime_error("libevent: event_add failed");
    }
    void unwatch(int, std::uint32_t token) override {
        if (event_del(watchers_[token]->ev) != 0) throw std::runtime_error("libevent: event_del failed");
    }
    void turn(bool block, std::vector<std::uint32_t>& readable) override {
        readable_ = &readable;
        event_base_loop(base_.get(), (block ? EVLOOP_ONCE : EVLOOP_NONBLOCK) | EVLOOP_NO_EXIT_ON_EMPTY);
        readable_ = nullptr;
    }

private:
    struct watcher {
        event* ev = nullptr;
        libevent_fds* self = nullptr;
        std::uint32_t token = 0;
        int fd = -1;
    };
    base_ptr base_;
    std::vector<std::unique_ptr<watcher>> watchers_;  // by token; callbacks hold their address
    std::vector<std::uint32_t>* readable_ = nullptr;
};

class libevent_echo final : public echo_server {
public:
    libevent_echo() : base_(new_base()) {}
    ~libevent_echo() override {
        for (bufferevent* bev : connections_) bufferevent_free(bev);
    }

    void adopt(int fd) override {
        bufferevent* bev = bufferevent_socket_new(base_.get(), fd, BEV_OPT_CLOSE_ON_FREE);
        if (!bev) throw std::runtime_error("libevent: bufferevent_socket_new failed");
        connections_.insert(bev);
        bufferevent_setcb(bev, on_read, nullptr, on_event, this);
        if (bufferevent_enable(bev, EV_READ) != 0) throw std::runtime_error("libevent: bufferevent_enable failed");
        ++open_;
    }

    void serve(const std::function<void()>& after_turn) override {
        while (open_ > 0) {
            event_base_loop(base_.get(), EVLOOP_ONCE);
            after_turn();
        }
    }

private:
    static void on_read(bufferevent* bev, void* arg) {
        auto* self = static_cast<libevent_echo*>(arg);
        evbuffer* in = bufferevent_get_input(bev);
        self->echoed_ += evbuffer_get_length(in);
        evbuffer_add_buffer(bufferevent_get_output(bev), in);
    }

    static void on_event(bufferevent* bev, short what, void* arg) {
        if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
        auto* self = static_cast<libevent_echo*>(arg);
        self->connections_.erase(bev);
        bufferevent_free(bev);
        --self->open_;
    }

    base_ptr base_;
    std::unordered_set<bufferevent*> connections_;
};

// The backend libevent picked here ("epoll" on Linux).
std::string libevent_mechanism() {
    try {
        const base_ptr probe(new_base());
        return event_base_get_method(probe.get());
    } catch (const std::exception&) {
        return "unknown";  // each scenario then records the error itself
    }
}

}  // namespace

subject libevent_subject() {
    return {.name = "libevent",
            .kind = subject_kind::peer,
            .version = event_get_version(),
            .detail = "event_active from another thread to event_base_loop",
            .backend = std::nullopt,
            .make = [] { return std::make_unique<libevent_loop>(); },
            .mechanism = libevent_mechanism(),
            .fds_detail = "event_new(EV_READ | EV_PERSIST) once per fd, event_add / event_del; "
                          "event_base_loop(ONCE or NONBLOCK)",
            .make_fd_loop = [] { return std::make_unique<libevent_fds>(); },
            .echo_detail = "bufferevent_socket_new per connection; the read callback moves input to output; "
                           "event_base_loop(ONCE)",
            .make_echo_server = [] { return std::make_unique<libevent_echo>(); }};
}

}  // namespace compare
