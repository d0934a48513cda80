"""Workload 6: memory over 200 SGD steps of the big MLP (784-256-256-10, batch 128, float32).

Each implementation of `mlp.py` runs in a fresh Python process that imports only what it uses,
so the peak resident set size (RSS) is what a user's training script would reach: interpreter,
libraries, weights, activations and gradients of one step. Growth is the RSS at the last step
minus the RSS at step 20: a leak (a graph kept alive by a reference cycle, a cache that grows)
shows there, however small the peak.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from . import harness, mlp
from .harness import Config, Result

NAME = "memory"
STEPS, FIRST = 200, 20
QUICK_STEPS, QUICK_FIRST = 6, 2
LABELS = ("numpy (hand-written)", "chainrule (autograd ops)", "chainrule (nn + optim)",
          "torch (eager ops)", "torch (nn + optim)")


def run(cfg: Config) -> list[Result]:
    sizes, batch = (mlp.QUICK_CASES if cfg.quick else mlp.CASES)[0]
    steps, first = (QUICK_STEPS, QUICK_FIRST) if cfg.quick else (STEPS, FIRST)
    title = (f"peak RSS, {steps} steps of MLP {'-'.join(map(str, sizes))}, batch {batch} "
             "(fresh process)")
    rows = []
    for label in LABELS:
        framework, _, needs_nn = mlp.IMPLS[label]
        row = Result(NAME, title, label, None, "MB", tag="rss")
        rows.append(row)
        why = harness.unavailable(framework, needs_nn, cfg)
        if why is not None:
            row.check = why
            continue
        out = harness.child("memory", label, ",".join(map(str, sizes)), str(batch), str(steps),
                            str(first))
        if "error" in out:
            row.check = f"FAILED: {out['error']}"
            continue
        row.value = out["peak"]
        growth = row.extra["growth"] = out["rss_last"] - out["rss_first"]
        row.note = (f"growth step {first} to {steps}: {'+' if growth >= 0 else '-'}"
                    f"{harness.show(abs(growth), 'MB')}")
        row.check = "ok" if math.isfinite(out["loss"]) else "FAILED: loss is not finite"
    harness.ratios(rows, LABELS[0])
    return rows


def child_main(label: str, sizes: tuple[int, ...], batch: int, steps: int,
               first: int) -> dict[str, Any]:
    """Train `steps` steps; report peak RSS and the RSS after step `first` and the last one."""
    step, _ = mlp.IMPLS[label][1](mlp.problem(sizes, batch))
    out: dict[str, Any] = {}
    loss = None
    for i in range(1, steps + 1):
        loss = step()
        if i == first:
            out["rss_first"] = harness.rss_bytes()
    out["rss_last"] = harness.rss_bytes()
    out["peak"] = harness.peak_rss_bytes()
    out["loss"] = float(harness.to_numpy(loss))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=5, required=True,
                        metavar=("LABEL", "SIZES", "BATCH", "STEPS", "FIRST"))
    a = parser.parse_args().child
    sizes = tuple(int(s) for s in a[1].split(","))
    print(json.dumps(child_main(a[0], sizes, int(a[2]), int(a[3]), int(a[4]))))


if __name__ == "__main__":
    main()
