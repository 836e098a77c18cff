#!/usr/bin/env bash
# Installs unipoll the way README.md's "Install" section says (the default
# static library, then a shared one, each from a clean build directory) and
# builds and runs tests/package/consumer.cpp against each install with the
# commands a user types: a plain `g++ ... $(pkg-config --cflags --libs
# unipoll)`, CMake's find_package, and CMake's pkg_check_modules; then
# builds unipoll inside a consumer with add_subdirectory. Also checks that
# pkg-config's Version, the header's UNIPOLL_VERSION and unipoll::version()
# agree, and that only the static install puts liburing on plain --libs.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$PWD"
root="$PWD/build/package"
rm -rf "$root"
version=""

# The consumer prints "consumer: unipoll <version>, <backend> backend, ok".
run_consumer() {
    local out
    out=$("$@")
    echo "$out"
    case "$out" in
        "consumer: unipoll $version, "*", ok") ;;
        *) echo "package-test: expected unipoll $version and ok" >&2; exit 1 ;;
    esac
}

for kind in static shared; do
    build="$root/$kind/build"
    prefix="$root/$kind/prefix"
    options=(-DCMAKE_BUILD_TYPE=Release -DUNIPOLL_BUILD_TESTS=OFF)
    [ "$kind" = shared ] && options+=(-DBUILD_SHARED_LIBS=ON)
    echo "== $kind: build and install unipoll"
    cmake -B "$build" "${options[@]}" >/dev/null
    cmake --build "$build" --parallel >/dev/null
    cmake --install "$build" --prefix "$prefix" >/dev/null
    version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")

    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
    # Only needed for the shared library, which is not in a system directory.
    export LD_LIBRARY_PATH="$prefix/lib"
    [ "$(pkg-config --modversion unipoll)" = "$version" ] ||
        { echo "package-test: pkg-config Version is not $version" >&2; exit 1; }
    libs=$(pkg-config --libs unipoll)
    echo "pkg-config --libs unipoll: $libs"
    if grep -q 'UNIPOLL_WITH_IO_URING:BOOL=ON' "$build/CMakeCache.txt"; then
        case "$kind:$libs" in
            static:*-luring*) ;;
            static:*) echo "package-test: a static unipoll.pc must put liburing on plain --libs" >&2; exit 1 ;;
            shared:*-luring*) echo "package-test: a shared unipoll.pc must keep liburing private" >&2; exit 1 ;;
        esac
    fi

    echo "== $kind: g++ with pkg-config"
    mkdir -p "$root/$kind/plain"
    (cd "$root/$kind/plain" &&
        g++ -std=c++20 -o consumer "$src/tests/package/consumer.cpp" $(pkg-config --cflags --libs unipoll) &&
        run_consumer ./consumer)
    # Forgetting -std=c++20 (g++ 12 defaults to C++17) gets one plain error.
    if g++ -fsyntax-only "$src/tests/package/consumer.cpp" $(pkg-config --cflags unipoll) \
            2>"$root/$kind/plain/cxx17.log" ||
       ! grep -q 'unipoll needs C++20' "$root/$kind/plain/cxx17.log"; then
        echo "package-test: compiling as C++17 did not fail with 'unipoll needs C++20'" >&2
        exit 1
    fi

    for consumer in cmake pkgconfig; do
        echo "== $kind: CMake consumer ($consumer)"
        cmake -S tests/package/$consumer -B "$root/$kind/$consumer" \
            -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
        cmake --build "$root/$kind/$consumer" >/dev/null
        run_consumer "$root/$kind/$consumer/consumer"
    done
    unset PKG_CONFIG_PATH LD_LIBRARY_PATH
done

echo "== add_subdirectory consumer"
cmake -S tests/package/subdirectory -B "$root/subdirectory" >/dev/null
cmake --build "$root/subdirectory" --parallel >/dev/null
run_consumer "$root/subdirectory/consumer"
echo "package: static and shared installs consumed by g++ + pkg-config, find_package and pkg_check_modules; add_subdirectory works"
