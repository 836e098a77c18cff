// The kqueue backend's runtime probe: where EVFILT_USER registers but never
// fires, asking for `kqueue` yields a working kqueue-pipe poller. Only the
// emulation can make EVFILT_USER fail on purpose, so this lives here.
#define BOOST_TEST_MODULE kqueue_probe
#include <boost/test/unit_test.hpp>

#include "kqueue_emulation_control.hpp"

#include <unipoll/poller.hpp>

#include <array>
#include <chrono>

namespace {

using namespace std::chrono_literals;

struct broken_user_events {
    broken_user_events() { kqueue_emulation::set_user_events_broken(true); }
    ~broken_user_events() { kqueue_emulation::set_user_events_broken(false); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_working_evfilt_user_gives_the_kqueue_backend) {
    unipoll::poller p(unipoll::backend::kqueue);
    BOOST_TEST((p.kind() == unipoll::backend::kqueue));
}

BOOST_AUTO_TEST_CASE(a_silent_evfilt_user_falls_back_to_kqueue_pipe) {
    broken_user_events broken;
    unipoll::poller p(unipoll::backend::kqueue);
    BOOST_TEST((p.kind() == unipoll::backend::kqueue_pipe));

    // The fallback wakes like any kqueue-pipe poller.
    std::array<unipoll::event, 4> out{};
    p.wake();
    BOOST_TEST(p.poll(out, 0ns).woken == false);
    const auto r = p.poll(out, 5s);
    BOOST_TEST(r.woken);
    BOOST_TEST(r.count == 0u);
}
