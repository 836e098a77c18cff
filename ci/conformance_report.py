#!/usr/bin/env python3
"""Turns ctest's JUnit output for the conformance suites into a per-backend
table (stdout and a Markdown file). Usage: conformance_report.py JUNIT.xml OUT.md"""
import platform
import re
import sys
import xml.etree.ElementTree as ET

CASES = re.compile(r"(\d+) test cases? out of (\d+) (passed|failed)")
FAILED = re.compile(r"(\d+) test cases? out of (\d+) failed")
SKIP = re.compile(r"SKIPPED [^:]+: (.*)")


def rows(junit_path):
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        name = case.get("name", "")
        if not name.startswith("conformance."):
            continue
        out = "".join(e.text or "" for e in case.iter("system-out"))
        status = case.get("status", "")
        if case.find("skipped") is not None or status == "notrun":
            m = SKIP.search(out)
            yield name[12:], "skipped", "-", m.group(1) if m else "not available here"
            continue
        failed = case.find("failure") is not None or status == "fail"
        m = FAILED.search(out) if failed else None
        n = CASES.search(out)
        if m:
            cases = f"{int(m.group(2)) - int(m.group(1))}/{m.group(2)}"
        elif n:
            cases = f"{n.group(1)}/{n.group(2)}"
        else:
            cases = "?"
        note = "emulated kqueue on Linux" if "emulated" in out or name.startswith("conformance.kqueue") and platform.system() == "Linux" else ""
        yield name[12:], "FAILED" if failed else "passed", cases, note


def main():
    junit, md = sys.argv[1], sys.argv[2]
    table = list(rows(junit))
    header = ("backend", "result", "cases passed", "note")
    widths = [max(len(str(r[i])) for r in table + [header]) for i in range(4)]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    text = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    text += [line(r) for r in table]
    uname = platform.uname()
    title = f"unipoll conformance on {uname.system} {uname.release} ({uname.machine})"
    print(title)
    print("\n".join(text))
    with open(md, "w") as f:
        f.write(f"# {title}\n\n" + "\n".join(text) + "\n")


if __name__ == "__main__":
    main()
