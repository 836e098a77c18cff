// unipoll-stress <backend> [rounds]: the soak run of soak.hpp on one
// backend, with the process's descriptors and resident memory compared
// before and after. Rounds default to UNIPOLL_STRESS_ROUNDS, else 1,000,000.
// Exit status 0 on success (also when the backend is unavailable here,
// reported as "SKIPPED <backend>: <reason>" for ctest), 1 on a failure, 2
// on bad usage.
#include "process_usage.hpp"
#include "soak.hpp"

#include <unipoll/poller.hpp>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

namespace {

constexpr std::uint64_t default_rounds = 1'000'000;
// Resident memory may move a little (allocator caches, thread stacks kept
// for reuse); a leak per round would be far more over a million rounds.
constexpr std::size_t rss_slack = 8u << 20;

// Sanitizers keep shadow memory and quarantines that grow with the run
// without any leak (ASan reports real leaks itself), so resident memory is
// only reported there, not bounded.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

bool parse_count(const char* text, std::uint64_t& out) {
    if (!text || !*text) return false;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (*end != '\0' || v == 0) return false;
    out = v;
    return true;
}

int usage(const char* argv0) {
    std::cerr << "usage: " << argv0 << " <backend> [rounds]\n"
              << "  backend: epoll, io_uring, kqueue, kqueue-pipe or poll\n"
              << "  rounds:  wake round trips (default: UNIPOLL_STRESS_ROUNDS, else "
              << default_rounds << ")\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) return usage(argv[0]);
    const auto b = unipoll::parse_backend(argv[1]);
    if (!b) return usage(argv[0]);
    stress::soak_config config{*b, default_rounds};
    if (argc == 3) {
        if (!parse_count(argv[2], config.rounds)) return usage(argv[0]);
    } else if (const char* env = std::getenv("UNIPOLL_STRESS_ROUNDS"); env && *env) {
        if (!parse_count(env, config.rounds)) return usage(argv[0]);
    }

    const std::string name{unipoll::name(*b)};
    if (const std::string why = unipoll::unavailable_reason(*b); !why.empty()) {
        std::cout << "SKIPPED " << name << ": " << why << std::endl;
        return 0;
    }

    const std::size_t fds_before = stress::open_fd_count();
    const std::size_t rss_before = stress::resident_bytes();
    stress::soak_result r;
    try {
        r = stress::run_soak(config);
    } catch (const std::exception& e) {
        std::cerr << "FAILED " << name << ": " << e.what() << std::endl;
        return 1;
    }
    const std::size_t fds_after = stress::open_fd_count();
    const std::size_t rss_after = stress::resident_bytes();

    const double secs = r.wall.count();
    std::cout << "stress " << name << ": " << r.rounds_done << " of " << config.rounds
              << " wake round trips in " << secs << " s ("
              << static_cast<std::uint64_t>(static_cast<double>(r.rounds_done) / secs) << "/s)\n"
              << "  blocking polls " << r.blocking_polls << ", non-blocking polls "
              << r.nonblocking_polls << ", events " << r.events << ", churn cycles "
              << r.churn_cycles << "\n"
              << "  syscalls " << r.stats.syscalls << ", wake_posts " << r.stats.wake_posts
              << ", wakes_coalesced " << r.stats.wakes_coalesced << ", relays " << r.stats.relays
              << ", stale_wakeups " << r.stats.stale_wakeups << "\n"
              << "  open fds " << fds_before << " -> " << fds_after << ", resident "
              << rss_before / 1024 << " KiB -> " << rss_after / 1024 << " KiB" << std::endl;

    bool ok = true;
    if (!r.failure.empty()) {
        std::cerr << "FAILED " << name << ": " << r.failure << std::endl;
        ok = false;
    }
    if (r.failure.empty() && r.rounds_done != config.rounds) {
        std::cerr << "FAILED " << name << ": only " << r.rounds_done << " rounds completed"
                  << std::endl;
        ok = false;
    }
    if (fds_after != fds_before) {
        std::cerr << "FAILED " << name << ": open descriptors went from " << fds_before << " to "
                  << fds_after << std::endl;
        ok = false;
    }
    if (sanitized) {
        std::cout << "  resident memory not bounded under a sanitizer" << std::endl;
    } else if (rss_after > rss_before + rss_slack) {
        std::cerr << "FAILED " << name << ": resident memory grew by "
                  << (rss_after - rss_before) / 1024 << " KiB (allowed "
                  << rss_slack / 1024 << " KiB)" << std::endl;
        ok = false;
    }
    return ok ? 0 : 1;
}
