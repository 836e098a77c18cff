// What the echo scenario drives: a single-threaded TCP echo server built on
// each subject the way its documentation builds one (docs/compare.md). The
// harness makes the connections and hands the server its ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace compare {

#ifndef UNIPOLL_COMPARE_WITH_ECHO
/// Why this build has no echo scenario (tools/CMakeLists.txt leaves it out
/// on Windows): what its rows in the report and the subjects' echo column say.
inline constexpr const char* echo_not_built =
    "not built for Windows: the echo scenario's clients run in a forked process (fork, shared mapping)";
#endif

class echo_server {
public:
    virtual ~echo_server() = default;

    /// Before serve(): serve `fd`, a connected non-blocking TCP socket,
    /// from now on, and close it once its client has gone (EOF or reset).
    virtual void adopt(int fd) = 0;
    /// Server thread: runs the loop until every adopted connection is
    /// gone, calling `after_turn` after each turn of the loop.
    virtual void serve(const std::function<void()>& after_turn) = 0;

    /// Bytes echoed so far; read on the server thread.
    std::uint64_t echoed() const noexcept { return echoed_; }

protected:
    std::uint64_t echoed_ = 0;
    std::size_t open_ = 0;  // adopted connections not yet closed
};

}  // namespace compare
