// Boost.Asio: post() to an io_context blocked in run_one().
#include "peer.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/version.hpp>
#include <boost/version.hpp>

#include <string>
#include <utility>

namespace compare {

namespace {

class asio_loop final : public wake_loop {
public:
    void wake() override {
        boost::asio::post(context_, [this] { delivered_ = true; });
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
    boost::asio::io_context context_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{context_.get_executor()};
    // An io_context without I/O objects waits on a condition variable; any
    // real program has sockets or timers, which start the reactor (epoll on
    // Linux). A timer is the cheapest way to get there.
    boost::asio::steady_timer reactor_starter_{context_};
    bool delivered_ = false;  // only the thread running the context touches it
};

std::string asio_version() {
    constexpr int v = BOOST_ASIO_VERSION;  // XXYYZZ
    return std::to_string(v / 100000) + "." + std::to_string(v / 100 % 1000) + "." +
           std::to_string(v % 100) + " (Boost " + std::string(BOOST_LIB_VERSION) + ")";
}

}  // namespace

subject asio_subject() {
    return {"asio", subject_kind::peer, asio_version(),
            "boost::asio::post to an io_context in run_one (reactor started)", std::nullopt,
            [] { return std::make_unique<asio_loop>(); }};
}

}  // namespace compare
