// unipoll.Poller: the C++ poller as Python sees it. Blocking polls release
// the GIL and follow PEP 475: a wait interrupted by a signal runs the
// Python signal handlers, propagates their exception, or else waits again
// for the time that is left.
#pragma once

#include <unipoll/poller.hpp>

#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace unipoll_python {

namespace py = pybind11;

// Bits of the flags poll() reports; READ and WRITE are also the interest
// bits add()/modify() take (equal to selectors.EVENT_READ/EVENT_WRITE).
inline constexpr int flag_read = 1;
inline constexpr int flag_write = 2;
inline constexpr int flag_hangup = 4;
inline constexpr int flag_error = 8;

class py_poller {
public:
    explicit py_poller(std::optional<std::string> backend);

    std::string backend_name() const;
    bool supports(int trigger) const;

    void add(const py::handle& fd, int events, std::optional<std::uint64_t> token, int trigger);
    void modify(const py::handle& fd, int events, std::optional<std::uint64_t> token, int trigger);
    void remove(const py::handle& fd);

    py::tuple poll(std::optional<double> timeout, std::optional<std::size_t> max_events);
    void wake() noexcept;
    py::dict stats() const;

    void close();
    bool closed() const { return !poller_; }

private:
    std::shared_ptr<unipoll::poller> live(const char* op) const;

    // Shared so that close() on one thread cannot free the poller under a
    // blocking poll that released the GIL on another.
    std::shared_ptr<unipoll::poller> poller_;
    // A buffer kept between calls so that a poll allocates nothing once it
    // has grown. Polls on other threads at the same time (the GIL is
    // released while polling) use one of their own.
    std::vector<unipoll::event> buffer_;
    std::atomic<bool> buffer_busy_{false};
    std::size_t registered_ = 0;  // default max_events, as EpollSelector does
};

}  // namespace unipoll_python
