"""Walking the graph from a root Tensor: what every drawing and explanation is built on.

`trace(root)` returns a `Graph` of tensor nodes and op nodes with stable ids, edges in the
direction data flows (input tensor -> op -> output tensor), and a name for every tensor:

- a parameter gets its dotted name ("fc1.weight") from the outermost module whose forward was
  running when it was used (`node.scope`) and that lists it in `named_parameters()`;
- any tensor can be named by the caller, `names={x: "x"}`, or by setting `tensor.name`;
- the remaining ones get short generated names: `leaf0, leaf1, ...` for leaves that require a
  gradient, `t0, t1, ...` for op outputs (in forward order); the root is `out`.

Nothing here imports graphviz: the same walk serves the DOT builder, the chain-rule text and the
backward frames. Intermediate tensors are reached through their consumers' `node.inputs` (a node
does not hold its own output, and the user may have dropped it: these are Tensors rebuilt from the
arrays the forward pass produced and the nodes that made them).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Tensor, toposort
from autograd.function import Function

#: Arithmetic ops drawn (and named in explanations) by their operator symbol.
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@",
           "neg": "-x"}

#: Tensor kinds, which the drawing colours differently.
PARAM, INPUT, CONST, INTERMEDIATE, ROOT = "param", "input", "const", "intermediate", "root"


@dataclass(eq=False)
class TensorNode:
    """One tensor of the graph.

    `kind` is "param" (a leaf that requires a gradient), "input" (a named leaf that does not),
    "const" (an unnamed one-element leaf, e.g. the 2.0 of `2.0 * x`), "intermediate" (an op's
    output) or "root". `op` is the node that produced it (None for leaves); `module` is the
    module path (a tuple of modules, outermost first) the tensor is drawn inside, if any.
    """

    id: str
    tensor: Tensor
    kind: str
    name: str
    named: bool
    op: OpNode | None = None
    module: tuple = ()

    @property
    def data(self) -> np.ndarray:
        return self.tensor.data

    @property
    def shape(self) -> tuple[int, ...]:
        return self.tensor.data.shape

    @property
    def size(self) -> int:
        return self.tensor.data.size

    @property
    def is_leaf(self) -> bool:
        return self.op is None


@dataclass(eq=False)
class OpNode:
    """One recorded operation: its engine node, its label ('*' for mul, else `describe()`), its
    input tensors (in argument order) and its output tensor. `module` is the module path (the
    modules whose forward was running when it was recorded, outermost first)."""

    id: str
    node: Function
    label: str
    inputs: list[TensorNode] = field(default_factory=list)
    output: TensorNode | None = None
    module: tuple = ()

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def stale(self) -> bool:
        """True when an input or the output the op's VJP reads was modified in place after the
        forward pass (the drawn values and derivatives then use the current values)."""
        node = self.node
        if getattr(node, "seq", None) is None:
            return False
        return node.modified_input() is not None or node.output_modified


@dataclass(frozen=True)
class Edge:
    """A data-flow edge: tensor -> op (`index` is the argument position) or op -> its output."""

    src: str
    dst: str
    index: int | None = None


@dataclass(eq=False)
class Graph:
    """The traced graph: tensors, ops in forward order, edges, and module names for clusters."""

    root: TensorNode
    tensors: list[TensorNode]
    ops: list[OpNode]
    edges: list[Edge]
    #: id(module) -> (dotted path from the outermost module, module); "" for the outermost one.
    module_names: dict[int, tuple[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id: dict[str, TensorNode | OpNode] = {t.id: t for t in self.tensors}
        self._by_id.update({o.id: o for o in self.ops})
        self._by_node = {o.node: o for o in self.ops}

    def __getitem__(self, node_id: str) -> TensorNode | OpNode:
        return self._by_id[node_id]

    def op_of(self, node: Function) -> OpNode:
        """The OpNode wrapping an engine node."""
        return self._by_node[node]

    def find(self, tensor: Tensor) -> TensorNode | None:
        """The TensorNode of a Tensor object, or None when it is not part of the graph."""
        if tensor.grad_fn is not None:
            op = self._by_node.get(tensor.grad_fn)
            return op.output if op is not None else None
        for t in self.tensors:
            if t.tensor is tensor:
                return t
        return None

    @property
    def num_nodes(self) -> int:
        return len(self.tensors) + len(self.ops)

    def consumers(self) -> dict[str, list[tuple[OpNode, int]]]:
        """For each tensor id, the ops that read it and at which argument position."""
        out: dict[str, list[tuple[OpNode, int]]] = {t.id: [] for t in self.tensors}
        for op in self.ops:
            for i, t in enumerate(op.inputs):
                out[t.id].append((op, i))
        return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large graph's description is built.

    Building creates several small objects per node; with a big graph alive, each automatic
    collection re-scans all of them, which for 100k nodes costs more than the building itself.
    Nothing is leaked: collection resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def trace(root: Tensor, names: Mapping[Tensor, str] | None = None) -> Graph:
    """Walk the graph that produced `root` and name its tensors (see the module docstring).

    `names` maps Tensors to display names; an intermediate tensor is matched through the node
    that produced it, so `names={h: "h"}` works for any `h` computed on the way to `root`.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"trace: expected a Tensor, got {type(root).__name__}")
    with gc_paused():
        return _trace(root, names)


def _trace(root: Tensor, names: Mapping[Tensor, str] | None) -> Graph:
    given = _given_names(names)
    # Forward order: toposort gives the order backward runs (consumers first).
    nodes = toposort([root.grad_fn])[::-1] if root.grad_fn is not None else []
    module_names = _module_names(nodes)

    tensors: list[TensorNode] = []
    leaves: dict[int, TensorNode] = {}
    outputs: dict[Function, TensorNode] = {}
    ops: list[OpNode] = []
    edges: list[Edge] = []
    counters = {"leaf": 0, "input": 0}
    param_names: dict[int, dict[int, str]] = {}

    def leaf_node(t: Tensor, scope: tuple) -> TensorNode:
        known = leaves.get(id(t))
        if known is not None:
            return known
        name = given.get(id(t)) or t.name
        module: tuple = ()
        if name is None and t._requires_grad:
            name, module = _parameter_name(t, scope, module_names, param_names)
        named = name is not None
        if t._requires_grad:
            kind = PARAM
        elif named or t.data.size != 1:
            kind = INPUT
        else:
            kind = CONST
        if name is None:
            if kind == PARAM:
                name = f"leaf{counters['leaf']}"
                counters["leaf"] += 1
            elif kind == CONST:
                name = format_number(t.data.item())
            else:
                name = f"input{counters['input']}"
                counters["input"] += 1
        if kind == CONST:
            # A constant sits with the op that reads it.
            module = scope
        tn = TensorNode(f"t{len(tensors)}", t, kind, name, named, None, module)
        tensors.append(tn)
        leaves[id(t)] = tn
        return tn

    for node in nodes:
        op = OpNode(f"op{len(ops)}", node, SYMBOLS.get(node.name) or node.describe())
        scope = _scope_path(node)
        op.module = scope
        for i, t in enumerate(node.inputs):
            src = outputs.get(t.grad_fn) if t.grad_fn is not None else leaf_node(t, scope)
            if src is None:  # pragma: no cover - toposort visits producers first
                raise RuntimeError("trace: graph is not in topological order")
            if src.kind == INTERMEDIATE:
                # The output as its consumer saw it (the node's array; the Tensor object itself
                # when it was kept with retain_grad). Its node may carry a .name.
                if src.tensor is root:
                    src.tensor = t
                if not src.named and t.name:
                    src.name, src.named = t.name, True
            op.inputs.append(src)
            edges.append(Edge(src.id, op.id, i))
        is_root = node is root.grad_fn
        out_tensor = root if is_root else _output_tensor(node)
        explicit = given.get(id(node)) or (out_tensor.name if out_tensor is not None else None)
        # Until a consumer hands over the output Tensor (below), the root stands in for it.
        out = TensorNode(f"t{len(tensors)}", out_tensor if out_tensor is not None else root,
                         ROOT if is_root else INTERMEDIATE, explicit or "", bool(explicit), op,
                         scope)
        tensors.append(out)
        op.output = out
        outputs[node] = out
        edges.append(Edge(op.id, out.id))
        ops.append(op)

    if root.grad_fn is None:
        root_node = leaf_node(root, ())
        root_node.kind = ROOT
        if not root_node.named and root_node.name.startswith(("leaf", "input")):
            root_node.name = "out"
    else:
        root_node = outputs[root.grad_fn]
        if not root_node.named:
            root_node.name = "out"
    # Generated names last, so tensors named by the caller leave no gaps in t0, t1, ...
    k = 0
    for op in ops:
        if not op.output.named and op.output.kind == INTERMEDIATE:
            op.output.name = f"t{k}"
            k += 1
    return Graph(root_node, tensors, ops, edges, module_names)


def _given_names(names: Mapping[Tensor, str] | None) -> dict[int, str]:
    """Caller's names keyed by id(tensor), or by id(node) for tensors an op produced."""
    out: dict[int, str] = {}
    if names is None:
        return out
    for t, name in names.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"names: keys must be Tensors, got {type(t).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"names: values must be strings, got {type(name).__name__}")
        out[id(t) if t.grad_fn is None else id(t.grad_fn)] = name
        out[id(t)] = name
    return out


def _output_tensor(node: Function) -> Tensor | None:
    """The node's output Tensor when it was kept with retain_grad (else None)."""
    retained = getattr(node, "retained", None)
    return retained() if retained is not None else None


def _module_names(nodes: list[Function]) -> dict[int, tuple[str, Any]]:
    """id(module) -> (dotted path, module) for every module seen in any node's scope."""
    out: dict[int, tuple[str, Any]] = {}
    tops: dict[int, Any] = {}
    for node in nodes:
        scope = getattr(node, "scope", ())
        if scope:
            tops.setdefault(id(scope[0]), scope[0])
    for top in tops.values():
        if id(top) in out:
            continue
        named = getattr(top, "named_modules", None)
        if named is None:
            out[id(top)] = ("", top)
            continue
        for path, m in named():
            out.setdefault(id(m), (path, m))
    # Modules called directly (not found under an outer one) keep an empty path.
    for node in nodes:
        for m in getattr(node, "scope", ()):
            out.setdefault(id(m), ("", m))
    return out


def _scope_path(node: Function) -> tuple:
    """The node's scope as a tuple of modules, outermost first (a module repeated by recursion
    or weight sharing is kept once)."""
    scope = getattr(node, "scope", ())
    seen: set[int] = set()
    out = []
    for m in scope:
        if id(m) not in seen:
            seen.add(id(m))
            out.append(m)
    return tuple(out)


def _parameter_name(t: Tensor, scope: tuple, module_names: dict[int, tuple[str, Any]],
                    cache: dict[int, dict[int, str]]) -> tuple[str | None, tuple]:
    """A parameter's dotted name and the module path it belongs to, searched in `scope`.

    The outermost module that lists it wins, so the name is the full path from the model.
    `cache` keeps each module's {id(parameter): name} between calls.
    """
    for depth, m in enumerate(scope):
        index = cache.get(id(m))
        if index is None:
            named_parameters = getattr(m, "named_parameters", None)
            index = {} if named_parameters is None else {id(p): n for n, p in named_parameters()}
            cache[id(m)] = index
        pname = index.get(id(t))
        if pname is None:
            continue
        prefix = module_names.get(id(m), ("", m))[0]
        full = f"{prefix}.{pname}" if prefix else pname
        owner_path = pname.rsplit(".", 1)[0] if "." in pname else ""
        return full, _owner_scope(scope[: depth + 1], owner_path)
    return None, ()


def _owner_scope(outer: tuple, owner_path: str) -> tuple:
    """The module path (tuple of modules) of the module that directly holds a parameter."""
    path = list(outer)
    m = outer[-1]
    for part in owner_path.split(".") if owner_path else ():
        m = getattr(m, part, None)
        if m is None:
            return outer
        path.append(m)
    return tuple(path)


def module_label(name: str, module: Any) -> str:
    """A cluster label such as 'fc1: Linear(784->16)'."""
    cls = type(module).__name__
    inner = ""
    fin, fout = getattr(module, "in_features", None), getattr(module, "out_features", None)
    if isinstance(fin, int) and isinstance(fout, int):
        inner = f"{fin}->{fout}"
    else:
        extra_repr = getattr(module, "extra_repr", None)
        if extra_repr is not None:
            inner = str(extra_repr())
            if len(inner) > 40:
                inner = inner[:37] + "..."
    body = f"{cls}({inner})" if inner else cls
    return f"{name}: {body}" if name else body


def format_number(v: float) -> str:
    """A short readable number: 4 significant digits, and '3.0' rather than '3' for floats."""
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    s = f"{v:.4g}"
    if "e" not in s and "." not in s:
        s += ".0"
    return s


def format_array(a: np.ndarray, max_size: int = 6) -> str | None:
    """The values of a small array in one line, or None when it has more than `max_size`."""
    a = np.asarray(a)
    if a.size > max_size:
        return None
    if a.size == 1:
        if a.dtype.kind == "b":
            return str(bool(a.reshape(-1)[0]))
        if a.dtype.kind in "iu":
            return str(int(a.reshape(-1)[0]))
        return format_number(a.reshape(-1)[0])
    if a.dtype.kind == "f":
        return np.array2string(a, precision=3, separator=", ", suppress_small=True,
                               max_line_width=60).replace("\n", "")
    return np.array2string(a, separator=", ", max_line_width=60).replace("\n", "")
