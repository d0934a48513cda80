"""`Optimizer`: parameter groups, per-parameter state and the step/zero_grad/state_dict protocol.

An optimizer holds `param_groups`, a list of dicts each with a `"params"` list and that group's
options (lr, momentum, ...; missing options take the constructor's defaults), and `state`, a dict
from parameter to that parameter's buffers (numpy arrays, created at its first update). As in
`torch.optim`, `step()` reads each parameter's `.grad` and updates `.data` in place; parameters
whose `.grad` is None are skipped.

Updates are numpy operations on `p.data` (no graph is recorded), followed by an advance of the
parameter's version counter as the engine's own in-place methods do, so a graph that saved a
parameter's old value refuses to run backward instead of silently using the new one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd import Tensor, enable_grad, no_grad

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


def mark_updated(p: Tensor) -> None:
    """Advance `p`'s version counter after its data was changed in place by numpy, so a graph
    recorded before the update refuses to backward instead of using stale values."""
    p._bump_version()


def check_nonnegative(value: float, what: str) -> None:
    """Raise ValueError unless `value >= 0` (NaN fails too), with PyTorch's wording."""
    if not value >= 0.0:
        raise ValueError(f"Invalid {what}: {value} (it must be >= 0)")


def check_beta(value: float, what: str) -> None:
    """Raise ValueError unless `0 <= value < 1`."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {what}: {value} (it must be in [0, 1))")


class Optimizer:
    """Base class of the optimizers: `Optimizer(params, defaults)`.

    `params` is an iterable of Tensors, or of dicts (parameter groups) each with a `"params"`
    entry and any per-group options; `defaults` gives the options a group does not set.
    Subclasses implement `_update(group)`, the update of one group's parameters (run under
    `no_grad()`), and may override `_validate(options)` to check a group's options.

    Raises ValueError for an empty parameter list, a parameter given twice (in one group or
    across groups), a non-leaf or non-floating parameter, and for invalid options.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self._validate(defaults)
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got a Tensor; pass [tensor] or model.parameters()")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------------------------------
    # parameter groups
    def _validate(self, options: dict[str, Any]) -> None:
        """Check a group's options (overridden by each optimizer); raise ValueError if invalid."""
        if "lr" in options:
            check_nonnegative(options["lr"], "learning rate")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a new layer being unfrozen)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs; use a list instead")
        elif params is None:
            raise ValueError("a parameter group needs a 'params' entry")
        params = list(params)
        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter {i} is a "
                    f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (parameter {i} was computed by "
                    f"'{p.grad_fn.name}'); optimize the leaf it came from, or .detach() it and "
                    "set requires_grad=True")
            if p.data.dtype.kind != "f":
                raise ValueError(
                    f"optimizer can only optimize floating-point Tensors, but parameter {i} has "
                    f"dtype {p.data.dtype}")
            if id(p) in seen:
                raise ValueError(
                    f"a parameter appears more than once in the parameter group (positions "
                    f"{seen[id(p)]} and {i}); give each parameter once")
            seen[id(p)] = i
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate(group)
        for other in self.param_groups:
            if any(id(p) in seen for p in other["params"]):
                raise ValueError(
                    "some parameters appear in more than one parameter group; give each "
                    "parameter to exactly one group")
        self.param_groups.append(group)

    # ----------------------------------------------------------------------------------------
    # the training-loop protocol
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns `closure()`'s loss if given.

        The closure (optional for first-order methods) re-evaluates the model, calls backward
        and returns the loss; it runs with gradient recording on.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update(group)
        return loss

    def _update(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (the default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif g.grad_fn is not None:
                    # A gradient recorded under create_graph is part of a graph: replace it.
                    p.grad = Tensor._make(np.zeros_like(g.data), None)
                else:
                    g.data.fill(0)

    # ----------------------------------------------------------------------------------------
    # checkpoints
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer in PyTorch's layout, with parameters as integer indices.

        `{"state": {index: {name: array or number}}, "param_groups": [{option: value, ...,
        "params": [index, ...]}]}`; indices count the parameters across groups in order. The
        arrays are copies and nothing in it is a Tensor, so `nn.save` can write it as it is.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                ids.append(index.setdefault(id(p), len(index)))
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index and s:
                state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                       for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` taken from an optimizer of the same kind over the same shapes.

        Group options are replaced by the saved ones; each buffer is copied into the parameter's
        dtype. Raises ValueError when the groups or the parameter shapes do not match.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)} saved, {len(self.param_groups)} in this optimizer)")
        id_map: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_ids = [int(k) for k in saved["params"]]
            if len(saved_ids) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group (group {i}: {len(saved_ids)} saved parameters, "
                    f"{len(group['params'])} here)")
            id_map.update(zip(saved_ids, group["params"]))
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, buffers in state_dict["state"].items():
            k = int(key)
            if k not in id_map:
                raise ValueError(
                    f"loaded state dict has state for parameter index {k}, which no parameter "
                    "group lists")
            p = id_map[k]
            new_state[p] = {name: _restore(p, k, name, v) for name, v in buffers.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            # Options missing from an older checkpoint keep this optimizer's values.
            new = {k: v for k, v in group.items() if k != "params"}
            new.update((k, _plain(v)) for k, v in saved.items() if k != "params")
            new["params"] = group["params"]
            new_groups.append(new)
        for group in new_groups:
            self._validate(group)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


def _plain(value: Any) -> Any:
    """A loaded option as the Python value it was saved from (0-d arrays back to scalars)."""
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return tuple(value)
    return value


def _restore(p: Tensor, index: int, name: str, value: Any) -> Any:
    """A saved state entry made ready for parameter `p`: arrays copied in p's dtype and shape."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        if value.shape != p.shape:
            raise ValueError(
                f"loaded state dict's '{name}' for parameter {index} has shape {value.shape}, "
                f"but the parameter has shape {p.shape}")
        return np.array(value, dtype=p.data.dtype if value.dtype.kind == "f" else value.dtype)
    value = _plain(value)
    if isinstance(value, float) and value.is_integer() and name == "step":
        return int(value)
    return value
