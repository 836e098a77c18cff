// The descriptors a fuzz program works on: a few pipes and socketpairs,
// all non-blocking, with every byte that goes through them counted here.
// The harness does all I/O itself, so the pool knows exactly what each end
// can read, what its peer has not read yet and whether the peer is closed:
// the facts the reference model judges the poller's events against.
#pragma once

#include "program.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace unipoll_fuzz {

struct endpoint {
    int slot;
    int end;  // pipe: 0 read end, 1 write end; socketpair: either side
};

// Thrown when the kernel does something the pool's bookkeeping says is
// impossible: a harness error, reported like a divergence.
struct harness_error {
    const char* what;
};

class fd_pool {
public:
    fd_pool() = default;
    fd_pool(const fd_pool&) = delete;
    fd_pool& operator=(const fd_pool&) = delete;
    ~fd_pool();

    // Opens the slot as a pipe or socketpair if both its ends are closed;
    // returns whether it did.
    bool open(int slot, bool socket);
    // Closes one end; returns the number it had, or -1 if it was closed.
    // `registered`: the poller still has it (closed without remove()). The
    // file may then outlive the descriptor: io_uring's armed polls hold a
    // reference to it, so its peer may never see the close.
    int close(endpoint, bool registered);

    int fd(endpoint e) const noexcept { return slot(e).fds[static_cast<std::size_t>(e.end)]; }
    // The current descriptor, else the number the end had last, else -1:
    // operations on a closed end pass its old number on purpose.
    int number(endpoint e) const noexcept;
    std::optional<endpoint> locate(int fd) const noexcept;

    bool is_socket(int s) const noexcept { return slots_[static_cast<std::size_t>(s)].socket; }
    bool can_read(endpoint e) const noexcept { return is_socket(e.slot) || e.end == 0; }
    bool can_write(endpoint e) const noexcept { return is_socket(e.slot) || e.end == 1; }
    // The end a write on this slot/end goes out of, and the one that reads it.
    endpoint writer(endpoint e) const noexcept;
    endpoint reader(endpoint e) const noexcept;
    endpoint peer(endpoint e) const noexcept { return {e.slot, 1 - e.end}; }

    // Bytes waiting to be read at e.
    std::size_t incoming(endpoint e) const noexcept;
    // Bytes e wrote that its peer has not read: what keeps e from being writable.
    std::size_t outgoing(endpoint e) const noexcept;
    // The peer's descriptor is closed: hangup and error become possible.
    bool peer_closed(endpoint e) const noexcept { return fd(peer(e)) < 0; }
    // ... and its file is certainly gone: hangup is certain.
    bool peer_gone(endpoint e) const noexcept {
        return peer_closed(e) && !slot(e).lingering[static_cast<std::size_t>(1 - e.end)];
    }

    // Each returns the bytes moved; 0 when the kernel refused (EAGAIN,
    // EPIPE, end of file) or the end is closed.
    std::size_t write(endpoint from, std::size_t bytes);
    std::size_t read(endpoint at, std::size_t bytes);  // 0 bytes: until EAGAIN
    std::size_t fill(endpoint from);

private:
    struct slot_state {
        bool socket = false;
        std::array<int, 2> fds{-1, -1};
        std::array<int, 2> last{-1, -1};
        std::array<std::size_t, 2> queued{};  // bytes readable at each end
        std::array<bool, 2> lingering{};       // closed while registered
    };
    slot_state& slot(endpoint e) noexcept { return slots_[static_cast<std::size_t>(e.slot)]; }
    const slot_state& slot(endpoint e) const noexcept {
        return slots_[static_cast<std::size_t>(e.slot)];
    }
    long write_once(int fd, bool socket, std::size_t bytes);

    std::array<slot_state, pool_slots> slots_{};
};

}  // namespace unipoll_fuzz
