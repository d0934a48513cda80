"""Plots for training runs and the course experiments (matplotlib, imported only when used).

Each function returns a `matplotlib.figure.Figure` (shown inline as a cell's value in Jupyter)
and saves it when given `path`. Figures are created without pyplot, so nothing accumulates in
pyplot's global state however many are made; use `fig.savefig(...)` or `path=` in scripts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from autograd import Tensor

PLOTS_HINT = 'plotting needs matplotlib: pip install "chainrule[plots]" (or pip install matplotlib)'


def _figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (6.0, 4.0)) -> tuple:
    """A new Figure and its axes (an ndarray of Axes when there are several)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(PLOTS_HINT) from None
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _save(fig: Any, path: str | os.PathLike | None) -> None:
    if path is not None:
        os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
        fig.savefig(path, dpi=120)


def _array(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.data
    return np.asarray(x)


def _scalar(v: Any) -> float:
    return float(_array(v).reshape(-1)[0]) if np.size(_array(v)) == 1 else float("nan")


# ---------------------------------------------------------------------------------------------
# training history


def _columns(history: Any) -> dict[str, list[float]]:
    """A history as {metric: values}: from a dict of lists or a list of per-epoch dicts."""
    if isinstance(history, Mapping):
        cols = {str(k): [_scalar(v) for v in vs] for k, vs in history.items()
                if isinstance(vs, Sequence | np.ndarray) and not isinstance(vs, str)}
    elif isinstance(history, Iterable):
        rows = list(history)
        if not all(isinstance(r, Mapping) for r in rows):
            raise TypeError("plot_history: a list history must hold one dict per epoch/step")
        keys: dict[str, None] = {}
        for r in rows:
            keys.update(dict.fromkeys(str(k) for k in r))
        cols = {k: [_scalar(r[k]) if k in r else float("nan") for r in rows] for k in keys}
    else:
        raise TypeError(f"plot_history: expected a dict of lists or a list of dicts, got "
                        f"{type(history).__name__}")
    for axis_key in ("epoch", "step", "iteration"):
        cols.pop(axis_key, None)
    if not cols:
        raise ValueError("plot_history: the history holds no metric to plot")
    return cols


def _metric_group(key: str) -> str:
    """'val_loss' and 'train_loss' share the 'loss' panel; 'val_acc' the 'acc' one."""
    for prefix in ("train_", "val_", "valid_", "test_", "training_", "validation_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def plot_history(history: Any, *, xlabel: str = "epoch", path: str | os.PathLike | None = None,
                 title: str | None = None) -> Any:
    """Loss and accuracy curves: one panel per metric ('loss', 'acc', ...), with the train and
    validation variants of a metric ('loss', 'val_loss') in the same panel.

    `history` is a dict of lists ({'loss': [...], 'val_loss': [...]}) or a list of dicts (one
    per epoch); 'epoch'/'step' entries give the x axis when present.
    """
    x_axis = None
    if isinstance(history, Mapping):
        for axis_key in ("epoch", "step", "iteration"):
            if axis_key in history:
                x_axis = [_scalar(v) for v in history[axis_key]]
                xlabel = axis_key
                break
    cols = _columns(history)
    groups: dict[str, list[str]] = {}
    for k in cols:
        groups.setdefault(_metric_group(k), []).append(k)
    fig, axes = _figure(1, len(groups), (4.2 * len(groups), 3.4))
    for ax, (group, keys) in zip(axes[0], groups.items()):
        for k in keys:
            ys = np.asarray(cols[k], dtype=float)
            xs = np.asarray(x_axis, dtype=float) if x_axis is not None and len(x_axis) == len(
                ys) else np.arange(1, len(ys) + 1)
            ax.plot(xs, ys, marker="o" if len(ys) <= 30 else None, markersize=3, label=k)
        ax.set_title(group)
        ax.set_xlabel(xlabel)
        if "loss" in group:
            values = np.concatenate([np.asarray(cols[k], dtype=float) for k in keys])
            values = values[np.isfinite(values)]
            if values.size and values.min() > 0 and values.max() / values.min() > 100:
                ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


# ---------------------------------------------------------------------------------------------
# decision boundaries of 2-D classifiers


def plot_decision_boundary(model: Callable[[Tensor], Any], X: Any, y: Any, *,
                           resolution: int = 200, margin: float = 0.25, ax: Any = None,
                           title: str | None = None,
                           path: str | os.PathLike | None = None) -> Any:
    """The regions a 2-D classifier assigns to each class, with the data points on top.

    `model` maps an (N, 2) Tensor to (N, C) class scores (the argmax is the prediction) or to
    (N,)/(N, 1) scores of a binary classifier (positive means class 1). It runs on a
    `resolution` x `resolution` grid under `autograd.no_grad()`.
    """
    import autograd

    X = _array(X).astype(float, copy=False)
    y = _array(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: {len(X)} points but {len(y)} labels")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo) * margin + 1e-9
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(autograd.get_default_dtype())
    with autograd.no_grad():
        scores = _array(model(autograd.Tensor(grid)))
    if scores.ndim == 1 or scores.shape[-1] == 1:
        pred = (scores.reshape(-1) > 0).astype(int)
    else:
        pred = scores.argmax(axis=-1)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(pred)])).astype(int)
    n_classes = max(int(classes.max()) + 1, 2)
    if ax is None:
        fig, axes = _figure(1, 1, (5.0, 4.6))
        ax = axes[0, 0]
    else:
        fig = ax.figure
    cmap = _class_cmap(n_classes)
    ax.contourf(gx, gy, pred.reshape(gx.shape), levels=np.arange(n_classes + 1) - 0.5,
                cmap=cmap, alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y.astype(int), cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5,
               s=14, edgecolors="k", linewidths=0.4)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_aspect("equal", adjustable="box")
    accuracy = float((_predict(model, X) == y.astype(int)).mean())
    ax.set_title(title if title is not None else f"decision boundary (accuracy {accuracy:.1%})",
                 fontsize=10)
    _save(fig, path)
    return fig


def _predict(model: Callable[[Tensor], Any], X: np.ndarray) -> np.ndarray:
    """The model's predicted class for each row of X (argmax, or score > 0 for one output)."""
    import autograd

    with autograd.no_grad():
        scores = _array(model(autograd.Tensor(X.astype(autograd.get_default_dtype()))))
    if scores.ndim == 1 or scores.shape[-1] == 1:
        return (scores.reshape(-1) > 0).astype(int)
    return scores.argmax(axis=-1)


def _class_cmap(n: int) -> Any:
    from matplotlib.colors import ListedColormap

    base = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777",
            "#65a30d", "#475569", "#ea580c"]
    return ListedColormap([base[i % len(base)] for i in range(n)])


# ---------------------------------------------------------------------------------------------
# first-layer weights as images


def show_weights(layer: Any, image_shape: tuple[int, int] = (28, 28), *,
                 max_images: int = 64, ncols: int | None = None,
                 path: str | os.PathLike | None = None, title: str | None = None) -> Any:
    """Each output unit's incoming weights drawn as an image: what a first layer looks for.

    `layer` is a layer with a `weight` of shape (out_features, in_features) (nn.Linear), or
    that weight as a Tensor or array; each row is reshaped to `image_shape`. Blue is positive,
    red negative, white zero, on a symmetric scale per image.
    """
    w = layer.weight if not isinstance(layer, Tensor | np.ndarray) else layer
    w = _array(w)
    if w.ndim != 2:
        raise ValueError(f"show_weights: expected a weight of shape (out, in), got {w.shape}")
    size = int(np.prod(image_shape))
    if w.shape[1] != size:
        raise ValueError(f"show_weights: rows of length {w.shape[1]} cannot be shown as "
                         f"{tuple(image_shape)} images ({size} pixels)")
    n = min(len(w), max_images)
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    fig, axes = _figure(nrows, ncols, (1.3 * ncols, 1.3 * nrows + 0.3))
    for k, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if k >= n:
            continue
        img = w[k].reshape(image_shape)
        scale = float(np.abs(img).max()) or 1.0
        ax.imshow(img, cmap="RdBu", vmin=-scale, vmax=scale, interpolation="nearest")
        ax.set_title(str(k), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    _save(fig, path)
    return fig


# ---------------------------------------------------------------------------------------------
# per-layer statistics across depth (initialization experiments)

#: Statistics drawn in the third panel (fractions of units, between 0 and 1).
FRACTION_KEYS = ("dead_fraction", "saturated_fraction")


def _numbers(stats: Mapping) -> dict[str, float]:
    """The one-number entries of a statistics dict (drops 'type', 'shape' and the like)."""
    out = {}
    for k, v in stats.items():
        if isinstance(v, str | tuple):
            continue
        a = _array(v)
        if a.dtype.kind in "fiu" and a.size == 1:
            out[str(k)] = float(a.reshape(-1)[0])
    return out


def _layer_stats(monitor: Any, step: int | None
                 ) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """({layer: {statistic: value}}, {layer: gradient norm}) from a Monitor or a plain dict.

    A Monitor's step ({"layers": {...}, "grad_norms": {"0.weight": ...}}) gives each layer's
    activation statistics, and each layer's weight gradient norm (its bias's when it has no
    weight). A plain dict {layer: {"act_std": ..., "grad_norm": ...}} is read as it is, keys
    containing 'grad' being gradient statistics.
    """
    if isinstance(monitor, Mapping):
        record = monitor
    else:
        history = getattr(monitor, "history", None)
        if not isinstance(history, Sequence):
            raise TypeError("plot_layer_stats: expected an nn.utils.Monitor or a dict "
                            f"{{layer: {{statistic: value}}}}, got {type(monitor).__name__}")
        if not history:
            raise ValueError("plot_layer_stats: the monitor has not recorded any step yet; run "
                             "a forward pass of the model (and record_gradients() after backward)")
        if step is None:
            # The latest training step (with gradients), past any later evaluation passes.
            with_grads = [r for r in history if r.get("grad_norms")]
            record = with_grads[-1] if with_grads else history[-1]
        else:
            record = history[step]
    layers: dict[str, dict[str, float]] = {}
    grads: dict[str, float] = {}
    if isinstance(record.get("layers"), Mapping):
        for name, stats in record["layers"].items():
            layers[str(name)] = _numbers(stats)
        for pname, v in (record.get("grad_norms") or {}).items():
            layer, _, kind = str(pname).rpartition(".")
            if v is None:
                continue  # a parameter that received no gradient
            if kind == "weight" or layer not in grads:
                grads[layer] = float(_array(v))
    else:
        for name, stats in record.items():
            if not isinstance(stats, Mapping):
                continue
            values = _numbers(stats)
            layers[str(name)] = {k: v for k, v in values.items() if "grad" not in k}
            for k, v in values.items():
                if "grad" in k:
                    grads[str(name)] = v
    if not any(layers.values()) and not grads:
        raise ValueError("plot_layer_stats: no per-layer statistics found")
    return layers, grads


def plot_layer_stats(monitor: Any, *, step: int | None = None,
                     path: str | os.PathLike | None = None, title: str | None = None) -> Any:
    """Per-layer activation statistics and gradient norms against depth.

    The picture of the initialization experiments: with a good initialization the activation
    spread and the gradient norms stay level across layers; too small a scale makes them
    vanish with depth, too large makes them explode or saturate. Accepts an `nn.utils.Monitor`
    (`step` indexes its history; by default the latest step with gradient norms, else the
    latest step) or a dict
    {layer_name: {'act_std': ..., 'grad_norm': ...}}. Panels: activation statistics (std,
    mean, norm), gradient norms, and the fractions of dead or saturated units when recorded.
    """
    layers, grads = _layer_stats(monitor, step)
    names = list(layers)
    keys = list(dict.fromkeys(k for stats in layers.values() for k in stats))
    act_keys = [k for k in keys if k not in FRACTION_KEYS]
    frac_keys = [k for k in keys if k in FRACTION_KEYS]
    panels: list[tuple[str, list[str], list[str], dict[str, dict[str, float]]]] = []
    if act_keys:
        panels.append(("activations", names, act_keys, layers))
    if grads:
        panels.append(("gradient norms", list(grads), ["grad_norm"],
                       {k: {"grad_norm": v} for k, v in grads.items()}))
    if frac_keys:
        panels.append(("dead / saturated units", names, frac_keys, layers))
    fig, axes = _figure(1, len(panels), (4.6 * len(panels), 3.6))
    for ax, (name, xs, ks, table) in zip(axes[0], panels):
        depth = np.arange(len(xs))
        plotted = []
        for k in ks:
            ys = np.array([table[x].get(k, np.nan) for x in xs], dtype=float)
            if np.isfinite(ys).any():
                ax.plot(depth, ys, marker="o", markersize=4, label=k)
                plotted.append(ys[np.isfinite(ys)])
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("layer (input to output)")
        ax.set_xticks(depth)
        long_names = max(len(x) for x in xs) > 3
        ax.set_xticklabels(xs, rotation=45 if long_names else 0,
                           ha="right" if long_names else "center", fontsize=7)
        values = np.concatenate(plotted) if plotted else np.array([])
        if name == "dead / saturated units":
            ax.set_ylim(-0.02, 1.02)
        elif values.size and values.min() > 0 and values.max() / values.min() > 100:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


# ---------------------------------------------------------------------------------------------
# optimizer trajectories on a 2-D function


def _path_array(p: Any) -> np.ndarray:
    if isinstance(p, Tensor | np.ndarray):
        a = _array(p)
    else:
        a = np.array([_array(q).reshape(-1) for q in p])
    a = np.asarray(a, dtype=float)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"plot_trajectories: each path must be a sequence of 2-D points "
                         f"(shape (T, 2)), got shape {a.shape}")
    return a


def plot_trajectories(fn2d: Callable[[np.ndarray, np.ndarray], Any], paths: Any, *,
                      xlim: tuple[float, float] | None = None,
                      ylim: tuple[float, float] | None = None, levels: int = 30,
                      log_levels: bool | None = None, resolution: int = 200,
                      path: str | os.PathLike | None = None, title: str | None = None) -> Any:
    """Optimizer paths over the contour lines of a 2-D function.

    `fn2d(x, y)` evaluates the function elementwise on arrays (e.g. Rosenbrock's
    `(1 - x)**2 + 100 * (y - x**2)**2`); `paths` is a dict {label: points} or a list of
    point sequences, each of shape (T, 2). Contour levels are log-spaced when the function is
    nonnegative and its largest value exceeds 100 times its 5th percentile on the plotted
    area (or when `log_levels=True`).
    """
    named = paths.items() if isinstance(paths, Mapping) else (
        (f"path {k + 1}", p) for k, p in enumerate(paths))
    series = [(str(label), _path_array(p)) for label, p in named]
    if not series:
        raise ValueError("plot_trajectories: no paths given")
    pts = np.concatenate([a for _, a in series])
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    lo, hi = finite.min(axis=0), finite.max(axis=0)
    pad = np.maximum((hi - lo) * 0.15, 0.5)
    xlim = xlim or (lo[0] - pad[0], hi[0] + pad[0])
    ylim = ylim or (lo[1] - pad[1], hi[1] + pad[1])
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    z = np.asarray(_array(fn2d(gx, gy)), dtype=float)
    if z.shape != gx.shape:
        raise ValueError(f"plot_trajectories: fn2d must work elementwise on arrays; it returned "
                         f"shape {z.shape} for inputs of shape {gx.shape}")
    fig, axes = _figure(1, 1, (5.6, 4.6))
    ax = axes[0, 0]
    zf = z[np.isfinite(z)]
    if log_levels is None:
        # A long-tailed nonnegative function (Rosenbrock's valley): most of the picture would
        # lie below the first linear level.
        log_levels = bool(zf.size and zf.min() >= 0 and
                          zf.max() > 100 * max(np.percentile(zf, 5), 1e-12))
    if log_levels:
        zmin = max(float(zf.min()), 1e-12 * max(float(zf.max()), 1.0))
        lv = np.geomspace(zmin, float(zf.max()), levels)
        cs = ax.contour(gx, gy, np.maximum(z, zmin), levels=lv, cmap="viridis",
                        linewidths=0.7, norm=_log_norm(zmin, float(zf.max())))
    else:
        cs = ax.contour(gx, gy, z, levels=levels, cmap="viridis", linewidths=0.7)
    cs.set_alpha(0.8)
    colors = ["#dc2626", "#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777"]
    for k, (label, a) in enumerate(series):
        c = colors[k % len(colors)]
        ax.plot(a[:, 0], a[:, 1], "-", color=c, linewidth=1.4, label=label, alpha=0.9)
        ax.plot(a[:, 0], a[:, 1], "o", color=c, markersize=2.2)
        ax.plot(a[0, 0], a[0, 1], "s", color=c, markersize=5)
        ax.plot(a[-1, 0], a[-1, 1], "*", color=c, markersize=9, markeredgecolor="k",
                markeredgewidth=0.4)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title or "optimizer trajectories (square: start, star: end)", fontsize=10)
    _save(fig, path)
    return fig


def _log_norm(lo: float, hi: float) -> Any:
    from matplotlib.colors import LogNorm

    return LogNorm(vmin=lo, vmax=hi)
