#!/usr/bin/env bash
# Time-boxed fuzzing of every backend (tests/fuzz, docs/fuzzing.md): builds
# the libFuzzer targets with clang, ASan and UBSan in build/fuzz, then runs
# each backend's fuzzer for UNIPOLL_FUZZ_SECONDS (default 60) on a scratch
# copy of tests/fuzz/corpus, so nothing is written into the source tree.
# Fails if a fuzzer finds a crash, a hang or a divergence from the
# reference model, or if a backend named in UNIPOLL_REQUIRE_BACKENDS is
# unavailable. Crash inputs are left in build/fuzz/runs/<backend>/.
# On Linux kqueue and kqueue-pipe run on the test-only kqueue emulation,
# once per personality (UNIPOLL_KQUEUE_EMULATION=freebsd, darwin), each for
# the full time, as <backend>.<personality>.
#   ci/fuzz.sh [backend...]        (default: every fuzz target built)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${UNIPOLL_FUZZ_SECONDS:-60}
build=build/fuzz
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# A backend directory may be absent on a branch that does not have it yet.
extra=()
[ -f backends/io_uring/CMakeLists.txt ] || extra+=(-DUNIPOLL_WITH_IO_URING=OFF)

echo "=== fuzz: configure and build ($build)"
# fuzzer-no-link instruments the library itself, so coverage guides the
# fuzzer through backend code, not only through the harness.
cmake -S . -B "$build" -G Ninja \
    -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$sanitize -fsanitize=fuzzer-no-link" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DUNIPOLL_FUZZ_ENGINE=libfuzzer \
    -DUNIPOLL_BUILD_EXAMPLES=OFF -DUNIPOLL_BUILD_TOOLS=OFF \
    "${extra[@]}" >/dev/null
cmake --build "$build" --target unipoll_fuzzers -j 2

backends=("$@")
if [ ${#backends[@]} -eq 0 ]; then
    for exe in "$build"/tests/fuzz/unipoll-fuzz-*; do
        backends+=("${exe##*/unipoll-fuzz-}")
    done
fi

required=",${UNIPOLL_REQUIRE_BACKENDS:-},"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The runs: a backend, or a kqueue variant under each emulation personality.
runs=()
for b in "${backends[@]}"; do
    if [[ "$b" == kqueue* && "$(uname -s)" == Linux ]]; then
        runs+=("$b.freebsd" "$b.darwin")
    else
        runs+=("$b")
    fi
done

status=0
summary=()
for name in "${runs[@]}"; do
    b=${name%%.*}
    personality=""
    [ "$name" = "$b" ] || personality=${name#*.}
    exe="$PWD/$build/tests/fuzz/unipoll-fuzz-$b"
    run="$build/runs/$name"
    rm -rf "$run"
    mkdir -p "$run/corpus"
    cp tests/fuzz/corpus/* "$run/corpus/"
    echo "=== fuzz: $name for ${seconds}s"
    rc=0
    # -timeout: an input that runs 10 s is a hang (a lost wake blocks a
    # poll for good), reported like a crash. libFuzzer's failure status
    # defaults to 77, the harness's "backend unavailable": make it 1.
    (cd "$run" && UNIPOLL_KQUEUE_EMULATION=$personality "$exe" -max_total_time="$seconds" -timeout=10 \
        -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
        -artifact_prefix="$PWD/" corpus) >"$run/log" 2>&1 || rc=$?
    runs_done=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -n1)
    runs_done=${runs_done:--}
    if [ "$rc" -eq 0 ]; then
        result="ok"
    elif [ "$rc" -eq 77 ]; then
        result="skipped ($(sed -n 's/.*SKIPPED [^:]*: //p' "$run/log" | head -n1))"
        if [[ "$required" == *",$b,"* || "$required" == *",$name,"* ]]; then
            result="FAILED: required but $result"
            status=1
        fi
    else
        artifact=$(ls "$run"/crash-* "$run"/timeout-* "$run"/oom-* "$run"/leak-* 2>/dev/null | head -n1 || true)
        result="FAILED (exit $rc${artifact:+, input $artifact})"
        status=1
        echo "--- $name: what the fuzzer reported"
        grep -E -A70 'unipoll fuzz: .*divergence|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' \
            "$run/log" | head -n 90 || tail -n 40 "$run/log"
    fi
    summary+=("$(printf '%-20s %12s  %s' "$name" "$runs_done" "$result")")
done

echo
echo "=== fuzz summary (${seconds}s per backend)"
printf '%-20s %12s  %s\n' backend runs result
printf '%s\n' "${summary[@]}"
exit "$status"
