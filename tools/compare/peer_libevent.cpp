// libevent: event_active() from another thread (evthread_use_pthreads) on a
// base running event_base_loop(); libevent then notifies the base itself.
#include "peer.hpp"

#include <event2/event.h>
#include <event2/thread.h>

#include <dlfcn.h>

#include <stdexcept>
#include <string>
#include <utility>

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

class libevent_loop final : public wake_loop {
public:
    libevent_loop() {
        check_real_libevent();
        // Once per process, before any base exists: locking and the
        // cross-thread notification both depend on it.
        static const int threads = evthread_use_pthreads();
        if (threads != 0) throw std::runtime_error("libevent: evthread_use_pthreads failed");
        base_ = event_base_new();
        if (!base_) throw std::runtime_error("libevent: event_base_new failed");
        event_ = event_new(base_, -1, 0, [](evutil_socket_t, short, void* self) {
            static_cast<libevent_loop*>(self)->delivered_ = true;
        }, this);
        if (!event_) {
            event_base_free(base_);
            throw std::runtime_error("libevent: event_new failed");
        }
    }
    ~libevent_loop() override {
        event_free(event_);
        event_base_free(base_);
    }

    void wake() override { event_active(event_, EV_READ, 0); }

    void wait_for_wake() override {
        while (!delivered_) event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NO_EXIT_ON_EMPTY);
        delivered_ = false;
    }

    bool poll_nonblocking() override {
        event_base_loop(base_, EVLOOP_NONBLOCK | EVLOOP_NO_EXIT_ON_EMPTY);
        return std::exchange(delivered_, false);
    }

private:
    event_base* base_ = nullptr;
    event* event_ = nullptr;
    bool delivered_ = false;  // only the loop's thread touches it
};

}  // namespace

subject libevent_subject() {
    return {"libevent", subject_kind::peer, event_get_version(),
            "event_active from another thread to event_base_loop", std::nullopt,
            [] { return std::make_unique<libevent_loop>(); }};
}

}  // namespace compare
