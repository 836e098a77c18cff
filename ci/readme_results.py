#!/usr/bin/env python3
"""Copies the comparison tables of a unipoll-compare report into README.md,
between the markers <!-- results:begin --> and <!-- results:end -->, so the
README's numbers always come from a tool run (with its date and kernel).
Usage: ci/readme_results.py [report.md] [README.md]"""
import re
import sys

SECTIONS = ("1. Wake round trip", "2. Wake, poller busy", "4. Non-blocking poll")


def main():
    report = sys.argv[1] if len(sys.argv) > 1 else "report/compare/report.md"
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    text = open(report).read()
    field = lambda k: re.search(rf"^\| {k}\s*\| (.*?)\s*\|$", text, re.M).group(1)
    out = [f"Measured by `unipoll-compare` on {field('date')[:10]}: Linux {field('kernel').split()[0]}, "
           f"{field('cpu_model')}, {field('cpus')} CPUs, {field('compiler')}; system call counting: "
           f"{field('syscall_counting')}. No numbers come from the kqueue "
           "emulation, which the tool never measures.", ""]
    for part in re.split(r"^### ", text, flags=re.M)[1:]:
        title, _, body = part.partition("\n")
        if title.startswith(SECTIONS):
            out += [f"**{title}**", body.strip(), ""]
    block = "\n".join(out).rstrip() + "\n"
    doc = open(readme).read()
    new = re.sub(r"(<!-- results:begin -->\n).*?(<!-- results:end -->)",
                 lambda m: m.group(1) + block + m.group(2), doc, flags=re.S)
    if new == doc and "<!-- results:begin -->" not in doc:
        sys.exit(f"{readme}: no results markers")
    open(readme, "w").write(new)


if __name__ == "__main__":
    main()
