#include "py_poller.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <system_error>

namespace unipoll_python {
namespace {

using clock = std::chrono::steady_clock;

int to_fd(const py::handle& obj) {
    // An int or an object with fileno(), as select.epoll.register takes.
    const int fd = PyObject_AsFileDescriptor(obj.ptr());
    if (fd < 0) throw py::error_already_set();
    return fd;
}

unipoll::interest to_interest(int events) {
    if (events < 0 || events > (flag_read | flag_write))
        throw py::value_error("events must be a combination of READ and WRITE, got " +
                              std::to_string(events));
    return static_cast<unipoll::interest>(events);
}

unipoll::trigger to_trigger(int trigger) {
    if (trigger < 0 || trigger > static_cast<int>(unipoll::trigger::oneshot))
        throw py::value_error("trigger must be LEVEL, EDGE or ONESHOT, got " +
                              std::to_string(trigger));
    return static_cast<unipoll::trigger>(trigger);
}

// None or a negative number: no timeout; 0: non-blocking.
std::chrono::nanoseconds to_timeout(std::optional<double> seconds) {
    if (!seconds || *seconds < 0) return unipoll::forever;
    if (std::isnan(*seconds)) throw py::value_error("timeout must not be NaN");
    // Beyond ~292 years nanoseconds overflow: that is forever too.
    if (*seconds >= 9.0e9) return unipoll::forever;
    // Round up, so a 0.1 us timeout still blocks rather than spinning.
    return std::chrono::nanoseconds{static_cast<std::int64_t>(std::ceil(*seconds * 1e9))};
}

int flags_of(const unipoll::event& e) {
    return (e.readable ? flag_read : 0) | (e.writable ? flag_write : 0) |
           (e.hangup ? flag_hangup : 0) | (e.error ? flag_error : 0);
}

}  // namespace

py_poller::py_poller(std::optional<std::string> backend) {
    // Python acts on signals only between bytecodes: a blocking poll must
    // come back on EINTR so that the handlers run (PEP 475).
    const unipoll::poller_options options{.return_on_signal = true};
    if (!backend) {
        poller_ = std::make_shared<unipoll::poller>(options);
        return;
    }
    const auto b = unipoll::parse_backend(*backend);
    if (!b) throw py::value_error("unknown unipoll backend '" + *backend + "'");
    poller_ = std::make_shared<unipoll::poller>(*b, options);
}

std::shared_ptr<unipoll::poller> py_poller::live(const char* op) const {
    if (!poller_) throw py::value_error(std::string(op) + " on a closed Poller");
    return poller_;
}

std::string py_poller::backend_name() const {
    return std::string(unipoll::name(live("backend")->kind()));
}

bool py_poller::supports(int trigger) const { return live("supports")->supports(to_trigger(trigger)); }

void py_poller::add(const py::handle& fd, int events, std::optional<std::uint64_t> token,
                    int trigger) {
    const int n = to_fd(fd);
    live("add")->add(n, to_interest(events), token.value_or(static_cast<std::uint64_t>(n)),
                     to_trigger(trigger));
    ++registered_;
}

void py_poller::modify(const py::handle& fd, int events, std::optional<std::uint64_t> token,
                       int trigger) {
    const int n = to_fd(fd);
    live("modify")->modify(n, to_interest(events), token.value_or(static_cast<std::uint64_t>(n)),
                           to_trigger(trigger));
}

void py_poller::remove(const py::handle& fd) {
    live("remove")->remove(to_fd(fd));
    if (registered_ > 0) --registered_;
}

py::tuple py_poller::poll(std::optional<double> timeout, std::optional<std::size_t> max_events) {
    const std::shared_ptr<unipoll::poller> p = live("poll");
    std::chrono::nanoseconds left = to_timeout(timeout);
    const std::size_t slots = max_events ? *max_events : std::max<std::size_t>(registered_, 1);
    if (slots == 0) throw py::value_error("max_events must be at least 1");
    const auto deadline = left.count() > 0 ? clock::now() + left : clock::time_point::max();

    std::vector<unipoll::event> local;
    const bool own_buffer = !buffer_busy_.exchange(true);
    struct release_buffer {
        std::atomic<bool>* flag;
        ~release_buffer() {
            if (flag) flag->store(false);
        }
    } release{own_buffer ? &buffer_busy_ : nullptr};
    std::vector<unipoll::event>& events = own_buffer ? buffer_ : local;
    if (events.size() < slots) events.resize(slots);
    const std::span<unipoll::event> span(events.data(), slots);

    unipoll::poll_result r{};
    for (;;) {
        {
            // Non-blocking polls release the GIL too, as select.epoll does:
            // a busy event loop would otherwise hold it for whole switch
            // intervals (5 ms) while other threads wait to call into it.
            py::gil_scoped_release unlocked;
            r = p->poll(span, left);
        }
        if (!r.interrupted) break;
        // PEP 475: run the signal handlers; one that raises ends the poll.
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (r.count > 0 || r.woken) break;
        if (left.count() > 0) {
            const auto now = clock::now();
            if (now >= deadline) break;
            left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
        }
    }

    py::list ready(r.count);
    for (std::size_t i = 0; i < r.count; ++i)
        ready[i] = py::make_tuple(span[i].token, flags_of(span[i]));
    return py::make_tuple(std::move(ready), r.woken);
}

void py_poller::wake() noexcept {
    // After close() a wake has nobody to wake (asyncio may still call
    // call_soon_threadsafe on a closing loop); the GIL orders it with close.
    if (poller_) poller_->wake();
}

py::dict py_poller::stats() const {
    const unipoll::counters c = live("stats")->stats();
    py::dict d;
    d["syscalls"] = c.syscalls;
    d["wake_posts"] = c.wake_posts;
    d["wakes_coalesced"] = c.wakes_coalesced;
    d["relays"] = c.relays;
    d["stale_wakeups"] = c.stale_wakeups;
    return d;
}

void py_poller::close() {
    if (!poller_) return;
    // A poll blocked on another thread holds its own reference: wake it so
    // it returns, and the poller is freed when the last reference goes.
    poller_->wake();
    poller_.reset();
    registered_ = 0;
}

}  // namespace unipoll_python
