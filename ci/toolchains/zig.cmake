# Common part of the toolchain files that compile with Zig's clang (PyPI
# package ziglang, installed by ci/bootstrap.sh --cross), which carries each
# target's libc headers and link stubs: no SDK or sysroot is needed.
# The including file sets CMAKE_SYSTEM_NAME, CMAKE_SYSTEM_PROCESSOR and
# UNIPOLL_ZIG_TARGET (arch-os[.version] as `zig c++ -target` takes it).

set(CMAKE_CXX_COMPILER ${CMAKE_CURRENT_LIST_DIR}/zig-c++)
set(CMAKE_CXX_COMPILER_TARGET ${UNIPOLL_ZIG_TARGET})
set(CMAKE_AR ${CMAKE_CURRENT_LIST_DIR}/zig-ar CACHE FILEPATH "zig ar")
set(CMAKE_RANLIB ${CMAKE_CURRENT_LIST_DIR}/zig-ranlib CACHE FILEPATH "zig ranlib")

# Zig's libc++ no longer declares what C++17 and C++20 removed; Debian
# bookworm's Boost 1.74 only detects that for MSVC. Tell it: hash_base
# without std::unary_function, Asio's result_of from std::invoke_result.
set(CMAKE_CXX_FLAGS_INIT "-DBOOST_NO_CXX98_FUNCTION_BASE -DBOOST_ASIO_HAS_STD_INVOKE_RESULT=1")

execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/zig version
    OUTPUT_VARIABLE _zig_version OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _zig_status ERROR_QUIET)
if(NOT _zig_status EQUAL 0)
    message(FATAL_ERROR "zig not found: run ci/bootstrap.sh --cross (it installs the ziglang "
                        "package into build/zig-venv), or point UNIPOLL_ZIG_PYTHON at a Python "
                        "that has ziglang")
endif()

# Nothing of the build machine may leak into the target's build: find_*
# look only inside a private root, pkg-config sees no .pc files. The one
# thing taken from the build machine is Boost's header tree (header-only
# Boost.Test and Asio), linked into that root on its own: adding all of
# /usr/include would put glibc's headers ahead of the target's libc.
set(UNIPOLL_BOOST_HEADERS /usr/include/boost CACHE PATH "Boost header tree used for zig targets")
set(_zig_root ${CMAKE_BINARY_DIR}/target-root)
if(EXISTS ${UNIPOLL_BOOST_HEADERS} AND NOT EXISTS ${_zig_root}/usr/include/boost)
    file(MAKE_DIRECTORY ${_zig_root}/usr/include)
    file(CREATE_LINK ${UNIPOLL_BOOST_HEADERS} ${_zig_root}/usr/include/boost SYMBOLIC)
endif()
set(CMAKE_FIND_ROOT_PATH ${_zig_root})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} ${_zig_root}/usr/lib/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
