#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#ifdef _WIN32
#include <windows.h>
#endif

namespace conformance {

// ---- registration -------------------------------------------------------

namespace {
std::vector<case_entry>& case_table() {
    static std::vector<case_entry> table;
    return table;
}
}  // namespace

const std::vector<case_entry>& registered_cases() { return case_table(); }

case_registrar::case_registrar(const char* name, case_body body, const char* file,
                               std::size_t line) {
    case_table().push_back({name, body, file, line});
}

// ---- what not every OS has -------------------------------------------------

#ifdef _WIN32
bool running_under_wine() {
    return ::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr;
}
#endif

bool skip_without(needs what, backend b) {
#ifdef _WIN32
    const char* why = nullptr;
    switch (what) {
        case needs::fork: why = "needs fork(); Windows has none"; break;
        case needs::posix_signals:
            why = "needs POSIX signals (sigaction, pthread_kill); Windows has none";
            break;
        case needs::fd_numbers:
            why = "needs dup2() to give a new descriptor a chosen number; Windows cannot choose "
                  "a socket's handle value";
            break;
        case needs::posix_files:
            why = "gives add() a regular file and a directory (EPERM); Windows pollers take "
                  "sockets only and anything else is EBADF (windows_cases.cpp)";
            break;
        case needs::write_shutdown_apart:
            if (b == backend::poll)
                why = "WSAPoll reports POLLHUP for the peer's FIN whatever was asked, so a "
                      "write-only registration sees the peer's write shutdown as a hangup";
            break;
        case needs::state_at_report:
            if (b == backend::iocp)
                why = "an AFD poll completes with the events true at that moment; what happens "
                      "after (the peer's close after room to write) is reported by a later poll";
            break;
        case needs::fin_behind_data:
            why = "WSAPoll and AFD (as Wine implements them) report the peer's FIN only once "
                  "the data before it was read";
            break;
    }
    if (!why) return false;
    note(b, std::string("SKIPPED case ") +
                boost::unit_test::framework::current_test_case().p_name.get() + ": " + why);
    return true;
#else
    (void)what;
    (void)b;
    return false;
#endif
}

// ---- polling --------------------------------------------------------------

const unipoll::event* polled::find(std::uint64_t token) const {
    for (const auto& e : events)
        if (e.token == token) return &e;
    return nullptr;
}

polled poll_for(unipoll::poller& p, std::chrono::nanoseconds timeout) {
    std::array<unipoll::event, 16> buf{};
    polled out;
    const auto start = steady::now();
    out.result = p.poll(buf, timeout);
    out.elapsed = steady::now() - start;
    BOOST_REQUIRE_LE(out.result.count, buf.size());
    out.events.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(out.result.count));
    return out;
}

std::optional<unipoll::event> await_token(unipoll::poller& p, std::uint64_t token) {
    const auto deadline = steady::now() + patience;
    for (auto now = steady::now(); now < deadline; now = steady::now()) {
        const polled r = poll_for(p, deadline - now);
        if (const auto* e = r.find(token)) return *e;
    }
    return std::nullopt;
}

void expect_quiet(unipoll::poller& p) {
    const auto before = p.stats().syscalls;
    const polled r = poll_for(p, quiet_period);
    const auto calls = p.stats().syscalls - before;
    // A quiet poll is one kernel wait; a few more allow for a stale wake
    // event. Many mean the backend spun on something it then dropped.
    BOOST_CHECK_MESSAGE(calls <= 4, "a quiet poll made " << calls << " kernel calls (spinning?)");
    BOOST_CHECK_EQUAL(r.result.count, 0u);
    for (const auto& e : r.events) BOOST_TEST_MESSAGE("unexpected event for token " << e.token);
    BOOST_CHECK(!r.result.woken);
    BOOST_CHECK_MESSAGE(r.elapsed >= quiet_period,
                        "poll returned after "
                            << std::chrono::duration_cast<std::chrono::microseconds>(r.elapsed).count()
                            << " us with nothing to report, before its timeout");
}

void expect_no_token(unipoll::poller& p, std::uint64_t token) {
    const auto deadline = steady::now() + quiet_period;
    for (auto now = steady::now(); now < deadline; now = steady::now()) {
        const polled r = poll_for(p, deadline - now);
        BOOST_CHECK_MESSAGE(!r.has(token), "event for token " << token << " reported");
        if (r.has(token)) return;
    }
}

background_poll::background_poll(unipoll::poller& p, std::chrono::nanoseconds timeout)
    : p_(p), thread_([this, timeout] {
          polled r;
          std::exception_ptr err;
          try {
              std::array<unipoll::event, 16> buf{};
              const auto start = steady::now();
              r.result = p_.poll(buf, timeout);
              r.elapsed = steady::now() - start;
              r.events.assign(buf.begin(),
                              buf.begin() + static_cast<std::ptrdiff_t>(
                                                std::min(r.result.count, buf.size())));
          } catch (...) {
              err = std::current_exception();
          }
          std::lock_guard lk(m_);
          result_ = std::move(r);
          error_ = err;
          done_ = true;
          cv_.notify_all();
      }) {}

background_poll::~background_poll() {
    if (!finished_within(steady::duration::zero())) p_.wake();
    if (!finished_within(patience)) {
        // The wake was lost (the case has failed already). A ready fd added
        // while the poll blocks is the other way to end it, so the runner
        // can go on with the next case.
        std::cerr << "background poll ignored wake(); ending it with a ready pipe" << std::endl;
        auto rescue = make_pipe();
        write_byte(rescue.write_end.get());
        try {
            p_.add(rescue.read_end.get(), interest::read, 0x5E5C0E);
        } catch (const std::exception& e) {
            std::cerr << "adding the rescue pipe failed: " << e.what() << std::endl;
        }
        if (!finished_within(patience)) {
            std::cerr << "background poll cannot be ended; aborting" << std::endl;
            std::abort();
        }
        try {
            p_.remove(rescue.read_end.get());
        } catch (const std::exception&) {
            // The poller is broken anyway; the case reports that.
        }
    }
    thread_.join();
}

bool background_poll::finished_within(steady::duration limit) {
    std::unique_lock lk(m_);
    return cv_.wait_for(lk, limit, [this] { return done_; });
}

const polled& background_poll::result() {
    std::unique_lock lk(m_);
    if (error_) std::rethrow_exception(error_);
    return result_;
}

bool woken_from_other_thread(unipoll::poller& p) {
    background_poll bg(p, unipoll::forever);
    std::this_thread::sleep_for(settle_time);
    p.wake();
    if (!bg.finished_within(patience)) return false;
    return bg.result().result.woken;
}

void check_poller_still_works(unipoll::poller& p) {
    p.wake();
    const polled w = poll_for(p, patience);
    BOOST_CHECK_MESSAGE(w.result.woken, "after the error, wake() + poll() was not woken");

    constexpr std::uint64_t token = 0xC0FFEE;
    auto fds = make_pipe();
    p.add(fds.read_end.get(), interest::read, token);
    write_byte(fds.write_end.get());
    const auto e = await_token(p, token);
    BOOST_CHECK_MESSAGE(e && e->readable, "after the error, a readable pipe was not reported");
    p.remove(fds.read_end.get());
}

// ---- errors ---------------------------------------------------------------

void expect_errno(const std::function<void()>& op, int err, int fd, const char* what_op,
                  int alt_err) {
    try {
        op();
        BOOST_ERROR(what_op << ": expected std::system_error " << std::strerror(err)
                            << ", nothing was thrown");
    } catch (const std::system_error& e) {
        const int got = e.code().value();
        BOOST_CHECK_MESSAGE(got == err || (alt_err != 0 && got == alt_err),
                            what_op << ": expected errno " << err << " (" << std::strerror(err)
                                    << "), got " << got << ": " << e.what());
        BOOST_CHECK_MESSAGE(e.code().category() == std::generic_category(),
                            what_op << ": error category is " << e.code().category().name()
                                    << ", expected generic (errno)");
        if (fd != no_fd) {
#ifdef _WIN32
            const std::string needle = "socket " + std::to_string(fd);
#else
            const std::string needle = "fd " + std::to_string(fd);
#endif
            BOOST_CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos,
                                what_op << ": message \"" << e.what() << "\" does not name "
                                        << needle);
        }
    }
}

std::string trigger_name(trigger how) {
    switch (how) {
        case trigger::level: return "level";
        case trigger::edge: return "edge";
        case trigger::oneshot: return "oneshot";
    }
    return "trigger(" + std::to_string(static_cast<int>(how)) + ")";
}

bool trigger_supported(unipoll::poller& p, trigger how) {
    if (p.supports(how)) return true;
    auto fds = make_pipe();
    const int fd = fds.read_end.get();
    // EOPNOTSUPP differs from ENOTSUP on macOS and the BSDs; accept either.
    expect_errno([&] { p.add(fd, interest::read, 1, how); }, ENOTSUP, fd, "add(unsupported trigger)",
                 EOPNOTSUPP);
    note(p.kind(), trigger_name(how) + " trigger not supported; checked that add() refuses it");
    return false;
}

// ---- stress ---------------------------------------------------------------

std::size_t scaled(std::size_t n) {
    static const double scale = [] {
        const char* env = std::getenv("UNIPOLL_STRESS_SCALE");
        if (!env || !*env) return 1.0;
        const double v = std::strtod(env, nullptr);
        return v > 0 ? v : 1.0;
    }();
    return std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(n) * scale));
}

void note(backend b, const std::string& text) {
    std::cout << "NOTE " << unipoll::name(b) << ": " << text << std::endl;
}

void thread_failures::record(std::string what) {
    std::lock_guard lk(m_);
    failures_.push_back(std::move(what));
}

void thread_failures::guard(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        record(std::string("exception: ") + e.what());
    } catch (...) {
        record("unknown exception");
    }
}

void thread_failures::check() const {
    std::lock_guard lk(m_);
    for (const auto& f : failures_) BOOST_ERROR("helper thread: " << f);
}

}  // namespace conformance
