#!/usr/bin/env python3
"""Draws the picture of a unipoll-compare report: latency distributions of
the wake round trips, system calls per operation, registration cost,
readiness scaling and the echo server's throughput and latency against
the peers (error bars: the range of the runs).

    plot_report.py report.json report.png

Exit status 3 means matplotlib is not installed (Debian/Ubuntu:
apt-get install python3-matplotlib); unipoll-compare then reports the run
without a picture.
"""
import json
import sys

NO_MATPLOTLIB = 3


def records(rep, scenario):
    return [r for r in rep["records"] if r["scenario"] == scenario and r.get("values")]


def style(kind):
    if kind == "unipoll":
        return {"linewidth": 2.4, "linestyle": "-"}
    if kind == "floor":
        return {"linewidth": 1.6, "linestyle": ":"}
    return {"linewidth": 1.4, "linestyle": "--"}


def latency_panel(ax, rep, scenario, title, colors):
    for r in records(rep, scenario):
        curve = r.get("percentiles_ns")
        if not curve:
            continue
        us = [v / 1000.0 for v in curve]
        ax.plot(us, range(len(us)), label=r["subject"], color=colors[r["subject"]], **style(r["kind"]))
    ax.set_xscale("log")
    ax.set_xlabel("latency (us, log scale)")
    ax.set_ylabel("percentile")
    ax.set_ylim(0, 100)
    for p in (50, 99):
        ax.axhline(p, color="grey", linewidth=0.6, alpha=0.6)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="center right")


def bar_panel(ax, rep, series, title, ylabel, colors, reference=None, log=False):
    """Grouped bars: one group per subject, one bar per (scenario, key, label)."""
    subjects = [s["name"] for s in rep["subjects"]]
    width = 0.8 / len(series)
    for i, (scenario, key, label, hatch) in enumerate(series):
        xs, ys, cs = [], [], []
        for j, name in enumerate(subjects):
            rec = next((r for r in records(rep, scenario) if r["subject"] == name), None)
            value = rec["values"].get(key) if rec else None
            if value is None:
                ax.text(j + (i - (len(series) - 1) / 2) * width, 0.02, "n/a", rotation=90,
                        ha="center", va="bottom", fontsize=7, color="grey")
                continue
            xs.append(j + (i - (len(series) - 1) / 2) * width)
            ys.append(value)
            cs.append(colors[name])
        ax.bar(xs, ys, width=width, color=cs, hatch=hatch, edgecolor="black", linewidth=0.5)
        # A grey proxy for the legend: colours stand for subjects, hatches for series.
        ax.bar([0], [0], width=0, color="lightgrey", hatch=hatch, edgecolor="black", label=label)
        for x, y in zip(xs, ys):
            text = "0" if y == 0 else f"{y:.2f}" if y < 10 else f"{y:.0f}"
            ax.text(x, y, text, ha="center", va="bottom", fontsize=7)
    if log:
        ax.set_yscale("log")
    if reference is not None:
        ax.axhline(reference, color="black", linewidth=0.8, linestyle=":")
    ax.set_xticks(range(len(subjects)))
    ax.set_xticklabels(subjects, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.25)
    if len(series) > 1:
        ax.legend(fontsize=8)


def sized_lines(ax, rep, scenario, size_key, value_key, colors, scale=1.0, where=None, linestyle="-",
                marker="o", label=True):
    """One line per subject: value_key (median of the runs, bars for their
    range) against size_key, over the records matching `where`; labelled
    for the legend unless `label` is false (a second series of the same
    subjects, told apart by its line style)."""
    lines = {}
    for r in records(rep, scenario):
        v = r["values"]
        if value_key not in v or size_key not in v:
            continue
        if where and any(v.get(k) != want for k, want in where.items()):
            continue
        lo, hi = r.get("spread", {}).get(value_key, [v[value_key], v[value_key]])
        lines.setdefault(r["subject"], []).append((v[size_key], v[value_key] * scale, lo * scale, hi * scale))
    for subject in [s["name"] for s in rep["subjects"]]:
        points = sorted(lines.get(subject, []))
        if not points:
            continue
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        err = [[y - p[2] for y, p in zip(ys, points)], [p[3] - y for y, p in zip(ys, points)]]
        kind = next(s["kind"] for s in rep["subjects"] if s["name"] == subject)
        ax.errorbar(xs, ys, yerr=err, color=colors[subject], marker=marker, linestyle=linestyle, capsize=2,
                    linewidth=style(kind)["linewidth"], label=subject if label else None)
    return bool(lines)


def finish_sized(ax, xlabel, ylabel, title, drawn):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.25)
    if drawn:
        ax.legend(fontsize=7)


def readiness_panel(ax, rep, colors):
    readies = sorted({r["values"]["ready"] for r in records(rep, "readiness") if "ready" in r["values"]})
    drawn = False
    if readies:
        drawn = sized_lines(ax, rep, "readiness", "registered", "p50_ns", colors, 1e-3, {"ready": readies[-1]})
        if len(readies) > 1:
            sized_lines(ax, rep, "readiness", "registered", "p50_ns", colors, 1e-3, {"ready": readies[0]},
                        linestyle=":", marker=".", label=False)
    title = "5. Readiness: p50 poll time per round vs registered"
    if readies:
        title += f"\n(solid: {readies[-1]:g} ready" + (f", dotted: {readies[0]:g} ready)" if len(readies) > 1 else ")")
    finish_sized(ax, "registered sockets (log)", "us per round (log)", title, drawn)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_report.py: matplotlib not found (apt-get install python3-matplotlib)", file=sys.stderr)
        return NO_MATPLOTLIB
    with open(sys.argv[1]) as f:
        rep = json.load(f)

    palette = plt.get_cmap("tab10").colors
    colors = {s["name"]: palette[i % len(palette)] for i, s in enumerate(rep["subjects"])}
    info = dict(rep.get("info", {}))
    fig, axes = plt.subplots(3, 3, figsize=(19, 16))
    latency_panel(axes[0][0], rep, "wake_sleeping", "1. Wake round trip, poller asleep", colors)
    latency_panel(axes[0][1], rep, "wake_busy", "2. Wake, poller busy", colors)
    bar_panel(axes[0][2], rep,
              [("wake_sleeping", "waker_syscalls", "waker side", ""),
               ("wake_sleeping", "sleeper_syscalls", "sleeper side", "//")],
              "1. System calls per round trip (poller asleep)", "system calls", colors, reference=1)
    bar_panel(axes[1][0], rep,
              [("wake_busy", "waker_syscalls", "2. busy wake: waker", ""),
               ("coalescing", "posts_per_wake", "3. coalescing: posts/wake", "//"),
               ("nonblocking_poll", "syscalls_per_call", "4. non-blocking poll", "..")],
              "System calls per operation", "system calls", colors)
    bar_panel(axes[1][1], rep, [("nonblocking_poll", "ns_per_call", "ns/call", "")],
              "4. Non-blocking poll, nothing ready", "ns per call (log)", colors, log=True)
    finish_sized(axes[1][2], "sockets added and removed per round (log)", "ns per add+remove (log)",
                 "6. Registration: cost per add+remove",
                 sized_lines(axes[1][2], rep, "registration", "fds", "ns_per_pair", colors))
    readiness_panel(axes[2][0], rep, colors)
    finish_sized(axes[2][1], "connections (log)", "requests/s (log)", "7. Echo: throughput vs connections",
                 sized_lines(axes[2][1], rep, "echo", "connections", "requests_per_s", colors))
    drawn = sized_lines(axes[2][2], rep, "echo", "connections", "p50_ns", colors, 1e-3)
    sized_lines(axes[2][2], rep, "echo", "connections", "p99_ns", colors, 1e-3, linestyle=":", marker=".",
                label=False)
    finish_sized(axes[2][2], "connections (log)", "request latency, us (log)",
                 "7. Echo: latency vs connections (solid p50, dotted p99)", drawn)
    fig.suptitle(f"unipoll-compare — {info.get('machine', '?')}: {info.get('os', '')} "
                 f"{info.get('kernel', '').split(' ')[0]}, {info.get('cpu_model', '')}, "
                 f"{info.get('cpus', '?')} CPUs, {info.get('date', '')}", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(sys.argv[2], dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
