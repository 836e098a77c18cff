// libuv: uv_async_send() from the waker to a loop running uv_run().
#include "peer.hpp"

#include <uv.h>

#include <system_error>
#include <utility>

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

}  // namespace

subject libuv_subject() {
    return {"libuv", subject_kind::peer, uv_version_string(),
            "uv_async_send to a loop in uv_run", std::nullopt,
            [] { return std::make_unique<libuv_loop>(); }};
}

}  // namespace compare
