// Test hooks of the kqueue emulation (not part of any real <sys/event.h>).
#pragma once

namespace kqueue_emulation {

// Which kernel the emulation follows where FreeBSD and XNU differ, chosen
// by the environment variable UNIPOLL_KQUEUE_EMULATION=freebsd|darwin
// (default freebsd) when the process first uses it. Any other value stops
// the process with a message: a misspelt personality must not pass as the
// default.
enum class personality { freebsd, darwin };
personality current_personality();
const char* personality_name(personality p) noexcept;

// Makes EVFILT_USER behave like the broken kernels the kqueue backend's
// runtime probe guards against: user events register but never fire.
// Affects triggers made after the call, in every emulated kqueue.
void set_user_events_broken(bool broken) noexcept;

// Makes every later NOTE_TRIGGER change fail with `err` (0: succeed again),
// as a kernel out of resources would: the backend must not lose that
// failure of a wake() silently.
void fail_user_triggers(int err) noexcept;

}  // namespace kqueue_emulation
