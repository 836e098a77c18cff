// Builds the test tree: one suite per backend, each holding every
// registered case. A backend this system cannot run is a visible skip
// ("SKIPPED <name>: <reason>", matched by ctest), unless the environment
// variable UNIPOLL_REQUIRE_BACKENDS (comma separated names) lists it: then
// the suite fails. Boost.Test is used header-only so that the runner also
// builds where only Boost's headers exist (cross compilation).
#define BOOST_TEST_ALTERNATIVE_INIT_API
#include <boost/test/included/unit_test.hpp>

#include "fixture.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

namespace conformance {
namespace {

namespace utf = boost::unit_test;

// Suite names are Boost identifiers: '-' is not allowed.
std::string suite_name(backend b) {
    std::string s{unipoll::name(b)};
    for (char& c : s)
        if (c == '-') c = '_';
    return s;
}

std::set<std::string> required_names() {
    std::set<std::string> out;
    const char* env = std::getenv("UNIPOLL_REQUIRE_BACKENDS");
    if (!env) return out;
    std::string list = env;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        std::string item = list.substr(pos, comma - pos);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.insert(item);
        pos = comma + 1;
    }
    return out;
}

// CI names the Linux emulation runs of kqueue by the personality of the
// emulation they run under ("kqueue.freebsd", "kqueue-pipe.darwin": the
// ctest names), or as "kqueue-emulated"; in the emulated runner either
// means that backend's suite. (ci/require_tests.py checks that every such
// ctest test ran and passed.)
std::string strip_emulated(const std::string& n) {
    std::string b = n.substr(0, n.find('.'));
    const std::string suffix = "-emulated";
    if (b.size() > suffix.size() && b.compare(b.size() - suffix.size(), suffix.size(), suffix) == 0)
        b.resize(b.size() - suffix.size());
    return b;
}

bool is_required(backend b) {
    for (const auto& n : required_names())
        if (strip_emulated(n) == unipoll::name(b)) return true;
    return false;
}

// First case of every suite: the backend exists here, or it is required
// and its absence is a failure. Every other case depends on it.
void backend_is_available(backend b) {
    for (const auto& n : required_names())
        BOOST_CHECK_MESSAGE(unipoll::parse_backend(strip_emulated(n)).has_value(),
                            "UNIPOLL_REQUIRE_BACKENDS names unknown backend \"" << n << "\"");
    const std::string reason = unipoll::unavailable_reason(b);
    BOOST_REQUIRE_MESSAGE(reason.empty(), "required backend " << unipoll::name(b)
                                                              << " is unavailable: " << reason);
    unipoll::poller p(b);
    BOOST_CHECK(p.kind() == b);
}

void add_backend_suite(backend b) {
    auto* suite = BOOST_TEST_SUITE(suite_name(b));
    suite->add_precondition([b](utf::test_unit_id) -> boost::test_tools::assertion_result {
        const std::string reason = unipoll::unavailable_reason(b);
        if (reason.empty() || is_required(b)) return true;
        std::cout << "SKIPPED " << unipoll::name(b) << ": " << reason << std::endl;
        boost::test_tools::assertion_result skip(false);
        skip.message() << unipoll::name(b) << " is not available here: " << reason;
        return skip;
    });

    auto* gate = utf::make_test_case([b] { backend_is_available(b); }, "backend_is_available",
                                     __FILE__, __LINE__);
    suite->add(gate);
    for (const auto& c : registered_cases()) {
        auto* tc = utf::make_test_case([b, body = c.body] { body(b); }, c.name, c.file, c.line);
        tc->depends_on(gate);
        suite->add(tc);
    }
    utf::framework::master_test_suite().add(suite);
}

}  // namespace
}  // namespace conformance

bool init_unit_test() {
    using unipoll::backend;
#ifdef SIGPIPE
    // Cases write to pipes whose reader is gone; they want EPIPE, not death.
    std::signal(SIGPIPE, SIG_IGN);
#endif
    boost::unit_test::framework::master_test_suite().p_name.value = "unipoll_conformance";
    for (backend b : {backend::epoll, backend::io_uring, backend::poll, backend::kqueue,
                      backend::kqueue_pipe, backend::iocp})
        conformance::add_backend_suite(b);
    return true;
}
