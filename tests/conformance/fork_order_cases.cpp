// The order a forked child naturally tidies up in: it makes its own poller
// first and destroys the copy it inherited afterwards. A kqueue is not
// inherited by fork(), so in the child the inherited poller's kqueue number
// is free, and the child's own kqueue (or any descriptor) may get it:
// destroying the inherited poller must not close what the child opened
// since. fork_child_makes_its_own_poller (fork_cases.cpp) destroys the
// inherited poller first, which cannot show this.
#include "child_process.hpp"

#include <optional>
#include <string>

namespace conformance {
namespace {

CONFORMANCE_CASE(fork_child_destroys_inherited_poller_after_making_its_own) {
    if (skipped_under_emulator(backend_under_test)) return;
    std::optional<unipoll::poller> p(std::in_place, backend_under_test);
    auto fds = make_pipe();
    p->add(fds.read_end.get(), interest::read, 81);
    {
        child_process child(
            [&p, b = backend_under_test](std::string& r) {
                unipoll::poller own(b);
                auto mine = make_pipe();
                own.add(mine.read_end.get(), interest::read, 82);
                p.reset();
                std::string problem = poller_problem(own, true);
                problem += pipe_event_problem(own, mine, 82);
                r += problem.empty() ? "own poller and its registration work after destroying "
                                       "the inherited poller"
                                     : problem;
                return problem.empty() ? 0 : 1;
            },
            30s);
        expect_child_success(child, backend_under_test);
    }
    write_byte(fds.write_end.get());
    const auto e = await_token(*p, 81);
    BOOST_CHECK_MESSAGE(e && e->readable, "the parent's registration stopped working after the child");
    drain(fds.read_end.get());
    p->remove(fds.read_end.get());
    check_poller_still_works(*p);
}

}  // namespace
}  // namespace conformance
