#!/usr/bin/env python3
"""Checks that a unipoll-compare report is complete and well-formed (not
how fast anything was: benchmarks are not tests).

    check_report.py --run path/to/unipoll-compare --out DIR   # run --quick, then check
    check_report.py --out DIR                                 # check an existing report

With --run, the expected backends and peers come from `unipoll-compare
--list`; every one must have numbers in every scenario and at every size
the run asked for (report.json "sizes"), and an echo record with at least
1,000 connections. A scenario the build leaves out (report.json
"not_built", e.g. echo on Windows) must instead have a row per subject and
size that says it was skipped and why.
"""
import argparse
import json
import os
import subprocess
import sys

# Keys every record of a scenario must carry, and those it carries when
# system calls are counted (by the kernel, or by unipoll's stats() for its
# own backends outside echo).
TIMED = ["p50_ns", "p99_ns", "runs"]
KEYS = {
    "wake_sleeping": TIMED + ["max_ns", "first_round_ns"],
    "wake_busy": TIMED + ["first_round_ns"],
    "coalescing": TIMED + ["wakes", "ns_per_wake", "first_round_ns"],
    "nonblocking_poll": TIMED + ["ns_per_call", "first_round_ns"],
    "readiness": TIMED + ["registered", "ready", "events_per_s", "first_round_ns"],
    "registration": TIMED + ["fds", "pairs_per_s", "first_round_ns"],
    "echo": TIMED + ["connections", "in_flight", "requests_per_s", "cpu_ns_per_request",
                     "warmup_requests_per_s"],
}
SYSCALL_KEYS = {
    "wake_sleeping": ["waker_syscalls", "sleeper_syscalls"],
    "wake_busy": ["waker_syscalls"],
    "coalescing": ["posts_per_wake"],
    "nonblocking_poll": ["syscalls_per_call"],
    "readiness": ["syscalls_per_round"],
    "registration": ["syscalls_per_pair"],
    "echo": ["server_syscalls_per_request"],
}
SECTIONS = ["## Results", "## Goals", "### 5. Readiness", "### 6. Registration", "### 7. Echo"]
INFO_KEYS = ["machine", "os", "kernel", "arch", "cpu_model", "compiler", "date", "unipoll", "syscall_counting",
             "mode", "runs"]
MIN_ECHO_CONNECTIONS = 1000


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


def expected_cells(sizes):
    """(scenario, {key: value}) for every record the sizes ask of a subject."""
    registered, ready = sizes.get("registered", []), sizes.get("ready", [])
    cells = [(s, {}) for s in ("wake_sleeping", "wake_busy", "coalescing", "nonblocking_poll")]
    cells += [("readiness", {"registered": n, "ready": k}) for n in registered for k in ready if k <= n]
    cells += [("registration", {"fds": n}) for n in registered]
    cells += [("echo", {"connections": c}) for c in sizes.get("connections", [])]
    return cells


def check(out, expected):
    errors = []
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    if rep.get("tool") != "unipoll-compare":
        errors.append("report.json: tool is not unipoll-compare")
    info = rep.get("info", {})
    errors += [f"info.{k} missing or empty" for k in INFO_KEYS if not info.get(k)]
    kernel_counts = info.get("syscall_counting", "").startswith("kernel")
    sizes = rep.get("sizes", {})
    for key in ("registered", "ready", "connections"):
        if not sizes.get(key):
            errors.append(f"sizes.{key} missing: the report does not say what it measured")

    subjects = {s["name"]: s for s in rep.get("subjects", [])}
    if expected is None:
        expected = {"backends": [n for n, s in subjects.items() if s["kind"] == "unipoll"],
                    "peers": [n for n, s in subjects.items() if s["kind"] != "unipoll"]}
    if not expected["backends"]:
        errors.append("no unipoll backend in the report")
    for name in expected["backends"] + expected["peers"]:
        if name not in subjects:
            errors.append(f"{name}: not among the report's subjects")
            continue
        errors += [f"{name}: no {k}" for k in ("version", "mechanism", "fds_detail", "echo_detail")
                   if not subjects[name].get(k)]

    not_built = rep.get("not_built", {})
    errors += [f"not_built.{k}: no reason given" for k, why in not_built.items() if not why]

    def find(scenario, subject, where):
        return [r for r in rep.get("records", []) if r["scenario"] == scenario and r["subject"] == subject
                and all(r.get("values", {}).get(k) == v for k, v in where.items())]

    for name in expected["backends"] + expected["peers"]:
        for scenario, where in expected_cells(sizes):
            label = scenario + "".join(f" {k}={v:g}" for k, v in where.items()) + f"/{name}"
            recs = find(scenario, name, where)
            if len(recs) != 1:
                errors.append(f"{label}: {len(recs)} records, expected 1")
                continue
            rec = recs[0]
            note = rec.get("note", "")
            if scenario in not_built:
                if note != "skipped: " + not_built[scenario]:
                    errors.append(f"{label}: the scenario is not built, but the row does not say so: {note!r}")
                continue
            if note.startswith("failed"):
                errors.append(f"{label}: {note}")
                continue
            if note.startswith("skipped") and scenario in ("readiness", "registration"):
                if where.get("registered", where.get("fds")) == min(sizes["registered"]):
                    errors.append(f"{label}: the smallest size must be measured: {note}")
                continue
            if note.startswith("skipped") and where["connections"] == min(sizes["connections"]):
                errors.append(f"{label}: the smallest connection count must be measured: {note}")
                continue
            if note.startswith("skipped"):
                continue
            values = rec.get("values", {})
            counted = kernel_counts or (name in expected["backends"] and scenario != "echo")
            wanted = KEYS[scenario] + (SYSCALL_KEYS[scenario] if counted else [])
            errors += [f"{label}: no {k}" for k in wanted if not isinstance(values.get(k), (int, float))]
            if scenario.startswith("wake") and len(rec.get("percentiles_ns", [])) != 101:
                errors.append(f"{label}: percentiles_ns should hold 101 values")
            if values.get("runs", 0) > 1 and not isinstance(rec.get("spread", {}), dict):
                errors.append(f"{label}: spread is not an object")
        measured = [r for r in find("echo", name, {}) if "requests_per_s" in r.get("values", {})]
        if "echo" not in not_built and not any(r["values"].get("connections", 0) >= MIN_ECHO_CONNECTIONS for r in measured):
            errors.append(f"echo/{name}: no measured record with >= {MIN_ECHO_CONNECTIONS} connections")

    goals = rep.get("goals", [])
    if not goals:
        errors.append("no goals evaluated")
    errors += [f"goal without a result field: {g}" for g in goals if "met" not in g]
    # The echo goals need echo measurements.
    for what in ("readiness",) + (() if "echo" in not_built else ("echo", "io_uring requests/s")):
        if not any(what in g.get("goal", "") for g in goals):
            errors.append(f"no goal about {what}")

    md_path = os.path.join(out, "report.md")
    if not os.path.exists(md_path):
        errors.append("report.md missing")
    else:
        with open(md_path) as f:
            md = f.read()
        errors += [f"report.md: no section {s}" for s in SECTIONS if s not in md]
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
