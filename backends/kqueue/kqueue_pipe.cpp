// The `kqueue-pipe` backend: the wake event is the read end of a pipe under
// EVFILT_READ, for kernels without a working EVFILT_USER. The pipe stays
// readable until drained, so only the blocking poller drains it and only it
// is told about the wake (docs/semantics.md; Go's netpoll_kqueue_pipe likewise
// drains only when blocking): a non-blocking poll can never steal the wake.
#include "backend_factories.hpp"
#include "kqueue_backend.hpp"
#include "pipe_waker.hpp"

namespace unipoll::detail {
namespace {

class kqueue_pipe_backend final : public kqueue_backend {
public:
    // The pipe's knote is registered here, before anyone can wait or wake:
    // a wait that registered it lazily could sleep without it while another
    // thread's call carried it, and miss a wake.
    kqueue_pipe_backend()
        : kqueue_backend(open_kqueue(backend::kqueue_pipe)), waker_(backend::kqueue_pipe) {
        register_wake(kq::make_kevent(static_cast<std::uintptr_t>(waker_.read_fd()), EVFILT_READ,
                                      kq::as_flags(EV_ADD), 0, registry::wake_key));
    }

    backend kind() const noexcept override { return backend::kqueue_pipe; }

    void post() noexcept override { stat_counters::bump(stats.syscalls, waker_.post()); }

protected:
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
};

}  // namespace

std::unique_ptr<backend_impl> make_kqueue_pipe_backend() {
    return std::make_unique<kqueue_pipe_backend>();
}

}  // namespace unipoll::detail
