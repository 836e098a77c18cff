#!/usr/bin/env bash
# Model-checks the wake protocol (wake_protocol.pml, a transcription of
# core/src/poller_core.cpp) with spin, in both directions:
#  - the model as implemented verifies with 0 errors for every kernel mode
#    (merging, queuing, packets, pipe), with the sleeper waiting forever and
#    early returns (timeouts), and every branch of the protocol is reached;
#  - every mutant is caught (an error) in at least one of those runs.
# Prints a table and exits non-zero if any expectation fails.
#
# Usage: tests/model/check.sh            (SPIN, CC and JOBS may be set)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model="$here/wake_protocol.pml"

modes=(merging queuing packets pipe)
waits=(forever timeouts)
variants=(correct no_relay announce_late reset_early swallow)
# 2 wakers x 2 wakes, 2 non-blocking pollers x 2 polls; "timeouts" lets the
# blocking wait return early twice before it waits forever.
bounds=(-DWAKERS=2 -DWAKES_PER_WAKER=2 -DPOLLERS=2 -DPOLLS_PER_POLLER=2)

find_tool() {  # first of the names that is on PATH
    local t
    for t in "$@"; do
        if [[ -n "$t" ]] && command -v "$t" >/dev/null 2>&1; then
            command -v "$t"
            return 0
        fi
    done
    return 1
}

# One spin + pan run in its own directory (spin writes pan.* into the
# current one). Writes <dir>/result: "<errors> <states> <first error line>".
run_one() {
    local variant=$1 mode=$2 wait=$3 dir=$4
    local -a defs=("${bounds[@]}" "-DKERNEL_${mode^^}")
    [[ $wait == timeouts ]] && defs+=(-DEARLY_RETURNS=2) || defs+=(-DEARLY_RETURNS=0)
    [[ $variant != correct ]] && defs+=("-DMUTANT_${variant^^}")
    mkdir -p "$dir"
    cd "$dir"
    cp "$model" .
    if ! "$spin" -a "${defs[@]}" wake_protocol.pml >spin.log 2>&1; then
        echo "- - spin failed: $(head -n 1 spin.log)" >result
        return 0
    fi
    # SAFETY: assertions and invalid end states; COLLAPSE keeps the largest
    # run near 200 MB.
    if ! "$cc" -O1 -DSAFETY -DCOLLAPSE -o pan pan.c >cc.log 2>&1; then
        echo "- - cc failed: $(head -n 1 cc.log)" >result
        return 0
    fi
    ./pan -m100000 -w22 >pan.log 2>&1 || true
    local errors states first
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | head -n 1)
    states=$(awk '/states, stored/ {print $1; exit}' pan.log)
    first=$(grep -m 1 -E '^pan:[0-9]+:|max search depth too small' pan.log || true)
    echo "${errors:--} ${states:--} ${first}" >result
    # The counterexample of an unexpected error, to print in the report.
    if [[ $variant == correct && ${errors:-0} != 0 && -f wake_protocol.pml.trail ]]; then
        "$spin" -t -p -g "${defs[@]}" wake_protocol.pml >trail.txt 2>&1 || true
    fi
}

# Branches pan never took, other than the sleeper's endless loop exit. In
# pipe mode the non-blocking poller never sees the wake event, so its
# wake-event branches are unreachable by design.
unreached() {
    local mode=$1 log=$2
    awk -v mode="$mode" '
        /^unreached in proctype/ { proc = $4; next }
        /, state [0-9]+, "/ && !/"-end-"/ {
            if (mode == "pipe" && proc == "nonblocking_poller") next
            print proc ": " $0
        }' "$log"
}

if [[ ${1:-} == --one ]]; then
    spin=$2 cc=$3
    run_one "$4" "$5" "$6" "$7"
    exit 0
fi

spin=$(find_tool "${SPIN:-}" spin) || { echo "check.sh: spin not found (Debian: apt-get install spin)" >&2; exit 2; }
cc=$(find_tool "${CC:-}" cc gcc clang) || { echo "check.sh: no C compiler (cc, gcc, clang) found" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/unipoll-model.XXXXXX")
trap 'rm -rf "$work"' EXIT

start=$SECONDS
for v in "${variants[@]}"; do
    for m in "${modes[@]}"; do
        for w in "${waits[@]}"; do
            printf '%s\0' --one "$spin" "$cc" "$v" "$m" "$w" "$work/$v.$m.$w"
        done
    done
done | xargs -0 -n 7 -P "${JOBS:-2}" "$BASH" "${BASH_SOURCE[0]}" || true

# A cell per run: what spin found, or "verified".
cell() {
    local v=$1 m=$2 w=$3 errors=- states first
    [[ -f $work/$v.$m.$w/result ]] && read -r errors states first <"$work/$v.$m.$w/result"
    if [[ $errors == - ]]; then
        echo "FAILED TO RUN"
    elif [[ $first == *"max search depth"* ]]; then
        echo "INCOMPLETE"
    elif [[ $errors == 0 ]]; then
        echo "verified, $states states"
    elif [[ $first == *"pending==0"* ]]; then
        echo "LOST: wake pending"
    elif [[ $first == *"seen==published"* ]]; then
        echo "LOST: request unseen"
    elif [[ $first == *"invalid end state"* ]]; then
        echo "invalid end state"
    else
        echo "error: ${first#pan:1: }"
    fi
}

failed=0
printf '\n%-8s %-9s' kernel wait
for v in "${variants[@]}"; do printf ' %-24s' "$v"; done
printf '\n'
for m in "${modes[@]}"; do
    for w in "${waits[@]}"; do
        printf '%-8s %-9s' "$m" "$w"
        for v in "${variants[@]}"; do printf ' %-24s' "$(cell "$v" "$m" "$w")"; done
        printf '\n'
    done
done

cat <<'LEGEND'

LOST: wake pending    at quiescence the sleeper waits in the kernel with pending == 1
LOST: request unseen  at quiescence a request published before wake() was never seen
LEGEND
printf '\n%-15s %-7s %s\n' variant verdict "expected: the correct model verifies everywhere, each mutant is caught"
details=()
for v in "${variants[@]}"; do
    verdict=PASS
    found=()
    for m in "${modes[@]}"; do
        for w in "${waits[@]}"; do
            c=$(cell "$v" "$m" "$w")
            if [[ $v == correct ]]; then
                if [[ $c != verified* ]]; then
                    verdict=FAIL
                    details+=("correct model, $m/$w: $c: $(cat "$work/$v.$m.$w/result")")
                    if [[ -f $work/$v.$m.$w/trail.txt ]]; then
                        details+=("counterexample ($m/$w), last steps:"$'\n'"$(tail -n 40 "$work/$v.$m.$w/trail.txt")")
                    fi
                else
                    u=$(unreached "$m" "$work/$v.$m.$w/pan.log")
                    if [[ -n $u ]]; then
                        verdict=FAIL
                        details+=("correct model, $m/$w: unreached code (the run is vacuous):"$'\n'"$u")
                    fi
                fi
            else
                case $c in
                    LOST*|"invalid end state"|error:*) [[ " ${found[*]} " == *" $m "* ]] || found+=("$m") ;;
                    verified*) ;;
                    *) verdict=FAIL; details+=("mutant $v, $m/$w: $c") ;;
                esac
            fi
        done
    done
    if [[ $v == correct ]]; then
        note="0 errors in all ${#modes[@]}x${#waits[@]} runs, every branch reached"
        [[ $verdict == PASS ]] || note="see below"
    elif ((${#found[@]} == 0)); then
        verdict=FAIL
        note="not caught in any kernel mode"
    else
        list="${found[*]}"
        note="caught in: ${list// /, }"
    fi
    [[ $verdict == FAIL ]] && failed=1
    printf '%-15s %-7s %s\n' "$v" "$verdict" "$note"
done
printf '\n'

for d in "${details[@]}"; do echo "FAIL: $d"; done
echo "spin: $("$spin" -V | head -n 1); ${#modes[@]}x${#waits[@]}x${#variants[@]} runs in $((SECONDS - start)) s"
if ((failed)); then
    echo "wake protocol model check: FAILED"
    exit 1
fi
echo "wake protocol model check: all expectations met"
