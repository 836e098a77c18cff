// The fd -> registration table shared by the backends, with a generation per
// registration so that any 64-bit token works and an event that was queued
// for a removed fd is recognised as stale even after the fd number is reused.
//
// The kernel is handed key(fd, gen) as its user data (epoll_data.u64,
// io_uring user_data, kevent udata), never the user's token: the token can
// then be any value, including 0 and UINT64_MAX, and changing it in modify()
// never races with events already in flight. Not thread-safe: the backend
// holds its own lock around it.
#pragma once

#include "fd_checks.hpp"

#include <unipoll/poller.hpp>

#include <cstdint>
#include <vector>

namespace unipoll::detail {

struct registration {
    std::uint64_t token = 0;
    std::uint32_t gen = 0;   // 0: slot free
    interest what = interest::none;
    trigger how = trigger::level;
    bool armed = true;       // false: a oneshot that fired and awaits modify()
    std::uint64_t file_dev = 0;  // identity of the open file at add() time,
    std::uint64_t file_ino = 0;  // for backends that must detect fd reuse
};

class registry {
public:
    // Low 32 bits: the fd (always <= INT32_MAX, so a key never has bit 31
    // set and never equals liburing's reserved UINT64_MAX; backends may use
    // keys with bit 31 set for their own purposes). High 32 bits: generation.
    static constexpr std::uint64_t key(int fd, std::uint32_t gen) noexcept {
        return (std::uint64_t{gen} << 32) | static_cast<std::uint32_t>(fd);
    }
    static constexpr int fd_of(std::uint64_t k) noexcept {
        return static_cast<int>(k & 0x7fffffffu);
    }
    static constexpr std::uint32_t gen_of(std::uint64_t k) noexcept {
        return static_cast<std::uint32_t>(k >> 32);
    }
    // Set in the user data of a backend's own kernel requests, never in a
    // key().
    static constexpr std::uint64_t own_bit = 0x80000000u;
    static constexpr bool is_fd_key(std::uint64_t k) noexcept {
        return (k & own_bit) == 0 && gen_of(k) != 0;
    }
    // The user data of a backend's own wake event (epoll's eventfd, kqueue's
    // user event or wake pipe), registered once for the poller's life:
    // bit 31 set, generation 0, so it is never a key() and never equals a
    // key with bit 31 added (those have a generation).
    static constexpr std::uint64_t wake_key = own_bit;

    registration* find(int fd) noexcept {
        if (fd < 0 || static_cast<std::size_t>(fd) >= slots_.size()) return nullptr;
        registration& r = slots_[static_cast<std::size_t>(fd)];
        return r.gen ? &r : nullptr;
    }

    // The registration a kernel event carrying `k` belongs to, or nullptr if
    // the fd was removed (or removed and added again) since it was armed.
    registration* lookup(std::uint64_t k) noexcept {
        if (!is_fd_key(k)) return nullptr;
        registration* r = find(fd_of(k));
        return r && r->gen == gen_of(k) ? r : nullptr;
    }

    // Inserts (or replaces) fd's registration under a fresh generation, or
    // under `gen` when the backend had to hand the kernel its key first.
    // The table grows to fd + 1 slots: call it only for an fd the kernel
    // has accepted or fstat() has vouched for (valid fds are small).
    registration& insert(int fd, interest what, std::uint64_t token, trigger how,
                         std::uint32_t gen = 0) {
        if (static_cast<std::size_t>(fd) >= slots_.size())
            slots_.resize(static_cast<std::size_t>(fd) + 1);
        registration& r = slots_[static_cast<std::size_t>(fd)];
        if (!r.gen) ++count_;
        r = registration{token, gen ? gen : next_gen(), what, how, true, 0, 0};
        return r;
    }

    // A generation for a key that is handed to the kernel before insert().
    std::uint32_t fresh_gen() noexcept { return next_gen(); }

    // After a close without remove() the number a registration holds may
    // name another file (the registered one was closed and the number
    // reused: the registration is dead, the kernel has forgotten it) or the
    // same file again (never closed, or closed and re-opened or dup2'd onto
    // the same number). Only the file's identity, recorded at add(), tells
    // these apart; `id` is the identity the number names now.
    enum class holder { none, same_file, other_file };
    holder holder_of(int fd, const file_identity& id) noexcept {
        const registration* r = find(fd);
        if (!r) return holder::none;
        return r->file_dev == id.dev && r->file_ino == id.ino ? holder::same_file
                                                              : holder::other_file;
    }
    static void record_file(registration& r, const file_identity& id) noexcept {
        r.file_dev = id.dev;
        r.file_ino = id.ino;
    }

    // Keeps the slot but gives it a fresh generation: events armed under the
    // old one become stale (used by modify where the kernel re-arms).
    std::uint32_t renew(registration& r) noexcept { return r.gen = next_gen(); }

    void erase(int fd) noexcept {
        if (registration* r = find(fd)) {
            *r = registration{};
            --count_;
        }
    }

    std::size_t size() const noexcept { return count_; }

    template <class F>
    void for_each(F&& f) {
        for (std::size_t fd = 0; fd < slots_.size(); ++fd)
            if (slots_[fd].gen) f(static_cast<int>(fd), slots_[fd]);
    }

private:
    // One counter for the whole table, so a generation is never reused while
    // an event carrying it could still be queued (wraps after 2^32 adds).
    std::uint32_t next_gen() noexcept {
        if (++gen_ == 0) gen_ = 1;
        return gen_;
    }

    std::vector<registration> slots_;
    std::size_t count_ = 0;
    std::uint32_t gen_ = 0;
};

}  // namespace unipoll::detail
