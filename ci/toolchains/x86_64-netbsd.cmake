# NetBSD on amd64 with Zig's clang; compiles and links, nothing runs here.
# NetBSD 11, not Zig's default 10.1: Zig carries one set of NetBSD headers,
# NetBSD 11's, whose <sys/event.h> binds kevent() to __kevent100 (the
# struct kevent with ext[4]), which Zig's NetBSD symbol lists give to
# NetBSD 11's libc only: a 10.1 target cannot link the kqueue backend.
set(CMAKE_SYSTEM_NAME NetBSD)
set(CMAKE_SYSTEM_VERSION 11.0)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(UNIPOLL_ZIG_TARGET x86_64-netbsd.11.0)
include(${CMAKE_CURRENT_LIST_DIR}/zig.cmake)
