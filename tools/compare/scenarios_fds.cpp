// Scenarios 5 and 6: readiness throughput as the number of registered fds
// grows, and the cost of add+remove. unipoll backends only: the peers'
// registration models differ too much for a like-for-like loop.
#include "scenarios.hpp"

#include "socketpair.hpp"
#include "stats.hpp"
#include "syscall_counter.hpp"
#include "timing.hpp"

#ifndef _WIN32
#include <sys/resource.h>
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

namespace compare {

namespace {

// Connected socket pairs, both ends registered: fd i is made readable by a
// write on its partner, fd i^1. Registering both ends halves the fds needed
// for a given registration count (RLIMIT_NOFILE's hard limit may be fixed).
class socket_fds {
public:
    explicit socket_fds(std::size_t n) {
        fds_.reserve(n + 1);
        while (fds_.size() < n) {
            std::array<int, 2> sv{};
            if (nonblocking_socketpair(sv) != 0)
                throw std::system_error(errno, std::generic_category(),
                                        "socketpair (fd " + std::to_string(fds_.size()) + " of " +
                                            std::to_string(n) + ")");
            fds_.push_back(sv[0]);
            fds_.push_back(sv[1]);
        }
    }
    ~socket_fds() {
        for (const int fd : fds_) close_socket(fd);
    }
    socket_fds(const socket_fds&) = delete;
    socket_fds& operator=(const socket_fds&) = delete;

    int fd(std::size_t i) const { return fds_[i]; }
    void make_ready(std::size_t i) const { (void)send_byte(fds_[i ^ 1]); }
    bool drain(std::size_t i) const { return recv_byte(fds_[i]); }

private:
    std::vector<int> fds_;
};

record make_record(const char* scen, const subject& s) {
    record r;
    r.scenario = scen;
    r.subject = s.name;
    r.kind = kind_name(s.kind);
    r.syscalls_source = syscall_counter::available() ? "kernel" : "stats()";
    return r;
}

double per(double n, double d) { return d > 0 ? n / d : 0; }

// One (registered, ready) cell: write to `ready` spread-out fds, then time
// only the polls that report them (the writes and reads are the harness's,
// not the poller's).
record readiness_cell(const subject& s, unipoll::poller& p, const socket_fds& fds,
                      std::uint64_t registered, std::uint64_t ready, const options& o) {
    syscall_counter counter;
    std::array<unipoll::event, 256> events{};
    std::vector<std::int64_t> round_ns;
    std::uint64_t calls = 0, events_seen = 0;
    std::int64_t polled_ns = 0;
    const auto before = p.stats();
    const std::int64_t budget_end = now_ns() + o.cell_budget_ns;
    const std::uint64_t stride = registered / ready;
    for (std::uint64_t round = 0; round < o.fd_rounds; ++round) {
        const std::uint64_t base = round * 7919 % registered;
        for (std::uint64_t k = 0; k < ready; ++k) fds.make_ready((base + k * stride) % registered);
        std::uint64_t drained = 0;
        std::int64_t this_round = 0;
        while (drained < ready) {
            counter.start();
            const std::int64_t t0 = now_ns();
            const auto res = p.poll(events, std::chrono::seconds(5));
            const std::int64_t t1 = now_ns();
            calls += counter.stop();
            this_round += t1 - t0;
            if (res.count == 0) throw std::runtime_error("readiness: no event within 5 s");
            events_seen += res.count;
            for (std::size_t e = 0; e < res.count; ++e)
                if (fds.drain(static_cast<std::size_t>(events[e].token))) ++drained;
        }
        polled_ns += this_round;
        round_ns.push_back(this_round);
        if (round >= 20 && now_ns() > budget_end) break;
    }
    const auto after = p.stats();
    const auto rounds = static_cast<double>(round_ns.size());
    const latency_summary l = summarize(round_ns);

    record r = make_record(scenario::readiness, s);
    r.values["registered"] = static_cast<double>(registered);
    r.values["ready"] = static_cast<double>(ready);
    r.values["rounds"] = rounds;
    r.values["ns_per_round"] = per(static_cast<double>(polled_ns), rounds);
    r.values["p50_round_ns"] = l.p50;
    r.values["ns_per_event"] = per(static_cast<double>(polled_ns), static_cast<double>(events_seen));
    r.values["events_per_s"] = per(static_cast<double>(events_seen) * 1e9, static_cast<double>(polled_ns));
    r.values["syscalls_per_round"] =
        per(static_cast<double>(r.syscalls_source == "kernel" ? calls : after.syscalls - before.syscalls), rounds);
    return r;
}

}  // namespace

std::uint64_t raise_fd_limit(std::uint64_t fds) {
#ifdef _WIN32
    // Sockets are handles: no per-process limit to raise.
    return fds;
#else
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
    // rlim_t is unsigned on Linux and signed on FreeBSD: compare as uint64.
    const auto as_u64 = [](rlim_t v) { return static_cast<std::uint64_t>(v); };
    const auto wanted = static_cast<rlim_t>(fds);
    if (lim.rlim_cur != RLIM_INFINITY && as_u64(lim.rlim_cur) < fds) {
        rlimit want = lim;
        want.rlim_cur = wanted;
        if (want.rlim_max != RLIM_INFINITY && as_u64(want.rlim_max) < fds) want.rlim_max = wanted;
        // Raising the hard limit needs privilege; else go as far as it allows.
        if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
            want.rlim_max = lim.rlim_max;
            want.rlim_cur = std::min<rlim_t>(wanted, lim.rlim_max);
            ::setrlimit(RLIMIT_NOFILE, &want);
        }
        ::getrlimit(RLIMIT_NOFILE, &lim);
    }
    return lim.rlim_cur == RLIM_INFINITY ? fds : as_u64(lim.rlim_cur);
#endif
}

std::vector<record> measure_readiness(const subject& s, const options& o) {
    const std::uint64_t largest = *std::max_element(o.registered.begin(), o.registered.end());
    const std::uint64_t limit = raise_fd_limit(largest + 64);
    const std::uint64_t usable = limit > 64 ? (limit - 64) / 2 * 2 : 0;
    const socket_fds fds(std::min(largest, usable));
    std::vector<record> out;
    for (const std::uint64_t wanted : o.registered) {
        if (wanted > usable) {
            record r = make_record(scenario::readiness, s);
            r.values["registered"] = static_cast<double>(wanted);
            r.note = "skipped: RLIMIT_NOFILE is " + std::to_string(limit) + ", cannot raise it";
            out.push_back(std::move(r));
            continue;
        }
        unipoll::poller p(*s.backend);
        for (std::uint64_t i = 0; i < wanted; ++i) p.add(fds.fd(i), unipoll::interest::read, i);
        for (const std::uint64_t ready : o.ready)
            if (ready <= wanted) out.push_back(readiness_cell(s, p, fds, wanted, ready, o));
    }
    return out;
}

record measure_registration(const subject& s, const options& o) {
    raise_fd_limit(o.registration_fds + 64);
    const socket_fds fds(o.registration_fds);
    unipoll::poller p(*s.backend);
    std::array<unipoll::event, 64> events{};
    syscall_counter counter;
    const auto before = p.stats();
    counter.start();
    const std::int64_t t0 = now_ns();
    for (std::uint64_t round = 0; round < o.registration_rounds; ++round) {
        for (std::uint64_t i = 0; i < o.registration_fds; ++i)
            p.add(fds.fd(i), unipoll::interest::read, i);
        for (std::uint64_t i = 0; i < o.registration_fds; ++i) p.remove(fds.fd(i));
        // Backends that batch registrations (io_uring) submit them here.
        p.poll(events, std::chrono::nanoseconds{0});
    }
    const std::int64_t t1 = now_ns();
    const std::uint64_t calls = counter.stop();
    const auto after = p.stats();

    const auto pairs = static_cast<double>(o.registration_rounds * o.registration_fds);
    record r = make_record(scenario::registration, s);
    r.values["fds"] = static_cast<double>(o.registration_fds);
    r.values["ns_per_pair"] = per(static_cast<double>(t1 - t0), pairs);
    r.values["pairs_per_s"] = per(pairs * 1e9, static_cast<double>(t1 - t0));
    r.values["syscalls_per_pair"] =
        per(static_cast<double>(r.syscalls_source == "kernel" ? calls : after.syscalls - before.syscalls), pairs);
    return r;
}

}  // namespace compare
