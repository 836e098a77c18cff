#include "program.hpp"

#include <string>

namespace unipoll_fuzz {
namespace {

using namespace std::chrono_literals;

// Opcode byte modulo 16; the common operations get two entries.
constexpr std::array<op_code, 16> opcode_table{
    op_code::poll_wait, op_code::poll_wait, op_code::poll_now, op_code::poll_now,
    op_code::add,       op_code::add,       op_code::modify,   op_code::modify,
    op_code::write,     op_code::write,     op_code::read,     op_code::remove,
    op_code::close,     op_code::open,      op_code::wake,     op_code::fill};

constexpr std::array<std::size_t, 4> spans{16, 1, 2, 16};

// Sub-millisecond values exercise the backends' rounding (a poll(2)-style
// millisecond timeout must round up, never down to a busy spin).
constexpr std::array<std::chrono::nanoseconds, 4> timeouts{1ms, 100us, 1us, 2ms};

std::size_t byte_count(std::uint8_t b) {
    return b < 128 ? std::size_t{b} + 1u : (std::size_t{b} - 127u) * 1024u;
}

void decode_target(std::uint8_t b, op& o) {
    o.slot = (b & 3) % pool_slots;
    o.end = (b >> 2) & 1;
    switch (b >> 3) {
        case 31: o.fd = fd_choice::negative; break;
        case 30: o.fd = fd_choice::int_max; break;
        case 29: o.fd = fd_choice::unused; break;
        default: o.fd = fd_choice::pool; break;
    }
}

void decode_registration(std::uint8_t b, op& o) {
    o.interest_value = b & 3;
    const int t = (b >> 2) & 15;
    if (t == 15) {
        // One in sixteen: an out-of-range value, which must give EINVAL.
        if (b & 0x80)
            o.trigger_value = 3;
        else
            o.interest_value = static_cast<std::uint8_t>(4 + (b & 3));
    } else {
        o.trigger_value = static_cast<std::uint8_t>(t % 3);
    }
    o.inverted_token = (b & 0x40) != 0;
}

const char* code_name(op_code c) {
    switch (c) {
        case op_code::open: return "open";
        case op_code::close: return "close";
        case op_code::add: return "add";
        case op_code::modify: return "modify";
        case op_code::remove: return "remove";
        case op_code::poll_now: return "poll(0)";
        case op_code::poll_wait: return "poll(wait)";
        case op_code::wake: return "wake";
        case op_code::write: return "write";
        case op_code::read: return "read";
        case op_code::fill: return "fill";
    }
    return "?";
}

const char* fd_name(fd_choice f) {
    switch (f) {
        case fd_choice::pool: return "";
        case fd_choice::negative: return " fd=-1";
        case fd_choice::unused: return " fd=unused";
        case fd_choice::int_max: return " fd=INT_MAX";
    }
    return "";
}

}  // namespace

program decode(std::span<const std::uint8_t> input) {
    program p;
    if (input.empty()) return p;
    for (int s = 0; s < pool_slots; ++s) p.sockets[static_cast<std::size_t>(s)] = (input[0] >> s) & 1;
    input = input.subspan(1);
    while (input.size() >= 3 && p.ops.size() < max_ops) {
        op o;
        o.code = opcode_table[input[0] & 15];
        decode_target(input[1], o);
        const std::uint8_t arg = input[2];
        switch (o.code) {
            case op_code::add:
            case op_code::modify: decode_registration(arg, o); break;
            case op_code::poll_now:
            case op_code::poll_wait:
                o.span = spans[arg & 3];
                o.timeout = o.code == op_code::poll_now ? 0ns : timeouts[(arg >> 2) & 3];
                break;
            case op_code::write: o.bytes = byte_count(arg); break;
            case op_code::read: o.bytes = arg == 255 ? 0 : byte_count(arg); break;
            case op_code::open: o.socket = (arg & 1) != 0; break;
            default: break;
        }
        p.ops.push_back(o);
        input = input.subspan(3);
    }
    return p;
}

std::string describe(const op& o) {
    std::string s = code_name(o.code);
    auto target = [&] {
        s += " slot " + std::to_string(o.slot) + " end " + std::to_string(o.end);
    };
    switch (o.code) {
        case op_code::open:
            s += " slot " + std::to_string(o.slot) + (o.socket ? " socketpair" : " pipe");
            break;
        case op_code::close:
        case op_code::fill: target(); break;
        case op_code::remove: target(); s += fd_name(o.fd); break;
        case op_code::add:
        case op_code::modify:
            target();
            s += fd_name(o.fd);
            s += " interest=" + std::to_string(o.interest_value);
            s += " trigger=" + std::to_string(o.trigger_value);
            if (o.inverted_token) s += " ~token";
            break;
        case op_code::poll_now: s += " span=" + std::to_string(o.span); break;
        case op_code::poll_wait:
            s += " span=" + std::to_string(o.span) +
                 " timeout=" + std::to_string(o.timeout.count()) + "ns";
            break;
        case op_code::write:
        case op_code::read:
            target();
            // Appended piecewise: g++ 12 -O3 warns (-Wrestrict, a false
            // positive) on `" " + std::to_string(...)`.
            if (o.bytes) {
                s += ' ';
                s += std::to_string(o.bytes);
                s += " bytes";
            } else {
                s += " all";
            }
            break;
        case op_code::wake: break;
    }
    return s;
}

}  // namespace unipoll_fuzz
