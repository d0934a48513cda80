"""Shared machinery of the benchmarks: interleaved timing, numerical cross-checks, the table.

Every workload times its implementations (this project, hand-written numpy, PyTorch, micrograd)
in ONE process and round-robin: repeat r runs each implementation once, in an order rotated by
r, so a burst of machine noise lands on all of them alike instead of on whichever ran last.
A workload reports the median of each implementation's samples and its ratio to hand-written
numpy (the floor: the arithmetic any implementation must do anyway).

Before timing, every implementation takes one step from the same initial weights and data, and
its loss and updated weights are compared with the numpy reference's (`compare`); a benchmark
of a wrong computation is worthless, so a mismatch is reported as FAILED and fails the run.

Only numpy is imported here: a framework is imported by the workload that times it, so a
memory-measuring child process holds nothing it does not use.
"""

from __future__ import annotations

import gc
import importlib
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The frameworks the suite knows, in table order.
FRAMEWORKS = ("chainrule", "numpy", "torch", "micrograd")
#: PyTorch runs with two threads: the machine the goals were set on has two cores.
TORCH_THREADS = 2


@dataclass(frozen=True)
class Config:
    """What a run asks for: smoke sizes or full ones, how many samples, which frameworks."""

    quick: bool = False
    repeats: int | None = None
    frameworks: frozenset[str] = frozenset(FRAMEWORKS)
    seed: int = 0

    def reps(self, full: int, quick: int = 3) -> int:
        """Samples per implementation: `--repeats` if given, else the workload's default."""
        if self.repeats is not None:
            return self.repeats
        return quick if self.quick else full

    @property
    def target(self) -> float:
        """Seconds one timed sample should last (short calls are repeated to reach it)."""
        return 0.0 if self.quick else 0.05


@dataclass
class Result:
    """One row of the table: an implementation's median on one case of a workload.

    `value` is in base units (seconds or bytes) and `unit` says how to show it; `None` means the
    implementation did not run (`check` then says why: not installed, not available, an error).
    """

    workload: str
    case: str
    impl: str
    value: float | None
    unit: str
    ratio: float | None = None
    check: str = "-"
    note: str = ""
    #: A name for the case that does not change with --quick sizes (the goals look rows up by it).
    tag: str = ""
    #: Further measured numbers (memory growth, ...), in base units.
    extra: dict[str, float] = field(default_factory=dict)
    #: The timed samples, one per round of `interleave` (empty for memory rows).
    samples: list[float] = field(default_factory=list, repr=False)


# ---------------------------------------------------------------------------------------------
# frameworks


def available(name: str, cfg: Config) -> bool:
    """True when `name` is selected for this run and importable."""
    if name not in cfg.frameworks:
        return False
    if name in ("chainrule", "numpy"):
        return True
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def missing(name: str, cfg: Config) -> str:
    """Why a framework has no row: deselected with --frameworks, or not installed."""
    return "not selected" if name not in cfg.frameworks else "not installed"


def torch() -> Any:
    """PyTorch, set to TORCH_THREADS threads (imported on first use)."""
    import torch as _torch

    if _torch.get_num_threads() != TORCH_THREADS:
        _torch.set_num_threads(TORCH_THREADS)
    return _torch


def nn_optim() -> tuple[Any, Any] | None:
    """This project's `nn` and `optim` packages, or None while they lack the names used here."""
    try:
        nn = importlib.import_module("nn")
        optim = importlib.import_module("optim")
    except ImportError:
        return None
    names = ("Sequential", "Linear", "ReLU", "CrossEntropyLoss", "Conv2d", "MaxPool2d", "Flatten")
    if not all(hasattr(nn, n) for n in names) or not hasattr(optim, "SGD"):
        return None
    return nn, optim


# ---------------------------------------------------------------------------------------------
# timing


def _sample(fn: Callable[[], Any], number: int) -> float:
    # A sample pays for the cyclic garbage its own calls leave behind (collected right after
    # them, billed only when there was some): in a program that calls `fn` in a loop, the
    # collector would collect it during the next calls. So the next sample, of whichever
    # implementation, starts with none left (`interleave` collects once before the first).
    # Reference-counted garbage is freed inside the calls themselves.
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    t1 = time.perf_counter()
    found = gc.collect()
    t2 = time.perf_counter()
    return (t1 - t0 + (t2 - t1 if found else 0.0)) / number


def calibrate(fn: Callable[[], Any], target: float) -> int:
    """How many calls one sample needs to last about `target` seconds (one warm-up call first)."""
    t = _sample(fn, 1)
    if target <= 0.0 or t >= target:
        return 1
    return max(1, min(10_000, int(target / max(t, 1e-7)) + 1))


#: Objects the garbage collector tracks in a program that has imported numpy and nothing else
#: (`len(gc.get_objects())` there, Python 3.11, numpy 2.4; a bare interpreter has about 11,000).
BASELINE_OBJECTS = 20_000


def interleave(cases: Mapping[str, Callable[[], Any]], repeats: int,
               target: float = 0.0) -> dict[str, list[float]]:
    """Seconds per call of each case: `repeats` samples each, taken round-robin.

    Round r runs the cases in an order rotated by r, so no implementation always runs right
    after the same neighbour. Each sample repeats the call enough times to last `target`.
    """
    names = list(cases)
    # The garbage collector's cost depends on how many objects the process holds: a full
    # collection walks all of them. Here every framework is loaded at once (importing PyTorch
    # alone makes about 150,000 objects), which no single-framework program has: each sample
    # would start after a walk over all of them (which also empties the CPU caches), and a
    # growing graph would be collected together with them. So everything alive now is moved out
    # of the collector's reach, and `BASELINE_OBJECTS` fresh ones stand in for what a program
    # that imported only numpy holds.
    gc.collect()
    gc.freeze()
    baseline = [[] for _ in range(BASELINE_OBJECTS)]
    try:
        numbers = {n: calibrate(cases[n], target) for n in names}
        times: dict[str, list[float]] = {n: [] for n in names}
        for r in range(repeats):
            k = r % len(names)
            for n in names[k:] + names[:k]:
                times[n].append(_sample(cases[n], numbers[n]))
    finally:
        del baseline
        gc.unfreeze()
    return times


def median(xs: Iterable[float]) -> float:
    return float(np.median(list(xs)))


def ratios(results: list[Result], reference: str) -> None:
    """Fill each row's ratio to the row of implementation `reference` in the same case.

    Rows timed in the same rounds are compared pairwise: the ratio is the median over rounds of
    (this sample / the reference's sample of that round), so a slow stretch of the machine,
    which hits both samples of a round, cancels out. Other rows compare their values.
    """
    base = {r.case: r for r in results if r.impl == reference and r.value}
    for r in results:
        b = base.get(r.case)
        if b is None or r.value is None or b.value is None:
            continue
        if r.samples and len(r.samples) == len(b.samples):
            r.ratio = median(x / y for x, y in zip(r.samples, b.samples))
        else:
            r.ratio = r.value / b.value


# ---------------------------------------------------------------------------------------------
# numerical cross-checks


def to_numpy(x: Any) -> np.ndarray:
    """An array from an ndarray, a chainrule Tensor, a torch tensor or a Python number."""
    if isinstance(x, np.ndarray):
        return x
    mod = type(x).__module__
    if mod.startswith("torch"):
        return x.detach().cpu().numpy()
    if hasattr(x, "data") and isinstance(x.data, np.ndarray):
        return x.data
    return np.asarray(x)


def compare(ref: Mapping[str, Any], got: Mapping[str, Any], rtol: float = 1e-3,
            floor: Mapping[str, float] | None = None) -> str:
    """'ok' when every array in `got` matches `ref`, else 'FAILED: ' and the worst mismatch.

    Each array must match to `rtol` of its reference's largest magnitude, plus `floor[key]`
    (default 0): the float32 sums of different BLAS libraries, in a different order, differ by
    about 1e-6 relative, while a wrong gradient is off by 100%.
    """
    for key, r in ref.items():
        r = np.asarray(to_numpy(r), dtype=np.float64)
        if key not in got:
            return f"FAILED: no '{key}'"
        g = np.asarray(to_numpy(got[key]), dtype=np.float64)
        if g.shape != r.shape:
            return f"FAILED: '{key}' has shape {g.shape}, expected {r.shape}"
        if not r.size:
            continue
        scale = float(np.max(np.abs(r)))
        err = float(np.max(np.abs(g - r)))
        if not np.isfinite(err) or err > rtol * scale + (floor or {}).get(key, 0.0) + 1e-30:
            return f"FAILED: '{key}' off by {err:.3g} (scale {scale:.3g})"
    return "ok"


def one_step(impl: tuple[Callable[[], Any], Callable[[], list[np.ndarray]]],
             init: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Run one step of `impl` = (step, params); return the loss and each weight's update.

    Updates (new - initial weights), not weights, are compared, so that the tolerance is
    relative to what the step changed.
    """
    step, params = impl
    out = {"loss": np.asarray(float(to_numpy(step())))}
    # Copies: an implementation may update its weights in place on the next step.
    out.update({f"update of param {i}": np.array(to_numpy(w), dtype=np.float64) - w0
                for i, (w, w0) in enumerate(zip(params(), init, strict=True))})
    return out


def check_step(build: Callable[[Any], Any], problem: Any, ref: Mapping[str, Any]) -> str:
    """Build a fresh implementation, take one step, and compare it with `ref` (see `compare`)."""
    try:
        got = one_step(build(problem), problem.init)
    except Exception as e:  # a crashing implementation is a failed check, not a crashed suite
        return f"FAILED: {type(e).__name__}: {e}"
    # An update is a difference of float32 weights, exact only to a few ulps of the weights
    # (the largest weight sets the scale: an update that cancels to ~0 has no scale of its own).
    eps = 1e-6 * max(float(np.max(np.abs(w0), initial=0.0)) for w0 in problem.init)
    floor = {f"update of param {i}": eps for i in range(len(problem.init))}
    return compare(ref, got, floor=floor)


#: label -> (framework, builder of (step, params) from a problem, needs this project's nn/optim)
Impls = Mapping[str, tuple[str, Callable[[Any], Any], bool]]


def unavailable(framework: str, needs_nn: bool, cfg: Config) -> str | None:
    """Why an implementation cannot run in this configuration (None when it can)."""
    if not available(framework, cfg):
        return missing(framework, cfg)
    if needs_nn and framework == "chainrule" and nn_optim() is None:
        return "nn/optim not available"
    return None


def step_workload(cfg: Config, workload: str, tag: str, title: str, impls: Impls,
                  reference: str, problem: Any, repeats: int) -> list[Result]:
    """Check one training step of every implementation against `reference`, then time them.

    `problem` carries what every builder starts from (`init`: the initial weights). A row whose
    check failed is not timed.
    """
    ref = one_step(impls[reference][1](problem), problem.init)
    cases: dict[str, Callable[[], Any]] = {}
    rows: dict[str, Result] = {}
    for label, (framework, build, needs_nn) in impls.items():
        row = rows[label] = Result(workload, title, label, None, "ms", tag=tag)
        why = unavailable(framework, needs_nn, cfg)
        if why is not None:
            row.check = why
            continue
        row.check = "-" if label == reference else check_step(build, problem, ref)
        if not row.check.startswith("FAILED"):
            cases[label] = build(problem)[0]
    for label, ts in interleave(cases, repeats, cfg.target).items():
        rows[label].value = median(ts)
        rows[label].samples = ts
    out = list(rows.values())
    ratios(out, reference)
    return out


# ---------------------------------------------------------------------------------------------
# the ReLU MLP of the mlp and micrograd workloads


def relu_mlp(params: list[Any], x: Any, linear: Callable, relu: Callable) -> Any:
    """x through Linear-ReLU-...-Linear with `params` = (W1, b1, W2, b2, ...), W in PyTorch's
    (out, in) layout, given a framework's `linear(h, W, b)` and `relu`."""
    h = x
    last = len(params) // 2 - 1
    for i in range(last + 1):
        h = linear(h, params[2 * i], params[2 * i + 1])
        if i < last:
            h = relu(h)
    return h


def numpy_relu_mlp(params: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """The same forward pass by hand, in place: every layer's input, then the output (the
    ReLU outputs are what the backward pass's masks need)."""
    acts = [x]
    h = x
    last = len(params) // 2 - 1
    for i in range(last + 1):
        h = h @ params[2 * i].T
        h += params[2 * i + 1]
        if i < last:
            np.maximum(h, 0.0, out=h)
        acts.append(h)
    return acts


def numpy_cross_entropy(z: np.ndarray, y: np.ndarray, rows: np.ndarray) -> tuple[float, Any]:
    """Mean cross-entropy of logits `z` (N, C) for class indices `y`, and its gradient
    (softmax(z) - onehot(y)) / N, both computed in place in `z` (stable: shifted by the row max)."""
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = np.log(s).mean() - z[rows, y].mean()
    e /= s
    e[rows, y] -= 1.0
    e *= 1.0 / len(z)
    return loss, e


def numpy_relu_mlp_sgd(params: list[np.ndarray], acts: list[np.ndarray], g: np.ndarray,
                       lr: float, l2: float = 0.0) -> None:
    """The closed-form backward pass of `numpy_relu_mlp` from the logits' gradient `g`, with
    the SGD update `p -= lr * (dL/dp + 2 l2 p)` applied in place layer by layer, as one would
    write it by hand (each gradient scaled in place, then subtracted)."""
    for i in reversed(range(len(params) // 2)):
        w, b, a = params[2 * i], params[2 * i + 1], acts[i]
        ga = None
        if i > 0:
            ga = g @ w            # before w changes
            ga *= a > 0           # ReLU's mask (a is the ReLU output)
        gw = g.T @ a
        gb = g.sum(axis=0)
        if l2:
            gw += (2.0 * l2) * w
            gb += (2.0 * l2) * b
        gw *= lr
        w -= gw
        gb *= lr
        b -= gb
        g = ga


def update_like_numpy(params: list[Any], lr: float) -> None:
    """SGD on this project's tensors as the numpy references do it: scale each fresh gradient in
    place, then subtract it (`sub_(grad, alpha=lr)` would allocate the product `lr * grad`)."""
    import autograd as ag

    with ag.no_grad():
        for q in params:
            q.grad.mul_(lr)
            q.sub_(q.grad)
            q.grad = None


# ---------------------------------------------------------------------------------------------
# the allocator

#: glibc's mallopt parameters (malloc.h) and the values the timed workloads run with.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP_TRIM, _KEEP_MMAP = 1 << 30, 32 << 20


def keep_freed_memory() -> str:
    """Let glibc keep freed memory in the process instead of handing it back to the kernel.

    By default glibc returns a freed block above 128 KB (or the top of its heap) to the kernel,
    and the next allocation of that size faults in fresh, zeroed pages: a CNN step then spends
    about 2,700 page faults and a fifth of its time in the kernel, in numpy and the engine alike.
    Which implementation pays depends on what ran before it (one that just freed a lot leaves
    free memory to the next), which made interleaved timings swing by 30%. With freed memory
    kept, every implementation reuses its own memory from the second step on. This changes
    nothing but the allocator of the benchmark process (the memory workload measures fresh
    child processes with the default allocator). Returns a line for the machine facts.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = (libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_TRIM) == 1
              and libc.mallopt(_M_MMAP_THRESHOLD, _KEEP_MMAP) == 1)
    except (OSError, AttributeError):  # not glibc
        ok = False
    if not ok:
        return "default (glibc's mallopt is not available here)"
    return (f"freed memory kept in the process (M_TRIM_THRESHOLD={_KEEP_TRIM >> 20} MiB, "
            f"M_MMAP_THRESHOLD={_KEEP_MMAP >> 20} MiB)")


# ---------------------------------------------------------------------------------------------
# memory (Linux reads /proc; elsewhere only the peak is known)


def chainrule_classifier_step(model: Any, init: list[np.ndarray], x: np.ndarray, y: np.ndarray,
                              lr: float) -> tuple[Callable[[], Any], Callable[[], list]]:
    """One SGD step of this project's `model` on (x, y) through nn.CrossEntropyLoss and
    optim.SGD, starting from the weights `init`; returns (step, current weights)."""
    import autograd as ag

    nn, optim = nn_optim()  # type: ignore[misc]
    params = list(model.parameters())
    for q, a in zip(params, init, strict=True):
        np.copyto(q.data, a)
    criterion = nn.CrossEntropyLoss()
    opt = optim.SGD(params, lr=lr)
    xt, yt = ag.Tensor(x), ag.Tensor(y)

    def step() -> Any:
        opt.zero_grad()
        loss = criterion(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step, lambda: [q.data for q in params]


def torch_classifier_step(model: Any, init: list[np.ndarray], x: np.ndarray, y: np.ndarray,
                          lr: float) -> tuple[Callable[[], Any], Callable[[], list]]:
    """The same step for a torch.nn `model`, with torch.nn.CrossEntropyLoss and
    torch.optim.SGD."""
    T = torch()
    params = list(model.parameters())
    with T.no_grad():
        for q, a in zip(params, init, strict=True):
            q.copy_(T.from_numpy(a))
    criterion = T.nn.CrossEntropyLoss()
    opt = T.optim.SGD(params, lr=lr)
    xt, yt = T.from_numpy(x), T.from_numpy(y)

    def step() -> Any:
        opt.zero_grad()
        loss = criterion(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step, lambda: [q.detach().numpy() for q in params]


def rss_bytes() -> int:
    """The current resident set size of this process, in bytes (0 where unknown)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0); False if unsupported.

    Without it a peak would include whatever importing a framework briefly took.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """The peak resident set size of this process (since `reset_peak_rss`), in bytes."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


# ---------------------------------------------------------------------------------------------
# the table


def show(value: float | None, unit: str) -> str:
    """A value in base units as text in `unit` (ms, us/op, s, MB)."""
    if value is None:
        return "-"
    scale = {"ms": 1e3, "us/op": 1e6, "us": 1e6, "s": 1.0, "MB": 1.0 / 2**20}[unit]
    v = value * scale
    digits = 3 if v < 10 else 2 if v < 100 else 1 if v < 1000 else 0
    return f"{v:.{digits}f} {unit}"


def table(results: list[Result]) -> str:
    """A markdown table of medians and ratios, grouped by case in the order they ran."""
    lines = ["| workload | implementation | median | vs numpy | check | notes |",
             "|---|---|---|---|---|---|"]
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        lines.append(f"| {r.case} | {r.impl} | {show(r.value, r.unit)} | {ratio} | {r.check} | "
                     f"{r.note} |")
    return "\n".join(lines)


@dataclass
class Machine:
    """Facts that make the numbers interpretable."""

    facts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def probe(cls, frameworks: Iterable[str] = FRAMEWORKS) -> Machine:
        from . import THREAD_ENV

        facts = {"CPU": _cpu_model(), "cores": _cores(), "Python": platform.python_version(),
                 "OS": platform.platform(terse=True),
                 "numpy": f"{np.__version__} ({_numpy_blas()})"}
        facts["thread settings"] = ", ".join(f"{k}={os.environ.get(k, '(unset)')}"
                                             for k in THREAD_ENV)
        if "torch" in frameworks:
            try:
                t = torch()
                facts["torch"] = (f"{t.__version__} ({TORCH_THREADS} threads; MKL "
                                  f"{'yes' if t.backends.mkl.is_available() else 'no'}, oneDNN "
                                  f"{'yes' if t.backends.mkldnn.is_available() else 'no'})")
            except ImportError:
                facts["torch"] = "not installed"
        if "micrograd" in frameworks:
            facts["micrograd"] = _dist_version("micrograd")
        return cls(facts)

    def markdown(self) -> str:
        return "\n".join(f"- {k}: {v}" for k, v in self.facts.items())


class CpuMonitor:
    """How much CPU other processes took while the benchmarks ran (Linux; None elsewhere).

    On a 2-core machine one busy neighbour halves what multi-threaded BLAS and PyTorch get, so
    the results file says how quiet the machine was.
    """

    def __init__(self) -> None:
        self.start = self._read()

    @staticmethod
    def _read() -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        return busy / tick, own, time.monotonic()

    def share(self) -> float | None:
        """The fraction of the machine's CPU time other processes used since construction."""
        end = self._read()
        if self.start is None or end is None:
            return None
        busy, own, wall = (e - s for e, s in zip(end, self.start))
        return max(0.0, busy - own) / max(wall * (os.cpu_count() or 1), 1e-9)

    def others(self) -> str:
        """'X% of the machine's CPU time' used by other processes since construction."""
        share = self.share()
        return "unknown" if share is None else f"{share:.0%} of the machine's CPU time"


def _cpu_model() -> str:
    """The model name, with family and model numbers (a VM often shows only a generic name)."""
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" not in info:
        return platform.processor() or platform.machine()
    return (f"{info['model name']} (family {info.get('cpu family', '?')}, model "
            f"{info.get('model', '?')}, {info.get('cpu MHz', '?')} MHz)")


def _cores() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{usable} usable of {os.cpu_count()}"


def _numpy_blas() -> str:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # show_config's layout differs across numpy versions
        return "BLAS unknown"


def _dist_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


# ---------------------------------------------------------------------------------------------
# child processes (memory is measured in a fresh process per implementation)


def child(module: str, *args: str, timeout: float = 1800.0) -> dict[str, Any]:
    """Run `python -m benchmarks.<module> --child ARGS...` and return the JSON it prints last.

    On failure the dict has an 'error' key with the child's last line of stderr.
    """
    import json
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", "--child", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return {"error": err}
    return json.loads(lines[-1])
