#!/usr/bin/env python3
"""CPython's own test suites as the conformance test of unipoll's Python
package (python/).

For each subject -- "builtin" (CPython's own EpollSelector and event loop,
the baseline) and one unipoll backend per name given -- every suite runs in
a fresh interpreter:

- test_selectors: CPython's generic BaseSelectorTestCase and
  ScalableSelectorMixIn cases (plus the epoll- and kqueue-specific ones that
  apply to any selector), subclassed for UnipollSelector on that backend;
  the baseline is CPython's EpollSelectorTestCase.
- every module of test.test_asyncio, with asyncio's SelectorEventLoop, its
  default policy and all of selectors' selector classes replaced by
  unipoll.asyncio's loop, unipoll.asyncio.EventLoopPolicy and
  UnipollSelector on that backend, so every loop a test creates is
  unipoll's.

Then the outcomes are compared test by test: a unipoll subject must have no
failure or error, and must run and skip exactly the tests the baseline runs
and skips. A test that fails is run once more on its own (the machine may be
loaded; timing bounds are generous but not infinite) and reported as flaky
if it then passes. Exit status 1 on any difference.

Usage: cpython_suites.py [--backends epoll,io_uring,poll] [--suites ...]
Run it with the interpreter that has unipoll installed and whose standard
library tests are present (Debian: libpython3.11-testsuite).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

BASELINE = "builtin"
SELECTORS_SUITE = "test.test_selectors"
# Per test, in the worker: a hang is dumped and ends the worker.
TEST_TIMEOUT_S = 300
# Per worker, in the driver.
WORKER_TIMEOUT_S = 1800


def asyncio_suites():
    import test.test_asyncio as pkg

    names = sorted(
        f[:-3] for f in os.listdir(os.path.dirname(pkg.__file__))
        if f.startswith("test_") and f.endswith(".py"))
    return [f"test.test_asyncio.{n}" for n in names]


# ---- worker: one subject, one suite, in its own interpreter -----------------

# How much of unipoll a worker's tests used: event loops created, and
# cross-thread wakeups (call_soon_threadsafe and friends) sent through
# Poller.wake().
usage = {"loops": 0, "wakes": 0}


def install_unipoll(backend):
    """Make every loop and selector the tests create unipoll's."""
    import asyncio
    import asyncio.unix_events
    import selectors

    import unipoll.asyncio
    import unipoll.selectors

    class UnipollSelector(unipoll.selectors.UnipollSelector):
        def __init__(self, backend=backend):
            super().__init__(backend)

    class EventLoop(unipoll.asyncio.EventLoop):
        def __init__(self, selector=None):
            super().__init__(selector if selector is not None else UnipollSelector())

    # Count what the tests really use, however they make their loops.
    real_init = unipoll.asyncio.EventLoop.__init__
    real_write_to_self = unipoll.asyncio.EventLoop._write_to_self

    def counting_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        usage["loops"] += 1

    def counting_write_to_self(self):
        usage["wakes"] += 1
        real_write_to_self(self)

    unipoll.asyncio.EventLoop.__init__ = counting_init
    unipoll.asyncio.EventLoop._write_to_self = counting_write_to_self

    class EventLoopPolicy(unipoll.asyncio.EventLoopPolicy):
        def __init__(self):
            super().__init__(backend)

    for name in ("DefaultSelector", "EpollSelector", "PollSelector", "SelectSelector"):
        setattr(selectors, name, UnipollSelector)
    asyncio.SelectorEventLoop = asyncio.unix_events.SelectorEventLoop = EventLoop
    asyncio.DefaultEventLoopPolicy = asyncio.unix_events.DefaultEventLoopPolicy = EventLoopPolicy
    asyncio.set_event_loop_policy(None)
    return UnipollSelector


def selector_cases(subject):
    """test_selectors' generic cases for one selector class."""
    import unittest
    import unittest.mock
    from test import test_selectors as ts

    if subject == BASELINE:
        # CPython's own run: EpollSelectorTestCase as it is.
        class EpollSelectorTestCase(ts.EpollSelectorTestCase):
            pass
        return named_selector_cases(EpollSelectorTestCase)

    import unipoll.selectors

    class UnipollSelector(unipoll.selectors.UnipollSelector):
        def __init__(self, backend=subject):
            super().__init__(backend)

    class UnipollSelectorTestCase(ts.BaseSelectorTestCase, ts.ScalableSelectorMixIn,
                                  unittest.TestCase):
        SELECTOR = UnipollSelector

        # CPython's case patches the kernel object of the selectors it knows
        # by name (EpollSelector._selector_cls ...): the same case, patching
        # UnipollSelector's.
        def test_modify_unregister(self):
            with unittest.mock.patch.object(self.SELECTOR, "_selector_cls") as m:
                m.return_value.modify = unittest.mock.Mock(side_effect=ZeroDivisionError)
                s = self.SELECTOR()
                self.addCleanup(s.close)
                rd, wr = self.make_socketpair()
                s.register(rd, ts.selectors.EVENT_READ)
                self.assertEqual(len(s._map), 1)
                with self.assertRaises(ZeroDivisionError):
                    s.modify(rd, ts.selectors.EVENT_WRITE)
                self.assertEqual(len(s._map), 0)

        # EpollSelectorTestCase's and KqueueSelectorTestCase's own cases hold
        # for every unipoll backend (one EPERM/EBADF rule, one timeout rule).
        test_register_file = ts.EpollSelectorTestCase.test_register_file
        test_register_bad_fd = ts.KqueueSelectorTestCase.test_register_bad_fd
        test_empty_select_timeout = ts.KqueueSelectorTestCase.test_empty_select_timeout

    return named_selector_cases(UnipollSelectorTestCase)


def named_selector_cases(cls):
    # One name for both subjects' cases ("test.test_selectors.SelectorCases.
    # test_x"), so outcomes compare by id; the module's hooks
    # (tearDownModule reaps children) run as in CPython's own run.
    cls.__module__ = "test.test_selectors"
    cls.__qualname__ = cls.__name__ = "SelectorCases"
    return cls


def recording_result(stream):
    """A unittest result that records each test's outcome by id."""
    import faulthandler
    import unittest

    class Result(unittest.TextTestResult):
        def __init__(self):
            super().__init__(stream, descriptions=False, verbosity=1)
            self.outcomes = {}

        def startTest(self, test):
            faulthandler.dump_traceback_later(TEST_TIMEOUT_S, exit=True)
            super().startTest(test)

        def stopTest(self, test):
            faulthandler.cancel_dump_traceback_later()
            super().stopTest(test)

        def _set(self, test, outcome, detail=""):
            key = short_id(test)
            # A failed subtest makes the whole test fail.
            if self.outcomes.get(key, ("pass",))[0] in ("fail", "error"):
                return
            self.outcomes[key] = (outcome, detail)

        def addSuccess(self, test):
            super().addSuccess(test)
            self.outcomes.setdefault(short_id(test), ("pass", ""))

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._set(test, "fail", self._exc_info_to_string(err, test))

        def addError(self, test, err):
            super().addError(test, err)
            self._set(test, "error", self._exc_info_to_string(err, test))

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            self._set(test, "skip", reason)

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            self._set(test, "expected-failure")

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            self._set(test, "error", "unexpected success")

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                failed = issubclass(err[0], test.failureException)
                self._set(test, "fail" if failed else "error",
                          self._exc_info_to_string(err, test))

    return Result()


def short_id(test):
    tid = test.id()
    return tid[len("test."):] if tid.startswith("test.") else tid


def run_worker(subject, suite, only, out_path):
    import signal
    import unittest

    # The SIGINT disposition of a terminal, which CPython's tests assume (they
    # raise SIGINT and expect KeyboardInterrupt): a process started in the
    # background of a non-interactive shell inherits it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    if subject != BASELINE:
        install_unipoll(subject)
    loader = unittest.defaultTestLoader
    if suite == SELECTORS_SUITE:
        tests = loader.loadTestsFromTestCase(selector_cases(subject))
    else:
        try:
            tests = loader.loadTestsFromName(suite)
        except unittest.SkipTest as e:  # a module for another OS (test_windows_*)
            with open(out_path, "w") as f:
                json.dump({"outcomes": {suite: ("skip", str(e))}, "seconds": 0, "usage": usage}, f)
            return
    if only:
        wanted = set(only)
        tests = unittest.TestSuite(t for t in iter_cases(tests) if short_id(t) in wanted)
    result = recording_result(sys.stderr)
    start = time.monotonic()
    tests.run(result)
    with open(out_path, "w") as f:
        json.dump({"outcomes": result.outcomes, "seconds": time.monotonic() - start,
                   "usage": usage}, f)


def iter_cases(suite):
    import unittest
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_cases(t)
        else:
            yield t


# ---- driver -------------------------------------------------------------------------

def run_subject(subject, suite, only=None):
    with tempfile.TemporaryDirectory(prefix="unipoll-cpython-") as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", subject, suite, out]
        if only:
            cmd += ["--only", *only]
        # Each worker in its own directory: tests create files in the cwd.
        proc = subprocess.run(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=WORKER_TIMEOUT_S)
        if not os.path.exists(out):
            return None, proc.stdout
        with open(out) as f:
            data = json.load(f)
        return data, proc.stdout


def failed(outcomes):
    return sorted(k for k, (o, _) in outcomes.items() if o in ("fail", "error"))


def run_with_rerun(subject, suite, log):
    data, output = run_subject(subject, suite)
    if data is None:
        log(f"  {subject}: worker died\n{output[-4000:]}")
        return None, []
    outcomes = data["outcomes"]
    flaky = []
    bad = failed(outcomes)
    if bad:
        again, output2 = run_subject(subject, suite, only=bad)
        for k in bad:
            if again and again["outcomes"].get(k, ("",))[0] == "pass":
                flaky.append(k)
                outcomes[k] = ("pass", "flaky: failed, then passed on re-run")
            else:
                log(f"  {subject}: {k}: {outcomes[k][0]}\n{outcomes[k][1]}")
    used = "" if subject == BASELINE or suite == SELECTORS_SUITE else \
        f" ({data['usage']['loops']} unipoll loops, {data['usage']['wakes']} wakes)"
    log(f"  {subject}: {count(outcomes)} in {data['seconds']:.0f} s{used}"
        + (f"; flaky (passed on re-run): {', '.join(flaky)}" if flaky else ""))
    return outcomes, flaky


def count(outcomes):
    c = {}
    for o, _ in outcomes.values():
        c[o] = c.get(o, 0) + 1
    return ", ".join(f"{n} {o}" for o, n in sorted(c.items()))


def compare(suite, base, ours, subject, log):
    """The differences between a unipoll run and the baseline."""
    problems = []
    suffix = {SELECTORS_SUITE: ("test_register_bad_fd", "test_empty_select_timeout")}
    extra_ok = suffix.get(suite, ())
    for k in sorted(set(base) | set(ours)):
        b, o = base.get(k), ours.get(k)
        if o is None:
            problems.append(f"{k}: ran in the baseline, not with unipoll")
        elif o[0] in ("fail", "error"):
            problems.append(f"{k}: {o[0]}")
        elif b is None:
            if not k.endswith(extra_ok) or o[0] != "pass":
                problems.append(f"{k}: {o[0]} with unipoll, not run in the baseline")
        elif (o[0] == "skip") != (b[0] == "skip"):
            problems.append(f"{k}: {o[0]} with unipoll ({o[1]}), {b[0]} in the baseline ({b[1]})")
    for p in problems:
        log(f"  DIFFERENCE {subject}: {p}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="epoll,io_uring,poll")
    ap.add_argument("--suites", nargs="*", help="module names (default: test_selectors and "
                    "every test.test_asyncio module)")
    ap.add_argument("--worker", nargs=3, metavar=("SUBJECT", "SUITE", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--only", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        subject, suite, out = args.worker
        run_worker(subject, suite, args.only, out)
        return 0

    import unipoll
    backends = [b for b in args.backends.split(",") if b]
    missing = [b for b in backends if b not in unipoll.available_backends()]
    if missing:
        print(f"backends not available here: {', '.join(missing)} "
              f"(available: {', '.join(unipoll.available_backends())})")
        return 1
    suites = args.suites or [SELECTORS_SUITE, *asyncio_suites()]
    start = time.monotonic()
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    all_problems = []
    for suite in suites:
        print(f"== {suite}", flush=True)
        log = lambda line: print(line, flush=True)  # noqa: E731
        base, _ = run_with_rerun(BASELINE, suite, log)
        if base is None:
            all_problems.append(f"{suite}: the baseline run died")
            continue
        for b in backends:
            ours, _ = run_with_rerun(b, suite, log)
            if ours is None:
                all_problems.append(f"{suite} on {b}: the run died")
                totals["failed"] += 1
                continue
            problems = compare(suite, base, ours, b, log)
            all_problems += [f"{suite} on {b}: {p}" for p in problems]
            for o, _ in ours.values():
                key = {"pass": "passed", "expected-failure": "passed", "skip": "skipped"}.get(o, "failed")
                totals[key] += 1
    minutes = (time.monotonic() - start) / 60
    print(f"\nCPython suites on unipoll ({', '.join(backends)}) against the built-in "
          f"loop: {len(all_problems)} differences, {minutes:.1f} min")
    for p in all_problems:
        print(f"  {p}")
    print(f"cpython: {totals['passed']} passed, {totals['failed']} failed, "
          f"{totals['skipped']} skipped")
    return 1 if all_problems else 0


if __name__ == "__main__":
    sys.exit(main())
