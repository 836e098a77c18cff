# aarch64 Linux with Debian's cross g++ (g++-aarch64-linux-gnu). The target's
# liburing and Boost.Test are Debian's arm64 packages installed beside the
# build machine's through multiarch (ci/bootstrap.sh --cross). Tests run under
# qemu-user, where io_uring_setup fails with ENOSYS.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Multiarch keeps arm64 libraries in /usr/lib/aarch64-linux-gnu; pkg-config
# must not hand out the build machine's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

find_program(UNIPOLL_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(UNIPOLL_QEMU_AARCH64)
    # -L: the dynamic loader comes from the cross toolchain's tree, and so
    # must libc and libstdc++ (LD_LIBRARY_PATH=/lib is that tree's lib/):
    # through ld.so.cache the loader would take the multiarch libc6:arm64,
    # a different glibc build, and the first std::thread then hangs. Libraries
    # the tree lacks (liburing, Boost) still come from the multiarch dirs.
    set(CMAKE_CROSSCOMPILING_EMULATOR
        ${UNIPOLL_QEMU_AARCH64} -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/lib)
endif()
