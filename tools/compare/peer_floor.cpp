// The floor: an eventfd registered EPOLLET in an epoll set, no library. One
// write(2) on the waker's side and one epoll_wait(2) on the sleeper's side
// is the least any epoll-based wake can cost; latencies are reported as a
// ratio to this one.
#include "peer.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace compare {

namespace {

[[noreturn]] void fail(const char* call) {
    throw std::system_error(errno, std::generic_category(), std::string("floor:epoll: ") + call);
}

class floor_epoll_loop final : public wake_loop {
public:
    floor_epoll_loop() {
        epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) fail("epoll_create1");
        efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (efd_ < 0) fail("eventfd");
        // Edge-triggered and never read: every write is a new edge.
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLET;
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, efd_, &ev) != 0) fail("epoll_ctl(ADD)");
    }
    ~floor_epoll_loop() override {
        ::close(efd_);
        ::close(epfd_);
    }

    void wake() override {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(efd_, &one, sizeof one);
    }

    void wait_for_wake() override {
        epoll_event ev{};
        while (::epoll_wait(epfd_, &ev, 1, -1) != 1) {
        }
    }

    bool poll_nonblocking() override {
        epoll_event ev{};
        return ::epoll_wait(epfd_, &ev, 1, 0) == 1;
    }

private:
    int epfd_ = -1;
    int efd_ = -1;
};

}  // namespace

subject floor_epoll_subject() {
    return {"floor:epoll", subject_kind::floor, "eventfd + epoll",
            "raw eventfd write / EPOLLET epoll_wait, no library", std::nullopt,
            [] { return std::make_unique<floor_epoll_loop>(); }};
}

}  // namespace compare
