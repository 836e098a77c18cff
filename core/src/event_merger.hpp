// Several kernel events of one fd in one poll make one unipoll event, as
// every backend reports: kqueue returns a kevent per filter (EVFILT_READ and
// EVFILT_WRITE of one fd), io_uring may complete several polls of one fd
// before a reap. Each kernel event costs O(1): a table indexed by fd
// remembers the slot of `out` the current pass gave the fd, and a pass is
// started by bumping a number, not by clearing the table.
//
// The table grows only in reserve(), which a backend calls where its
// registry grows (add), so a poll never allocates. Not thread-safe: the
// backend holds one lock across a whole pass (begin_pass() and every
// place() of that poll), the lock that guards its registry.
#pragma once

#include <unipoll/poller.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace unipoll::detail {

class event_merger {
public:
    // Makes place() for fd allocation-free.
    void reserve(int fd) {
        if (fd >= 0 && static_cast<std::size_t>(fd) >= slots_.size())
            slots_.resize(static_cast<std::size_t>(fd) + 1);
    }

    // A new poll: nothing placed before is merged into.
    void begin_pass() noexcept {
        if (++pass_ == 0) {
            // After 2^32 passes an old slot could carry the new number.
            for (slot& s : slots_) s = slot{};
            pass_ = 1;
        }
    }

    // Whether fd has an event in this pass.
    bool placed(int fd) const noexcept {
        return fd >= 0 && static_cast<std::size_t>(fd) < slots_.size() &&
               slots_[static_cast<std::size_t>(fd)].pass == pass_;
    }

    // Puts `ev`, an event of fd, into out[count] and advances count, or ORs
    // its flags into the event fd got earlier in this pass (the token is
    // the registration's either way). Returns false, changing nothing, when
    // it needs a new slot and `out` is full. An fd reserve() has not seen
    // gets a slot of its own.
    bool place(int fd, const event& ev, std::span<event> out, std::size_t& count) noexcept {
        slot* s = fd >= 0 && static_cast<std::size_t>(fd) < slots_.size()
                      ? &slots_[static_cast<std::size_t>(fd)]
                      : nullptr;
        if (s && s->pass == pass_) {
            event& e = out[s->index];
            e.readable |= ev.readable;
            e.writable |= ev.writable;
            e.hangup |= ev.hangup;
            e.error |= ev.error;
            return true;
        }
        if (count == out.size()) return false;
        out[count] = ev;
        if (s) *s = slot{pass_, static_cast<std::uint32_t>(count)};
        ++count;
        return true;
    }

private:
    struct slot {
        std::uint32_t pass = 0;   // 0: never placed
        std::uint32_t index = 0;  // into that pass's `out`
    };
    std::vector<slot> slots_;
    std::uint32_t pass_ = 1;
};

}  // namespace unipoll::detail
