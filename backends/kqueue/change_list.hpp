// Registration changes not yet given to the kernel, in order: the next
// kevent() call applies them before it scans (libevent and libev batch
// their kqueue changes the same way). A fixed array, so queueing never
// allocates; when it is full the backend submits it first.
//
// A delete whose knote is only an add still waiting here cancels that add
// instead: the backend never adds a knote it believes exists (modify
// deletes first), so the pair would leave the kernel as it is. add()
// followed by remove() thus costs no kevent() call at all.
#pragma once

#include "kevent_compat.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace unipoll::detail::kq {

class change_list {
public:
    static constexpr std::size_t capacity = 64;

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    bool has_room(std::size_t n) const noexcept { return size_ + n <= capacity; }
    kevent_t* data() noexcept { return items_.data(); }
    void clear() noexcept { size_ = 0; }

    void push(const kevent_t& change) noexcept { items_[size_++] = change; }

    // Queues `del` (an EV_DELETE), or cancels the latest queued change of the
    // same knote if that is an EV_ADD.
    void push_delete(const kevent_t& del) noexcept {
        for (std::size_t i = size_; i-- > 0;) {
            const kevent_t& c = items_[i];
            if (c.ident != del.ident || c.filter != del.filter) continue;
            if (c.flags & EV_ADD) {
                erase(i);
                return;
            }
            break;
        }
        push(del);
    }

    // Drops every queued change of `ident`; returns whether there was one.
    bool drop(std::uintptr_t ident) noexcept {
        bool dropped = false;
        for (std::size_t i = size_; i-- > 0;) {
            if (items_[i].ident != ident) continue;
            erase(i);
            dropped = true;
        }
        return dropped;
    }

private:
    void erase(std::size_t i) noexcept {
        for (std::size_t j = i + 1; j < size_; ++j) items_[j - 1] = items_[j];
        --size_;
    }

    std::array<kevent_t, capacity> items_{};
    std::size_t size_ = 0;
};

}  // namespace unipoll::detail::kq
