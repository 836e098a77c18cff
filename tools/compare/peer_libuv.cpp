// libuv. Wakes: uv_async_send() from the waker to a loop running uv_run().
// Sockets: a uv_poll_t per watched fd (uv_poll_init + uv_poll_start, then
// uv_close), the handle libuv documents for watching fds it does not own.
// Echo: uv_tcp_t connections with uv_read_start and uv_write, as libuv's
// guide builds its echo server (uv_poll is not meant for that job).
#include "peer.hpp"

#include <uv.h>

#include <memory>
#include <system_error>
#include <utility>
#include <vector>

namespace compare {

namespace {

void check(int r, const char* call) {
    if (r < 0) throw std::system_error(-r, std::generic_category(), std::string("libuv: ") + call);
}

class libuv_loop final : public wake_loop {
public:
    libuv_loop() {
        check(uv_loop_init(&loop_), "uv_loop_init");
        async_.data = this;
        check(uv_async_init(&loop_, &async_,
                            [](uv_async_t* a) { static_cast<libuv_loop*>(a->data)->delivered_ = true; }),
              "uv_async_init");
    }
    ~libuv_loop() override {
        uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_loop_close(&loop_);
    }

    void wake() override { uv_async_send(&async_); }

    void wait_for_wake() override {
        while (!delivered_) uv_run(&loop_, UV_RUN_ONCE);
        delivered_ = false;
    }

    bool poll_nonblocking() override {
        uv_run(&loop_, UV_RUN_NOWAIT);
        return std::exchange(delivered_, false);
    }

private:
    uv_loop_t loop_{};
    uv_async_t async_{};
    bool delivered_ = false;  // only the loop's thread touches it
};

// Closes every handle still open and runs the loop until they are gone.
void close_loop(uv_loop_t& loop) {
    uv_walk(&loop, [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
    }, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

class libuv_fds final : public fd_loop {
public:
    libuv_fds() { check(uv_loop_init(&loop_), "uv_loop_init"); }
    ~libuv_fds() override { close_loop(loop_); }

    void watch(int fd, std::uint32_t token) override {
        while (watchers_.size() <= token) watchers_.push_back(std::make_unique<watcher>());
        watcher& w = *watchers_[token];
        w.self = this;
        w.token = token;
        check(uv_poll_init(&loop_, &w.handle, fd), "uv_poll_init");
        w.handle.data = &w;
        check(uv_poll_start(&w.handle, UV_READABLE, [](uv_poll_t* h, int status, int events) {
            const auto* hit = static_cast<watcher*>(h->data);
            if (status == 0 && (events & UV_READABLE)) hit->self->readable_->push_back(hit->token);
        }), "uv_poll_start");
    }
    // The handle is free for uv_poll_init again once the close has run,
    // in the next turn.
    void unwatch(int, std::uint32_t token) override {
        uv_close(reinterpret_cast<uv_handle_t*>(&watchers_[token]->handle), nullptr);
    }
    void turn(bool block, std::vector<std::uint32_t>& readable) override {
        readable_ = &readable;
        uv_run(&loop_, block ? UV_RUN_ONCE : UV_RUN_NOWAIT);
        readable_ = nullptr;
    }

private:
    struct watcher {
        uv_poll_t handle{};
        libuv_fds* self = nullptr;
        std::uint32_t token = 0;
    };
    uv_loop_t loop_{};
    std::vector<std::unique_ptr<watcher>> watchers_;  // by token; handles must not move
    std::vector<std::uint32_t>* readable_ = nullptr;
};

class libuv_echo final : public echo_server {
public:
    libuv_echo() { check(uv_loop_init(&loop_), "uv_loop_init"); }
    ~libuv_echo() override {
        close_loop(loop_);
        for (auto* w : free_writes_) delete w;
    }

    void adopt(int fd) override {
        auto* c = new uv_tcp_t;
        if (const int r = uv_tcp_init(&loop_, c); r < 0) {
            delete c;
            check(r, "uv_tcp_init");
        }
        c->data = this;
        check(uv_tcp_open(c, fd), "uv_tcp_open");
        check(uv_read_start(reinterpret_cast<uv_stream_t*>(c), on_alloc, on_read), "uv_read_start");
        ++open_;
    }

    void serve(const std::function<void()>& after_turn) override {
        while (open_ > 0) {
            uv_run(&loop_, UV_RUN_ONCE);
            after_turn();
        }
    }

private:
    // A write keeps its bytes until its callback; requests are reused.
    struct write_request {
        uv_write_t req{};
        libuv_echo* self = nullptr;
        std::vector<char> data;
    };

    static void on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto* self = static_cast<libuv_echo*>(h->data);
        *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
    }

    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<libuv_echo*>(stream->data);
        if (nread < 0) {
            uv_close(reinterpret_cast<uv_handle_t*>(stream), [](uv_handle_t* h) {
                --static_cast<libuv_echo*>(h->data)->open_;
                delete reinterpret_cast<uv_tcp_t*>(h);
            });
            return;
        }
        if (nread == 0) return;
        write_request* w = self->take_write();
        w->data.assign(buf->base, buf->base + nread);
        const uv_buf_t out = uv_buf_init(w->data.data(), static_cast<unsigned>(nread));
        w->req.data = w;
        w->self = self;
        if (uv_write(&w->req, stream, &out, 1, on_written) < 0) self->free_writes_.push_back(w);
        self->echoed_ += static_cast<std::uint64_t>(nread);
    }

    static void on_written(uv_write_t* req, int) {
        auto* w = static_cast<write_request*>(req->data);
        w->self->free_writes_.push_back(w);
    }

    write_request* take_write() {
        if (free_writes_.empty()) return new write_request;
        write_request* w = free_writes_.back();
        free_writes_.pop_back();
        return w;
    }

    uv_loop_t loop_{};
    std::vector<write_request*> free_writes_;
    char read_buffer_[65536];
};

// libuv's Unix loop: epoll on Linux, kqueue on the BSDs and macOS.
constexpr const char* libuv_mechanism =
#if defined(__linux__)
    "epoll";
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
    "kqueue";
#else
    "poll";
#endif

}  // namespace

subject libuv_subject() {
    return {.name = "libuv",
            .kind = subject_kind::peer,
            .version = uv_version_string(),
            .detail = "uv_async_send to a loop in uv_run",
            .backend = std::nullopt,
            .make = [] { return std::make_unique<libuv_loop>(); },
            .mechanism = libuv_mechanism,
            .fds_detail = "uv_poll_init + uv_poll_start(UV_READABLE) / uv_close; uv_run(ONCE or NOWAIT)",
            .make_fd_loop = [] { return std::make_unique<libuv_fds>(); },
            .echo_detail = "uv_tcp_open + uv_read_start; uv_write of what was read; uv_run(ONCE)",
            .make_echo_server = [] { return std::make_unique<libuv_echo>(); }};
}

}  // namespace compare
