// unipoll itself as a subject (wake_loop, fd_loop, echo_server), plus the
// list of subjects to measure.
#include "peer.hpp"
#include "socketpair.hpp"

#ifdef UNIPOLL_COMPARE_WITH_ECHO
#include "echo_io.hpp"
#endif

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

// Readiness and registration: add/remove per socket, level-triggered (the
// default trigger), blocking polls without a timeout, as an event loop
// without timers would make them.
class unipoll_fd_loop final : public fd_loop {
public:
    explicit unipoll_fd_loop(unipoll::backend b) : poller_(b) {}

    void watch(int fd, std::uint32_t token) override { poller_.add(fd, unipoll::interest::read, token); }
    void unwatch(int fd, std::uint32_t) override { poller_.remove(fd); }

    void turn(bool block, std::vector<std::uint32_t>& readable) override {
        const auto res = poller_.poll(events_, block ? unipoll::forever : std::chrono::nanoseconds{0});
        for (std::size_t i = 0; i < res.count; ++i) readable.push_back(static_cast<std::uint32_t>(events_[i].token));
    }

    std::optional<unipoll::counters> stats() const override { return poller_.stats(); }

private:
    unipoll::poller poller_;
    std::array<unipoll::event, 256> events_{};
};

#ifdef UNIPOLL_COMPARE_WITH_ECHO
// The echo server a user would write: each connection registered for
// reading (level), one read and one write per readable socket.
class unipoll_echo_server final : public echo_server {
public:
    explicit unipoll_echo_server(unipoll::backend b) : poller_(b) {}

    void adopt(int fd) override {
        poller_.add(fd, unipoll::interest::read, static_cast<std::uint64_t>(fd));
        connections_.add(fd);
        ++open_;
    }

    void serve(const std::function<void()>& after_turn) override {
        while (open_ > 0) {
            const auto res = poller_.poll(events_, unipoll::forever);
            for (std::size_t i = 0; i < res.count; ++i) {
                const auto fd = static_cast<int>(events_[i].token);
                if (!connections_.contains(fd)) continue;
                const long n = echo_back(fd, buffer_);
                if (n > 0) echoed_ += static_cast<std::uint64_t>(n);
                if (n >= 0) continue;
                poller_.remove(fd);
                connections_.close(fd);
                --open_;
            }
            after_turn();
        }
    }

private:
    open_connections connections_;  // declared first: closed after the poller is gone
    unipoll::poller poller_;
    std::array<unipoll::event, 256> events_{};
    std::array<char, 65536> buffer_{};
};
#endif

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
        s.mechanism = b == unipoll::backend::kqueue_pipe ? "kqueue" : std::string(unipoll::name(b));
        s.fds_detail = "add(fd, read, level) / remove(fd); poll(forever), or poll(0) after registration";
        s.make_fd_loop = [b] { return std::make_unique<unipoll_fd_loop>(b); };
#ifdef UNIPOLL_COMPARE_WITH_ECHO
        s.echo_detail = "add(fd, read, level) per connection; poll(forever); one read and one write per event";
        s.make_echo_server = [b] { return std::make_unique<unipoll_echo_server>(b); };
#else
        s.echo_detail = echo_not_built;
#endif
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
