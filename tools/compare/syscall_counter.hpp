// Counts the system calls of the calling thread as the kernel sees them: a
// perf_event_open counter on the raw_syscalls:sys_enter tracepoint, so the
// code under test (unipoll or a peer library) cannot miscount itself.
// Linux only; elsewhere, where perf is not permitted, or in a build with a
// sanitizer (whose runtime makes calls of its own), available() is false
// and callers fall back to unipoll's own stats().
#pragma once

#include <cstdint>
#include <string>

namespace compare {

class syscall_counter {
public:
    /// Probed once per process: finds the tracepoint id (mounting tracefs
    /// for the moment it takes to read it, if nothing has it mounted) and
    /// opens a trial counter.
    static bool available();
    /// Why available() is false ("perf_event_open: Permission denied"), or "".
    static const std::string& unavailable_reason();
    /// Notes from the probe worth repeating in the report (a mount done).
    static const std::string& probe_note();

    /// A counter for the calling thread only; use it from that thread.
    /// Inert (every count 0) when !available().
    syscall_counter();
    ~syscall_counter();
    syscall_counter(const syscall_counter&) = delete;
    syscall_counter& operator=(const syscall_counter&) = delete;

    bool valid() const noexcept { return fd_ >= 0; }
    /// Reset and enable.
    void start() noexcept;
    /// Disable; the system calls made by this thread since start(), not
    /// counting the counter's own ioctl.
    std::uint64_t stop() noexcept;

private:
    int fd_ = -1;
};

}  // namespace compare
