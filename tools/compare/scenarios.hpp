// The measurements, each run on every subject that has the adapter it
// needs (peer.hpp), each returning finished records (the median of
// options::runs runs).
#pragma once

#include "options.hpp"
#include "peer.hpp"
#include "report.hpp"

#include <vector>

namespace compare {

// scenarios_wake.cpp, scenarios_calls.cpp: through the wake_loop.
record measure_wake_sleeping(const subject&, const options&);
record measure_wake_busy(const subject&, const options&);
record measure_coalescing(const subject&, const options&);
record measure_nonblocking_poll(const subject&, const options&);

// scenarios_fds.cpp: through the fd_loop. One record per (registered,
// ready) cell, and one per registered count.
std::vector<record> measure_readiness(const subject&, const options&);
std::vector<record> measure_registration(const subject&, const options&);

#ifdef UNIPOLL_COMPARE_WITH_ECHO
// scenarios_echo.cpp: through the echo_server. One record per connection count.
std::vector<record> measure_echo(const subject&, const options&);
#endif

}  // namespace compare
