// epoll backend: the wake event is an eventfd registered EPOLLET and never
// read, so each post is one write(2) and each delivery consumes its edge
// (docs/semantics.md). Registrations carry registry keys, not user tokens.
#pragma once

#include "backend_impl.hpp"
#include "eventfd_waker.hpp"
#include "registry.hpp"

#include <sys/epoll.h>

#include <atomic>
#include <mutex>

namespace unipoll::detail {

class epoll_backend final : public backend_impl {
public:
    epoll_backend();
    ~epoll_backend() override;

    backend kind() const noexcept override { return backend::epoll; }
    bool supports(trigger) const noexcept override { return true; }

    void add(int fd, interest, std::uint64_t token, trigger) override;
    void modify(int fd, interest, std::uint64_t token, trigger) override;
    void remove(int fd) override;

    wait_result wait(std::span<event> out, std::chrono::nanoseconds timeout) override;
    void post() noexcept override;
    bool saturate_wake_for_testing() override { return waker_.saturate(); }

private:
    int epoll_wait_ns(::epoll_event* evs, int max, std::chrono::nanoseconds timeout);
    int ctl(int op, int fd, std::uint32_t events, std::uint64_t key) noexcept;

    int epfd_ = -1;
    eventfd_waker waker_;
    std::mutex mu_;  // guards reg_
    registry reg_;
    // Set once epoll_pwait2 answered ENOSYS (kernels before 5.11, even when
    // libc has the wrapper); from then on epoll_wait with ms rounded up.
    std::atomic<bool> no_pwait2_{false};
};

}  // namespace unipoll::detail
