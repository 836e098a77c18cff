# x86_64 Windows with Debian's mingw-w64 g++ (ci/bootstrap.sh --cross). The
# posix thread model: the win32 one has no std::thread or std::mutex in
# GCC 12. Linked -static, so the executables need no libstdc++, libgcc or
# winpthread DLL. ctest runs them under Wine through ci/toolchains/wine-run.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)

# The target's libraries come from mingw's tree only. The one thing taken
# from the build machine is Boost's header tree (header-only Boost.Test and
# Asio), linked into a private root of its own: adding all of /usr/include
# would put glibc's headers ahead of mingw's.
set(UNIPOLL_BOOST_HEADERS /usr/include/boost CACHE PATH "Boost header tree used for Windows targets")
set(_windows_root ${CMAKE_BINARY_DIR}/target-root)
if(EXISTS ${UNIPOLL_BOOST_HEADERS} AND NOT EXISTS ${_windows_root}/include/boost)
    file(MAKE_DIRECTORY ${_windows_root}/include)
    file(CREATE_LINK ${UNIPOLL_BOOST_HEADERS} ${_windows_root}/include/boost SYMBOLIC)
endif()
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 ${_windows_root})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} ${_windows_root}/lib/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Tests run under Wine, quickly and with crashes as failures (see wine-run).
find_program(UNIPOLL_WINE NAMES wine wine64)
if(UNIPOLL_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/wine-run)
endif()
