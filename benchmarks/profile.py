"""Profile this project's side of a workload: ``python -m benchmarks.profile CASE``.

CASE is one of: chain (the 10,000-op relu chain of ops.py on shape (1,)), mlp-small and
mlp-big (an SGD step of mlp.py through autograd ops), mlp-small-nn and mlp-big-nn (through
nn + optim), cnn (the LeNet-5-like step). Runs it under cProfile (after a warm-up) and prints
the wall time per op or per step without the profiler, then the functions with the most own
time, with their time per op or per step. cProfile's own cost inflates Python function calls,
so read its numbers as shares, and the plain timing as the truth.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

from . import cnn, mlp, ops


def _chain() -> tuple[Callable[[], Any], int, str]:
    n = ops.N_OPS
    return ops.chainrule_chain(ops.start((1,)), "relu", n), 3 * ops.rounds(n), "op"


def _mlp(index: int, label: str) -> Callable[[], tuple[Callable[[], Any], int, str]]:
    def make() -> tuple[Callable[[], Any], int, str]:
        sizes, batch = mlp.CASES[index]
        return mlp.IMPLS[label][1](mlp.problem(sizes, batch))[0], 1, "step"
    return make


CASES: dict[str, Callable[[], tuple[Callable[[], Any], int, str]]] = {
    "chain": _chain,
    "mlp-small": _mlp(1, "chainrule (autograd ops)"),
    "mlp-big": _mlp(0, "chainrule (autograd ops)"),
    "mlp-small-nn": _mlp(1, "chainrule (nn + optim)"),
    "mlp-big-nn": _mlp(0, "chainrule (nn + optim)"),
    "cnn": lambda: (cnn.chainrule_nn_impl(cnn.problem())[0], 1, "step"),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("case", choices=list(CASES))
    parser.add_argument("--calls", type=int, default=None, help="calls to profile")
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    args = parser.parse_args()
    fn, per, unit = CASES[args.case]()
    fn()
    calls = args.calls or (20 if unit == "op" else 200)
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    plain = (time.perf_counter() - t0) / (calls * per)
    print(f"{args.case}: {plain * 1e6:.2f} us per {unit} without the profiler")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    print(f"under cProfile: {total / (calls * per) * 1e6:.2f} us per {unit}\n")
    print(f"{'own us/' + unit:>10} {'share':>6} {'calls/' + unit:>10}  function")
    for (path, line, name), (_, ncalls, tottime, _, _) in rows[:args.top]:
        where = f"{path.rsplit('/', 2)[-2]}/{path.rsplit('/', 1)[-1]}:{line}" if line else path
        print(f"{tottime / (calls * per) * 1e6:10.3f} {tottime / total:6.1%} "
              f"{ncalls / (calls * per):10.2f}  {name} ({where})")


if __name__ == "__main__":
    main()
