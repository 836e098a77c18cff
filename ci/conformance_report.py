#!/usr/bin/env python3
"""Turns ctest's JUnit output for the conformance suites into a per-backend
table (stdout and a Markdown file). Usage: conformance_report.py JUNIT.xml OUT.md"""
import platform
import re
import sys
import xml.etree.ElementTree as ET

# Boost.Test's short report; --run_test=<suite> counts the other suites'
# cases as skipped, so the suite's own total is all cases minus those.
COUNT = re.compile(r"(\d+) test cases? out of (\d+) (passed|failed|skipped|aborted)")
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
        counts = {kind: int(n) for n, _, kind in COUNT.findall(out)}
        totals = [int(t) for _, t, _ in COUNT.findall(out)]
        if totals:
            own = totals[0] - counts.get("skipped", 0)
            cases = f"{counts.get('passed', 0)}/{own}"
        else:
            cases = "?"
        note = "emulated (test-only kqueue on epoll)" if "emulated" in (case.get("name") or "") or (
            name.startswith("conformance.kqueue") and platform.system() == "Linux") else ""
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
