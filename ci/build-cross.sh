#!/usr/bin/env bash
# Builds every cross preset (CMakePresets.json, cross-*): aarch64 Linux with
# Debian's cross g++, whose tests then run under qemu-user; x86_64 Windows
# with mingw-w64's g++, whose tests (and a unipoll-compare smoke run) run
# under Wine; and macOS, FreeBSD and NetBSD with Zig's clang, which only
# compile and link. Checks with `file` that the executables are for the
# right OS and architecture, prints a table (target, build, tests, seconds,
# `file` of the conformance runner) and exits non-zero if anything failed.
#
#   ci/build-cross.sh [preset...]     default: every cross preset
#
# Logs: build/cross-logs/<preset>.log
set -uo pipefail
cd "$(dirname "$0")/.."

all_presets=(cross-aarch64-linux cross-x86_64-windows cross-aarch64-macos cross-x86_64-macos
             cross-x86_64-freebsd cross-aarch64-freebsd cross-x86_64-netbsd)
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=("${all_presets[@]}")
jobs=${UNIPOLL_JOBS:-2}

ci/bootstrap.sh --cross || exit 1

logs=build/cross-logs
mkdir -p "$logs"

# What `file` must say about a target's executables.
expected_format() {
    case "$1" in
        cross-aarch64-linux)   echo 'ELF 64-bit LSB .*ARM aarch64.*GNU/Linux' ;;
        cross-aarch64-macos)   echo 'Mach-O 64-bit arm64 executable' ;;
        cross-x86_64-macos)    echo 'Mach-O 64-bit x86_64 executable' ;;
        cross-x86_64-freebsd)  echo 'ELF 64-bit LSB .*x86-64.*FreeBSD' ;;
        cross-aarch64-freebsd) echo 'ELF 64-bit LSB .*ARM aarch64.*FreeBSD' ;;
        cross-x86_64-netbsd)   echo 'ELF 64-bit LSB .*x86-64.*NetBSD' ;;
        cross-x86_64-windows)  echo 'PE32\+ executable .*x86-64.*MS Windows' ;;
    esac
}

# Executables the build must produce: the conformance runner, the
# comparison tool and the examples (POSIX programs: not on Windows, where
# unipoll-first-poller, with its own process spawning, is checked instead).
required_outputs() {
    case "$1" in
        cross-x86_64-windows)
            echo tests/conformance/unipoll-conformance.exe tools/unipoll-compare.exe \
                 tools/unipoll-first-poller.exe ;;
        *)
            echo tests/conformance/unipoll-conformance tools/unipoll-compare \
                 examples/echo_server examples/signal_wake ;;
    esac
}

# ctest of a preset whose tests run under an emulator, with a JUnit report
# in $dir/cross-tests.xml; returns ctest's status.
run_cross_ctest() {
    local preset=$1 dir=$2 log=$3
    echo "-- ctest --preset $preset" >>"$log"
    ctest --preset "$preset" --output-junit "$PWD/$dir/cross-tests.xml" >>"$log" 2>&1
}

# Every named test of the JUnit report ran and passed (a skip does not).
tests_passed() {
    python3 - "$@" <<'EOF'
import sys, xml.etree.ElementTree as ET
cases = {c.get("name"): c for c in ET.parse(sys.argv[1]).iter("testcase")}
for name in sys.argv[2:]:
    c = cases.get(name)
    if c is None or c.get("status") != "run" or c.find("failure") is not None:
        sys.exit(name + ": did not pass")
print(", ".join(sys.argv[2:]) + ": passed")
EOF
}

# Under qemu-user io_uring_setup fails with ENOSYS: the io_uring suite must
# be a visible skip that says so, while epoll, poll and the emulated kqueue
# suites of both personalities must really run (the test preset's
# UNIPOLL_REQUIRE_BACKENDS names them: skipping one fails, and
# ci/required_suites.py checks each ran and passed).
check_qemu_tests() {
    local preset=$1 dir=$2 log=$3
    run_cross_ctest "$preset" "$dir" "$log"
    local ctest_status=$?
    python3 - "$dir/cross-tests.xml" >>"$log" 2>&1 <<'EOF' || return 1
import re, sys, xml.etree.ElementTree as ET
cases = {c.get("name"): c for c in ET.parse(sys.argv[1]).iter("testcase")}
uring = cases.get("conformance.io_uring")
if uring is None:
    sys.exit("conformance.io_uring: not registered")
if uring.find("skipped") is None:
    sys.exit("conformance.io_uring: ran under qemu-user, expected a skip")
out = "".join(uring.itertext())
if not re.search(r"SKIPPED io_uring:.*(ENOSYS|[Ff]unction not implemented)", out):
    sys.exit("conformance.io_uring: skipped without an ENOSYS reason:\n" + out[-2000:])
print("qemu: io_uring skipped with ENOSYS")
EOF
    local required
    required=$(python3 -c 'import json, sys
presets = json.load(open("CMakePresets.json"))["testPresets"]
print(next(p for p in presets if p["name"] == sys.argv[1])["environment"]["UNIPOLL_REQUIRE_BACKENDS"])' \
        "$preset") || return 1
    python3 ci/required_suites.py "$dir/cross-tests.xml" "$required" >>"$log" 2>&1 || return 1
    return $ctest_status
}

# Under Wine both Windows suites must really run and pass (the test preset
# sets UNIPOLL_REQUIRE_BACKENDS=iocp,poll: skipping them fails), so must
# unipoll-first-poller's smoke test, and unipoll-compare must produce a
# report (a smoke run: no numbers from Wine are kept) in which nothing
# failed and the echo scenario, not built for Windows, is a visible skip
# on every subject.
check_wine_tests() {
    local preset=$1 dir=$2 log=$3
    run_cross_ctest "$preset" "$dir" "$log" || return 1
    tests_passed "$dir/cross-tests.xml" conformance.iocp conformance.poll compare.first_poller \
        >>"$log" 2>&1 || return 1
    echo "-- unipoll-compare under Wine (smoke run, small sizes)" >>"$log"
    rm -rf "$dir/compare-smoke"
    ci/toolchains/wine-run "$dir/tools/unipoll-compare.exe" --quick --no-plot --rounds 300 \
        --wakes 2000 --calls 2000 --registered 100 --out "$dir/compare-smoke" >>"$log" 2>&1 || return 1
    python3 - "$dir/compare-smoke/report.json" >>"$log" 2>&1 <<'EOF'
import json, sys
rep = json.load(open(sys.argv[1]))
failed = [f"{r['scenario']}/{r['subject']}: {r['note']}" for r in rep["records"]
          if r.get("note", "").startswith("failed")]
if failed:
    sys.exit("compare smoke: measurements failed:\n" + "\n".join(failed))
why = rep.get("not_built", {}).get("echo")
if not why:
    sys.exit("compare smoke: report.json does not say that the echo scenario is not built")
echo = {r["subject"]: r.get("note", "") for r in rep["records"] if r["scenario"] == "echo"}
silent = [s["name"] for s in rep["subjects"] if echo.get(s["name"]) != "skipped: " + why]
if silent:
    sys.exit("compare smoke: echo rows that do not say they were skipped: " + ", ".join(silent))
print(f"compare smoke: {len(rep['records'])} records; echo skipped on every subject: {why}")
EOF
}

# `file` output without what does not tell targets apart.
describe_format() {
    sed -E 's/, (version 1 \([^)]+\)|dynamically linked|interpreter [^,]*|BuildID\[[^]]*\]=[0-9a-f]*|with debug_info|not stripped|stripped|FreeBSD-style)//g; s/, flags:.*//'
}

declare -A build tests format notes seconds
status=0
for preset in "${presets[@]}"; do
    dir=build/$preset
    log=$logs/$preset.log
    : >"$log"
    echo "== $preset (log: $log)"
    started=$SECONDS
    build[$preset]=ok
    tests[$preset]=-
    notes[$preset]=""
    if ! cmake --preset "$preset" >>"$log" 2>&1; then
        build[$preset]="configure failed"
    # -k 0: build all that can be built, so that the table names what failed.
    elif ! cmake --build --preset "$preset" -j "$jobs" -- -k 0 >>"$log" 2>&1; then
        build[$preset]=failed
        notes[$preset]="failed: $(sed -n 's|^FAILED: \([^ ]*\).*|\1|p' "$log" |
                                  sed 's|/CMakeFiles/.*||' | sort -u | paste -sd' ')"
    fi

    want=$(expected_format "$preset")
    format[$preset]=-
    runner=$dir/tests/conformance/unipoll-conformance
    [ -f "$runner.exe" ] && runner=$runner.exe
    [ -f "$runner" ] && format[$preset]=$(file -b "$runner" | describe_format)
    for out in $(required_outputs "$preset"); do
        if [ ! -f "$dir/$out" ]; then
            notes[$preset]+="${notes[$preset]:+; }missing $out"
        elif ! file -b "$dir/$out" | grep -Eq "$want"; then
            notes[$preset]+="${notes[$preset]:+; }wrong format: $out"
            echo "$out: $(file -b "$dir/$out") (want /$want/)" >>"$log"
        fi
    done
    if [ -n "${notes[$preset]}" ] && [ "${build[$preset]}" = ok ]; then
        build[$preset]=failed
    fi

    # Targets whose tests run here, under an emulator.
    emulator=""
    case "$preset" in
        cross-aarch64-linux) emulator=qemu ;;
        cross-x86_64-windows) emulator=wine ;;
    esac
    if [ -n "$emulator" ] && [ -f "$runner" ]; then
        if "check_${emulator}_tests" "$preset" "$dir" "$log"; then
            tests[$preset]="passed ($emulator)"
        else
            tests[$preset]="failed ($emulator)"
            failed=$(sed -n 's/^[[:space:]]*[0-9]* - \(.*\) (\(Failed\|Not Run\|Timeout\))$/\1/p' "$log" |
                     paste -sd' ')
            notes[$preset]+="${notes[$preset]:+; }tests failed: ${failed:-see log}"
        fi
    fi
    seconds[$preset]=$((SECONDS - started))
    if [ "${build[$preset]}" != ok ] || [[ ${tests[$preset]} == failed* ]]; then
        status=1
    fi
done

echo
printf '%-16s %-16s %-14s %7s  %s\n' target build tests seconds \
    "file tests/conformance/unipoll-conformance"
for preset in "${presets[@]}"; do
    printf '%-16s %-16s %-14s %7s  %s\n' "${preset#cross-}" "${build[$preset]}" \
        "${tests[$preset]}" "${seconds[$preset]}" "${format[$preset]}"
    [ -z "${notes[$preset]}" ] || printf '%-16s %s\n' "" "${notes[$preset]}"
done
exit "$status"
