"""viz.explain_gradient, draw_gradient_paths, backward_steps and backward_frames: the chain rule
as sums over paths of products of local derivatives, and backpropagation step by step."""

import html
import math
import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
import viz
from viz.chain_rule import all_gradients
from viz.trace import format_number, trace


def f64(v, grad=True):
    return ag.tensor(v, requires_grad=grad, dtype="float64")


# ---------------------------------------------------------------------------------------------
# explain_gradient on a known expression


def test_explain_gradient_lists_paths_products_and_their_sum():
    a, b = f64(2.0), f64(3.0)
    c = a * b                   # paths from a: a -> c -> out and a -> out
    out = c + a * 4.0           # d out/da = b + 4 = 7
    out.backward()
    ex = viz.explain_gradient(out, a, names={a: "a", b: "b", c: "c"})
    assert len(ex.paths) == 2
    first, second = ex.paths
    assert first.nodes == ["a", "*", "c", "+", "out"]
    assert first.derivatives == [3.0, 1.0] and first.product == 3.0
    assert second.nodes == ["a", "* 4", "t0", "+", "out"]
    assert second.derivatives == [4.0, 1.0] and second.product == 4.0
    assert ex.total == 7.0 and ex.engine_grad == 7.0 and ex.matches
    text = str(ex)
    assert "2 paths from a to out" in text
    assert "path 1: a -[*]-> c -[+]-> out" in text
    assert "dc/da = b = 3.0" in text and "dt0/da = 4.0" in text
    assert "product = 3.0 * 1.0 = 3.0" in text
    assert "sum of path products = 3.0 + 4.0 = 7.0 = a.grad = 7.0" in text
    assert repr(ex) == "GradientExplanation(leaf='a', paths=2, total=7.0, engine_grad=7.0)"


def test_explain_gradient_with_a_shared_subexpression():
    x = f64(0.5)
    h = ag.tanh(x)
    out = h * h + ag.exp(h)       # three paths from x: through each factor and through exp
    out.backward()
    ex = viz.explain_gradient(out, x)
    assert len(ex.paths) == 3
    t = math.tanh(0.5)
    dt = 1 - t * t
    assert sorted(p.product for p in ex.paths) == pytest.approx(sorted([t * dt, t * dt,
                                                                       math.exp(t) * dt]))
    assert ex.total == pytest.approx(float(x.grad), rel=1e-12)


def test_explain_gradient_without_backward_asks_the_engine():
    a, b = f64(1.5), f64(-2.0)
    out = a * b
    ex = viz.explain_gradient(out, b, names={b: "b"})   # no backward yet: autograd.grad checks
    assert ex.engine_grad == 1.5 and ex.matches and b.grad is None
    out.backward()                          # the graph is still usable (retain_graph above)
    assert float(b.grad) == 1.5
    b.grad = None                           # the graph is released and the gradient gone
    ex = viz.explain_gradient(out, b, names={b: "b"})
    assert ex.engine_grad is None and ex.matches is None
    assert "b.grad is not available: run backward to compare" in str(ex)
    assert ex.total == 1.5                  # the paths still work after release


def test_explain_gradient_reports_a_mismatch():
    a = f64(2.0)
    out = a * 3.0
    out.backward()
    out2 = a * 3.0
    out2.backward()                         # a.grad accumulated twice: 6 != 3
    ex = viz.explain_gradient(out, a)
    assert not ex.matches
    assert "sum of path products = 3.0 != leaf0.grad = 6.0   <- MISMATCH" in str(ex)


def test_explain_gradient_errors():
    a, b = f64(2.0), f64(3.0)
    with pytest.raises(ValueError, match=r"root must be a scalar \(one element\), got shape"):
        viz.explain_gradient(ag.tensor(np.ones(2), requires_grad=True) * a, a)
    with pytest.raises(ValueError, match="leaf is not part of the graph"):
        viz.explain_gradient(a * 2.0, b)
    k = f64(5.0, grad=False)
    with pytest.raises(ValueError, match="does not require grad"):
        viz.explain_gradient(a * k, k)
    v = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(ValueError, match=r"needs a scalar graph: .* has shape \(2,\)"):
        viz.explain_gradient((v * a).sum(), a)
    y = f64(1.0)
    a = y
    for _ in range(12):
        y = y * y                           # 2**12 paths
    with pytest.raises(ValueError, match="4096 paths lead from leaf0 to out, more than "
                                         "max_paths=1000"):
        viz.explain_gradient(y, a)
    with pytest.raises(TypeError, match="must be Tensors"):
        viz.explain_gradient(a, 1.0)


# ---------------------------------------------------------------------------------------------
# property: the sum of path products is the engine's gradient

UNARY = {
    "tanh": ag.tanh,
    "exp": lambda x: ag.exp(ag.tanh(x)),          # bounded argument: no overflow
    "sigmoid": ag.sigmoid,
    "sin": ag.sin,
    "square": lambda x: x ** 2.0,
    "scale": lambda x: x * -0.7,
    "log1p2": lambda x: ag.log(x * x + 1.0),
}
BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y * y + 1.0),
}


@st.composite
def expressions(draw):
    """A random scalar expression DAG: each new node applies an op to earlier nodes, so
    subexpressions (and leaves) are shared. Returns (root, leaves)."""
    n_leaves = draw(st.integers(1, 3))
    values = draw(st.lists(st.floats(-1.5, 1.5), min_size=n_leaves, max_size=n_leaves))
    leaves = [f64(v) for v in values]
    pool = list(leaves)
    for _ in range(draw(st.integers(1, 7))):
        if draw(st.booleans()):
            fn = UNARY[draw(st.sampled_from(sorted(UNARY)))]
            node = fn(pool[draw(st.integers(0, len(pool) - 1))])
        else:
            fn = BINARY[draw(st.sampled_from(sorted(BINARY)))]
            i = draw(st.integers(0, len(pool) - 1))
            j = draw(st.integers(0, len(pool) - 1))
            node = fn(pool[i], pool[j])
        if not abs(float(node.data)) < 1e3:
            node = ag.tanh(node)
        pool.append(node)
    root = pool[-1]
    for leaf in leaves:
        root = root + leaf * 0.5            # every leaf reaches the root
    return root, leaves


@settings(max_examples=25, deadline=None)
@given(expressions())
def test_sum_of_path_products_equals_engine_gradient(expr):
    root, leaves = expr
    root.backward()
    for leaf in leaves:
        ex = viz.explain_gradient(root, leaf)
        assert len(ex.paths) >= 1
        assert ex.total == pytest.approx(float(leaf.grad), rel=1e-9, abs=1e-12)
        assert ex.matches
        for p in ex.paths:
            assert p.product == pytest.approx(math.prod(p.derivatives), rel=1e-12, abs=1e-300)
            assert p.nodes[0] == ex.leaf.name and p.nodes[-1] == "out"


# ---------------------------------------------------------------------------------------------
# draw_gradient_paths


def test_draw_gradient_paths_colours_each_path_and_writes_products():
    a, b = f64(2.0), f64(3.0)
    c = a * b
    out = c + a * 4.0
    out.backward()
    src = viz.draw_gradient_paths(out, a, names={a: "a", b: "b", c: "c"}).source
    g = trace(out, names={a: "a", b: "b", c: "c"})
    ids = {t.name: t.id for t in g.tensors}
    mul, scale, add = (o.id for o in g.ops)
    red, blue = "#dc2626", "#2563eb"
    assert re.search(rf'{ids["a"]} -> {mul} \[.*color="{red}"', src)
    assert re.search(rf'{ids["a"]} -> {scale} \[.*color="{blue}"', src)
    # the edge into the root carries both paths: two colours side by side
    assert re.search(rf'{add} -> {ids["out"]} \[color="{red}:{blue}"', src)
    assert not re.search(rf'{ids["b"]} -> {mul} \[.*color="{red}"', src)   # b is on no path
    assert "path 1 (red): a -[*]-> c -[+]-> out:  3.0 * 1.0 = 3.0" in src
    assert "path 2 (blue): a -[* 4]-> t0 -[+]-> out:  4.0 * 1.0 = 4.0" in src
    assert "sum of path products = 3.0 + 4.0 = 7.0 = a.grad = 7.0" in src
    assert 'label="= b = 3.0"' in src


# ---------------------------------------------------------------------------------------------
# backward replayed step by step


def test_backward_steps_follow_the_engine_order_and_give_its_gradients():
    model = nn.MLP([3, 4, 2])
    x = ag.randn(5, 3)
    loss = ag.cross_entropy(model(x), np.array([0, 1, 1, 0, 1])).mean()
    g = trace(loss)
    steps = list(viz.backward_steps(g))
    assert [s.op.node for s in steps] == ag.toposort([loss.grad_fn])
    assert [s.index for s in steps] == list(range(len(g.ops)))
    known = all_gradients(g)
    loss.backward()
    for t in g.tensors:
        if t.kind == "param":
            np.testing.assert_allclose(known[t.id], t.tensor.grad.data, rtol=1e-5, atol=1e-7)
    # each step's snapshot holds the gradients known by then, never later ones
    first = steps[0]
    assert set(first.known) == {g.root.id, first.op.inputs[0].id}
    np.testing.assert_allclose(first.grad_out, 1.0)


def test_backward_steps_seed_and_errors():
    x = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    g = trace(y)
    (step,) = viz.backward_steps(g, grad=np.array([1.0, -1.0]))
    np.testing.assert_allclose(step.known[g.tensors[0].id], [2.0, -4.0])
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the root has shape \(2,\)"):
        list(viz.backward_steps(g, grad=np.ones(3)))


# ---------------------------------------------------------------------------------------------
# backward_frames (rendered with the installed renderer)


def small_graph():
    a, b = f64(0.5), f64(1.5)
    out = ag.tanh(a * b) + a
    return a, b, out


def test_backward_frames_one_picture_per_op_in_backward_order(tmp_path):
    a, b, out = small_graph()
    order = [trace(out).op_of(n).label for n in ag.toposort([out.grad_fn])]
    files = viz.backward_frames(out, tmp_path / "bp", names={a: "a", b: "b"})
    assert [f.rsplit("/", 1)[-1] for f in files] == ["bp_000.svg", "bp_001.svg", "bp_002.svg"]
    svgs = [html.unescape(open(f, encoding="utf-8").read()) for f in files]
    for k, (svg, label) in enumerate(zip(svgs, order)):
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert f"backward step {k + 1} of 3: '{label}' receives" in svg
    assert order == ["+", "tanh", "*"]
    # the gradients known so far: b's gradient appears only once '*' has run (last step)
    db = (1 - math.tanh(0.75) ** 2) * 0.5
    assert f">{format_number(db)}<" not in svgs[1]
    assert f">{format_number(db)}<" in svgs[2] and f"sends {format_number(db)}<" in svgs[2]
    assert "dout/dt1 = 1.0" in svgs[1]
    assert a.grad is None and b.grad is None          # the engine's state is untouched


def test_backward_frames_gif_and_folder_prefix(tmp_path):
    from PIL import Image

    _, _, out = small_graph()
    files = viz.backward_frames(out, f"{tmp_path}/frames/", format="png", gif=True)
    assert [f.rsplit("/", 1)[-1] for f in files] == ["step_000.png", "step_001.png",
                                                     "step_002.png", "backward.gif"]
    for f in files[:-1]:
        assert open(f, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with Image.open(files[-1]) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3


def test_backward_frames_errors(tmp_path, monkeypatch):
    a = f64(1.0)
    with pytest.raises(ValueError, match="no backward pass to show"):
        viz.backward_frames(a, tmp_path / "x")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[gif\]"'):
        viz.backward_frames(a * 2.0, tmp_path / "x", gif=True)


def test_explain_gradient_with_respect_to_an_intermediate_tensor():
    x = f64(0.3)
    h = ag.sin(x)
    out = h * h + h * 2.0
    ex = viz.explain_gradient(out, h, names={h: "h"})
    assert ex.leaf.name == "h" and len(ex.paths) == 3
    assert ex.total == pytest.approx(2 * math.sin(0.3) + 2.0)
    assert ex.engine_grad == pytest.approx(ex.total) and ex.matches
