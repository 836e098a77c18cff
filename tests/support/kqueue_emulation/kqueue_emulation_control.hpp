// Test hooks of the kqueue emulation (not part of any real <sys/event.h>).
#pragma once

namespace kqueue_emulation {

// Makes EVFILT_USER behave like the broken kernels the kqueue backend's
// runtime probe guards against: user events register but never fire.
// Affects triggers made after the call, in every emulated kqueue.
void set_user_events_broken(bool broken) noexcept;

}  // namespace kqueue_emulation
