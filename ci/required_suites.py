#!/usr/bin/env python3
"""Fails unless every conformance suite CI requires ran and passed.

The conformance runner fails a required suite whose backend is unavailable
(tests/conformance/main.cpp), but it cannot see a ctest test that was never
registered or never run. The Linux runs of kqueue are one ctest test per
personality of the kqueue emulation (conformance.kqueue.freebsd,
conformance.kqueue-pipe.darwin, ...): a personality dropped from the build
or filtered out would otherwise pass unnoticed. So each name N in the list
must be the ctest test conformance.N in the JUnit report, run and passed
(not failed, not skipped).

  ci/required_suites.py REPORT.xml [NAMES]
      NAMES: comma separated, default $UNIPOLL_REQUIRE_BACKENDS
"""
import os
import sys
import xml.etree.ElementTree as ET


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    names = argv[2] if len(argv) == 3 else os.environ.get("UNIPOLL_REQUIRE_BACKENDS", "")
    required = [n.strip() for n in names.split(",") if n.strip()]
    if not required:
        sys.exit("required_suites.py: no suites named (UNIPOLL_REQUIRE_BACKENDS is empty)")
    cases = {c.get("name"): c for c in ET.parse(argv[1]).iter("testcase")}
    problems = []
    for name in required:
        test = "conformance." + name
        case = cases.get(test)
        if case is None:
            problems.append(f"{test}: not in the report (not registered, or not run)")
        elif case.find("skipped") is not None or case.get("status") != "run":
            problems.append(f"{test}: skipped")
        elif case.find("failure") is not None:
            problems.append(f"{test}: failed")
    for p in problems:
        print("required suite " + p, file=sys.stderr)
    if problems:
        return 1
    print("required suites passed: " + ", ".join("conformance." + n for n in required))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
