# FreeBSD on arm64 (aarch64) with Zig's clang; compiles and links, nothing runs here.
set(CMAKE_SYSTEM_NAME FreeBSD)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(UNIPOLL_ZIG_TARGET aarch64-freebsd)
include(${CMAKE_CURRENT_LIST_DIR}/zig.cmake)
