"""The chain rule as paths: d(root)/d(leaf) = sum over paths of the product of local derivatives.

For a scalar graph, every route from `leaf` to `root` through the ops contributes the product of
the local derivatives on its edges, and the gradient is the sum of these contributions:

    dL/da = sum over paths p from a to L of  prod over edges (x -> y) of p  of  dy/dx

`explain_gradient` lists the paths, their products and the sum, and checks the sum against the
gradient the engine computed; `draw_gradient_paths` draws the same on the graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from autograd import Tensor

from .chain_rule import LocalDerivative, local_derivatives
from .dot import PATH_COLORS, Decorations, build_digraph, derivative_labels, drawn_gradients
from .render import Digraph
from .trace import Edge, Graph, OpNode, TensorNode, format_number, trace


@dataclass
class PathStep:
    """One edge of a path: `source` enters `op` as argument `index`, producing `target`."""

    source: TensorNode
    op: OpNode
    index: int
    target: TensorNode
    derivative: LocalDerivative

    @property
    def value(self) -> float:
        assert self.derivative.value is not None
        return self.derivative.value

    def __str__(self) -> str:
        return f"d{self.target.name}/d{self.source.name} {self.derivative.label()}"


@dataclass
class GradientPath:
    """One path from the leaf to the root, its local derivatives and their product."""

    steps: list[PathStep]
    product: float

    @property
    def nodes(self) -> list[str]:
        """Names along the path, leaf first: tensor, op, tensor, ..., root."""
        if not self.steps:
            return []
        out = [self.steps[0].source.name]
        for s in self.steps:
            out += [s.op.label, s.target.name]
        return out

    @property
    def derivatives(self) -> list[float]:
        """The local derivative of each edge, leaf first."""
        return [s.value for s in self.steps]

    @property
    def edges(self) -> list[Edge]:
        """The drawn edges of the path (tensor -> op and op -> output, alternately)."""
        out = []
        for s in self.steps:
            out += [Edge(s.source.id, s.op.id, s.index), Edge(s.op.id, s.target.id)]
        return out

    def route(self) -> str:
        """'a -[*]-> t0 -[tanh]-> out'"""
        if not self.steps:
            return ""
        parts = [self.steps[0].source.name]
        for s in self.steps:
            parts.append(f"-[{s.op.label}]-> {s.target.name}")
        return " ".join(parts)


@dataclass
class GradientExplanation:
    """d(root)/d(leaf) as a sum over paths. `str()` gives the worked text.

    `total` is the sum of the path products; `engine_grad` the gradient the engine computed
    (`leaf.grad`, or `autograd.grad` when backward has not run; None when unavailable).
    """

    graph: Graph
    leaf: TensorNode
    paths: list[GradientPath]
    total: float
    engine_grad: float | None
    notes: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool | None:
        """Whether the sum of path products equals the engine's gradient (None: not known)."""
        if self.engine_grad is None:
            return None
        rtol = 1e-9 if self.leaf.data.dtype == np.float64 else 1e-4
        scale = max(1.0, sum(abs(p.product) for p in self.paths))
        return bool(abs(self.total - self.engine_grad) <= rtol * scale)

    def check(self) -> str:
        """'sum of path products = 3.0 + 2.0 = 5.0 = a.grad = 5.0'"""
        terms = " + ".join(format_number(p.product) for p in self.paths) or "0"
        total = format_number(self.total)
        head = f"sum of path products = {terms} = {total}" if len(self.paths) > 1 \
            else f"sum of path products = {total}"
        grad_name = f"{self.leaf.name}.grad"
        if self.engine_grad is None:
            return f"{head}  ({grad_name} is not available: run backward to compare)"
        relation = "=" if self.matches else "!="
        verdict = "" if self.matches else "   <- MISMATCH"
        return f"{head} {relation} {grad_name} = {format_number(self.engine_grad)}{verdict}"

    def __str__(self) -> str:
        root = self.graph.root.name
        leaf = self.leaf.name
        n = len(self.paths)
        lines = [f"d{root}/d{leaf} by the chain rule: {n} path{'s' if n != 1 else ''} from "
                 f"{leaf} to {root}; each contributes the product of the local derivatives "
                 "on its edges, and the gradient is their sum.", ""]
        for k, p in enumerate(self.paths, 1):
            lines.append(f"path {k}: {p.route()}")
            for s in p.steps:
                lines.append(f"    {s}")
            factors = " * ".join(format_number(v) for v in p.derivatives) or "1"
            lines.append(f"    product = {factors} = {format_number(p.product)}")
        lines.append("")
        lines.append(self.check())
        lines.extend(self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"GradientExplanation(leaf={self.leaf.name!r}, paths={len(self.paths)}, "
                f"total={self.total!r}, engine_grad={self.engine_grad!r})")


def explain_gradient(root: Tensor, leaf: Tensor, *, names: Mapping[Tensor, str] | None = None,
                     max_paths: int = 1000) -> GradientExplanation:
    """Every path from `leaf` to the scalar `root`, its product of local derivatives, and the
    sum of those products, checked against the engine's gradient.

    Every tensor on the paths must have one element (so each local derivative is a number).
    Raises ValueError when there are more than `max_paths` paths (shared subexpressions make
    their number grow exponentially with depth).
    """
    if not isinstance(root, Tensor) or not isinstance(leaf, Tensor):
        raise TypeError("explain_gradient: root and leaf must be Tensors")
    if root.data.size != 1:
        raise ValueError(f"explain_gradient: root must be a scalar (one element), got shape "
                         f"{root.shape}")
    graph = trace(root, names)
    target = graph.find(leaf)
    if target is None:
        raise ValueError("explain_gradient: leaf is not part of the graph that computed root")
    if not leaf.requires_grad:
        raise ValueError(f"explain_gradient: {target.name} does not require grad, so no "
                         "gradient flows to it")
    counts = _count_paths(graph, target)
    n_paths = counts.get(graph.root.id, 0)
    if n_paths > max_paths:
        raise ValueError(f"explain_gradient: {n_paths} paths lead from {target.name} to "
                         f"{graph.root.name}, more than max_paths={max_paths}")
    for t in graph.tensors:
        if counts.get(t.id, 0) and t.size != 1:
            raise ValueError(
                f"explain_gradient needs a scalar graph: {t.name} on a path from "
                f"{target.name} has shape {t.shape}; every tensor on the paths must have one "
                "element (use draw_graph(..., show_derivatives=True) for tensor graphs)")
    paths = _paths(graph, target, counts)
    total = float(sum(p.product for p in paths))
    return GradientExplanation(graph, target, paths, total, _engine_grad(root, leaf))


def _count_paths(graph: Graph, leaf: TensorNode) -> dict[str, int]:
    """Number of paths from `leaf` to each tensor (forward order, so one pass suffices)."""
    counts = {leaf.id: 1}
    for op in graph.ops:
        c = sum(counts.get(t.id, 0) for t in op.inputs)
        if c:
            counts[op.output.id] = counts.get(op.output.id, 0) + c
    return counts


def _paths(graph: Graph, leaf: TensorNode, counts: dict[str, int]) -> list[GradientPath]:
    """All leaf -> root paths, depth first without recursion (chains may be very long)."""
    consumers = graph.consumers()
    derivs: dict[str, list[LocalDerivative | None]] = {}

    def derivative(op: OpNode, i: int) -> LocalDerivative:
        if op.id not in derivs:
            derivs[op.id] = local_derivatives(graph, op)
        d = derivs[op.id][i]
        assert d is not None and d.value is not None
        return d

    out: list[GradientPath] = []
    root_id = graph.root.id
    # Each stack entry: the tensor reached and the steps taken, as a linked list (step, rest),
    # so extending a path costs O(1) however long the chain.
    Linked = tuple[PathStep, "Linked"] | None
    stack: list[tuple[TensorNode, Linked]] = [(leaf, None)]
    while stack:
        t, linked = stack.pop()
        if t.id == root_id:
            steps: list[PathStep] = []
            while linked is not None:
                steps.append(linked[0])
                linked = linked[1]
            steps.reverse()
            product = 1.0
            for s in steps:
                product *= s.value
            out.append(GradientPath(steps, product))
            continue
        # Pushed in reverse so paths come out in the order the consumers were recorded.
        for op, i in reversed(consumers[t.id]):
            if counts.get(op.output.id, 0):
                step = PathStep(t, op, i, op.output, derivative(op, i))
                stack.append((op.output, (step, linked)))
    return out


def _engine_grad(root: Tensor, leaf: Tensor) -> float | None:
    if leaf.grad is not None:
        return float(leaf.grad.data.reshape(-1)[0])
    import autograd

    try:
        (g,) = autograd.grad(root, [leaf], retain_graph=True)
    except RuntimeError:
        return None  # the graph was freed by an earlier backward
    return float(g.data.reshape(-1)[0])


def draw_gradient_paths(root: Tensor, leaf: Tensor, *, names: Mapping[Tensor, str] | None = None,
                        show_values: bool = True, rankdir: str = "LR", max_nodes: int = 200,
                        cluster_modules: bool = True) -> Digraph:
    """The graph with every path from `leaf` to `root` drawn in its own colour, the local
    derivatives on the edges, and each path's product and their sum written underneath."""
    ex = explain_gradient(root, leaf, names=names)
    graph = ex.graph
    notes: list[str] = []
    deco = Decorations(grads=drawn_gradients(graph, notes), notes=notes,
                       edge_labels=derivative_labels(graph))
    on_edge: dict[Edge, list[str]] = {}
    for k, p in enumerate(ex.paths):
        color = PATH_COLORS[k % len(PATH_COLORS)]
        for e in p.edges:
            on_edge.setdefault(e, []).append(color)
        factors = " * ".join(format_number(v) for v in p.derivatives)
        deco.notes.append(f"path {k + 1} ({_color_name(color)}): {p.route()}:  "
                          f"{factors} = {format_number(p.product)}")
    for e, colors in on_edge.items():
        deco.edge_styles[e] = {"color": ":".join(colors), "penwidth": "2.2"}
    deco.notes.append(ex.check())
    deco.emphasis[ex.leaf.id] = deco.emphasis[graph.root.id] = PATH_COLORS[0]
    return build_digraph(graph, deco, show_values=show_values, rankdir=rankdir,
                         max_nodes=max_nodes, cluster_modules=cluster_modules)


def _color_name(color: str) -> str:
    names = {"#dc2626": "red", "#2563eb": "blue", "#16a34a": "green", "#d97706": "orange",
             "#9333ea": "purple", "#0891b2": "teal", "#db2777": "pink"}
    return names.get(color, color)
