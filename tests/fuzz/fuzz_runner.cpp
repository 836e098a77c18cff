#include "fuzz_runner.hpp"

#include "fd_pool.hpp"
#include "program.hpp"
#include "reference_model.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <system_error>

namespace unipoll_fuzz {
namespace {

using clock = std::chrono::steady_clock;

// A number no descriptor of this process has (checked in prepare()).
constexpr int unused_fd = 1000;

bool tracing() {
    static const bool on = [] {
        const char* v = std::getenv("UNIPOLL_FUZZ_TRACE");
        return v && *v && *v != '0';
    }();
    return on;
}

[[noreturn]] void report(unipoll::backend b, const program& prog, std::size_t failed,
                         const std::string& what) {
    std::fprintf(stderr, "\nunipoll fuzz: %s: divergence at operation %zu: %s\nprogram (slots:",
                 std::string(unipoll::name(b)).c_str(), failed, what.c_str());
    for (bool s : prog.sockets) std::fprintf(stderr, " %s", s ? "socketpair" : "pipe");
    std::fprintf(stderr, ")\n");
    for (std::size_t i = 0; i < prog.ops.size() && i <= failed; ++i)
        std::fprintf(stderr, "%s %3zu  %s\n", i == failed ? ">>" : "  ", i,
                     describe(prog.ops[i]).c_str());
    std::fflush(stderr);
    std::abort();
}

// One registration call: its errno (0 for success). Anything but a
// std::system_error in the generic category naming backend, call and fd is
// a divergence of its own.
template <class F>
int outcome(unipoll::backend b, const char* call, int fd, F&& f) {
    try {
        f();
        return 0;
    } catch (const std::system_error& e) {
        if (e.code().category() != std::generic_category())
            throw divergence{std::string(call) + " threw a std::system_error outside the generic category: " +
                             e.what()};
        const std::string prefix =
            std::string(unipoll::name(b)) + ": " + call + "(fd " + std::to_string(fd) + ")";
        if (std::string_view(e.what()).substr(0, prefix.size()) != prefix)
            throw divergence{std::string(call) + " error message \"" + e.what() +
                             "\" does not start with \"" + prefix + "\""};
        return e.code().value();
    } catch (const std::exception& e) {
        throw divergence{std::string(call) + "(fd " + std::to_string(fd) +
                         ") threw something other than std::system_error: " + e.what()};
    }
}

// libFuzzer checks for slow inputs with a SIGALRM every second. A signal
// may end a blocking poll early with {0, false} (docs/semantics.md), which
// the model would rightly flag as a return before the timeout, so the
// signal is held off for the few milliseconds of a blocking poll and
// delivered right after it.
class alarm_deferral {
public:
    alarm_deferral() noexcept {
        sigset_t alarm;
        sigemptyset(&alarm);
        sigaddset(&alarm, SIGALRM);
        pthread_sigmask(SIG_BLOCK, &alarm, &saved_);
    }
    alarm_deferral(const alarm_deferral&) = delete;
    alarm_deferral& operator=(const alarm_deferral&) = delete;
    ~alarm_deferral() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

private:
    sigset_t saved_;
};

class execution {
public:
    execution(unipoll::backend b, const program& prog)
        : poller_(b), backend_(poller_.kind()), model_(traits_of(b), pool_) {
        for (int s = 0; s < pool_slots; ++s) open(s, prog.sockets[static_cast<std::size_t>(s)]);
    }

    void step(const op& o) {
        const endpoint target{o.slot, o.end};
        switch (o.code) {
            case op_code::open: open(o.slot, o.socket); break;
            case op_code::close:
                if (const int fd = pool_.close(target, model_.registered(pool_.fd(target)));
                    fd >= 0) {
                    model_.closed(fd);
                    model_.touched(o.slot);
                }
                break;
            case op_code::add:
            case op_code::modify: registration_call(o); break;
            case op_code::remove: {
                const int fd = number(o);
                const int got = outcome(backend_, "remove", fd, [&] { poller_.remove(fd); });
                model_.check_remove(fd, got);
                break;
            }
            case op_code::poll_now:
            case op_code::poll_wait: poll(o); break;
            case op_code::wake:
                poller_.wake();
                model_.woke();
                break;
            case op_code::write:
            case op_code::fill: {
                const endpoint from = pool_.writer(target);
                if (pool_.fd(from) < 0) break;
                const std::size_t n =
                    o.code == op_code::fill ? pool_.fill(from) : pool_.write(from, o.bytes);
                if (n > 0) model_.data_arrived(pool_.peer(from));
                model_.touched(o.slot);
                break;
            }
            case op_code::read: {
                if (pool_.fd(pool_.reader(target)) < 0) break;
                pool_.read(target, o.bytes);
                model_.touched(o.slot);
                break;
            }
        }
    }

private:
    void open(int slot, bool socket) {
        if (!pool_.open(slot, socket)) return;
        model_.opened(pool_.fd({slot, 0}));
        model_.opened(pool_.fd({slot, 1}));
    }

    int number(const op& o) const {
        switch (o.fd) {
            case fd_choice::pool: return pool_.number({o.slot, o.end});
            case fd_choice::negative: return -1;
            case fd_choice::unused: return unused_fd;
            case fd_choice::int_max: return INT_MAX;
        }
        return -1;
    }

    void registration_call(const op& o) {
        const int fd = number(o);
        const auto what = static_cast<unipoll::interest>(o.interest_value);
        const auto how = static_cast<unipoll::trigger>(o.trigger_value);
        const bool supported = o.trigger_value <= 2 && poller_.supports(how);
        const std::uint64_t token = model_.next_token(o.inverted_token);
        if (o.code == op_code::add) {
            const int got = outcome(backend_, "add", fd, [&] { poller_.add(fd, what, token, how); });
            model_.check_add(fd, o.interest_value, o.trigger_value, supported, token, got);
        } else {
            const int got =
                outcome(backend_, "modify", fd, [&] { poller_.modify(fd, what, token, how); });
            model_.check_modify(fd, o.interest_value, o.trigger_value, supported, token, got);
        }
    }

    void poll(const op& o) {
        const bool blocking = o.code == op_code::poll_wait;
        const auto required = model_.required(blocking);
        // Fill the array with a token nobody was given, so an event the
        // count covers but the backend never wrote shows up as unknown.
        events_.fill(unipoll::event{0xfeedfacecafebeefull, true, true, true, true});
        const auto span = std::span<unipoll::event>(events_.data(), o.span);
        unipoll::poll_result r{};
        clock::duration elapsed{};
        {
            std::optional<alarm_deferral> deferred;
            if (blocking) deferred.emplace();
            const auto start = clock::now();
            try {
                r = poller_.poll(span, o.timeout);
            } catch (const std::exception& e) {
                throw divergence{std::string("poll threw: ") + e.what()};
            }
            elapsed = clock::now() - start;
        }
        if (tracing()) {
            std::fprintf(stderr, "       -> count %zu%s:", r.count, r.woken ? " woken" : "");
            for (std::size_t i = 0; i < std::min(r.count, o.span); ++i) {
                const auto& e = events_[i];
                std::fprintf(stderr, " [token %llu%s%s%s%s]", static_cast<unsigned long long>(e.token),
                             e.readable ? " r" : "", e.writable ? " w" : "", e.hangup ? " hup" : "",
                             e.error ? " err" : "");
            }
            std::fprintf(stderr, "\n");
        }
        if (r.count > o.span)
            throw divergence{"poll returned count " + std::to_string(r.count) + " for a span of " +
                             std::to_string(o.span)};
        model_.check_poll(blocking, o.timeout, o.span,
                          std::span<const unipoll::event>(events_.data(), r.count),
                          r.woken, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed),
                          required);
    }

    // Declared before the poller so that it outlives it: the poller may
    // still hold registrations of pool descriptors when the run ends.
    fd_pool pool_;
    unipoll::poller poller_;
    unipoll::backend backend_;
    reference_model model_;
    std::array<unipoll::event, 17> events_{};
};

}  // namespace

int prepare(unipoll::backend b) {
    // Pipes: a write after the reader closed must fail with EPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    if (::fcntl(unused_fd, F_GETFD) != -1) {
        std::fprintf(stderr, "unipoll fuzz: fd %d is open in this process; the harness needs it closed\n",
                     unused_fd);
        return 1;
    }
    const std::string why = unipoll::unavailable_reason(b);
    if (!why.empty()) {
        std::fprintf(stderr, "unipoll fuzz: SKIPPED %s: %s\n", std::string(unipoll::name(b)).c_str(),
                     why.c_str());
        return exit_skipped;
    }
    const unipoll::poller p(b);
    if (!p.supports(unipoll::trigger::level) || !p.supports(unipoll::trigger::oneshot)) {
        std::fprintf(stderr, "unipoll fuzz: %s: every backend must support level and oneshot\n",
                     std::string(unipoll::name(b)).c_str());
        return 1;
    }
    return 0;
}

void run(unipoll::backend b, std::span<const std::uint8_t> input) {
    const program prog = decode(input);
    std::size_t i = 0;
    try {
        execution x(b, prog);
        for (; i < prog.ops.size(); ++i) {
            if (tracing()) std::fprintf(stderr, "  %3zu  %s\n", i, describe(prog.ops[i]).c_str());
            x.step(prog.ops[i]);
        }
    } catch (const divergence& d) {
        report(b, prog, i, d.what);
    } catch (const harness_error& h) {
        report(b, prog, i, std::string("harness error: ") + h.what);
    } catch (const std::exception& e) {
        report(b, prog, i, std::string("unexpected exception: ") + e.what());
    }
}

}  // namespace unipoll_fuzz
