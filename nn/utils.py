"""Regularization penalties, a training monitor, and flattening parameters into one vector.

- `l1_penalty`, `l2_penalty`: differentiable weight penalties to add to a loss.
- `Monitor`: per-step activation statistics of every layer (mean, std, norm, dead ReLU units,
  saturated sigmoid/tanh units) and every parameter's gradient norm, the quantities to watch
  when the initialization or the learning rate is wrong. Plain numbers; plots live in viz/.
- `parameters_to_vector`, `vector_to_parameters`: as in `torch.nn.utils`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import autograd
from autograd import Tensor, no_grad

from .module import Module, RemovableHandle

__all__ = ["Monitor", "l1_penalty", "l2_penalty", "parameters_to_vector",
           "vector_to_parameters"]


def _tensors(params: Tensor | Iterable[Tensor], who: str) -> list[Tensor]:
    """`params` as a list of Tensors (one Tensor, or an iterable such as model.parameters())."""
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, Module):
        raise TypeError(f"{who}: expected Tensors, got the module {type(params).__name__}; "
                        "pass model.parameters()")
    out = list(params)
    for i, p in enumerate(out):
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: expected Tensors, got {type(p).__name__} at position {i}")
    if not out:
        raise ValueError(f"{who}: got no parameters (an exhausted generator?)")
    return out


# ---------------------------------------------------------------------------------------------
# penalties
# ---------------------------------------------------------------------------------------------


def l1_penalty(params: Tensor | Iterable[Tensor]) -> Tensor:
    """The L1 norm of all parameters, sum_p sum_i |p_i|, as a differentiable scalar Tensor.

    Add `lam * l1_penalty(...)` to the loss; its gradient is lam * sign(p) (0 at p = 0), which
    pushes weights to exactly zero (sparse weights). Elastic net adds both penalties::

        loss = data_loss + l1 * nn.utils.l1_penalty(params) + l2 * nn.utils.l2_penalty(params)

    Biases are usually not penalized; select the weights by name, e.g.
    `[p for n, p in model.named_parameters() if n.endswith("weight")]`.
    """
    terms = [autograd.abs(p).sum() for p in _tensors(params, "l1_penalty")]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def l2_penalty(params: Tensor | Iterable[Tensor]) -> Tensor:
    """The squared L2 norm of all parameters, sum_p sum_i p_i^2 (no factor 1/2), as a
    differentiable scalar Tensor.

    Following the CS231n notes, the regularization term is usually written 1/2 lam w^2 so that
    its gradient is lam w: add `0.5 * lam * l2_penalty(params)` for that (the same update as SGD's
    `weight_decay=lam`), or `lam * l2_penalty(params)` for a gradient of 2 lam w.
    For elastic net, add `l1 * l1_penalty(params)` as well.
    """
    terms = [(p * p).sum() for p in _tensors(params, "l2_penalty")]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


# ---------------------------------------------------------------------------------------------
# flattening
# ---------------------------------------------------------------------------------------------


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-d Tensor (differentiable)."""
    return autograd.concatenate([autograd.reshape(p, (-1,))
                                 for p in _tensors(parameters, "parameters_to_vector")])


def vector_to_parameters(vec: Tensor | np.ndarray, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-d `vec` into the parameters, in place (under no_grad,
    keeping each parameter's dtype); the inverse of `parameters_to_vector`."""
    params = _tensors(parameters, "vector_to_parameters")
    array = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    total = sum(p.size for p in params)
    if array.ndim != 1 or array.size != total:
        raise ValueError(f"vector_to_parameters: expected a 1-d vector of {total} elements "
                         f"(the parameters' total size), got shape {array.shape}")
    offset = 0
    with no_grad():
        for p in params:
            p.copy_(array[offset: offset + p.size].reshape(p.shape))
            offset += p.size


# ---------------------------------------------------------------------------------------------
# Monitor
# ---------------------------------------------------------------------------------------------

_LAYER_STATS = ("mean", "std", "norm", "dead_fraction", "saturated_fraction")


class Monitor:
    """Record, per training step, statistics of every layer's output and every parameter's
    gradient: the numbers the course notes say to watch when training goes wrong.

    Forward hooks on each leaf module (a module without children, such as Linear or ReLU)
    record, for every forward pass of `model`, the layer's output `a` (first axis = batch):

    - `mean`, `std`: over all elements (a healthy network keeps std from collapsing to 0 or
      growing with depth);
    - `norm`: the mean over the batch of each sample's L2 norm ||a_n||;
    - `dead_fraction` (ReLU modules): the fraction of units (output positions: a feature, or a
      channel at a pixel) that are exactly 0 for every sample of the batch;
    - `saturated_fraction` (Tanh and Sigmoid modules): the fraction of outputs in the flat
      tails, |tanh| > `saturation`, or sigmoid < 1 - `saturation` or > `saturation` (default
      0.99: tanh beyond +-0.99, sigmoid below 0.01 or above 0.99), where the local gradient is
      under 2% (tanh) or 4% (sigmoid) of its peak and learning stalls.

    After `loss.backward()`, call `record_gradients()` to add each parameter's gradient norm
    ||dL/dp|| (and its value norm ||p||) to the step. Example::

        monitor = nn.utils.Monitor(model)
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            monitor.record_gradients()
            optimizer.step()
        monitor.last()["layers"]["1"]["dead_fraction"]
        monitor.layer_series("1", "dead_fraction")   # one value per step, for plotting
        monitor.detach()

    Each step is a dict in `history`::

        {"step": 0, "training": True,
         "layers": {"0": {"type": "Linear", "shape": (32, 64), "mean": ..., "std": ...,
                          "norm": ...},
                    "1": {"type": "ReLU", ..., "dead_fraction": 0.03}, ...},
         "grad_norms": {"0.weight": ..., "0.bias": ...},   # after record_gradients()
         "param_norms": {"0.weight": ..., ...}, "grad_norm": ...}   # total over parameters

    A step begins with each forward pass of `model` itself; run evaluation passes inside
    `with monitor.paused():` so they are not recorded as steps. A layer called twice in one pass
    keeps the statistics of its last call. Only modules are seen: an activation applied as a
    function inside a forward (`x.relu()`) has no statistics of its own; use the `nn.ReLU`,
    `nn.Tanh`, `nn.Sigmoid` modules (as `nn.MLP` and `nn.Sequential` models do).
    """

    def __init__(self, model: Module, saturation: float = 0.99) -> None:
        # Imported here: the layers package imports nn modules that may import this one.
        from .layers.activation import ReLU, Sigmoid, Tanh

        if not isinstance(model, Module):
            raise TypeError(f"Monitor: expected an nn.Module, got {type(model).__name__}")
        if not 0.5 < saturation < 1.0:
            raise ValueError(f"Monitor: saturation must lie in (0.5, 1), got {saturation}")
        self._relu, self._sigmoid, self._tanh = ReLU, Sigmoid, Tanh
        self.model = model
        self.saturation = float(saturation)
        self.history: list[dict[str, Any]] = []
        self._pending: dict[str, dict[str, Any]] = {}
        self._paused = False
        self._handles: list[RemovableHandle] = []
        self.layer_names: list[str] = []
        for name, module in model.named_modules():
            if any(True for _ in module.children()):
                continue
            label = name or type(module).__name__
            self.layer_names.append(label)
            self._handles.append(module.register_forward_hook(self._observer(label)))
        # Registered last, so on the model it runs after a leaf model's own observer.
        self._handles.append(model.register_forward_hook(self._finish))
        self.param_names = [name for name, _ in model.named_parameters()]

    # ---------------------------------------------------------------------------- hooks
    def _observer(self, label: str) -> Any:
        def hook(module: Module, inputs: tuple, output: Any) -> None:
            if self._paused:
                return
            array = output.data if isinstance(output, Tensor) else output
            if isinstance(array, np.ndarray) and array.dtype.kind == "f":
                self._pending[label] = self._stats(module, array)

        return hook

    def _finish(self, module: Module, inputs: tuple, output: Any) -> None:
        if self._paused:
            return
        self.history.append({"step": len(self.history), "training": module.training,
                             "layers": self._pending})
        self._pending = {}

    def _stats(self, module: Module, a: np.ndarray) -> dict[str, Any]:
        stats: dict[str, Any] = {"type": type(module).__name__, "shape": a.shape}
        if a.size == 0:
            stats.update(mean=math.nan, std=math.nan, norm=math.nan)
            return stats
        # One row per sample (a 0-d output is one sample with one unit).
        flat = a.reshape(a.shape[0] if a.ndim else 1, -1)
        stats["mean"] = float(a.mean())
        stats["std"] = float(a.std())
        stats["norm"] = float(np.sqrt(np.einsum("ij,ij->i", flat, flat)).mean())
        if isinstance(module, self._relu):
            stats["dead_fraction"] = float(np.all(flat == 0, axis=0).mean())
        elif isinstance(module, self._tanh):
            stats["saturated_fraction"] = float((np.abs(a) > self.saturation).mean())
        elif isinstance(module, self._sigmoid):
            low = 1.0 - self.saturation
            stats["saturated_fraction"] = float(((a < low) | (a > self.saturation)).mean())
        return stats

    # ---------------------------------------------------------------------------- recording
    def record_gradients(self) -> dict[str, float | None]:
        """Add each parameter's gradient norm (None where `.grad` is None), its value norm and
        the total gradient norm sqrt(sum_p ||dL/dp||^2) to the current step; returns the
        gradient norms by parameter name.

        The current step is the last recorded one, unless it already has gradients (or no
        forward pass was recorded), in which case a step without layer statistics is added.
        """
        grads: dict[str, float | None] = {}
        values: dict[str, float] = {}
        total = 0.0
        for name, p in self.model.named_parameters():
            values[name] = float(np.linalg.norm(p.data))
            if p.grad is None:
                grads[name] = None
                continue
            norm = float(np.linalg.norm(p.grad.data))
            grads[name] = norm
            total += norm * norm
        if not self.history or "grad_norms" in self.history[-1]:
            self.history.append({"step": len(self.history), "training": self.model.training,
                                 "layers": {}})
        record = self.history[-1]
        record["grad_norms"] = grads
        record["param_norms"] = values
        record["grad_norm"] = math.sqrt(total)
        return grads

    @contextmanager
    def paused(self) -> Iterator[Monitor]:
        """Within this block forward passes are not recorded (e.g. for validation)."""
        previous = self._paused
        self._paused = True
        try:
            yield self
        finally:
            self._paused = previous

    def clear(self) -> None:
        """Forget the recorded history."""
        self.history = []
        self._pending = {}

    def detach(self) -> None:
        """Remove every hook from the model (the history is kept)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    # ---------------------------------------------------------------------------- reading
    def last(self) -> dict[str, Any]:
        """The most recent step's record."""
        if not self.history:
            raise RuntimeError("Monitor: nothing recorded yet; run a forward pass of the model")
        return self.history[-1]

    def layer_series(self, layer: str, stat: str) -> np.ndarray:
        """One statistic of one layer over the recorded steps (nan where a step lacks it).

        `stat` is one of 'mean', 'std', 'norm', 'dead_fraction', 'saturated_fraction'.
        """
        if layer not in self.layer_names:
            raise KeyError(f"Monitor: unknown layer {layer!r}; layers are {self.layer_names}")
        if stat not in _LAYER_STATS:
            raise ValueError(f"Monitor: unknown statistic {stat!r}; expected one of "
                             f"{', '.join(_LAYER_STATS)}")
        return np.array([r["layers"].get(layer, {}).get(stat, math.nan) for r in self.history],
                        dtype=np.float64)

    def grad_series(self, param: str | None = None) -> np.ndarray:
        """A parameter's gradient norm over the recorded steps, or the total gradient norm when
        `param` is None (nan where a step has none)."""
        if param is not None and param not in self.param_names:
            raise KeyError(f"Monitor: unknown parameter {param!r}; parameters are "
                           f"{self.param_names}")
        values = []
        for r in self.history:
            v = r.get("grad_norm") if param is None else r.get("grad_norms", {}).get(param)
            values.append(math.nan if v is None else v)
        return np.array(values, dtype=np.float64)

    def summary(self) -> str:
        """The last step as a table: one row per layer, then the gradient norms."""
        record = self.last()
        rows = [f"step {record['step']}",
                f"{'layer':<16}{'type':<12}{'mean':>11}{'std':>11}{'norm':>11}  dead/saturated"]
        for name in self.layer_names:
            s = record["layers"].get(name)
            if s is None:
                continue
            extra = s.get("dead_fraction", s.get("saturated_fraction"))
            tail = f"  {extra:.1%}" if extra is not None else ""
            rows.append(f"{name:<16}{s['type']:<12}{s['mean']:>11.4g}{s['std']:>11.4g}"
                        f"{s['norm']:>11.4g}{tail}")
        if "grad_norms" in record:
            rows.append(f"{'parameter':<28}{'|grad|':>11}{'|param|':>11}")
            for name, g in record["grad_norms"].items():
                shown = "None" if g is None else f"{g:.4g}"
                rows.append(f"{name:<28}{shown:>11}{record['param_norms'][name]:>11.4g}")
            rows.append(f"{'total':<28}{record['grad_norm']:>11.4g}")
        return "\n".join(rows)

    def __repr__(self) -> str:
        state = "detached" if not self._handles else f"{len(self.layer_names)} layers"
        return f"Monitor({type(self.model).__name__}, {state}, {len(self.history)} steps)"
