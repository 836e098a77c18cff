#include "heap_counter.hpp"

#include <stdlib.h>
#ifdef _WIN32
#include <malloc.h>
#endif

#include <cstddef>
#include <cstdlib>
#include <new>

namespace conformance {
namespace {

// Zero-initialised, no constructor: usable from operator new at any time.
thread_local std::uint64_t allocations = 0;

void* counted_alloc(std::size_t n, std::size_t align) {
    ++allocations;
    if (n == 0) n = 1;
#ifdef _WIN32
    // Windows has no posix_memalign, and its aligned blocks need
    // _aligned_free: every aligned overload (align != 0) takes that path.
    if (align == 0) return std::malloc(n);
    return ::_aligned_malloc(n, align);
#else
    if (align <= alignof(std::max_align_t)) return std::malloc(n);
    void* p = nullptr;
    return ::posix_memalign(&p, align, n) == 0 ? p : nullptr;
#endif
}

// Frees what counted_alloc returned to an aligned operator new.
void aligned_free(void* p) noexcept {
#ifdef _WIN32
    ::_aligned_free(p);
#else
    std::free(p);
#endif
}

}  // namespace

std::uint64_t heap_allocations_on_this_thread() noexcept { return allocations; }

}  // namespace conformance

using conformance::aligned_free;
using conformance::counted_alloc;

void* operator new(std::size_t n) {
    if (void* p = counted_alloc(n, 0)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = counted_alloc(n, 0)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
    if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
    if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_alloc(n, static_cast<std::size_t>(a));
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { aligned_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { aligned_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { aligned_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { aligned_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { aligned_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { aligned_free(p); }
