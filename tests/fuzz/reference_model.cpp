#include "reference_model.hpp"

#include <cerrno>
#include <cstring>
#include <initializer_list>

namespace unipoll_fuzz {
namespace {

constexpr std::uint8_t read_bit = 1;
constexpr std::uint8_t write_bit = 2;
constexpr std::uint8_t edge = 1, oneshot = 2;  // trigger values; 0 is level

std::string errno_name(int e) {
    if (e == 0) return "success";
    return std::string(std::strerror(e)) + " (" + std::to_string(e) + ")";
}

std::string token_text(std::uint64_t t) { return std::to_string(t); }

// Edge credit per readiness change: one per watched direction, because
// kqueue reports each direction as its own filter (a closed peer ends both).
int directions(std::uint8_t interest) { return (interest & read_bit ? 1 : 0) + (interest & write_bit ? 1 : 0); }

[[noreturn]] void fail(std::string what) { throw divergence{std::move(what)}; }

void expect(const char* op, int fd, int got, std::initializer_list<int> allowed, const char* why) {
    for (int e : allowed)
        if (e == got) return;
    std::string s = std::string(op) + "(fd " + std::to_string(fd) + ") gave " + errno_name(got) +
                    ", expected ";
    bool first = true;
    for (int e : allowed) {
        if (!first) s += " or ";
        s += errno_name(e);
        first = false;
    }
    fail(s + " (" + why + ")");
}

// The checks poller::add/modify make before the backend sees the call, in
// the core's order; 0 when the arguments are fine.
int argument_error(int fd, std::uint8_t interest, std::uint8_t trigger, bool supported) {
    if (fd < 0) return EBADF;
    if (interest > 3 || trigger > 2) return EINVAL;
    if (!supported) return ENOTSUP;
    return 0;
}

}  // namespace

backend_traits traits_of(unipoll::backend b) {
    if (b == unipoll::backend::io_uring) return {false, false};
    return {true, true};
}

void reference_model::retire(const registration& r) {
    auto it = tokens_.find(r.token);
    if (it != tokens_.end()) it->second.state = token_state::retired;
}

void reference_model::retire_tolerated(int fd) {
    for (auto& [token, info] : tokens_)
        if (info.state == token_state::tolerated && info.fd == fd) info.state = token_state::retired;
}

void reference_model::register_live(int fd, std::uint8_t interest, std::uint8_t trigger,
                                    std::uint64_t token) {
    registration r;
    r.edge_credit = directions(interest);
    r.interest = interest;
    r.trigger = trigger;
    r.token = token;
    if (auto e = pool_.locate(fd)) r.data_since_report = pool_.incoming(*e) > 0;
    regs_[fd] = r;
    tokens_[token] = {token_state::live, fd};
}

void reference_model::check_add(int fd, std::uint8_t interest, std::uint8_t trigger, bool supported,
                                std::uint64_t token, int got) {
    if (const int arg = argument_error(fd, interest, trigger, supported)) {
        expect("add", fd, got, {arg}, "argument check");
        return;
    }
    auto it = regs_.find(fd);
    if (!pool_.locate(fd)) {
        expect("add", fd, got, {EBADF}, "the fd is not open");
        return;
    }
    if (it != regs_.end() && it->second.state == reg_state::live) {
        expect("add", fd, got, {EEXIST}, "already registered");
        return;
    }
    // Not registered, or registered under a file that was closed without
    // remove() and whose number now belongs to a new file: the add must
    // recognise the new file and succeed.
    expect("add", fd, got, {0},
           it == regs_.end() ? "open and not registered"
                             : "number reused after a close without remove()");
    if (it != regs_.end()) retire(it->second);
    // Also a registration that a failed modify() on the reused number
    // already dropped from the table: its token may have lived on until now.
    retire_tolerated(fd);
    register_live(fd, interest, trigger, token);
}

void reference_model::check_modify(int fd, std::uint8_t interest, std::uint8_t trigger,
                                   bool supported, std::uint64_t token, int got) {
    if (const int arg = argument_error(fd, interest, trigger, supported)) {
        expect("modify", fd, got, {arg}, "argument check");
        return;
    }
    auto it = regs_.find(fd);
    if (it == regs_.end()) {
        expect("modify", fd, got, {ENOENT}, "not registered");
        return;
    }
    registration& r = it->second;
    const bool open = pool_.locate(fd).has_value();
    switch (r.state) {
        case reg_state::live:
            expect("modify", fd, got, {0}, "registered");
            retire(r);
            register_live(fd, interest, trigger, token);
            return;
        case reg_state::closed:
            if (open) {
                // The number belongs to a file that was never added.
                expect("modify", fd, got, {ENOENT}, "closed without remove(), number reused");
                regs_.erase(it);
            } else {
                expect("modify", fd, got, {EBADF}, "closed without remove()");
                r.state = reg_state::unsure;
            }
            return;
        case reg_state::unsure:
            if (open) {
                expect("modify", fd, got, {ENOENT}, "closed without remove(), number reused");
                regs_.erase(it);
            } else {
                // The failed modify before may have made the backend forget it.
                expect("modify", fd, got, {EBADF, ENOENT}, "closed without remove(), modify failed before");
            }
            return;
    }
}

void reference_model::check_remove(int fd, int got) {
    if (fd < 0) {
        expect("remove", fd, got, {EBADF}, "negative fd");
        return;
    }
    // Whatever the outcome, the poller holds nothing under this number
    // afterwards: a token of a registration closed without remove() (also
    // one a failed modify() dropped from the table) ends here.
    retire_tolerated(fd);
    auto it = regs_.find(fd);
    if (it == regs_.end()) {
        expect("remove", fd, got, {ENOENT}, "not registered");
        return;
    }
    switch (it->second.state) {
        case reg_state::live: expect("remove", fd, got, {0}, "registered"); break;
        case reg_state::closed:
            expect("remove", fd, got, {0}, "remove of a closed fd still succeeds");
            break;
        case reg_state::unsure:
            expect("remove", fd, got, {0, ENOENT}, "closed, and a modify failed on it before");
            break;
    }
    retire(it->second);
    regs_.erase(it);
}

void reference_model::opened(int fd) {
    auto it = regs_.find(fd);
    if (it == regs_.end()) return;
    if (it->second.state == reg_state::live) throw harness_error{"a registered fd number was opened again"};
    // The number of a registration closed without remove() now belongs to a
    // new file. Its token stays tolerated until the number is remove()d or
    // add()ed: io_uring's poll keeps the old file open and armed, and
    // poll(2) polls whatever file has the number now.
}

void reference_model::closed(int fd) {
    auto it = regs_.find(fd);
    if (it == regs_.end() || it->second.state != reg_state::live) return;
    it->second.state = reg_state::closed;
    tokens_[it->second.token].state = token_state::tolerated;
}

void reference_model::data_arrived(endpoint to) {
    auto it = regs_.find(pool_.fd(to));
    if (it == regs_.end() || it->second.state != reg_state::live) return;
    registration& r = it->second;
    r.data_since_report = true;
    if (r.trigger == edge && (r.interest & read_bit)) r.edge_data_pending = true;
}

void reference_model::touched(int slot) {
    for (int end = 0; end < 2; ++end) {
        auto it = regs_.find(pool_.fd({slot, end}));
        if (it != regs_.end() && it->second.state == reg_state::live)
            it->second.edge_credit += directions(it->second.interest);
    }
}

std::vector<required_event> reference_model::required(bool blocking) const {
    std::vector<required_event> out;
    if (!blocking && !traits_.nonblocking_sees_all) return out;
    for (const auto& [fd, r] : regs_) {
        if (r.state != reg_state::live || r.interest == 0) continue;
        if (r.trigger == oneshot && !r.armed) continue;
        const endpoint e = *pool_.locate(fd);
        const std::size_t in = pool_.incoming(e);
        required_event req{r.token, fd, false, false};
        bool needed = false;
        if ((r.interest & read_bit) && pool_.can_read(e)) {
            // Level/oneshot: reported while ready; data, or the peer's
            // close (end of file), is readiness to read.
            if (r.trigger != edge && (in > 0 || pool_.peer_gone(e))) {
                needed = true;
                req.readable = in > 0;
            }
            // Edge: new data is a readiness change, reported once.
            if (r.trigger == edge && r.edge_data_pending && in > 0) {
                needed = true;
                req.readable = true;
            }
        }
        // Writable for certain only with nothing of ours unread and the
        // peer open; edge writability ("new space") is not demanded: which
        // reads free "new space" is the kernel's business.
        if ((r.interest & write_bit) && pool_.can_write(e) && r.trigger != edge &&
            pool_.outgoing(e) == 0 && !pool_.peer_closed(e)) {
            needed = true;
            req.writable = true;
        }
        if (needed) out.push_back(req);
    }
    return out;
}

void reference_model::check_event(const unipoll::event& ev) {
    auto it = tokens_.find(ev.token);
    if (it == tokens_.end()) fail("event with token " + token_text(ev.token) + ", never given to add/modify");
    const token_info info = it->second;
    if (info.state == token_state::retired)
        fail("event with token " + token_text(ev.token) + " of fd " + std::to_string(info.fd) +
             ", whose registration was removed, replaced by modify, or closed and its number then "
             "removed or added again");
    if (info.state == token_state::tolerated) return;

    registration& r = regs_.at(info.fd);
    const endpoint e = *pool_.locate(info.fd);
    const std::string who = "fd " + std::to_string(info.fd) + " token " + token_text(ev.token);
    const bool peer_closed = pool_.peer_closed(e);
    const std::size_t in = pool_.incoming(e);
    if (r.interest == 0) fail(who + ": event for interest::none");
    if (ev.readable && !(r.interest & read_bit)) fail(who + ": readable without read interest");
    if (ev.writable && !(r.interest & write_bit)) fail(who + ": writable without write interest");
    // kqueue reports a filter's EV_EOF as that direction plus hangup, even
    // on the pipe end that cannot move data that way; only then is it allowed.
    if (ev.readable && !pool_.can_read(e) && !(ev.hangup && peer_closed))
        fail(who + ": readable on a pipe's write end, and no hangup");
    if (ev.writable && !pool_.can_write(e) && !(ev.hangup && peer_closed))
        fail(who + ": writable on a pipe's read end, and no hangup");
    if (ev.readable && in == 0 && !peer_closed && !(!traits_.events_current && r.data_since_report))
        fail(who + ": readable with nothing to read and the peer open");
    if (ev.hangup && !peer_closed) fail(who + ": hangup while the peer is open");
    if (ev.error && !peer_closed) fail(who + ": error while the peer is open");
    if (r.trigger == oneshot) {
        if (!r.armed) fail(who + ": oneshot reported again before modify");
        r.armed = false;
    }
    if (r.trigger == edge) {
        if (r.edge_credit <= 0)
            fail(who + ": edge registration reported again with no readiness change since");
        --r.edge_credit;
    }
    r.data_since_report = in > 0;
    if (ev.readable) r.edge_data_pending = false;
}

void reference_model::check_poll(bool blocking, std::chrono::nanoseconds timeout, std::size_t span,
                                 std::span<const unipoll::event> events, bool woken,
                                 std::chrono::nanoseconds elapsed,
                                 const std::vector<required_event>& required) {
    if (events.size() > span)
        fail("poll returned count " + std::to_string(events.size()) + " for a span of " +
             std::to_string(span));
    if (!blocking) {
        if (woken) fail("poll(0) reported woken");
    } else {
        if (wake_pending_ && !woken) fail("blocking poll after wake() did not report woken");
        if (!wake_pending_ && woken) fail("blocking poll reported woken with no wake() pending");
        wake_pending_ = false;
    }
    for (const auto& ev : events) check_event(ev);
    if (blocking && !woken && events.empty() && elapsed < timeout)
        fail("blocking poll returned nothing after " + std::to_string(elapsed.count()) +
             "ns, before its timeout of " + std::to_string(timeout.count()) + "ns");
    // A full span may have left ready registrations for the next poll, and
    // a poll that returns woken need not report anything else.
    if (woken || events.size() == span) return;
    for (const auto& req : required) {
        bool seen = false, readable = false, writable = false;
        for (const auto& ev : events) {
            if (ev.token != req.token) continue;
            seen = true;
            readable = readable || ev.readable;
            writable = writable || ev.writable;
        }
        const std::string who = "fd " + std::to_string(req.fd) + " token " + token_text(req.token);
        const char* kind = blocking ? "blocking poll" : "poll(0)";
        if (!seen) fail(std::string(kind) + " missed " + who + ", which is ready");
        // A completion armed before the last change carries the mask of
        // then (io_uring): the registration is reported, possibly for the
        // other direction only, and re-armed to catch up on the next poll.
        if (!traits_.events_current) continue;
        if (req.readable && !readable) fail(std::string(kind) + " reported " + who + " without readable");
        if (req.writable && !writable) fail(std::string(kind) + " reported " + who + " without writable");
    }
}

}  // namespace unipoll_fuzz
