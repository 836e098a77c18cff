// The wake protocol, written once for every backend (described in
// docs/semantics.md §"How it works: the relay protocol").
//
// The Promela model in tests/model/wake_protocol.pml is a line-by-line
// transcription of wake() and poll() below; change both together and run
// tests/model/check.sh (docs/model.md maps each model line to this code).
#pragma once

#include "backend_impl.hpp"
#include "fork_guard.hpp"

#include <atomic>
#include <memory>

namespace unipoll::detail {

class poller_core {
public:
    poller_core(std::unique_ptr<backend_impl> impl, poller_options options) noexcept
        : impl_(std::move(impl)), options_(options) {}

    // True in a forked child of the process that created this poller.
    bool inherited() const noexcept { return fork_generation() != born_; }

    backend_impl& impl() noexcept { return *impl_; }
    const backend_impl& impl() const noexcept { return *impl_; }

    poll_result poll(std::span<event> out, std::chrono::nanoseconds timeout);
    void wake() noexcept;

private:
    poll_result poll_nonblocking(std::span<event> out);
    poll_result poll_blocking(std::span<event> out, std::chrono::nanoseconds timeout);

    std::unique_ptr<backend_impl> impl_;
    poller_options options_;
    std::uint64_t born_ = fork_generation();

    // Both flags are read and written with seq_cst: the sleeper stores
    // `sleeping` then loads `pending`, wake() writes `pending` then loads
    // `sleeping`. That store->load pattern needs a total order (Dekker);
    // acquire/release would let both sides miss each other and lose a wake.
    // Own cache line: wakers hammer it, the counters must not share it.
    alignas(64) std::atomic<int> pending_{0};   // a wake() not yet consumed
    std::atomic<int> sleeping_{0};              // the blocking poller is in (or about to enter) the kernel

    // Guards the "one blocking poller at a time" rule.
    alignas(64) std::atomic<bool> blocking_{false};
};

}  // namespace unipoll::detail
