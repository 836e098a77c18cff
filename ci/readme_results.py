#!/usr/bin/env python3
"""Copies the results of a full unipoll-compare run into README.md, between
the markers <!-- results:begin --> and <!-- results:end -->, so that the
README's numbers always come from a tool run (with its date and kernel),
and copies its picture to docs/compare-results.png.

    ci/readme_results.py [REPORT_DIR] [README.md]     default: report/compare README.md

REPORT_DIR holds report.json, report.md and report.png of a run without
--quick. The readiness table keeps its largest registered count and the
registration table its largest fd count (report.md has them all).
"""
import json
import os
import re
import shutil
import sys

# report.md section titles, and the column whose largest value a section
# keeps (None: every row).
SECTIONS = [
    ("1. Wake round trip", None),
    ("2. Wake, poller busy", None),
    ("4. Non-blocking poll", None),
    ("5. Readiness", "registered"),
    ("6. Registration", "fds"),
    ("7. Echo", None),
]
PICTURE = "docs/compare-results.png"


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def keep_largest(table, column):
    """The rows of a Markdown table whose `column` holds its largest value."""
    lines = table.splitlines()
    header, rule, rows = lines[0], lines[1], lines[2:]
    i = cells(header).index(column)
    largest = max(float(cells(r)[i]) for r in rows)
    return "\n".join([header, rule] + [r for r in rows if float(cells(r)[i]) == largest])


def section(md, title, column):
    """(heading, text) of the report.md section starting with `title`."""
    for part in re.split(r"^### ", md, flags=re.M)[1:]:
        heading, _, body = part.partition("\n")
        if not heading.startswith(title):
            continue
        body = body.strip()
        what, _, table = body.partition("\n\n|")
        table = "|" + table.split("\n\n")[0]
        if column:
            table = keep_largest(table, column)
            heading += f" ({column} = largest)"
        return heading, what.strip() + "\n\n" + table
    sys.exit(f"report.md: no section '{title}'")


def goals_table(rep):
    rows = [g for g in rep["goals"] if g["goal"].startswith(("readiness", "echo"))]
    result = {True: "met", False: "NOT MET", None: "not measured"}
    out = ["| goal | subject | evidence | result |", "|:--|:--|:--|:--|"]
    out += [f"| {g['goal']} | {g['subject']} | {g['evidence']} | {result[g['met']]} |" for g in rows]
    return "\n".join(out)


def main():
    report_dir = sys.argv[1] if len(sys.argv) > 1 else "report/compare"
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    with open(os.path.join(report_dir, "report.json")) as f:
        rep = json.load(f)
    info = rep["info"]
    if info.get("mode") != "full":
        sys.exit(f"{report_dir}: a --quick run ({info.get('mode')}); the README takes a full run's numbers")
    with open(os.path.join(report_dir, "report.md")) as f:
        md = f.read()

    out = [f"Measured by `unipoll-compare` on {info['date'][:10]}: {info['os']} {info['kernel'].split()[0]}, "
           f"{info['cpu_model']}, {info['cpus']} CPUs, {info['compiler']}; system call counting: "
           f"{info['syscall_counting']}. Each figure is the median of {info['runs']} runs; `±` is half their "
           "range. No numbers come from the kqueue emulation, which the tool never measures. "
           "Every table, and every size, is in the run's `report.md`.", ""]
    for title, column in SECTIONS:
        heading, body = section(md, title, column)
        out += [f"**{heading}**", "", body, ""]
    out += ["**Goals against the peers**", "", goals_table(rep), ""]
    picture = os.path.join(report_dir, rep.get("picture") or "report.png")
    if rep.get("picture") and os.path.exists(picture):
        shutil.copyfile(picture, os.path.join(os.path.dirname(os.path.abspath(readme)), PICTURE))
        out += [f"![unipoll-compare: wakes, readiness scaling and the echo server against the peers]({PICTURE})", ""]
    block = "\n".join(out).rstrip() + "\n"

    with open(readme) as f:
        doc = f.read()
    if "<!-- results:begin -->" not in doc or "<!-- results:end -->" not in doc:
        sys.exit(f"{readme}: no results markers")
    new = re.sub(r"(<!-- results:begin -->\n).*?(<!-- results:end -->)",
                 lambda m: m.group(1) + block + m.group(2), doc, flags=re.S)
    with open(readme, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()
