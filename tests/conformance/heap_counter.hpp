// Counts the heap allocations (operator new, every form) made by the calling
// thread: the conformance runner replaces the global allocation functions,
// so a case can check that a call allocates nothing.
#pragma once

#include <cstdint>

namespace conformance {

std::uint64_t heap_allocations_on_this_thread() noexcept;

}  // namespace conformance
