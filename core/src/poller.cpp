// The public class: argument checks shared by every backend, then a
// forward to the wake protocol (poller_core) or the backend. A poller whose
// state was moved out has no core: every member checks for that first.
#include "errors.hpp"
#include "poller_core.hpp"

#include <unipoll/poller.hpp>

#include <cerrno>

namespace unipoll {
namespace detail {
std::unique_ptr<backend_impl> create_backend(backend);
std::unique_ptr<backend_impl> create_default_backend();
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

// The core an operation may use: not moved out, and (see fork_guard.hpp) not
// inherited by a forked child from its parent.
detail::poller_core& usable(const std::unique_ptr<detail::poller_core>& core, backend b,
                            std::string_view op, native_handle fd) {
    if (!core)
        detail::throw_usage(EBADF, b, op, fd,
                            "this poller was moved from and has no kernel object; "
                            "assign a poller to it before using it again");
    if (core->inherited())
        detail::throw_usage(EPERM, b, op, fd,
                            "this poller was created by the parent process before fork(); "
                            "create a new poller in the child");
    return *core;
}

}  // namespace

poller::poller() : poller(poller_options{}) {}

poller::poller(backend b) : poller(b, poller_options{}) {}

poller::poller(poller_options options)
    : core_(std::make_unique<detail::poller_core>(detail::create_default_backend(), options)),
      kind_(core_->impl().kind()) {}

poller::poller(backend b, poller_options options)
    : core_(std::make_unique<detail::poller_core>(detail::create_backend(b), options)),
      kind_(core_->impl().kind()) {}

// Member-wise: the core moves, kind_ is copied, so a moved-from poller
// still names its backend.
poller::poller(poller&&) noexcept = default;
poller& poller::operator=(poller&&) noexcept = default;
poller::~poller() = default;

backend poller::kind() const noexcept { return kind_; }

bool poller::supports(trigger how) const noexcept { return core_ && core_->impl().supports(how); }

void poller::add(native_handle fd, interest what, std::uint64_t token, trigger how) {
    detail::poller_core& core = usable(core_, kind_, "add", fd);
    check_args(core.impl(), "add", fd, what, how);
    core.impl().add(fd, what, token, how);
}

void poller::modify(native_handle fd, interest what, std::uint64_t token, trigger how) {
    detail::poller_core& core = usable(core_, kind_, "modify", fd);
    check_args(core.impl(), "modify", fd, what, how);
    core.impl().modify(fd, what, token, how);
}

void poller::remove(native_handle fd) {
    detail::poller_core& core = usable(core_, kind_, "remove", fd);
    if (detail::is_invalid_handle(fd))
        detail::throw_usage(EBADF, kind_, "remove", fd, invalid_handle_why);
    core.impl().remove(fd);
}

poll_result poller::poll(std::span<event> out, std::chrono::nanoseconds timeout) {
    return usable(core_, kind_, "poll", detail::no_fd).poll(out, timeout);
}

void poller::wake() noexcept {
    // In a forked child a post would land in the parent's kernel object.
    if (core_ && !core_->inherited()) core_->wake();
}

counters poller::stats() const noexcept {
    return core_ ? core_->impl().stats.snapshot() : counters{};
}

}  // namespace unipoll
