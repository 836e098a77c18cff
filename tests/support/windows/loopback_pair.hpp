// Test support for Windows, where the conformance suite cannot use pipes or
// AF_UNIX socketpairs as the poller's input (WSAPoll and AFD poll only
// sockets; Wine has no AF_UNIX): a connected pair of non-blocking loopback
// TCP sockets stands in for both. Independent of the library under test.
#pragma once

#include <winsock2.h>

namespace unipoll_test {

struct loopback_pair {
    SOCKET a = INVALID_SOCKET;
    SOCKET b = INVALID_SOCKET;
};

// Both ends non-blocking, not inherited, Nagle off (each write goes out at
// once, as a pipe write does). Starts Winsock on first use. Throws
// std::system_error naming the failed call.
loopback_pair make_loopback_pair();

}  // namespace unipoll_test
