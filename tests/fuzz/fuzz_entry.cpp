// The libFuzzer entry points for one backend, named at compile time by
// UNIPOLL_FUZZ_BACKEND so that each backend has its own binary and every
// crash names the backend that produced it.
#include "fuzz_runner.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#ifndef UNIPOLL_FUZZ_BACKEND
#error "UNIPOLL_FUZZ_BACKEND must name the backend under test"
#endif

namespace {

unipoll::backend backend_under_test() {
    static const unipoll::backend b = [] {
        const auto parsed = unipoll::parse_backend(UNIPOLL_FUZZ_BACKEND);
        if (!parsed) std::abort();
        return *parsed;
    }();
    return b;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const int status = unipoll_fuzz::prepare(backend_under_test())) std::exit(status);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    unipoll_fuzz::run(backend_under_test(), {data, size});
    return 0;
}
