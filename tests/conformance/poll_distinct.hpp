// One blocking poll into a big span, checked: used by the event-count cases
// on POSIX (event_count_cases.cpp) and Windows (windows_cases.cpp).
#pragma once

#include <unipoll/poller.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace conformance {

// One blocking poll into `span`; every event a distinct, writable,
// registered token below `fds`. Returns the count. `allocations`, when
// given: the heap allocations the poll itself made.
std::size_t poll_distinct(unipoll::poller& p, std::span<unipoll::event> span, std::size_t fds,
                          std::uint64_t* allocations = nullptr);

}  // namespace conformance
