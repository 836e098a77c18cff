// unipoll itself as a wake_loop, plus the list of subjects to measure.
#include "peer.hpp"
#include "socketpair.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <system_error>

namespace compare {

namespace {

// A poller as an event loop has it: one idle connection registered next to
// the wake machinery (the peers' loops likewise watch their own fds), so a
// backend cannot skip its kernel call just because nothing is registered.
class unipoll_loop final : public wake_loop {
public:
    explicit unipoll_loop(unipoll::backend b) : poller_(b) {
        if (nonblocking_socketpair(idle_) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        poller_.add(idle_[0], unipoll::interest::read, 0);
    }
    ~unipoll_loop() override {
        poller_.remove(idle_[0]);
        close_socket(idle_[0]);
        close_socket(idle_[1]);
    }

    void wake() override { poller_.wake(); }

    void wait_for_wake() override {
        while (!poller_.poll(events_, unipoll::forever).woken) {
        }
    }

    bool poll_nonblocking() override {
        poller_.poll(events_, std::chrono::nanoseconds{0});
        return false;
    }

    bool nonblocking_delivers_wakes() const override { return false; }

    std::optional<unipoll::counters> stats() const override { return poller_.stats(); }

private:
    unipoll::poller poller_;
    std::array<int, 2> idle_{-1, -1};
    std::array<unipoll::event, 64> events_{};
};

}  // namespace

const char* kind_name(subject_kind k) {
    switch (k) {
        case subject_kind::unipoll: return "unipoll";
        case subject_kind::peer: return "peer";
        case subject_kind::floor: return "floor";
    }
    return "?";
}

std::vector<subject> unipoll_subjects() {
    std::vector<subject> out;
    for (const unipoll::backend b : unipoll::available_backends()) {
        subject s;
        s.name = "unipoll:" + std::string(unipoll::name(b));
        s.kind = subject_kind::unipoll;
        s.version = UNIPOLL_COMPARE_UNIPOLL_VERSION;
        s.detail = "unipoll::poller(" + std::string(unipoll::name(b)) +
                   "): wake() to poll(forever), one idle socket registered";
        s.backend = b;
        s.make = [b] { return std::make_unique<unipoll_loop>(b); };
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<subject> peer_subjects() {
    std::vector<subject> out;
#ifdef UNIPOLL_COMPARE_WITH_FLOOR
    out.push_back(floor_epoll_subject());
#endif
#ifdef UNIPOLL_COMPARE_WITH_LIBURING
    out.push_back(liburing_subject());
#endif
#ifdef UNIPOLL_COMPARE_WITH_LIBUV
    out.push_back(libuv_subject());
#endif
#ifdef UNIPOLL_COMPARE_WITH_LIBEVENT
    out.push_back(libevent_subject());
#endif
#ifdef UNIPOLL_COMPARE_WITH_LIBEV
    out.push_back(libev_subject());
#endif
#ifdef UNIPOLL_COMPARE_WITH_ASIO
    out.push_back(asio_subject());
#endif
    return out;
}

}  // namespace compare
