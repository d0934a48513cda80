"""Building the Graphviz drawing of a traced graph (DOT source; no rendering happens here).

A tensor is a small table (name; shape and dtype; its value and gradient when small), an op is
an ellipse with the op's symbol, and edges run the way data flows. Colours tell the kinds
apart: parameters blue, inputs green, constants grey, the root amber, ops violet. Ops recorded
inside an `nn.Module`'s forward are boxed per module ("fc1: Linear(784->16)"); beyond
`max_nodes`, whole modules become single nodes, and past that the nodes farthest from the root
are left out, each time with a note at the bottom of the picture.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

from autograd import Tensor

from .chain_rule import all_gradients, local_derivatives
from .render import Digraph
from .trace import (
    CONST,
    INPUT,
    INTERMEDIATE,
    PARAM,
    ROOT,
    Edge,
    Graph,
    OpNode,
    TensorNode,
    format_array,
    format_number,
    gc_paused,
    module_label,
    trace,
)

FONT = "Helvetica"
#: (fill, border) per tensor kind.
COLORS = {
    PARAM: ("#dbeafe", "#3b82f6"),
    INPUT: ("#dcfce7", "#22c55e"),
    CONST: ("#f3f4f6", "#9ca3af"),
    INTERMEDIATE: ("#ffffff", "#94a3b8"),
    ROOT: ("#fef3c7", "#f59e0b"),
}
OP_COLORS = ("#ede9fe", "#8b5cf6")
HIGHLIGHT = ("#fecaca", "#dc2626")
GRAD_COLOR = "#b91c1c"
DERIVATIVE_COLOR = "#6d28d9"
EDGE_COLOR = "#64748b"
CLUSTER_FILLS = ("#f8fafc", "#eef2f7")
#: Colours of highlighted gradient paths, in turn.
PATH_COLORS = ("#dc2626", "#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777")
#: Tensors with at most this many elements show their values.
SMALL = 6


@dataclass
class Decorations:
    """What a picture adds on top of the plain graph (used by explain and frames).

    `grads` maps tensor ids to the gradients written on the tensors (None: no grad rows);
    `pending` writes a grad row ('?') on tensors whose gradient is not known yet (frames);
    `edge_labels` and `edge_styles` are keyed by `Edge`; `node_styles` (Graphviz attributes)
    and `emphasis` (a border colour for a tensor's table) by node id; `notes` are lines
    written under the picture.
    """

    grads: dict[str, np.ndarray] | None = None
    pending: bool = False
    edge_labels: dict[Edge, str] = field(default_factory=dict)
    edge_styles: dict[Edge, dict[str, str]] = field(default_factory=dict)
    node_styles: dict[str, dict[str, str]] = field(default_factory=dict)
    emphasis: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def draw_graph(root: Tensor, *, show_values: bool = True, show_grads: bool = True,
               show_derivatives: bool = False, rankdir: str = "LR",
               names: Mapping[Tensor, str] | None = None, max_nodes: int = 200,
               cluster_modules: bool = True) -> Digraph:
    """Draw the computation graph that produced `root` as a `graphviz.Digraph`.

    One node per tensor (its name, shape, dtype, and for small tensors the value and gradient)
    and one per op, with edges in the direction data flows. `names` maps tensors to names
    (parameters are named from their modules automatically). With `show_derivatives`, every
    edge into an op carries the local derivative backward multiplies by there: the number
    d(output)/d(input) for one-element tensors (the edge from `a` into `a * b` reads
    `= b = 3.0`), else the rule and shape (`grad @ W.T : (2, 3)`).

    Works before and after backward: afterwards the gradients are written on the tensors (the
    leaves' `.grad`, and d(root)/d(t) for intermediates, replayed from the graph).
    Render with `viz.render(g, "graph.svg")`, `g.render(...)`, `g.pipe(...)`, or show it
    inline in Jupyter.
    """
    graph = trace(root, names)
    deco = Decorations()
    if show_grads:
        deco.grads = drawn_gradients(graph, deco.notes)
    if show_derivatives:
        deco.edge_labels = derivative_labels(graph)
        deco.notes.append("edge labels: the local derivative d(op output)/d(input) that "
                          "backward multiplies by")
    with gc_paused():
        return build_digraph(graph, deco, show_values=show_values, show_grads=show_grads,
                             rankdir=rankdir, max_nodes=max_nodes,
                             cluster_modules=cluster_modules)


def drawn_gradients(graph: Graph, notes: list[str]) -> dict[str, np.ndarray]:
    """The gradients to write on the picture: `.grad` of every tensor that has one, and, once
    backward has run from a scalar root, d(root)/d(t) for the intermediate tensors."""
    grads: dict[str, np.ndarray] = {}
    ran = False
    for t in graph.tensors:
        g = t.tensor.grad
        if g is not None:
            grads[t.id] = g.data
            ran = ran or t.is_leaf
    if ran and graph.ops and graph.root.size == 1:
        try:
            replayed = all_gradients(graph)
        except Exception as e:  # the picture is still useful without them
            notes.append(f"gradients of intermediate tensors unavailable: {e}")
        else:
            for t in graph.tensors:
                if not t.is_leaf and t.id not in grads and t.id in replayed:
                    grads[t.id] = replayed[t.id]
    return grads


def derivative_labels(graph: Graph) -> dict[Edge, str]:
    """The local-derivative label of every tensor -> op edge along which a gradient flows."""
    labels: dict[Edge, str] = {}
    for op in graph.ops:
        try:
            derivs = local_derivatives(graph, op)
        except Exception as e:
            derivs = [None] * len(op.inputs)
            labels[Edge(op.inputs[0].id, op.id, 0)] = f"? ({type(e).__name__})"
        for i, (t, d) in enumerate(zip(op.inputs, derivs)):
            if d is not None:
                labels[Edge(t.id, op.id, i)] = d.label()
    return labels


# ---------------------------------------------------------------------------------------------
# labels


def _shape_text(t: TensorNode) -> str:
    shape = "scalar" if t.shape == () else str(t.shape)
    return f"{shape} {t.data.dtype}"


def tensor_label(t: TensorNode, *, show_values: bool, grad: np.ndarray | None,
                 grad_row: bool, emphasis: str | None = None) -> str:
    """An HTML-like table: name, shape and dtype, then the value and gradient rows."""
    fill, border = COLORS[t.kind]
    width = "1"
    if emphasis is not None:
        border, width = emphasis, "3"
    rows = [f'<tr><td colspan="2"><b>{escape(t.name)}</b></td></tr>',
            f'<tr><td colspan="2"><font point-size="8" color="#475569">{escape(_shape_text(t))}'
            "</font></td></tr>"]
    if show_values:
        text = format_array(t.data, SMALL) if t.data.dtype.kind in "fciub" else None
        if text is not None:
            rows.append(f'<tr><td align="left">data</td><td>{escape(text)}</td></tr>')
    if grad_row:
        if grad is None:
            text = "?"
        else:
            text = format_array(grad, SMALL) or f"norm {format_number(np.linalg.norm(grad))}"
        rows.append(f'<tr><td align="left">grad</td><td><font color="{GRAD_COLOR}">'
                    f"{escape(text)}</font></td></tr>")
    return (f'<<table border="{width}" cellborder="0" cellspacing="0" cellpadding="2" '
            f'bgcolor="{fill}" color="{border}">' + "".join(rows) + "</table>>")


def op_label(op: OpNode) -> str:
    return op.label


# ---------------------------------------------------------------------------------------------
# the display graph: what is drawn after collapsing modules and leaving out distant nodes


@dataclass
class _Display:
    location: dict[str, tuple] = field(default_factory=dict)  # node id -> module path
    mapped: dict[str, str | None] = field(default_factory=dict)  # node id -> drawn id or None
    collapsed: dict[str, tuple] = field(default_factory=dict)  # collapsed id -> module path
    members: dict[str, list[str]] = field(default_factory=dict)
    hidden: int = 0


def _location(graph: Graph, node_id: str, cluster_modules: bool) -> tuple:
    if not cluster_modules:
        return ()
    return graph[node_id].module


def _collapse(graph: Graph, max_nodes: int, cluster_modules: bool, notes: list[str]) -> _Display:
    """Decide what is drawn: collapse module clusters at the deepest level that fits
    `max_nodes`, then, if still too many, keep the nodes nearest the root."""
    d = _Display()
    ids = [t.id for t in graph.tensors] + [o.id for o in graph.ops]
    for i in ids:
        d.location[i] = tuple(id(m) for m in _location(graph, i, cluster_modules))
    d.mapped = {i: i for i in ids}
    total = len(ids)
    if total > max_nodes and cluster_modules:
        depths = max((len(loc) for loc in d.location.values()), default=0)
        chosen = None
        for depth in range(depths - 1, -1, -1):
            count = sum(1 for loc in d.location.values() if len(loc) <= depth)
            count += len({loc[: depth + 1] for loc in d.location.values() if len(loc) > depth})
            if count <= max_nodes:
                chosen = depth
                break
        if chosen is None and depths:
            chosen = 0
        if chosen is not None:
            keys: dict[tuple, str] = {}
            for i in ids:
                loc = d.location[i]
                if len(loc) > chosen:
                    key = loc[: chosen + 1]
                    cid = keys.get(key)
                    if cid is None:
                        cid = keys[key] = f"module{len(keys)}"
                        d.collapsed[cid] = key
                        d.members[cid] = []
                    d.mapped[i] = cid
                    d.members[cid].append(i)
            what = ("1 module cluster is collapsed into a single node" if len(keys) == 1 else
                    f"{len(keys)} module clusters are collapsed into single nodes")
            notes.append(f"{total} nodes exceed max_nodes={max_nodes}: {what} (raise max_nodes "
                         "to expand them)")
    drawn = set(d.mapped.values())
    if len(drawn) > max_nodes:
        # Keep the nodes closest to the root (breadth first against the data flow).
        preds: dict[str, set[str]] = {n: set() for n in drawn}
        for e in graph.edges:
            s, t = d.mapped[e.src], d.mapped[e.dst]
            if s != t:
                preds[t].add(s)
        start = d.mapped[graph.root.id]
        keep = {start}
        queue = deque([start])
        while queue and len(keep) < max_nodes:
            n = queue.popleft()
            for p in sorted(preds[n]):
                if p not in keep and len(keep) < max_nodes:
                    keep.add(p)
                    queue.append(p)
        d.hidden = len(drawn - keep)
        for i in ids:
            if d.mapped[i] not in keep:
                d.mapped[i] = None
        notes.append(f"{d.hidden} of {len(drawn)} nodes are not drawn (max_nodes={max_nodes}); "
                     "only the part nearest the output is shown")
    return d


# ---------------------------------------------------------------------------------------------
# assembling the Digraph


def build_digraph(graph: Graph, deco: Decorations, *, show_values: bool = True,
                  show_grads: bool = True, rankdir: str = "LR", max_nodes: int = 200,
                  cluster_modules: bool = True) -> Digraph:
    """The Digraph of a traced graph with the given decorations."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    notes = list(deco.notes)
    if any(op.stale for op in graph.ops):
        notes.append("some inputs were modified in place after the forward pass: values and "
                     "derivatives are computed from their current contents")
    display = _collapse(graph, max_nodes, cluster_modules, notes)
    g = Digraph(name="chainrule", format="svg")
    g.attr(rankdir=rankdir, fontname=FONT, fontsize="10", bgcolor="white", nodesep="0.25",
           ranksep="0.35", newrank="true")
    g.attr("node", fontname=FONT, fontsize="10")
    g.attr("edge", fontname=FONT, fontsize="9", color=EDGE_COLOR, arrowsize="0.6")

    grads = deco.grads if show_grads else None
    has_grads = grads is not None and (bool(grads) or deco.pending)
    # Which module path each drawn node sits in (collapsed nodes sit in their parent's box).
    placement: dict[str, tuple] = {}
    statements: dict[str, tuple[str, dict[str, str]]] = {}
    modules = {id(m): m for m in _all_modules(graph)}

    for t in graph.tensors:
        if display.mapped[t.id] != t.id:
            continue
        grad = grads.get(t.id) if grads is not None else None
        grad_row = has_grads and (t.kind != INPUT and t.kind != CONST)
        if t.kind == CONST:
            attrs = {"label": t.name, "shape": "box", "style": "rounded,filled",
                     "fillcolor": COLORS[CONST][0], "color": COLORS[CONST][1],
                     "fontsize": "9", "height": "0.2", "margin": "0.04,0.02"}
        else:
            attrs = {"label": tensor_label(t, show_values=show_values, grad=grad,
                                           grad_row=grad_row, emphasis=deco.emphasis.get(t.id)),
                     "shape": "plaintext"}
        attrs.update(deco.node_styles.get(t.id, {}))
        statements[t.id] = ("node", attrs)
        placement[t.id] = display.location[t.id]
    for op in graph.ops:
        if display.mapped[op.id] != op.id:
            continue
        fill, border = OP_COLORS
        attrs = {"label": op_label(op), "shape": "ellipse", "style": "filled",
                 "fillcolor": fill, "color": border, "height": "0.3", "margin": "0.05,0.02"}
        attrs.update(deco.node_styles.get(op.id, {}))
        statements[op.id] = ("node", attrs)
        placement[op.id] = display.location[op.id]
    for cid, key in display.collapsed.items():
        n_ops = sum(1 for i in display.members[cid] if i.startswith("op"))
        n_tensors = len(display.members[cid]) - n_ops
        label = _module_text(graph, modules, key)
        counts = f"{n_ops} op{'s' if n_ops != 1 else ''}, {n_tensors} tensor" + (
            "s" if n_tensors != 1 else "")
        attrs = {"label": f"{label}\\n({counts})",
                 "shape": "box3d", "style": "filled", "fillcolor": "#e0e7ff",
                 "color": "#6366f1", "fontsize": "10"}
        attrs.update(deco.node_styles.get(cid, {}))
        statements[cid] = ("node", attrs)
        placement[cid] = key[:-1]

    _emit_clusters(g, graph, modules, placement, statements, cluster_modules)

    seen: set[tuple[str, str]] = set()
    for e in graph.edges:
        s, t = display.mapped[e.src], display.mapped[e.dst]
        if s is None or t is None or s == t:
            continue
        collapsed = s != e.src or t != e.dst
        if collapsed:
            if (s, t) in seen:
                continue
            seen.add((s, t))
            g.edge(s, t)
            continue
        attrs: dict[str, str] = {}
        label = deco.edge_labels.get(e)
        if label:
            attrs["label"] = label
            attrs["fontcolor"] = DERIVATIVE_COLOR
        attrs.update(deco.edge_styles.get(e, {}))
        g.edge(s, t, **attrs)
    if display.hidden:
        cut = sorted({display.mapped[e.dst] for e in graph.edges
                      if display.mapped[e.src] is None and display.mapped[e.dst] is not None})
        g.node("hidden", label=f"... {display.hidden} more nodes", shape="note",
               fontsize="9", color="#9ca3af", fontcolor="#6b7280")
        for n in cut:
            g.edge("hidden", n, style="dashed", color="#9ca3af")
    if notes:
        text = "\\l".join(notes) + "\\l"
        g.attr(label=text, labelloc="b", labeljust="l", fontsize="9", fontcolor="#475569")
    return g


def _all_modules(graph: Graph) -> list[Any]:
    out: dict[int, Any] = {}
    for op in graph.ops:
        for m in op.module:
            out[id(m)] = m
    for t in graph.tensors:
        for m in t.module:
            out[id(m)] = m
    return list(out.values())


def _module_text(graph: Graph, modules: dict[int, Any], key: tuple) -> str:
    """The label of the module at the end of the module path `key` (ids of modules)."""
    m = modules[key[-1]]
    path = graph.module_names.get(key[-1], ("", m))[0]
    name = path.rsplit(".", 1)[-1] if path else ""
    return module_label(name, m)


def _emit_clusters(g: Digraph, graph: Graph, modules: dict[int, Any],
                   placement: dict[str, tuple], statements: dict[str, tuple[str, dict]],
                   cluster_modules: bool) -> None:
    """Write nodes, nested in one `subgraph cluster_*` per module path."""
    children: dict[tuple, list[tuple]] = {}
    members: dict[tuple, list[str]] = {}
    for node_id, key in placement.items():
        members.setdefault(key, []).append(node_id)
        for depth in range(len(key)):
            parent, child = key[:depth], key[: depth + 1]
            kids = children.setdefault(parent, [])
            if child not in kids:
                kids.append(child)
    counter = [0]

    def emit(target: Any, key: tuple) -> None:
        for node_id in members.get(key, []):
            _, attrs = statements[node_id]
            target.node(node_id, **attrs)
        for child in children.get(key, []):
            counter[0] += 1
            with target.subgraph(name=f"cluster_{counter[0]}") as c:
                c.attr(label=_module_text(graph, modules, child), style="rounded,filled",
                       fillcolor=CLUSTER_FILLS[len(child) % 2], color="#94a3b8",
                       fontname=FONT, fontsize="10", fontcolor="#334155", labeljust="l")
                emit(c, child)

    emit(g, ())
