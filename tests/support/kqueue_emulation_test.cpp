// The kqueue emulation against the kernels it stands in for: every point
// where FreeBSD (sys/kern/kern_event.c, sys_pipe.c) and XNU
// (bsd/kern/kern_event.c, sys_pipe.c, xnu-11417.101.15) behave differently
// is checked under the personality in use (UNIPOLL_KQUEUE_EMULATION; ctest
// runs this binary once for each), with the function or line followed.
// A backend bug must not be hidden by an emulation kinder than a kernel.
// The cases are in emulation_test/, one file per suite.
#define BOOST_TEST_MODULE kqueue_emulation
#include <boost/test/unit_test.hpp>

#include "kqueue_emulation_control.hpp"

#include <cstdlib>
#include <string>

BOOST_AUTO_TEST_CASE(personality_is_the_one_asked_for) {
    const char* env = std::getenv("UNIPOLL_KQUEUE_EMULATION");
    const std::string want = env && *env ? env : "freebsd";
    BOOST_TEST(kqueue_emulation::personality_name(kqueue_emulation::current_personality()) == want);
}
