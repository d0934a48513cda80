"""The chain rule, edge by edge: local derivatives and the backward pass replayed step by step.

Every edge `x -> op -> y` of a graph carries a local derivative dy/dx; the backward pass
multiplies the gradient arriving at y by it (a vector-Jacobian product in general) and sums what
arrives at x over all of x's consumers:

    dL/dx = sum over consumers y of x:  dL/dy * dy/dx

For a scalar (one-element) edge the local derivative is a number, obtained by running the op's
own VJP with g = 1 at the values the forward pass saw. For tensor edges it is a rule such as
`grad @ W.T`, listed in `RULES` by op name (unknown ops fall back to `vjp(grad)`).

The saved arrays an op's VJP needs are freed by backward (unless retain_graph=True), but the
inputs are not: a copy of the node re-runs `forward` on them to restore the saved values, so the
numbers are available before and after backward alike.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd import Tensor, toposort
from autograd.broadcast import sum_to_shape
from autograd.function import Function
from autograd.namespace import ArrayNS

from .trace import Graph, OpNode, TensorNode, format_number

# ---------------------------------------------------------------------------------------------
# the table of local derivatives, by op name
#
# Each entry lists, per input position, (scalar formula, tensor rule). Placeholders: {a} {b} the
# operands of a binary op, {x} the operand of a unary one, {y} the output, {n} the number of
# elements reduced, {c} the Python number of a `*_scalar` op, {grad} the gradient arriving at
# the output. The scalar formula is the number
# dy/dx written symbolically; the tensor rule is how the gradient of x is computed from {grad}.

RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "add": (("1", "{grad}"), ("1", "{grad}")),
    "sub": (("1", "{grad}"), ("-1", "-{grad}")),
    "mul": (("{b}", "{grad} * {b}"), ("{a}", "{grad} * {a}")),
    "div": (("1/{b}", "{grad} / {b}"), ("-{a}/{b}^2", "-{grad} * {a} / {b}^2")),
    "pow": (("{b} * {a}^({b}-1)", "{grad} * {b} * {a}^({b}-1)"),
            ("{a}^{b} * log({a})", "{grad} * {y} * log({a})")),
    "neg": (("-1", "-{grad}"),),
    "add_scalar": (("1", "{grad}"),),
    "mul_scalar": (("{c}", "{grad} * {c}"),),
    "div_scalar": (("1/{c}", "{grad} / {c}"),),
    "rsub_scalar": (("-1", "-{grad}"),),
    "rdiv_scalar": (("-{c}/{x}^2", "-{grad} * {c} / {x}^2"),),
    "pow_scalar": (("{c} * {x}^({c}-1)", "{grad} * {c} * {x}^({c}-1)"),),
    "maximum": (("[{a} > {b}]", "{grad} * [{a} > {b}]"), ("[{b} > {a}]", "{grad} * [{b} > {a}]")),
    "minimum": (("[{a} < {b}]", "{grad} * [{a} < {b}]"), ("[{b} < {a}]", "{grad} * [{b} < {a}]")),
    "where": (("[cond]", "where(cond, {grad}, 0)"), ("[not cond]", "where(cond, 0, {grad})")),
    "astype": (("1", "{grad} cast back"),),
    "exp": (("exp({x})", "{grad} * {y}"),),
    "log": (("1/{x}", "{grad} / {x}"),),
    "sqrt": (("1/(2 sqrt({x}))", "{grad} / (2 {y})"),),
    "abs": (("sign({x})", "{grad} * sign({x})"),),
    "sin": (("cos({x})", "{grad} * cos({x})"),),
    "cos": (("-sin({x})", "-{grad} * sin({x})"),),
    "tanh": (("1 - tanh^2", "{grad} * (1 - {y}^2)"),),
    "sigmoid": (("s (1 - s)", "{grad} * {y} * (1 - {y})"),),
    "relu": (("[{x} > 0]", "{grad} * [{x} > 0]"),),
    "leaky_relu": (("1 if {x} > 0 else slope", "{grad} * (1 if {x} > 0 else slope)"),),
    "elu": (("1 if {x} > 0 else exp({x})", "{grad} * (1 if {x} > 0 else alpha exp({x}))"),),
    "softplus": (("sigmoid({x})", "{grad} * sigmoid({x})"),),
    "clip": (("[lo <= {x} <= hi]", "{grad} * [lo <= {x} <= hi]"),),
    "sum": (("1", "broadcast({grad})"),),
    "mean": (("1/{n}", "broadcast({grad}) / {n}"),),
    "max": (("[{x} is the max]", "{grad} at the argmax"),),
    "min": (("[{x} is the min]", "{grad} at the argmin"),),
    "var": (("2 ({x} - mean) / n", "{grad} * 2 ({x} - mean) / (n - ddof)"),),
    "logsumexp": (("softmax({x})", "{grad} * softmax({x})"),),
    "softmax": (("s (1 - s)", "{y} * ({grad} - sum({grad} * {y}))"),),
    "log_softmax": (("1 - softmax", "{grad} - softmax({x}) * sum({grad})"),),
    "cross_entropy": (("softmax - onehot", "{grad} * (softmax({x}) - onehot)"),),
    "matmul": (("{b}", "{grad} @ {b}.T"), ("{a}", "{a}.T @ {grad}")),
    "linear": (("{w}", "{grad} @ {w}"), ("{x}", "{grad}.T @ {x}"), ("1", "sum({grad}, batch)")),
    "max_pool2d": (("[{x} is its window's max]", "{grad} to each window's max"),),
    "einsum": (("...", "einsum({grad}, others)"),) * 8,
    "reshape": (("1", "reshape({grad})"),),
    "transpose": (("1", "transpose({grad})"),),
    "swapaxes": (("1", "swapaxes({grad})"),),
    "broadcast_to": (("1", "sum_to({grad})"),),
    "sum_to": (("1", "broadcast({grad})"),),
    "getitem": (("1", "scatter({grad})"),),
    "unindex": (("1", "{grad}[index]"),),
    "pad": (("1", "unpad({grad})"),),
    "concatenate": (("1", "slice of {grad}"),) * 8,
    "stack": (("1", "{grad}[i]"),) * 8,
    "sliding_window_view": (("1", "window_sum({grad})"),),
    "window_sum": (("1", "windows({grad})"),),
}

GENERIC = ("d/d{x}", "vjp({grad})")


@dataclass
class LocalDerivative:
    """The local derivative on the edge from input `index` of `op` into the op.

    `value` is the number d(output)/d(input) when both are one-element tensors (else None);
    `formula` is its symbolic form (scalar edges) or the backward rule (tensor edges); `shape` is
    the shape of the gradient this edge delivers (the input's shape).
    """

    op: OpNode
    index: int
    value: float | None
    formula: str
    shape: tuple[int, ...]

    @property
    def scalar(self) -> bool:
        return self.value is not None

    def label(self) -> str:
        """The edge label: '= b = 3.0' for a scalar edge, 'grad @ W.T : (2, 3)' for a tensor."""
        if self.value is not None:
            number = format_number(self.value)
            if self.formula == number or _as_float(self.formula) == self.value:
                return f"= {self.formula}"
            return f"= {self.formula} = {number}"
        return f"{self.formula} : {self.shape}"


def _as_float(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        return float("nan")


def restored(node: Function) -> Function:
    """The node itself when its saved arrays are intact, else a copy with them recomputed.

    backward frees what `forward` saved; re-running `forward` on a copy from the (kept) inputs
    restores it without touching the graph.
    """
    if not node.released:
        return node
    fresh = copy.copy(node)
    try:
        fresh.forward(*[t.data for t in node.inputs])
    except Exception:
        # A forward that cannot run twice (its options were rewritten by the first run) still
        # gives a usable VJP when that VJP needs no saved value; a real failure shows up there.
        pass
    return fresh


def vjp(node: Function, g: np.ndarray) -> list[np.ndarray | None]:
    """Gradients of the node's inputs given the gradient `g` of its output, each summed back to
    its input's shape and dtype (exactly what the engine does on every edge)."""
    inputs = node.inputs
    gins = restored(node).vjp(ArrayNS, g, *[t.data for t in inputs])
    out: list[np.ndarray | None] = []
    for i, t in enumerate(inputs):
        gi = gins[i] if i < len(gins) else None
        if gi is None or not node.needs[i]:
            out.append(None)
            continue
        gi = np.asarray(gi)
        if gi.shape != t.data.shape:
            gi = sum_to_shape(gi, t.data.shape)
        if gi.dtype != t.data.dtype:
            gi = gi.astype(t.data.dtype)
        out.append(gi)
    return out


def local_derivatives(graph: Graph, op: OpNode) -> list[LocalDerivative | None]:
    """The local derivative of every input edge of `op` (None for inputs that need no gradient:
    constants and data, along which backward sends nothing)."""
    node = op.node
    out_size = op.output.size
    values: list[float | None] = [None] * len(op.inputs)
    if out_size == 1 and any(t.size == 1 for t in op.inputs):
        g = np.ones_like(op.output.data)
        for i, gi in enumerate(vjp(node, g)):
            if gi is not None and gi.size == 1:
                values[i] = float(gi.reshape(-1)[0])
    result: list[LocalDerivative | None] = []
    for i, t in enumerate(op.inputs):
        if not node.needs[i]:
            result.append(None)
            continue
        scalar = values[i] is not None
        formula = _formula(op, i, scalar)
        result.append(LocalDerivative(op, i, values[i], formula, t.shape))
    return result


def _formula(op: OpNode, i: int, scalar: bool) -> str:
    rules = RULES.get(op.name)
    entry = rules[i] if rules is not None and i < len(rules) else GENERIC
    template = entry[0] if scalar else entry[1]
    ins = op.inputs
    subs = {
        "grad": "grad",
        "y": op.output.name,
        "x": ins[0].name if len(ins) == 1 else ins[i].name,
        "a": ins[0].name,
        "b": ins[1].name if len(ins) > 1 else "b",
        "w": ins[1].name if len(ins) > 1 else "W",
        "n": str(_reduced_count(op)),
        "c": _number_option(op.node),
    }
    if op.name == "linear":
        subs["x"] = ins[0].name
    return template.format(**{k: _operand(v) for k, v in subs.items()})


def _number_option(node: Function) -> str:
    """The constant of a `*_scalar` op (its `c`), formatted; 'c' for ops without one."""
    c = getattr(node, "c", None)
    try:
        return format_number(float(c))
    except (TypeError, ValueError):
        return "c"


def _operand(name: str) -> str:
    """A name as it appears inside a formula: compound ones in parentheses."""
    if any(c in name for c in " +-*/^"):
        return f"({name})"
    return name


def _reduced_count(op: OpNode) -> int:
    out, x = op.output.size, op.inputs[0].size
    return x // out if out else 0


# ---------------------------------------------------------------------------------------------
# the backward pass, one node at a time


@dataclass
class BackwardStep:
    """One step of backpropagation: `op` received `grad_out` (the complete dL/d(output)) and
    sent `grad_inputs[i]` down each input edge (None where no gradient flows). `known` maps
    tensor ids to every gradient known after this step, sums over the consumers seen so far."""

    index: int
    op: OpNode
    grad_out: np.ndarray
    grad_inputs: list[np.ndarray | None]
    known: dict[str, np.ndarray]


def seed_gradient(root: TensorNode, grad: Any = None) -> np.ndarray:
    """dL/dL: ones for a scalar root, or the given gradient of the root's shape."""
    if grad is None:
        return np.ones_like(root.data)
    g = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=root.data.dtype)
    if g.shape != root.shape:
        raise ValueError(f"grad has shape {g.shape} but the root has shape {root.shape}")
    return g


def backward_steps(graph: Graph, grad: Any = None, snapshots: bool = True
                   ) -> Iterator[BackwardStep]:
    """Replay backpropagation on arrays in the engine's order (`autograd.engine.toposort`).

    Each op runs once, after every consumer of its output has passed its gradient down, so its
    incoming gradient is already the sum over all paths. Nothing in the graph is modified and
    no `.grad` is written. `grad` seeds the root (ones when None). With `snapshots=False` every
    step shares one `known` dict (cheaper when only the final gradients matter).
    """
    if not graph.ops:
        return
    known: dict[str, np.ndarray] = {graph.root.id: seed_gradient(graph.root, grad)}
    for k, node in enumerate(toposort([graph.root.op.node])):
        op = graph.op_of(node)
        g = known.get(op.output.id)
        if g is None:
            # Every consumer's VJP sent None along this edge: the gradient is zero.
            g = known[op.output.id] = np.zeros_like(op.output.data)
        gins = vjp(node, g)
        for t, gi in zip(op.inputs, gins):
            if gi is None:
                continue
            prev = known.get(t.id)
            # A new array, never in place: earlier snapshots keep their values.
            known[t.id] = gi if prev is None else prev + gi
        yield BackwardStep(k, op, g, gins, dict(known) if snapshots else known)


def all_gradients(graph: Graph, grad: Any = None) -> dict[str, np.ndarray]:
    """dL/dt for every tensor of the graph (by tensor id) that a gradient reaches."""
    known: dict[str, np.ndarray] = {graph.root.id: seed_gradient(graph.root, grad)}
    for step in backward_steps(graph, grad, snapshots=False):
        known = step.known
    return known
