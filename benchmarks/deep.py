"""Workload 3: deep graphs, chains of 100,000 and 1,000,000 ops (the relu chain of ops.py).

Measures forward+backward time (interleaved, in this process) and peak memory (in a fresh
process per implementation, as the rise of the peak resident set size over the size before the
chain was built). Timing includes dropping the graph, since freeing a million nodes is part of
the cost a user pays.

The graph must be freed by reference counting alone the moment its last tensor goes away: the
chainrule child process disables the garbage collector, builds the chain, runs backward, drops
the output and checks that a value from the middle of the chain, kept by the graph until then,
is gone.
micrograd's recursive backward is run at Python's default recursion limit, as a user would
meet it.
"""

from __future__ import annotations

import argparse
import gc
import json
import weakref
from typing import Any

import numpy as np

from . import harness, ops
from .harness import Config, Result

NAME = "deep"
SIZES = (100_000, 1_000_000)
QUICK_SIZES = (2_000,)
ACT = "relu"


def run(cfg: Config) -> list[Result]:
    results: list[Result] = []
    x0 = ops.start((1,), cfg.seed)
    for n_ops in (QUICK_SIZES if cfg.quick else SIZES):
        n_real = 3 * ops.rounds(n_ops)
        title = f"{n_real:,}-op chain, forward+backward"
        ref = ops.numpy_chain(x0, ACT, n_ops)()
        cases: dict[str, Any] = {}
        rows: dict[str, Result] = {}
        for label, (framework, build) in ops.BUILDERS.items():
            row = rows[label] = Result(NAME, title, label, None, "s", tag=f"time-{n_ops}")
            if framework == "micrograd":
                row.check = _micrograd_note(cfg, n_ops)
                continue
            if not harness.available(framework, cfg):
                row.check = harness.missing(framework, cfg)
                continue
            chain = build(x0, ACT, n_ops)
            row.check = "-" if label == ops.REFERENCE else ops.check(chain, ref)
            if not row.check.startswith("FAILED"):
                cases[label] = chain
        # Five rounds for the million-op chain too: with three, its ratio to PyTorch moved
        # between 0.43x and 0.53x from run to run.
        repeats = cfg.reps(5, quick=2)
        for label, ts in harness.interleave(cases, repeats).items():
            rows[label].value = harness.median(ts)
            rows[label].samples = ts
        out = list(rows.values())
        harness.ratios(out, ops.REFERENCE)
        results += out
        results += _memory_rows(cfg, n_ops, n_real)
    return results


def _micrograd_note(cfg: Config, n_ops: int) -> str:
    """micrograd at the default recursion limit: RecursionError beyond ~1000 ops (tried once)."""
    if not harness.available("micrograd", cfg):
        return harness.missing("micrograd", cfg)
    if n_ops > 100_000:
        return "not run (RecursionError at 100k)"
    try:
        ops.micrograd_chain(ops.start((1,)), ACT, n_ops, raise_limit=False)()
    except RecursionError:
        return "RecursionError"
    return "ok"


def _memory_rows(cfg: Config, n_ops: int, n_real: int) -> list[Result]:
    title = f"{n_real:,}-op chain, peak memory"
    rows = []
    for label, (framework, _) in ops.BUILDERS.items():
        if framework == "micrograd":
            continue
        row = Result(NAME, title, label, None, "MB", tag=f"memory-{n_ops}")
        rows.append(row)
        if not harness.available(framework, cfg):
            row.check = harness.missing(framework, cfg)
            continue
        out = harness.child("deep", label, str(n_ops))
        if "error" in out:
            row.check = f"FAILED: {out['error']}"
            continue
        row.value = out["peak"]
        row.extra["after"] = out["after"]
        row.note = f"RSS after dropping the graph {harness.show(out['after'], 'MB')} over start"
        if "freed" in out:
            row.extra["freed"] = float(out["freed"])
            row.check = "ok" if out["freed"] else "FAILED: graph not freed on drop"
            row.note += "; freed by refcounting (gc off): " + ("yes" if out["freed"] else "NO")
    harness.ratios(rows, ops.REFERENCE)
    return rows


# ---------------------------------------------------------------------------------------------
# the child process


def _chainrule_frees(x0: np.ndarray, n_ops: int) -> bool:
    """With gc off: is a mid-chain value kept by the graph after backward, and freed once the
    output is dropped? (The mid-chain Tensor object itself is gone as soon as the loop moves on:
    the nodes keep arrays, not Tensors.)"""
    import autograd as ag

    c, d = ops.CONSTANTS[ACT]
    n = ops.rounds(n_ops)
    x = ag.Tensor(x0, requires_grad=True)
    y = x
    mid = None
    for i in range(n):
        y = ag.relu(y * c + d)
        if i == n // 2:
            mid = weakref.ref(y.data)
    y.backward(np.ones_like(x0))
    kept = mid is not None and mid() is not None
    del y
    return kept and mid() is None


def child_main(label: str, n_ops: int) -> dict[str, Any]:
    """Peak memory of one forward+backward over the RSS before it; for chainrule also 'freed'."""
    gc.disable()
    framework, build = ops.BUILDERS[label]
    x0 = ops.start((1,))
    # A short chain first: the first ops page in library code, which is not the graph's memory.
    build(x0, ACT, 300)()
    chain = build(x0, ACT, n_ops)
    harness.reset_peak_rss()
    base = harness.rss_bytes()
    chain()
    out: dict[str, Any] = {"peak": harness.peak_rss_bytes() - base,
                           "after": harness.rss_bytes() - base}
    if framework == "chainrule":
        out["freed"] = _chainrule_frees(x0, n_ops)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=2, metavar=("LABEL", "N_OPS"), required=True)
    args = parser.parse_args()
    print(json.dumps(child_main(args.child[0], int(args.child[1]))))


if __name__ == "__main__":
    main()
