"""What the course experiments share: the command line, figures, the MNIST training loop.

Every experiment takes `--quick` (a small version that runs in seconds, used by the tests),
`--out` (the output folder, default `runs/<name>`) and `--seed`, prints its key numbers, writes
its figures to the output folder and returns the key numbers from `main(argv)` as a dict.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import autograd as ag
import nn
import optim

PLOTS_HINT = 'the figures need matplotlib: pip install "chainrule[plots]"'


# ---------------------------------------------------------------------------------------------
# command line


def parser(name: str, doc: str | None) -> argparse.ArgumentParser:
    """The experiment's parser: its docstring as the help text, plus --quick, --out, --seed."""
    p = argparse.ArgumentParser(prog=f"python -m examples.{name}", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="a small version that runs in a few seconds (used by the tests)")
    p.add_argument("--out", default=os.path.join("runs", name),
                   help=f"output folder for the figures (runs/{name})")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and data (0)")
    return p


def start(args: argparse.Namespace) -> str:
    """Seed the engine's generator and create the output folder; returns the folder."""
    ag.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    return args.out


# ---------------------------------------------------------------------------------------------
# figures


def figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (6.0, 4.0)) -> tuple:
    """A matplotlib Figure (made without pyplot, so nothing piles up in its global state) and
    its 2-d array of axes."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(PLOTS_HINT) from None
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def save(fig: Any, out: str, filename: str) -> str:
    """Write the figure as `out/filename` (png) and print its path."""
    path = os.path.join(out, filename)
    fig.savefig(path, dpi=110)
    print(f"figure:  {path}")
    return path


def render(graph: Any, out: str, filename: str) -> str:
    """Render a viz drawing to `out/filename`; without a Graphviz renderer, write the DOT
    source next to it instead (and say what to install)."""
    import viz

    path = os.path.join(out, filename)
    try:
        path = viz.render(graph, path)
    except viz.RendererNotFound as err:
        path = os.path.splitext(path)[0] + ".dot"
        with open(path, "w", encoding="utf-8") as f:
            f.write(graph.source)
        print(f"note:    {err}")
    print(f"figure:  {path}")
    return path


# ---------------------------------------------------------------------------------------------
# training on MNIST


def mnist_subset(n_train: int | None = None, n_test: int | None = None, seed: int = 0,
                 flatten: bool = True) -> tuple[tuple[np.ndarray, np.ndarray],
                                                tuple[np.ndarray, np.ndarray]]:
    """The bundled MNIST split, optionally cut to a class-balanced random subset (quick runs)."""
    (x_train, y_train), (x_test, y_test) = nn.datasets.mnist(flatten=flatten)
    rng = np.random.default_rng(seed)

    def cut(x: np.ndarray, y: np.ndarray, n: int | None) -> tuple[np.ndarray, np.ndarray]:
        if n is None or n >= len(y):
            return x, y
        # The same number of each digit: the bundled files are ordered by class.
        per_class = n // 10
        idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class]
                              for c in range(10)])
        idx = rng.permutation(idx)
        return x[idx], y[idx]

    return cut(x_train, y_train, n_train), cut(x_test, y_test, n_test)


def accuracy(model: Callable[[Any], ag.Tensor], x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of samples whose largest score is the label."""
    with ag.no_grad():
        return float((model(x).data.argmax(axis=1) == y).mean())


def train_epochs(model: nn.Module, opt: optim.Optimizer, x: np.ndarray, y: np.ndarray,
                 epochs: int, batch_size: int = 32, seed: int = 0,
                 loss_fn: Callable[[ag.Tensor, np.ndarray], ag.Tensor] | None = None,
                 ) -> list[float]:
    """Minibatch training; returns the mean training loss of each epoch (nan once diverged)."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    loader = nn.data.DataLoader((x, y), batch_size=batch_size, shuffle=True, seed=seed)
    losses = []
    model.train()
    for _ in range(epochs):
        total, seen = 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            seen += len(yb)
        losses.append(total / seen)
        if not math.isfinite(losses[-1]):
            break
    model.eval()
    return losses


def train_steps(model: nn.Module, x: np.ndarray, y: np.ndarray, steps: int, lr: float,
                seed: int, momentum: float = 0.9, batch_size: int = 64) -> list[float]:
    """`steps` SGD updates (with momentum) on random minibatches; the loss of each step. Stops
    early once the loss is no longer finite (a diverging run)."""
    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    with np.errstate(all="ignore"):  # overflow is one of the outcomes some experiments show
        for _ in range(steps):
            idx = rng.integers(0, len(y), batch_size)
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                break
    return losses


def style(ax: Any, xlabel: str, title: str, ylabel: str | None = None, log: bool = False,
          legend: bool = True) -> None:
    """Labels, title, grid and legend of one panel (log scale on y when `log`)."""
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8)


def fmt(values: Iterable[float], spec: str = ".3f") -> str:
    """Numbers as a short comma-separated list."""
    return ", ".join(format(v, spec) for v in values)
