"""viz.trace and viz.draw_graph: the DOT structure, names, values, gradients, derivative labels,
module clusters and collapsing."""

import math
import re

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from viz.trace import CONST, INPUT, INTERMEDIATE, PARAM, ROOT, format_number, trace

NODE = re.compile(r"^\s*(t\d+|op\d+|module\d+|hidden) \[", re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+)", re.M)


def nodes(source):
    return NODE.findall(source)


def edges(source):
    return EDGE.findall(source)


def node_line(source, node_id):
    return re.search(rf"^\s*{node_id} \[(.*)\]$", source, re.M).group(1)


def edge_label(source, src, dst):
    m = re.search(rf'^\s*{src} -> {dst} \[.*?label="([^"]*)"', source, re.M)
    return m.group(1) if m else None


def scalars(dtype="float64"):
    a = ag.tensor(2.0, requires_grad=True, dtype=dtype)
    b = ag.tensor(3.0, requires_grad=True, dtype=dtype)
    c = ag.tensor(-1.0, requires_grad=True, dtype=dtype)
    return a, b, c


# ---------------------------------------------------------------------------------------------
# trace


def test_trace_counts_and_edge_direction():
    a, b, c = scalars()
    out = a * b + c
    g = trace(out, names={a: "a", b: "b", c: "c"})
    assert len(g.tensors) == 5 and len(g.ops) == 2 and len(g.edges) == 6
    by_name = {t.name: t for t in g.tensors}
    mul, add = g.ops
    assert mul.name == "mul" and add.name == "add"
    # data flows input -> op -> output
    assert (by_name["a"].id, mul.id) in {(e.src, e.dst) for e in g.edges}
    assert (mul.id, mul.output.id) in {(e.src, e.dst) for e in g.edges}
    assert (mul.output.id, add.id) in {(e.src, e.dst) for e in g.edges}
    assert add.output is g.root and g.root.kind == ROOT and g.root.name == "out"
    assert [t.name for t in mul.inputs] == ["a", "b"]
    assert by_name["a"].kind == PARAM and mul.output.kind == INTERMEDIATE
    assert float(mul.output.data) == 6.0


def test_trace_shared_input_twice_gives_two_edges():
    a, _, _ = scalars()
    out = a * a
    g = trace(out)
    assert len(g.tensors) == 2 and len(g.ops) == 1
    assert [(e.src, e.dst, e.index) for e in g.edges][:2] == [("t0", "op0", 0), ("t0", "op0", 1)]


def test_trace_names_from_tensor_name_and_intermediates():
    a, b, _ = scalars()
    a.name = "alpha"
    h = a * b
    h.name = "h"
    out = ag.tanh(h)
    g = trace(out, names={b: "beta"})
    names = [t.name for t in g.tensors]
    assert names == ["alpha", "beta", "h", "out"]
    # names= wins over .name, and an intermediate is matched through its node
    g2 = trace(out, names={h: "hidden", out: "y"})
    assert [t.name for t in g2.tensors] == ["alpha", "leaf0", "hidden", "y"]
    # generated names count only the unnamed intermediates, in forward order
    u = ag.exp(a)
    v = u * b
    g3 = trace(ag.sin(v) + u, names={u: "u"})
    assert [t.name for t in g3.tensors] == ["alpha", "u", "leaf0", "t0", "t1", "out"]


def test_trace_draws_intermediates_the_user_dropped():
    a, b, _ = scalars()
    a.name, b.name = "a", "b"
    h = a * b
    h.name = "h"
    out = ag.tanh(h) + 1.0
    del h  # the graph keeps the node and its values, not the Tensor
    g = trace(out)
    by_name = {t.name: t for t in g.tensors}
    assert [t.name for t in g.tensors] == ["a", "b", "h", "t0", "out"]
    assert float(by_name["h"].data) == 6.0 and by_name["h"].kind == INTERMEDIATE
    np.testing.assert_allclose(float(by_name["t0"].data), np.tanh(6.0), rtol=1e-6)


def test_trace_kinds_of_leaves():
    x = ag.tensor(np.ones((2, 3), dtype=np.float32))
    w = ag.tensor(np.ones((3,), dtype=np.float32), requires_grad=True)
    out = ag.sum(ag.multiply(x, w) * ag.tensor(2.0))
    g = trace(out)
    kinds = {t.name: t.kind for t in g.tensors}
    assert kinds["input0"] == INPUT and kinds["leaf0"] == PARAM and kinds["2.0"] == CONST


def test_trace_of_a_leaf_root_and_errors():
    a, _, _ = scalars()
    g = trace(a)
    assert len(g.tensors) == 1 and not g.ops and g.root.kind == ROOT
    with pytest.raises(TypeError, match="expected a Tensor"):
        trace(3.0)
    with pytest.raises(TypeError, match="keys must be Tensors"):
        trace(a * 2.0, names={"a": "a"})
    with pytest.raises(TypeError, match="values must be strings"):
        trace(a * 2.0, names={a: 1})


def test_format_number():
    assert format_number(3) == "3.0"
    assert format_number(0.419974) == "0.42"
    assert format_number(-1.5e-7) == "-1.5e-07"
    assert format_number(float("inf")) == "inf"


# ---------------------------------------------------------------------------------------------
# draw_graph: structure, values and gradients


def test_draw_graph_structure_before_backward():
    a, b, c = scalars()
    out = a * b + c
    g = viz.draw_graph(out, names={a: "a", b: "b", c: "c"})
    assert isinstance(g, viz.Digraph)
    src = g.source
    ids = nodes(src)
    assert sorted(i for i in ids if i.startswith("t")) == ["t0", "t1", "t2", "t3", "t4"]
    assert sorted(i for i in ids if i.startswith("op")) == ["op0", "op1"]
    assert sorted(edges(src)) == sorted([("t0", "op0"), ("t1", "op0"), ("op0", "t2"),
                                         ("t2", "op1"), ("t3", "op1"), ("op1", "t4")])
    assert "<b>a</b>" in node_line(src, "t0") and "<b>out</b>" in node_line(src, "t4")
    assert 'label="*"' in node_line(src, "op0") and 'label="+"' in node_line(src, "op1")
    assert "<td>2.0</td>" in node_line(src, "t0")       # value of a
    assert "<td>5.0</td>" in node_line(src, "t4")       # value of out = 2*3 - 1
    assert ">grad<" not in src                           # no gradients yet
    assert "scalar float64" in node_line(src, "t0")
    assert "scalar float32" in viz.draw_graph(scalars("float32")[0] * 2.0).source


def test_draw_graph_after_backward_shows_gradients_of_every_tensor():
    a, b, c = scalars()
    ab = a * b
    out = ag.tanh(ab + c)
    out.backward()                       # frees the saved arrays: labels must still work
    src = viz.draw_graph(out, names={a: "a", b: "b", c: "c", ab: "ab"}).source
    d = 1 - math.tanh(5.0) ** 2
    assert f'{format_number(d * 3.0)}</font>' in node_line(src, "t0")   # da = d * b
    assert f'{format_number(d * 2.0)}</font>' in node_line(src, "t1")   # db = d * a
    assert f'{format_number(d)}</font>' in node_line(src, "t2")         # d out/d ab
    assert '1.0</font>' in node_line(src, "t5")                         # d out/d out
    assert np.isclose(float(a.grad), d * 3.0)
    hidden = viz.draw_graph(out, show_grads=False, show_values=False).source
    assert ">grad<" not in hidden and ">data<" not in hidden


def test_draw_graph_large_tensors_show_shape_and_gradient_norm():
    x = ag.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    w = ag.tensor(np.ones((4, 5), dtype=np.float32), requires_grad=True)
    out = (x @ w).sum()
    out.backward()
    src = viz.draw_graph(out, names={x: "x", w: "W"}).source
    w_line = node_line(src, "t1")
    assert "(4, 5) float32" in w_line and ">data<" not in w_line
    expected = np.linalg.norm(np.broadcast_to(x.data.sum(axis=0)[:, None], (4, 5)))
    assert f"norm {format_number(expected)}" in w_line
    assert w.grad is not None and np.isclose(np.linalg.norm(w.grad.data), expected)


def test_draw_graph_rankdir_and_argument_errors():
    a, b, _ = scalars()
    out = a * b
    assert "rankdir=TB" in viz.draw_graph(out, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir must be one of"):
        viz.draw_graph(out, rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes must be at least 1"):
        viz.draw_graph(out, max_nodes=0)


def test_draw_graph_notes_inputs_modified_in_place():
    a, b, _ = scalars()
    x = ag.tensor(4.0, dtype="float64")
    out = a * x
    x.add_(1.0)
    src = viz.draw_graph(out).source
    assert "modified in place after the forward pass" in src
    assert "modified in place" not in viz.draw_graph(a * b).source


# ---------------------------------------------------------------------------------------------
# local derivatives on the edges


def test_derivative_labels_scalar_graph_match_hand_computed_values():
    a, b, c = scalars()
    ab = a * b                          # d ab/da = b = 3, d ab/db = a = 2
    s = ab + c                          # 1, 1
    y = ag.tanh(s)                      # 1 - tanh(5)^2
    e = ag.exp(c)                       # exp(-1)
    q = y / e                           # 1/e, -y/e^2
    src = viz.draw_graph(q, names={a: "a", b: "b", c: "c"}, show_derivatives=True).source
    g = trace(q, names={a: "a", b: "b", c: "c"})
    ids = {t.name: t.id for t in g.tensors}
    ops = {o.name: o.id for o in g.ops}
    assert edge_label(src, ids["a"], ops["mul"]) == "= b = 3.0"
    assert edge_label(src, ids["b"], ops["mul"]) == "= a = 2.0"
    assert edge_label(src, ids["t0"], ops["add"]) == "= 1"
    assert edge_label(src, ids["c"], ops["add"]) == "= 1"
    t5 = 1 - math.tanh(5.0) ** 2
    assert edge_label(src, ids["t1"], ops["tanh"]) == f"= 1 - tanh^2 = {format_number(t5)}"
    assert edge_label(src, ids["c"], ops["exp"]) == f"= exp(c) = {format_number(math.exp(-1))}"
    assert edge_label(src, ids["t2"], ops["div"]) == f"= 1/t3 = {format_number(math.e)}"
    expected = -math.tanh(5.0) / math.exp(-1) ** 2
    assert edge_label(src, ids["t3"], ops["div"]) == f"= -t2/t3^2 = {format_number(expected)}"
    assert "local derivative d(op output)/d(input)" in src


@pytest.mark.parametrize("fn, deriv", [
    (ag.exp, math.exp),
    (ag.tanh, lambda v: 1 - math.tanh(v) ** 2),
    (ag.sigmoid, lambda v: math.exp(-v) / (1 + math.exp(-v)) ** 2),
    (ag.sqrt, lambda v: 0.5 / math.sqrt(v)),
    (ag.log, lambda v: 1 / v),
    (ag.sin, math.cos),
    (ag.cos, lambda v: -math.sin(v)),
    (ag.softplus, lambda v: 1 / (1 + math.exp(-v))),
    (ag.elu, lambda v: 1.0),
    (ag.relu, lambda v: 1.0),
    (ag.abs, lambda v: 1.0),
    (lambda x: ag.leaky_relu(-x, 0.1), lambda v: -0.1),
    (lambda x: x ** 3.0, lambda v: 3 * v * v),
    (lambda x: 2.0 / x, lambda v: -2 / v ** 2),
    (lambda x: ag.einsum("i,i->", ag.reshape(x, (1,)), ag.reshape(x, (1,))), lambda v: 2 * v),
    (lambda x: ag.logsumexp(ag.reshape(x, (1,)) * 2.0), lambda v: 2.0),
])
def test_derivative_values_agree_with_the_engine_after_release(fn, deriv):
    # The last op's local derivative times the earlier ones is the gradient; backward releases
    # the saved arrays (exp, tanh, sigmoid, logsumexp keep their outputs) and the labels must
    # still give the right numbers.
    x = ag.tensor(0.7, requires_grad=True, dtype="float64")
    y = fn(x)
    y.backward()
    assert y.grad_fn.released
    g = trace(y)
    explained = viz.explain_gradient(y, x)
    assert explained.total == pytest.approx(float(x.grad), rel=1e-12)
    if deriv(0.7) is not None:
        assert float(x.grad) == pytest.approx(deriv(0.7), rel=1e-12)
    assert all(d is not None for op in g.ops for d in viz.local_derivatives(g, op))


def test_derivative_labels_of_scalar_ops_and_powers():
    x = ag.tensor(3.0, requires_grad=True)
    y = (x * 0.5) ** 2.0 + 1.0 / x
    g = trace(y, names={x: "x"})
    labels = {}
    for op in g.ops:
        for d in viz.local_derivatives(g, op):
            if d is not None:
                labels[op.name] = d.label()
    assert labels["mul_scalar"] == "= 0.5"
    assert labels["pow_scalar"] == f"= 2.0 * t0^(2.0-1) = {format_number(3.0)}"
    assert labels["rdiv_scalar"] == f"= -1.0/x^2 = {format_number(-1 / 9)}"


def test_derivative_labels_tensor_graph_give_rules_and_shapes():
    x = ag.tensor(np.ones((4, 3), dtype=np.float32))
    W = ag.tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    b = ag.tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    out = ag.relu(x @ W + b).mean()
    src = viz.draw_graph(out, names={x: "x", W: "W", b: "b"}, show_derivatives=True).source
    g = trace(out, names={x: "x", W: "W", b: "b"})
    ids = {t.name: t.id for t in g.tensors}
    ops = {o.name: o.id for o in g.ops}
    assert edge_label(src, ids["W"], ops["matmul"]) == "x.T @ grad : (3, 2)"
    assert edge_label(src, ids["x"], ops["matmul"]) is None       # no gradient flows to x
    assert edge_label(src, ids["b"], ops["add"]) == "grad : (2,)"
    assert edge_label(src, ids["t1"], ops["relu"]) == "grad * [t1 > 0] : (4, 2)"
    assert edge_label(src, ids["t2"], ops["mean"]) == "broadcast(grad) / 8 : (4, 2)"


def test_rules_name_exactly_the_registered_ops():
    from viz.chain_rule import RULES

    assert set(RULES) <= set(ag.REGISTRY)      # a renamed op would silently lose its rule
    assert set(ag.REGISTRY) <= set(RULES)      # and a new op would be drawn with the generic one


def test_unknown_op_falls_back_to_vjp_rule():
    class Cube(ag.Function):
        """y = x**3;  dx = 3 x**2 g"""

        def forward(self, x):
            return x ** 3

        def vjp(self, F, g, x):
            return (g * 3.0 * x * x,)

    x = ag.tensor(2.0, requires_grad=True)
    y = Cube()(x)
    g = trace(y)
    (d,) = viz.local_derivatives(g, g.ops[0])
    assert d.value == 12.0 and d.label() == "= d/dleaf0 = 12.0"
    big = Cube()(ag.tensor(np.ones(3, dtype=np.float32), requires_grad=True))
    gb = trace(big)
    assert viz.local_derivatives(gb, gb.ops[0])[0].label() == "vjp(grad) : (3,)"


# ---------------------------------------------------------------------------------------------
# modules: names, clusters, collapsing


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def mlp_loss():
    net = Net()
    x = ag.randn(5, 4)
    loss = ag.cross_entropy(net(x), np.array([0, 1, 0, 1, 1])).mean()
    return net, x, loss


def test_parameters_are_named_from_their_modules_and_clustered():
    net, x, loss = mlp_loss()
    loss.backward()
    g = trace(loss, names={x: "x"})
    names = {t.name for t in g.tensors if t.kind == PARAM}
    assert names == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    src = viz.draw_graph(loss, names={x: "x"}).source
    labels = [a or b for a, b in re.findall(r'label=(?:"([^"]*)"|(\w+)) labeljust=l', src)]
    assert labels == ["Net", "fc1: Linear(4->3)", "act: Tanh", "fc2: Linear(3->2)"]
    assert src.count("subgraph cluster_") == 4
    # fc1's parameters and its linear op are drawn inside fc1's box
    body = src.split('label="fc1: Linear(4->3)"')[1].split("subgraph")[0]
    fc1 = [t.id for t in g.tensors if t.name.startswith("fc1.")]
    assert all(f"\t{i} [" in body for i in fc1)
    assert "linear" in body
    # the loss is computed outside the model: its ops are outside every box
    outer = src.split("subgraph cluster_")[0]
    assert "cross_entropy" in outer and "<b>x</b>" in outer
    flat = viz.draw_graph(loss, cluster_modules=False).source
    assert "subgraph" not in flat and "fc1.weight" in flat


def test_sequential_mlp_names_and_labels():
    model = nn.MLP([6, 5, 2])
    x = ag.randn(3, 6)
    out = model(x).sum()
    src = viz.draw_graph(out).source
    for text in ("0.weight", "2.bias", "0: Linear(6->5)", "1: ReLU", "2: Linear(5->2)",
                 "MLP(sizes=[6, 5, 2])"):
        assert text in src


def test_max_nodes_collapses_module_clusters():
    net, x, loss = mlp_loss()
    full = viz.draw_graph(loss, names={x: "x"})
    n_full = len(nodes(full.source))
    assert n_full == 15 and "module" not in "".join(nodes(full.source))
    small = viz.draw_graph(loss, names={x: "x"}, max_nodes=8).source
    ids = nodes(small)
    collapsed = [i for i in ids if i.startswith("module")]
    assert len(collapsed) == 3 and len(ids) == 8
    assert "15 nodes exceed max_nodes=8: 3 module clusters are collapsed" in small
    assert "fc1: Linear(4->3)\\n(1 op, 3 tensors)" in small
    assert "act: Tanh\\n(1 op, 1 tensor)" in small
    # data still flows through the collapsed layers in order
    e = set(edges(small))
    assert {("module0", "module1"), ("module1", "module2")} <= e
    # collapsing the whole model when even the layers do not fit
    tiny = viz.draw_graph(loss, names={x: "x"}, max_nodes=6).source
    ids = nodes(tiny)
    assert [i for i in ids if i.startswith("module")] == ["module0"] and len(ids) == 6
    assert "Net\\n(3 ops, 7 tensors)" in tiny
    assert "1 module cluster is collapsed into a single node" in tiny


def test_max_nodes_without_modules_keeps_the_part_near_the_root():
    x = ag.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(30):
        y = ag.tanh(y)
    src = viz.draw_graph(y, max_nodes=10).source
    ids = nodes(src)
    assert len(ids) == 11 and "hidden" in ids         # 10 nodes and the "... more" note
    assert "51 more nodes" in src and "51 of 61 nodes are not drawn" in src
    assert "<b>out</b>" in src and "<b>leaf0</b>" not in src
