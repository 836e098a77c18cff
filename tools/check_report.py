#!/usr/bin/env python3
"""Checks that a unipoll-compare report is complete and well-formed (not
how fast anything was: benchmarks are not tests).

    check_report.py --run path/to/unipoll-compare --out DIR   # run --quick, then check
    check_report.py --out DIR                                 # check an existing report

With --run, the expected backends and peers come from `unipoll-compare
--list`; every one must have numbers in every scenario it applies to.
"""
import argparse
import json
import os
import subprocess
import sys

WAKE_SCENARIOS = {
    "wake_sleeping": ["p50_ns", "p99_ns", "max_ns"],
    "wake_busy": ["p50_ns", "p99_ns"],
    "coalescing": ["wakes", "ns_per_wake"],
    "nonblocking_poll": ["ns_per_call"],
}
SYSCALL_KEYS = {
    "wake_sleeping": ["waker_syscalls", "sleeper_syscalls"],
    "wake_busy": ["waker_syscalls"],
    "coalescing": ["posts_per_wake"],
    "nonblocking_poll": ["syscalls_per_call"],
}
INFO_KEYS = ["machine", "os", "kernel", "arch", "cpu_model", "compiler", "date", "unipoll", "syscall_counting"]


def matplotlib_available():
    """Whether any interpreter unipoll-compare would try can import matplotlib."""
    candidates = [os.environ.get("UNIPOLL_COMPARE_PYTHON"), "python3", "/usr/bin/python3", sys.executable]
    for py in filter(None, candidates):
        try:
            if subprocess.run([py, "-c", "import matplotlib"], capture_output=True).returncode == 0:
                return True
        except OSError:
            pass
    return False


def check(out, expected):
    errors = []
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    if rep.get("tool") != "unipoll-compare":
        errors.append("report.json: tool is not unipoll-compare")
    info = rep.get("info", {})
    errors += [f"info.{k} missing or empty" for k in INFO_KEYS if not info.get(k)]
    kernel_counts = info.get("syscall_counting", "").startswith("kernel")

    subjects = {s["name"]: s for s in rep.get("subjects", [])}
    if expected is None:
        expected = {"backends": [n for n, s in subjects.items() if s["kind"] == "unipoll"],
                    "peers": [n for n, s in subjects.items() if s["kind"] != "unipoll"]}
    if not expected["backends"]:
        errors.append("no unipoll backend in the report")
    for name in expected["backends"] + expected["peers"]:
        if name not in subjects:
            errors.append(f"{name}: not among the report's subjects")
        elif not subjects[name].get("version"):
            errors.append(f"{name}: no version")

    def find(scenario, subject):
        return [r for r in rep.get("records", []) if r["scenario"] == scenario and r["subject"] == subject]

    for name in expected["backends"] + expected["peers"]:
        for scenario, keys in WAKE_SCENARIOS.items():
            recs = find(scenario, name)
            if len(recs) != 1:
                errors.append(f"{scenario}/{name}: {len(recs)} records, expected 1")
                continue
            values = recs[0].get("values", {})
            if recs[0].get("note", "").startswith("failed"):
                errors.append(f"{scenario}/{name}: {recs[0]['note']}")
            wanted = keys + (SYSCALL_KEYS[scenario] if kernel_counts or name in expected["backends"] else [])
            errors += [f"{scenario}/{name}: no {k}" for k in wanted if not isinstance(values.get(k), (int, float))]
            if scenario.startswith("wake") and len(recs[0].get("percentiles_ns", [])) != 101:
                errors.append(f"{scenario}/{name}: percentiles_ns should hold 101 values")
    for name in expected["backends"]:
        cells = find("readiness", name)
        if not cells or any("events_per_s" not in r["values"] and "skipped" not in r.get("note", "") for r in cells):
            errors.append(f"readiness/{name}: missing or incomplete ({len(cells)} cells)")
        reg = find("registration", name)
        if len(reg) != 1 or "pairs_per_s" not in reg[0]["values"]:
            errors.append(f"registration/{name}: missing")

    goals = rep.get("goals", [])
    if not goals:
        errors.append("no goals evaluated")
    errors += [f"goal without a result field: {g}" for g in goals if "met" not in g]

    md_path = os.path.join(out, "report.md")
    if not os.path.exists(md_path):
        errors.append("report.md missing")
    else:
        with open(md_path) as f:
            md = f.read()
        errors += [f"report.md: no section {s}" for s in ("## Results", "## Goals") if s not in md]
        errors += [f"report.md: {n} not mentioned" for n in subjects if n not in md]

    picture = rep.get("picture")
    if picture:
        path = os.path.join(out, picture)
        with open(path, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                errors.append(f"{picture}: not a PNG")
    elif matplotlib_available():
        errors.append(f"matplotlib is installed but no picture was drawn: {rep.get('picture_note')}")
    elif "matplotlib" not in rep.get("picture_note", ""):
        errors.append(f"no picture, and the note does not say why: {rep.get('picture_note')}")
    return errors, rep


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", help="unipoll-compare executable to run with --quick")
    ap.add_argument("--out", required=True, help="report directory")
    args = ap.parse_args()
    expected = None
    if args.run:
        listed = subprocess.run([args.run, "--list"], capture_output=True, text=True, check=True)
        expected = json.loads(listed.stdout)
        run = subprocess.run([args.run, "--quick", "--out", args.out], capture_output=True, text=True)
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr)
        if run.returncode != 0:
            print(f"check_report: unipoll-compare --quick exited with {run.returncode}")
            return 1
    errors, rep = check(args.out, expected)
    for e in errors:
        print(f"check_report: {e}")
    if errors:
        return 1
    print(f"check_report: ok: {len(rep['subjects'])} subjects, {len(rep['records'])} records, "
          f"{len(rep['goals'])} goals, picture: {rep.get('picture') or 'none (' + rep.get('picture_note', '') + ')'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
