#!/usr/bin/env bash
# Installs unipoll to a prefix (static, then shared) and builds and runs the
# consumer projects of tests/package against it: one with find_package, one
# with pkg-config; then one that builds unipoll with add_subdirectory.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/build/package"
rm -rf "$root"
for kind in static shared; do
    shared=OFF
    [ "$kind" = shared ] && shared=ON
    echo "== $kind: build and install unipoll"
    cmake -S . -B "$root/$kind/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_SHARED_LIBS=$shared -DUNIPOLL_BUILD_TESTS=OFF -DUNIPOLL_BUILD_TOOLS=OFF \
        -DUNIPOLL_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$root/$kind/build"
    cmake --install "$root/$kind/build" --prefix "$root/$kind/prefix" >/dev/null
    for consumer in cmake pkgconfig; do
        echo "== $kind: $consumer consumer"
        cmake -S tests/package/$consumer -B "$root/$kind/$consumer" -G Ninja \
            -DCMAKE_PREFIX_PATH="$root/$kind/prefix" >/dev/null
        cmake --build "$root/$kind/$consumer" >/dev/null
        LD_LIBRARY_PATH="$root/$kind/prefix/lib" "$root/$kind/$consumer/consumer"
    done
done
echo "== add_subdirectory consumer"
cmake -S tests/package/subdirectory -B "$root/subdirectory" -G Ninja >/dev/null
cmake --build "$root/subdirectory" >/dev/null
"$root/subdirectory/consumer"
echo "package: static and shared installs consumed by find_package and pkg-config; add_subdirectory works"
