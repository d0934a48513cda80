"""Run the benchmarks: ``python -m benchmarks.run [--quick] [--only NAME] [--repeats N] [--out F]``.

Runs every workload (or those named with --only) for this project, hand-written numpy and, when
installed, PyTorch (2 threads) and micrograd; prints a table of medians with each one's ratio to
hand-written numpy and whether its numbers matched the numpy reference after one step. A full
run of every workload also writes the table, the machine's facts and the goals of the
benchmarks issue to benchmarks/RESULTS.md (or --out). Exits with status 1 when a check failed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from collections.abc import Callable, Sequence

from . import cnn, deep, harness, memory, micrograd_demo, mlp, ops
from .harness import Config, Result

#: name -> the workload's run(cfg); in the order they run and are shown.
WORKLOADS: dict[str, Callable[[Config], list[Result]]] = {
    mlp.NAME: mlp.run,
    ops.NAME: ops.run,
    deep.NAME: deep.run,
    cnn.NAME: cnn.run,
    micrograd_demo.NAME: micrograd_demo.run,
    memory.NAME: memory.run,
}
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
#: A section of RESULTS.md written by hand; a new run keeps it and everything after it.
KEPT_SECTION = "## What each optimization bought"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke mode: tiny sizes and few repeats (what CI runs)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only this workload (repeatable): {', '.join(WORKLOADS)}")
    parser.add_argument("--repeats", type=int, default=None,
                        help="samples per implementation (default: per workload)")
    parser.add_argument("--frameworks", default=",".join(harness.FRAMEWORKS),
                        help="comma-separated frameworks to include (default: all installed)")
    parser.add_argument("--out", default=None,
                        help="write the results here (default: benchmarks/RESULTS.md after a "
                             "full run of every workload, nowhere otherwise)")
    args = parser.parse_args(argv)
    names = [n for item in args.only for n in item.split(",") if n]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    frameworks = [f for f in args.frameworks.split(",") if f]
    bad = [f for f in frameworks if f not in harness.FRAMEWORKS]
    if bad:
        parser.error(f"unknown framework {', '.join(bad)}; choose from "
                     f"{', '.join(harness.FRAMEWORKS)}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.only = names
    args.frameworks = frozenset(frameworks) | {"numpy"}  # numpy is the reference of every ratio
    return args


def run_workloads(cfg: Config, names: Sequence[str],
                  busy: dict[str, float] | None = None) -> list[Result]:
    """Run the named workloads; `busy` (when given) receives, per workload, the share of the
    machine's CPU time that other processes took meanwhile."""
    results: list[Result] = []
    for name in names:
        t0 = time.perf_counter()
        monitor = harness.CpuMonitor()
        print(f"[{name}] running ...", file=sys.stderr, flush=True)
        try:
            results += WORKLOADS[name](cfg)
        except Exception as e:  # report the broken workload and go on with the others
            results.append(Result(name, name, "-", None, "s",
                                  check=f"FAILED: {type(e).__name__}: {e}"))
        share = monitor.share()
        if busy is not None and share is not None:
            busy[name] = share
        print(f"[{name}] done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return results


# ---------------------------------------------------------------------------------------------
# the goals of the benchmarks issue, read off a full run


def _find(results: list[Result], workload: str, tag: str, impl: str) -> Result | None:
    for r in results:
        if r.workload == workload and r.tag == tag and r.impl == impl and r.value is not None:
            return r
    return None


def _ratio_goal(what: str, row: Result | None, limit: float) -> tuple[str, str, str]:
    if row is None or row.ratio is None:
        return what, "not measured", "-"
    return what, f"{row.ratio:.3f}x", "yes" if row.ratio <= limit else "NO"


def _versus(what: str, mine: Result | None, other: Result | None,
            limit: float) -> tuple[str, str, str]:
    """Goal: mine <= limit * other (paired by round when both were timed together)."""
    if mine is None or other is None or not mine.value or not other.value:
        return what, "not measured", "-"
    if mine.samples and len(mine.samples) == len(other.samples):
        r = harness.median(a / b for a, b in zip(mine.samples, other.samples))
    else:
        r = mine.value / other.value
    return what, f"{r:.3f}x of {other.impl}", "yes" if r <= limit else "NO"


def goals(results: list[Result]) -> list[tuple[str, str, str]]:
    """(goal, measured, met?) for each goal of the issue that the results can answer."""
    cr_ops, cr_nn = "chainrule (autograd ops)", "chainrule (nn + optim)"
    out = [
        _ratio_goal("big MLP step, autograd ops: <= 1.10x numpy",
                    _find(results, "mlp", "big", cr_ops), 1.10),
        _versus("big MLP step, nn + optim: faster than torch.nn + torch.optim",
                _find(results, "mlp", "big", cr_nn),
                _find(results, "mlp", "big", "torch (nn + optim)"), 1.0),
        _ratio_goal("small MLP step, nn + optim: <= 2.0x numpy",
                    _find(results, "mlp", "small", cr_nn), 2.0),
    ]
    op = _find(results, "ops", "relu-1", "chainrule")
    if op is None:
        out.append(("per-op forward+backward, shape (1,): < 6 us", "not measured", "-"))
    else:
        out.append(("per-op forward+backward, shape (1,): < 6 us",
                    harness.show(op.value, op.unit), "yes" if op.value < 6e-6 else "NO"))
    out.append(_versus("per-op forward+backward, shape (1,): <= half of PyTorch's", op,
                       _find(results, "ops", "relu-1", "torch (eager)"), 0.5))
    big = max((int(r.tag.split("-")[1]) for r in results if r.tag.startswith("time-")),
              default=None)
    if big is not None:
        n = f"{3 * ops.rounds(big):,}"
        out.append(_versus(f"{n}-op chain: under half of PyTorch's time",
                           _find(results, "deep", f"time-{big}", "chainrule"),
                           _find(results, "deep", f"time-{big}", "torch (eager)"), 0.5))
        mem = _find(results, "deep", f"memory-{big}", "chainrule")
        freed = mem is not None and mem.extra.get("freed") == 1.0
        out.append((f"{n}-op chain: graph freed when dropped (gc off)",
                    "not measured" if mem is None else "yes" if freed else "no",
                    "-" if mem is None else "yes" if freed else "NO"))
    out.append(_ratio_goal("CNN step: <= 1.10x a good numpy im2col",
                           _find(results, "cnn", "lenet", cr_nn), 1.10))
    out.append(_versus("CNN step: within 2x of PyTorch", _find(results, "cnn", "lenet", cr_nn),
                       _find(results, "cnn", "lenet", "torch (nn + optim)"), 2.0))
    for impl in (cr_ops, cr_nn):
        row = _find(results, "memory", "rss", impl)
        out.append(_ratio_goal(f"peak RSS, {impl}: <= 1.25x numpy", row, 1.25))
        if row is not None and "growth" in row.extra:
            g = row.extra["growth"]
            out.append((f"RSS growth over steps, {impl}: none", harness.show(g, "MB"),
                        "yes" if g < 2**20 else "NO"))
    return out


def fusion(results: list[Result]) -> list[str]:
    """What the fused `linear` and `cross_entropy` nodes save, from this run's MLP rows (the
    saving is paired by round, like the ratios)."""
    lines = []
    for tag in ("big", "small"):
        fused = _find(results, "mlp", tag, "chainrule (autograd ops)")
        unfused = _find(results, "mlp", tag, "chainrule (unfused ops)")
        if fused is None or unfused is None or not fused.value or not unfused.value:
            continue
        if fused.samples and len(fused.samples) == len(unfused.samples):
            saved = 1.0 - harness.median(f / u for f, u in zip(fused.samples, unfused.samples))
        else:
            saved = 1.0 - fused.value / unfused.value
        lines.append(f"- {fused.case}: {harness.show(unfused.value, 'ms')} from unfused ops "
                     f"(matmul, add, log_softmax, indexing, mean) -> "
                     f"{harness.show(fused.value, 'ms')} with `linear` and "
                     f"`cross_entropy(reduction='mean')` ({saved:.0%} less)")
    return lines


def goals_table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| goal | measured | met |", "|---|---|---|"]
    lines += [f"| {g} | {m} | {ok} |" for g, m, ok in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# RESULTS.md


def _load() -> str:
    if hasattr(os, "getloadavg"):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "unknown"


def report(results: list[Result], machine: harness.Machine, cfg: Config, minutes: float,
           previous: str = "") -> str:
    """The results file: date, machine, the table, the goals, and the kept hand-written part."""
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    parts = [
        "# Benchmark results",
        "",
        f"Written by `python -m benchmarks.run{' --quick' if cfg.quick else ''}` on {when} "
        f"({minutes:.1f} minutes). Each figure is the median of interleaved samples; "
        "\"vs numpy\" is the ratio to the same computation written by hand in numpy (lower is "
        "better; 1.00x is the floor an engine on numpy can reach). \"check\" says whether the "
        "implementation computed the same loss and weight updates as the numpy reference after "
        "one step (`-` marks the reference itself).",
        "",
        "## Machine",
        "",
        machine.markdown(),
        "",
        "## Results",
        "",
        harness.table(results),
    ]
    if not cfg.quick:
        parts += ["", "## Goals of the benchmarks issue", "", goals_table(goals(results))]
        fused = fusion(results)
        if fused:
            parts += ["", "## Fused ops, measured in this run", "", *fused]
    text = "\n".join(parts) + "\n"
    if KEPT_SECTION in previous:
        text += "\n" + previous[previous.index(KEPT_SECTION):].rstrip() + "\n"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = Config(quick=args.quick, repeats=args.repeats, frameworks=args.frameworks)
    names = args.only or list(WORKLOADS)
    machine = harness.Machine.probe(cfg.frameworks)
    if not cfg.quick:
        machine.facts["allocator while timing"] = harness.keep_freed_memory()
    machine.facts["load average (1, 5, 15 min) at start"] = _load()
    monitor = harness.CpuMonitor()
    busy: dict[str, float] = {}
    t0 = time.perf_counter()
    results = run_workloads(cfg, names, busy)
    minutes = (time.perf_counter() - t0) / 60
    machine.facts["load average at end"] = _load()
    machine.facts["other processes during the run"] = monitor.others()
    if busy:
        machine.facts["... during each workload"] = ", ".join(
            f"{name} {share:.0%}" for name, share in busy.items())
    print(harness.table(results))
    if not cfg.quick:
        print()
        print(goals_table(goals(results)))
    out = args.out
    if out is None and not cfg.quick and not args.only:
        out = RESULTS
    if out:
        previous = ""
        if os.path.exists(out):
            with open(out) as f:
                previous = f.read()
        with open(out, "w") as f:
            f.write(report(results, machine, cfg, minutes, previous))
        print(f"\nwritten to {out}", file=sys.stderr)
    failed = [r for r in results if r.check.startswith("FAILED")]
    for r in failed:
        print(f"check failed: {r.case} / {r.impl}: {r.check}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
