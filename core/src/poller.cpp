// The public class: argument checks shared by every backend, then a
// forward to the wake protocol (poller_core) or the backend.
#include "errors.hpp"
#include "poller_core.hpp"

#include <unipoll/poller.hpp>

#include <cerrno>

namespace unipoll {
namespace detail {
std::unique_ptr<backend_impl> create_backend(backend);
}

namespace {

#ifdef _WIN32
constexpr std::string_view invalid_handle_why = "INVALID_SOCKET";
#else
constexpr std::string_view invalid_handle_why = "negative file descriptor";
#endif

void check_args(const detail::backend_impl& impl, std::string_view op, native_handle fd,
                interest what, trigger how) {
    if (detail::is_invalid_handle(fd))
        detail::throw_usage(EBADF, impl.kind(), op, fd, invalid_handle_why);
    if (static_cast<std::uint8_t>(what) > static_cast<std::uint8_t>(interest::read_write))
        detail::throw_usage(EINVAL, impl.kind(), op, fd, "interest value out of range");
    if (static_cast<std::uint8_t>(how) > static_cast<std::uint8_t>(trigger::oneshot))
        detail::throw_usage(EINVAL, impl.kind(), op, fd, "trigger value out of range");
    if (!impl.supports(how))
        detail::throw_usage(ENOTSUP, impl.kind(), op, fd, "trigger not supported by this backend");
}

// A forked child must not use its parent's poller: see fork_guard.hpp.
void check_owner(const detail::poller_core& core, std::string_view op, native_handle fd) {
    if (core.inherited())
        detail::throw_usage(EPERM, core.impl().kind(), op, fd,
                            "this poller was created by the parent process before fork(); "
                            "create a new poller in the child");
}

}  // namespace

poller::poller() : poller(default_backend(), poller_options{}) {}

poller::poller(backend b) : poller(b, poller_options{}) {}

poller::poller(poller_options options) : poller(default_backend(), options) {}

poller::poller(backend b, poller_options options)
    : core_(std::make_unique<detail::poller_core>(detail::create_backend(b), options)) {}

poller::poller(poller&&) noexcept = default;
poller& poller::operator=(poller&&) noexcept = default;
poller::~poller() = default;

backend poller::kind() const noexcept { return core_->impl().kind(); }

bool poller::supports(trigger how) const noexcept { return core_->impl().supports(how); }

void poller::add(native_handle fd, interest what, std::uint64_t token, trigger how) {
    check_owner(*core_, "add", fd);
    check_args(core_->impl(), "add", fd, what, how);
    core_->impl().add(fd, what, token, how);
}

void poller::modify(native_handle fd, interest what, std::uint64_t token, trigger how) {
    check_owner(*core_, "modify", fd);
    check_args(core_->impl(), "modify", fd, what, how);
    core_->impl().modify(fd, what, token, how);
}

void poller::remove(native_handle fd) {
    check_owner(*core_, "remove", fd);
    if (detail::is_invalid_handle(fd))
        detail::throw_usage(EBADF, kind(), "remove", fd, invalid_handle_why);
    core_->impl().remove(fd);
}

poll_result poller::poll(std::span<event> out, std::chrono::nanoseconds timeout) {
    check_owner(*core_, "poll", detail::no_fd);
    return core_->poll(out, timeout);
}

void poller::wake() noexcept {
    // In a forked child a post would land in the parent's kernel object.
    if (core_ && !core_->inherited()) core_->wake();
}

counters poller::stats() const noexcept { return core_->impl().stats.snapshot(); }

}  // namespace unipoll
