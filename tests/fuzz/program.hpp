// A fuzz input decoded into a bounded program: a header byte choosing what
// each pool slot starts as, then 3-byte records, one operation each. Fixed
// record sizes keep a mutation local: flipping one byte changes one
// operation, not the meaning of everything after it. docs/fuzzing.md
// describes the encoding; tests/fuzz/write_seeds.py writes inputs in it.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace unipoll_fuzz {

// Pipes and socketpairs the program works on; small so that operations
// collide on the same descriptors and closed numbers get reused.
inline constexpr int pool_slots = 3;

// At most this many operations per input keeps one execution in the
// milliseconds (each blocking poll waits at most 2 ms).
inline constexpr std::size_t max_ops = 64;

enum class op_code : std::uint8_t {
    open,       // reopen a slot whose ends are both closed
    close,      // close one end (no remove: the contract's "forgotten remove")
    add,
    modify,
    remove,
    poll_now,   // poll(out, 0)
    poll_wait,  // poll(out, short timeout)
    wake,
    write,
    read,
    fill,       // write until the kernel says EAGAIN
};

// Which number an add/modify/remove passes: the slot end's descriptor (or
// the number it had before it was closed), or a number that is never open.
enum class fd_choice : std::uint8_t { pool, negative, unused, int_max };

struct op {
    op_code code = op_code::wake;
    int slot = 0;
    int end = 0;
    fd_choice fd = fd_choice::pool;
    std::uint8_t interest_value = 0;  // may be out of range on purpose (EINVAL)
    std::uint8_t trigger_value = 0;   // likewise
    bool inverted_token = false;      // token ~serial instead of serial: covers UINT64_MAX
    std::size_t span = 16;            // size of the event array passed to poll
    std::chrono::nanoseconds timeout{0};
    std::size_t bytes = 0;            // write/read size; 0 for read = until EAGAIN
    bool socket = false;              // open: socketpair instead of pipe
};

struct program {
    std::array<bool, pool_slots> sockets{};
    std::vector<op> ops;
};

program decode(std::span<const std::uint8_t> input);

// One line, for divergence reports and UNIPOLL_FUZZ_TRACE.
std::string describe(const op&);

}  // namespace unipoll_fuzz
