// The `kqueue-pipe` backend: the wake event is the read end of a pipe under
// EVFILT_READ, for kernels without a working EVFILT_USER. The pipe stays
// readable until drained, so only the blocking poller drains it and only it
// is told about the wake (docs/semantics.md; Go's netpoll_kqueue_pipe likewise
// drains only when blocking): a non-blocking poll can never steal the wake.
#include "backend_factories.hpp"
#include "kqueue_backend.hpp"
#include "pipe_waker.hpp"

#include <atomic>

namespace unipoll::detail {
namespace {

class kqueue_pipe_backend final : public kqueue_backend {
public:
    kqueue_pipe_backend()
        : kqueue_backend(open_kqueue(backend::kqueue_pipe)), waker_(backend::kqueue_pipe) {}

    backend kind() const noexcept override { return backend::kqueue_pipe; }

    void post() noexcept override { stat_counters::bump(stats.syscalls, waker_.post()); }

protected:
    // The pipe's EVFILT_READ knote rides along with the first wait's kevent
    // call instead of costing one of its own. A wake posted before that
    // is not lost: the knote evaluates the pipe when it is added.
    bool take_wake_registration(kq::kevent_t& change) noexcept override {
        if (registered_.exchange(true)) return false;
        change = kq::make_kevent(static_cast<std::uintptr_t>(waker_.read_fd()), EVFILT_READ,
                                 kq::as_flags(EV_ADD), 0, wake_key);
        return true;
    }

    void wake_registration_failed() noexcept override { registered_.store(false); }

    int internal_fd() const noexcept override { return waker_.read_fd(); }

    bool is_wake_event(const kq::kevent_t& ev) const noexcept override {
        return ev.filter == EVFILT_READ &&
               ev.ident == static_cast<std::uintptr_t>(waker_.read_fd());
    }

    bool on_wake_event(bool blocking) noexcept override {
        if (!blocking) return false;
        stat_counters::bump(stats.syscalls, waker_.drain());
        return true;
    }

private:
    pipe_waker waker_;
    std::atomic<bool> registered_{false};
};

}  // namespace

std::unique_ptr<backend_impl> make_kqueue_pipe_backend() {
    return std::make_unique<kqueue_pipe_backend>();
}

}  // namespace unipoll::detail
