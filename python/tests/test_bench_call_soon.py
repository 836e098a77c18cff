"""python/bench/call_soon_threadsafe.py, run as a user would: it measures
every loop, and where the kernel counts system calls the counts say what
the README claims of unipoll's wakeup (exact counts, not timings)."""
import json
import pathlib
import subprocess
import sys

import pytest

import unipoll

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "bench" / "call_soon_threadsafe.py"


@pytest.fixture(scope="module")
def rows():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--rounds", "200", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def row(rows, subject, scenario):
    found = [r for r in rows if r["subject"] == subject and r["scenario"] == scenario]
    assert len(found) == 1, f"{subject} {scenario}: {len(found)} rows"
    return found[0]


def test_every_loop_is_measured(rows):
    for scenario in ("idle", "busy"):
        for subject in ["builtin"] + [f"unipoll:{b}" for b in unipoll.available_backends()]:
            r = row(rows, subject, scenario)
            assert r["rounds"] == 200
            assert 0 < r["p50_us"] <= r["p99_us"]


def test_unipoll_wake_costs_what_the_readme_says(rows):
    if not all(r["counted"] for r in rows):
        pytest.skip("perf_event_open refused here: no system call counts")
    for b in unipoll.available_backends():
        busy = row(rows, f"unipoll:{b}", "busy")
        assert busy["caller_sc_per_call"] == 0, busy  # nobody asleep: no syscall
        # Asleep: one post at most (none where the loop was not back asleep
        # yet on a loaded machine), and the loop's wait, plus for poll(2) the
        # drain of its wake pipe; never more.
        idle = row(rows, f"unipoll:{b}", "idle")
        assert 0.8 <= idle["caller_sc_per_call"] <= 1, idle
        assert idle["loop_sc"] <= (2 if b == "poll" else 1) + 0.05, idle
    # The built-in loop's self-pipe: send, and the loop's wait and two recvs.
    builtin = row(rows, "builtin", "idle")
    assert builtin["caller_sc_per_call"] + builtin["loop_sc"] >= 3.5, builtin
