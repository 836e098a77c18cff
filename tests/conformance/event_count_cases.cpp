// A poll returns as many events as the caller's span holds: no backend caps
// the count below it (the epoll backend once read 128 events per call
// whatever the span, the kqueue one 1,024), and filling a big span takes no
// heap allocation in the poll.
#include "fixture.hpp"

#include "fd_helpers.hpp"
#include "poll_distinct.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace conformance {
namespace {

constexpr std::size_t wanted_fds = 10'000;
constexpr std::size_t spare_fds = 64;  // the runner's own, the poller's, a pipe

// Raises the soft RLIMIT_NOFILE towards the hard one for the case's lifetime.
class fd_limit_raised {
public:
    explicit fd_limit_raised(rlim_t want) {
        BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &old_) == 0);
        rlimit raised = old_;
        if (raised.rlim_cur != RLIM_INFINITY && raised.rlim_cur < want)
            raised.rlim_cur = raised.rlim_max == RLIM_INFINITY ? want : std::min(want, raised.rlim_max);
        BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &raised) == 0);
        limit_ = raised.rlim_cur;
    }
    ~fd_limit_raised() { ::setrlimit(RLIMIT_NOFILE, &old_); }
    fd_limit_raised(const fd_limit_raised&) = delete;
    fd_limit_raised& operator=(const fd_limit_raised&) = delete;
    std::size_t limit() const { return static_cast<std::size_t>(limit_); }

private:
    rlimit old_{};
    rlim_t limit_ = 0;
};

CONFORMANCE_CASE(a_poll_fills_a_span_of_ten_thousand_events) {
    fd_limit_raised limit(wanted_fds + spare_fds);
    const std::size_t fds = std::min(wanted_fds, limit.limit() - spare_fds);
    // Above every cap a backend ever had (128 for epoll, 1,024 for kqueue).
    BOOST_REQUIRE_MESSAGE(fds > 2048, "RLIMIT_NOFILE allows only " << limit.limit()
                                                                   << " descriptors; 2,112 needed");
    if (fds < wanted_fds) note(backend_under_test, "RLIMIT_NOFILE: " + std::to_string(fds) + " fds");

    // Every duplicate of an empty pipe's write end is a writable descriptor
    // of its own, each registered separately.
    auto pipe = make_pipe();
    std::vector<unique_fd> dups = duplicate(pipe.write_end.get(), fds);
    unipoll::poller p(backend_under_test);
    for (std::size_t i = 0; i < fds; ++i) p.add(dups[i].get(), interest::write, i);

    // The span is exactly as large as the number of ready fds. Backends that
    // arm registrations lazily (io_uring) may need a poll or two first.
    std::vector<unipoll::event> span(fds);
    std::size_t got = 0;
    const auto deadline = steady::now() + patience;
    while (got < fds && steady::now() < deadline) got = poll_distinct(p, span, fds);
    BOOST_REQUIRE_MESSAGE(got == fds, "one poll returned at most " << got << " of " << fds
                                                                   << " ready fds into a span of "
                                                                   << fds);

    // Level-triggered: the next polls return all of them again, and fill
    // the span without a heap allocation.
    for (int round = 0; round < 3; ++round) {
        std::uint64_t allocated = 0;
        const std::size_t again = poll_distinct(p, span, fds, &allocated);
        BOOST_CHECK_EQUAL(again, fds);
        BOOST_CHECK_MESSAGE(allocated == 0, "a poll returning " << again << " events made "
                                                                << allocated << " heap allocations");
    }

    // A smaller span is filled to the last slot, a larger one gets them all.
    std::vector<unipoll::event> small(fds / 3);
    BOOST_CHECK_EQUAL(poll_distinct(p, small, fds), small.size());
    std::vector<unipoll::event> large(fds + 100);
    BOOST_CHECK_EQUAL(poll_distinct(p, large, fds), fds);

    for (std::size_t i = 0; i < fds; ++i) p.remove(dups[i].get());
    check_poller_still_works(p);
}

}  // namespace
}  // namespace conformance
