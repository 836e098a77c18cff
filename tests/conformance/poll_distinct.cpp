#include "poll_distinct.hpp"

#include "fixture.hpp"
#include "heap_counter.hpp"

#include <set>

namespace conformance {

std::size_t poll_distinct(unipoll::poller& p, std::span<unipoll::event> span, std::size_t fds,
                          std::uint64_t* allocations) {
    const std::uint64_t before = heap_allocations_on_this_thread();
    const auto r = p.poll(span, patience);
    if (allocations) *allocations = heap_allocations_on_this_thread() - before;
    BOOST_REQUIRE_LE(r.count, span.size());
    std::set<std::uint64_t> tokens;
    for (std::size_t i = 0; i < r.count; ++i) {
        BOOST_REQUIRE_LT(span[i].token, fds);
        BOOST_REQUIRE(span[i].writable);
        tokens.insert(span[i].token);
    }
    BOOST_REQUIRE_MESSAGE(tokens.size() == r.count, "a poll reported an fd twice");
    return r.count;
}

}  // namespace conformance
