// The epoll floor, no library. Wakes: an eventfd registered EPOLLET, one
// write(2) on the waker's side and one epoll_wait(2) on the sleeper's side,
// the least any epoll-based wake can cost (latencies are reported as a
// ratio to it). Sockets: level-triggered EPOLLIN, epoll_ctl ADD/DEL, and
// for echo one read and one write per event.
#include "echo_io.hpp"
#include "peer.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <span>
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

// An epoll set and its event array, shared by the socket loops below.
class epoll_set {
public:
    epoll_set() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (epfd_ < 0) fail("epoll_create1");
    }
    ~epoll_set() { ::close(epfd_); }
    epoll_set(const epoll_set&) = delete;
    epoll_set& operator=(const epoll_set&) = delete;

    void add(int fd, std::uint64_t data) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = data;
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl(ADD)");
    }
    void remove(int fd) {
        if (::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr) != 0) fail("epoll_ctl(DEL)");
    }
    /// The events now ready (waiting for one if `block`).
    std::span<const epoll_event> wait(bool block) {
        const int n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), block ? -1 : 0);
        if (n < 0 && errno != EINTR) fail("epoll_wait");
        return {events_.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
    }

private:
    int epfd_;
    std::array<epoll_event, 256> events_{};
};

class floor_epoll_fds final : public fd_loop {
public:
    void watch(int fd, std::uint32_t token) override { set_.add(fd, token); }
    void unwatch(int fd, std::uint32_t) override { set_.remove(fd); }
    void turn(bool block, std::vector<std::uint32_t>& readable) override {
        for (const auto& ev : set_.wait(block)) readable.push_back(static_cast<std::uint32_t>(ev.data.u64));
    }

private:
    epoll_set set_;
};

class floor_epoll_echo final : public echo_server {
public:
    void adopt(int fd) override {
        set_.add(fd, static_cast<std::uint64_t>(fd));
        connections_.add(fd);
        ++open_;
    }

    void serve(const std::function<void()>& after_turn) override {
        while (open_ > 0) {
            for (const auto& ev : set_.wait(true)) {
                const auto fd = static_cast<int>(ev.data.u64);
                const long n = echo_back(fd, buffer_);
                if (n > 0) echoed_ += static_cast<std::uint64_t>(n);
                if (n >= 0) continue;
                connections_.close(fd);  // the last reference: epoll forgets it
                --open_;
            }
            after_turn();
        }
    }

private:
    epoll_set set_;
    open_connections connections_;
    std::array<char, 65536> buffer_{};
};

}  // namespace

subject floor_epoll_subject() {
    return {.name = "floor:epoll",
            .kind = subject_kind::floor,
            .version = "eventfd + epoll",
            .detail = "raw eventfd write / EPOLLET epoll_wait, no library",
            .backend = std::nullopt,
            .make = [] { return std::make_unique<floor_epoll_loop>(); },
            .mechanism = "epoll",
            .fds_detail = "epoll_ctl(ADD, EPOLLIN level) / epoll_ctl(DEL); epoll_wait(-1 or 0)",
            .make_fd_loop = [] { return std::make_unique<floor_epoll_fds>(); },
            .echo_detail = "epoll_ctl(ADD, EPOLLIN level) per connection; epoll_wait(-1); one read and one write per event",
            .make_echo_server = [] { return std::make_unique<floor_epoll_echo>(); }};
}

}  // namespace compare
