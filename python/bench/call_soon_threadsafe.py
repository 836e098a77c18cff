#!/usr/bin/env python3
"""What loop.call_soon_threadsafe() costs, per event loop.

Subjects: asyncio's built-in loop (EpollSelector and a self-pipe), unipoll's
loop on each backend of this kernel (Poller.wake()), and uvloop if it is
installed (libuv's uv_async_send).

Two scenarios, each run in a fresh interpreter per subject:

- idle: the loop sleeps in its selector; another thread calls
  call_soon_threadsafe(callback) and waits (sleeping) until the callback has
  run. Latency is call to callback; system calls are counted on the calling
  thread around the call itself, and on the loop thread per round trip.
- busy: the loop never sleeps (a task yields with asyncio.sleep(0) in a
  loop, so each iteration polls without blocking); another thread calls
  call_soon_threadsafe every 100 us. Latency is call to callback; system
  calls on the calling thread per call, and on the loop thread per
  iteration of the loop.

System calls are counted by the kernel: a perf_event_open counter on the
raw_syscalls:sys_enter tracepoint per thread (needs root or
kernel.perf_event_paranoid <= -1, and tracefs; the script mounts tracefs
if it can). Where that is refused, run the script under `strace -f -c`
instead. Latencies on a shared or loaded machine are noisy: compare
subjects within one run.

Usage: python call_soon_threadsafe.py [--rounds N] [--markdown]
"""

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

TRACEPOINT_ID_PATHS = (
    "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
    "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
)
SYS_PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241}
PERF_TYPE_TRACEPOINT = 2
PERF_FLAG_FD_CLOEXEC = 8


# ---- kernel syscall counting -------------------------------------------------------

def tracepoint_id():
    for path in TRACEPOINT_ID_PATHS:
        try:
            with open(path) as f:
                return int(f.read())
        except OSError:
            pass
    # Nothing has tracefs mounted: mount it (root) just to read the id.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(b"nodev", b"/sys/kernel/tracing", b"tracefs", 0, None) != 0:
        return None
    try:
        with open(TRACEPOINT_ID_PATHS[0]) as f:
            return int(f.read())
    except OSError:
        return None
    finally:
        libc.umount2(b"/sys/kernel/tracing", 2)  # MNT_DETACH


SYS_FUTEX = {"x86_64": 202, "aarch64": 98}
PERF_EVENT_IOC_SET_FILTER = 0x40082406  # _IOW('$', 6, char *)


class SyscallCounter:
    """Counts the system calls one thread makes (perf_event_open).

    With futex=False it counts every call but futex(2), with futex=True
    futex(2) alone (a tracepoint filter on the call number): the GIL's
    handoffs between the two threads are futex calls whose number depends
    on timing, so they are kept apart from the calls a loop's wakeup makes.
    """

    def __init__(self, tid, futex=False):
        self.fd = -1
        nr = SYS_PERF_EVENT_OPEN.get(platform.machine())
        tp = tracepoint_id()
        if nr is None or tp is None:
            return
        attr = (ctypes.c_uint64 * 16)()  # perf_event_attr, 128 bytes, zeroed
        attr[0] = PERF_TYPE_TRACEPOINT | (128 << 32)  # type, size
        attr[1] = tp  # config
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        self.fd = libc.syscall(nr, ctypes.byref(attr), tid, -1, -1, PERF_FLAG_FD_CLOEXEC)
        if self.fd >= 0:
            op = "==" if futex else "!="
            rule = f"id {op} {SYS_FUTEX[platform.machine()]}".encode()
            libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_char_p)
            if libc.ioctl(self.fd, PERF_EVENT_IOC_SET_FILTER, rule) != 0:
                os.close(self.fd)
                self.fd = -1
        # read(2) through PyDLL keeps the GIL: os.read would drop and take
        # it again, and the futex calls of that handoff would be counted as
        # the measured call's.
        self._read = ctypes.PyDLL(None).read
        self._value = ctypes.c_uint64()

    @property
    def works(self):
        return self.fd >= 0

    def read(self):
        self._read(self.fd, ctypes.byref(self._value), 8)
        return self._value.value


# ---- one subject, in its own interpreter -----------------------------------------------

def make_loop(subject):
    import asyncio
    if subject == "builtin":
        return asyncio.SelectorEventLoop()
    if subject == "uvloop":
        import uvloop
        return uvloop.new_event_loop()
    import unipoll.asyncio
    return unipoll.asyncio.new_event_loop(subject.split(":", 1)[1])


def measure(subject, scenario, rounds):
    import asyncio

    loop = make_loop(subject)
    loop_tid = []
    done_at = [0] * rounds
    iterations = [0]

    async def busy():
        while not stop_flag[0]:
            iterations[0] += 1
            await asyncio.sleep(0)

    async def main():
        loop_tid.append(threading.get_native_id())
        ready.set()
        if scenario == "busy":
            await busy()
        else:
            await finished

    def callback(i):
        done_at[i] = time.perf_counter_ns()
        if i == rounds - 1 and scenario == "idle":
            finished.set_result(None)

    stop_flag = [False]
    ready = threading.Event()
    finished = loop.create_future()
    sent_at = [0] * rounds
    caller_calls = [0]
    result = {}

    def caller():
        ready.wait()
        me = SyscallCounter(threading.get_native_id())
        other = SyscallCounter(loop_tid[0])
        gil = [SyscallCounter(tid, futex=True) for tid in (threading.get_native_id(), loop_tid[0])]
        result["counted"] = me.works and other.works and all(g.works for g in gil)
        time.sleep(0.05)
        loop_before = other.read() if other.works else 0
        gil_before = sum(g.read() for g in gil) if result["counted"] else 0
        iter_before = iterations[0]
        for i in range(rounds):
            if scenario == "idle":
                time.sleep(0.0005)  # the loop goes back to sleep
            else:
                time.sleep(0.0001)
            before = me.read() if me.works else 0
            sent_at[i] = time.perf_counter_ns()
            loop.call_soon_threadsafe(callback, i)
            if me.works:
                # The read(2) that takes the count counts itself once.
                caller_calls[0] += me.read() - before - 1
            if scenario == "idle":
                while not done_at[i]:
                    time.sleep(0.0001)
        time.sleep(0.01)
        result["loop_calls"] = (other.read() - loop_before) if other.works else None
        result["futex_calls"] = sum(g.read() for g in gil) - gil_before if result["counted"] else None
        result["iterations"] = iterations[0] - iter_before
        if scenario == "busy":
            loop.call_soon_threadsafe(stop_flag.__setitem__, 0, True)

    t = threading.Thread(target=caller)
    t.start()
    loop.run_until_complete(main())
    t.join()
    loop.close()

    lat = sorted((done_at[i] - sent_at[i]) / 1000 for i in range(rounds) if done_at[i])
    out = {
        "subject": subject,
        "scenario": scenario,
        "rounds": rounds,
        "p50_us": statistics.median(lat),
        "p99_us": lat[int(len(lat) * 0.99) - 1],
        "counted": result["counted"],
    }
    if result["counted"]:
        out["caller_sc_per_call"] = caller_calls[0] / rounds
        per = rounds if scenario == "idle" else max(result["iterations"], 1)
        out["loop_sc"] = result["loop_calls"] / per
        out["futex_per_call"] = result["futex_calls"] / rounds
        out["iterations"] = result["iterations"]
    return out


# ---- driver ---------------------------------------------------------------------------

def subjects():
    found = ["builtin"]
    try:
        import unipoll
        found += [f"unipoll:{b}" for b in unipoll.available_backends()]
    except ImportError:
        print("unipoll is not installed: pip install ./python", file=sys.stderr)
    try:
        import uvloop  # noqa: F401
        found.append("uvloop")
    except ImportError:
        pass
    return found


def markdown(rows, scenario):
    per = "round trip" if scenario == "idle" else "iteration"
    head = (f"| loop | p50 us | p99 us | caller syscalls / call | loop syscalls / {per} "
            "| GIL futex calls / call |\n|:--|--:|--:|--:|--:|--:|")
    lines = [head]
    for r in rows:
        if r["scenario"] != scenario:
            continue
        sc = (f"{r['caller_sc_per_call']:.2f} | {r['loop_sc']:.2f} | {r['futex_per_call']:.2f}"
              if r["counted"] else "n/a | n/a | n/a")
        lines.append(f"| {r['subject']} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | {sc} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--one", nargs=2, metavar=("SUBJECT", "SCENARIO"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one, args.rounds)))
        return 0

    rows = []
    for scenario in ("idle", "busy"):
        for subject in subjects():
            proc = subprocess.run([sys.executable, __file__, "--rounds", str(args.rounds),
                                   "--one", subject, scenario],
                                  capture_output=True, text=True, check=True)
            rows.append(json.loads(proc.stdout))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    uname = os.uname()
    print(f"call_soon_threadsafe, {time.strftime('%Y-%m-%d')}, Linux {uname.release}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {args.rounds} rounds")
    if not all(r["counted"] for r in rows):
        print("(perf_event_open refused: no system call counts; run under strace -f -c)")
    print("\nIdle loop (asleep in its selector):\n")
    print(markdown(rows, "idle"))
    print("\nBusy loop (never sleeps; a call every 100 us):\n")
    print(markdown(rows, "busy"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
