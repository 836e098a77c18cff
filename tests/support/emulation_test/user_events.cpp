// EVFILT_USER under each personality.
#include "emulation_test/fixture.hpp"

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

using namespace emulation_test;

BOOST_FIXTURE_TEST_SUITE(user_events, kq_fixture)

BOOST_AUTO_TEST_CASE(without_ev_clear_a_trigger_stays_and_an_ev_clear_change) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD), 0);
    BOOST_TEST(fetch().empty());
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().size() == 1u);
    BOOST_TEST(fetch().size() == 1u);
    // FreeBSD filt_usertouch (EVENT_REGISTER): an EV_CLEAR change resets
    // the trigger. XNU filt_usertouch (1946-1972) has no such step.
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_CLEAR), 0);
    BOOST_TEST(fetch().size() == (darwin() ? 1u : 0u));
}

BOOST_AUTO_TEST_CASE(with_ev_clear_delivery_consumes_the_trigger) {
    // Both kernels: delivery clears it (FreeBSD filt_usertouch
    // EVENT_PROCESS; XNU filt_userprocess 1975-1990), and triggers merge.
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, tag(42)), 0);
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, 0, NOTE_TRIGGER, 0, tag(42)), 0);
    BOOST_REQUIRE_EQUAL(change(7, EVFILT_USER, 0, NOTE_TRIGGER, 0, tag(42)), 0);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].ident == 7u);
    BOOST_TEST(evs[0].filter == EVFILT_USER);
    BOOST_TEST(evs[0].udata == tag(42));
    BOOST_TEST((evs[0].flags & EV_CLEAR) != 0);
    BOOST_TEST(fetch().empty());
}

BOOST_AUTO_TEST_CASE(every_change_that_is_not_a_delete_replaces_udata) {
    // FreeBSD kqueue_register: kn->kn_kevent.udata = kev->udata for any
    // change that finds the knote; XNU kevent_register 4252-4255.
    BOOST_REQUIRE_EQUAL(change(3, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, tag(1)), 0);
    BOOST_REQUIRE_EQUAL(change(3, EVFILT_USER, 0, NOTE_TRIGGER, 0, tag(2)), 0);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].udata == tag(2));
    BOOST_REQUIRE_EQUAL(change(3, EVFILT_USER, EV_ENABLE, 0, 0, tag(3)), 0);
    BOOST_REQUIRE_EQUAL(change(3, EVFILT_USER, 0, NOTE_TRIGGER, 0, tag(3)), 0);
    evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].udata == tag(3));
}

BOOST_AUTO_TEST_CASE(ev_clear_in_the_trigger_change) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_CLEAR, NOTE_TRIGGER), 0);
    // FreeBSD filt_usertouch sets the trigger and then the EV_CLEAR resets
    // it: the reason a post must never carry EV_CLEAR. XNU fires.
    BOOST_TEST(fetch().size() == (darwin() ? 1u : 0u));
}

BOOST_AUTO_TEST_CASE(note_trigger_in_the_adding_change) {
    // FreeBSD kqueue_register zeroes the change's fflags before the attach,
    // and filt_userattach reads kn_fflags: ignored. XNU filt_userattach
    // (1935) reads kn_sfflags: the new event fires.
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().size() == (darwin() ? 1u : 0u));
}

BOOST_AUTO_TEST_CASE(fflags_combine_and_data_is_passed) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_FFCOPY | 0x5), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_FFOR | 0x2), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_FFAND | 0x6), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER, 99), 0);
    auto evs = fetch();
    BOOST_REQUIRE_EQUAL(evs.size(), 1u);
    BOOST_TEST(evs[0].fflags == 0x6u);  // NOTE_TRIGGER is not returned
    BOOST_TEST(evs[0].data == 99);
}

BOOST_AUTO_TEST_CASE(disabled_event_is_held_until_enabled) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR | EV_DISABLE), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().empty());
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ENABLE), 0);
    BOOST_TEST(fetch().size() == 1u);
}

BOOST_AUTO_TEST_CASE(enable_and_disable_together) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    const int rc = change(1, EVFILT_USER, EV_ENABLE | EV_DISABLE);
    if (darwin()) {
        // XNU kevent_register: "delete and disable overrule".
        BOOST_TEST(rc == 0);
        BOOST_TEST(fetch().empty());
    } else {
        // FreeBSD kqueue_register refuses the pair.
        BOOST_TEST(rc == -1);
        BOOST_TEST(errno == EINVAL);
        BOOST_TEST(fetch().size() == 1u);
    }
}

BOOST_AUTO_TEST_CASE(oneshot_is_deleted_and_dispatch_disabled_after_delivery) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_ONESHOT), 0);
    BOOST_REQUIRE_EQUAL(change(2, EVFILT_USER, EV_ADD | EV_DISPATCH), 0);
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_REQUIRE_EQUAL(change(2, EVFILT_USER, 0, NOTE_TRIGGER), 0);
    BOOST_TEST(fetch().size() == 2u);
    BOOST_TEST(fetch().empty());
    BOOST_TEST(change(1, EVFILT_USER, EV_DELETE) == -1);
    BOOST_TEST(errno == ENOENT);
    BOOST_REQUIRE_EQUAL(change(2, EVFILT_USER, EV_ENABLE), 0);  // still triggered
    BOOST_TEST(fetch().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_failing_trigger_is_reported) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    kqueue_emulation::fail_user_triggers(ENOMEM);
    const int rc = change(1, EVFILT_USER, 0, NOTE_TRIGGER);
    const int err = errno;
    kqueue_emulation::fail_user_triggers(0);
    BOOST_TEST(rc == -1);
    BOOST_TEST(err == ENOMEM);
    BOOST_TEST(fetch().empty());
}

BOOST_AUTO_TEST_CASE(a_trigger_reaches_exactly_one_of_many_waiters) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    for (int round = 0; round < 20; ++round) {
        std::atomic<int> got{0};
        std::vector<std::thread> waiters;
        for (int i = 0; i < 4; ++i)
            waiters.emplace_back([&] {
                struct kevent ev;
                const timespec ts{0, 100'000'000};
                const int n = ::kevent(kq, nullptr, 0, &ev, 1, &ts);
                if (n > 0) got += n;
            });
        std::this_thread::sleep_for(5ms);
        BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, 0, NOTE_TRIGGER), 0);
        for (auto& t : waiters) t.join();
        BOOST_TEST(got.load() == 1);
    }
}

BOOST_AUTO_TEST_CASE(a_blocked_waiter_is_woken_by_a_trigger) {
    BOOST_REQUIRE_EQUAL(change(1, EVFILT_USER, EV_ADD | EV_CLEAR), 0);
    std::thread poster([&] {
        std::this_thread::sleep_for(30ms);
        change(1, EVFILT_USER, 0, NOTE_TRIGGER);
    });
    const auto start = std::chrono::steady_clock::now();
    struct kevent ev;
    const int n = ::kevent(kq, nullptr, 0, &ev, 1, nullptr);
    poster.join();
    BOOST_TEST(n == 1);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_SUITE_END()
