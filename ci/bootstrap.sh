#!/usr/bin/env bash
# Installs what unipoll needs to build, test and measure itself.
# Debian/Ubuntu: installs with apt, only what is missing (a no-op when all is
# present). Other systems: prints the packages to install and exits.
#
#   ci/bootstrap.sh            build + tests + comparison peers
#   ci/bootstrap.sh --cross    also the cross toolchains (aarch64 gcc, qemu-user, zig,
#                              mingw-w64 and Wine for Windows)
set -euo pipefail

want_cross=0
for arg in "$@"; do
    case "$arg" in
        --cross) want_cross=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "bootstrap.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

case "$(uname -s)" in
    Darwin)
        echo "macOS: brew install cmake ninja boost libuv libevent libev"
        exit 0 ;;
    FreeBSD)
        echo "FreeBSD: pkg install -y cmake ninja boost-libs libuv libevent libev pkgconf"
        exit 0 ;;
    NetBSD)
        echo "NetBSD: pkgin -y install cmake ninja-build boost-libs libuv libevent libev pkgconf"
        exit 0 ;;
    OpenBSD)
        echo "OpenBSD: pkg_add cmake ninja boost libuv libevent libev"
        exit 0 ;;
esac

if ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap.sh: no apt-get; install by hand: cmake (>= 3.25), ninja, a C++20 compiler," \
         "Boost.Test, liburing, pkg-config, spin, clang with libFuzzer" >&2
    exit 1
fi

packages=(
    # build
    cmake ninja-build g++ clang pkg-config file python3 python3-venv
    # library and tests
    liburing-dev libboost-test-dev
    # API reference (ci/docs.sh)
    doxygen
    # proofs: model checking and fuzzing
    spin gcc libfuzzer-14-dev libclang-rt-14-dev
    # comparison tool: peers, kernel syscall counting, plots
    libuv1-dev libevent-dev libev-dev libboost-dev python3-matplotlib
    # Python package (python/) and CPython's own test suites it runs against
    python3.11-dev python3.11-venv libpython3.11-testsuite
)
if [ "$want_cross" = 1 ]; then
    packages+=(g++-aarch64-linux-gnu qemu-user python3-pip python3-venv)
    # The aarch64 Linux build links the target's own liburing and Boost.Test:
    # Debian's arm64 packages, installed beside the native ones (multiarch).
    packages+=(liburing-dev:arm64 libboost-test-dev:arm64)
    # Windows: mingw-w64's g++ with the posix thread model (std::thread),
    # and 64-bit Wine to run the tests (no wine32/i386 needed).
    packages+=(g++-mingw-w64-x86-64-posix mingw-w64-x86-64-dev binutils-mingw-w64-x86-64
               wine wine64)
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
if [ "$want_cross" = 1 ] && [ "$(dpkg --print-architecture)" != arm64 ] &&
   ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "bootstrap.sh: enabling the arm64 architecture for multiarch packages"
    $sudo dpkg --add-architecture arm64
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Zig (PyPI package ziglang, pinned: its bundled libc headers and clang
# change between releases) in a venv of its own under build/, because
# Debian's python3 refuses pip installs outside one. ci/toolchains/zig runs it.
if [ "$want_cross" = 1 ]; then
    zig_version=0.17.1
    venv=$(cd "$(dirname "$0")/.." && pwd)/build/zig-venv
    if ! "$venv/bin/python" -m ziglang version 2>/dev/null | grep -qx "$zig_version"; then
        echo "bootstrap.sh: installing ziglang $zig_version into $venv"
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install -q "ziglang==$zig_version"
    fi
fi
