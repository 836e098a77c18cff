// libev: ev_async_send() from the waker to a loop running ev_run().
#include "peer.hpp"

#include <ev.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace compare {

namespace {

class libev_loop final : public wake_loop {
public:
    libev_loop() {
        loop_ = ev_loop_new(EVFLAG_AUTO);
        if (!loop_) throw std::runtime_error("libev: ev_loop_new failed");
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

std::string libev_version() {
    return std::to_string(ev_version_major()) + "." + std::to_string(ev_version_minor());
}

}  // namespace

subject libev_subject() {
    return {"libev", subject_kind::peer, libev_version(),
            "ev_async_send to a loop in ev_run", std::nullopt,
            [] { return std::make_unique<libev_loop>(); }};
}

}  // namespace compare
