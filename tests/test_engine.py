"""Backward-pass semantics: seeds, accumulation, retain_graph, create_graph, grad, grad modes,
hooks, in-place checks, anomaly detection and memory."""

import gc
import sys
import weakref

import numpy as np
import pytest

import autograd as ag


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def f64(values, requires_grad=True):
    return ag.tensor(values, dtype=np.float64, requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# seeding backward


def test_backward_on_a_scalar_seeds_with_one():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0, 6.0])
    assert isinstance(x.grad, ag.Tensor)
    assert x.grad.requires_grad is False


def test_backward_on_a_non_scalar_without_grad_raises():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad can be implicitly created only for scalar "
                                           r"outputs.*shape \(3,\); pass a gradient"):
        (x * 2.0).backward()


def test_backward_on_a_non_scalar_with_grad_is_a_vector_jacobian_product():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(ag.tensor([1.0, 0.5, -1.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, -6.0])
    x.grad = None
    (x * 3.0).backward(np.array([1.0, 2.0, 3.0], np.float32))
    np.testing.assert_array_equal(x.grad.data, [3.0, 6.0, 9.0])


@pytest.mark.parametrize("bad", [np.ones(2), np.ones((1, 3)), np.ones((3, 1)), 1.0])
def test_backward_grad_of_the_wrong_shape_raises(bad):
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad has shape .* but the output has shape \(3,\); "
                                         r"they must match exactly"):
        (x * 2.0).backward(bad)
    assert x.grad is None


def test_backward_on_a_tensor_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad.*requires_grad=True"):
        ag.tensor([1.0]).sum().backward()


def test_backward_on_a_leaf_sets_its_own_grad():
    x = ag.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


# ---------------------------------------------------------------------------------------------
# accumulation and retained gradients


def test_leaf_gradients_accumulate_across_backward_calls():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 7.0])
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_accumulated_grad_is_not_aliased_with_an_earlier_grad_tensor():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * 1.0).sum().backward()
    first = x.grad
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(first.data, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_grad_is_not_aliased_with_the_seed():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seed = ag.tensor([1.0, 1.0])
    x.backward(seed)
    (x * 2.0).backward(seed)
    np.testing.assert_array_equal(seed.data, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_non_leaf_grads_are_not_kept_unless_retain_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    k = x * 5.0
    k.retain_grad()
    assert k.retains_grad and not h.retains_grad
    (h * 3.0 + k * k).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad.data, 2.0 * k.data)
    np.testing.assert_array_equal(x.grad.data, [6.0 + 50.0, 6.0 + 100.0])


def test_retain_grad_on_a_leaf_is_harmless():
    x = ag.tensor([1.0], requires_grad=True)
    x.retain_grad()
    (x * 2.0).sum().backward()
    assert x.grad.item() == 2.0


def test_node_used_twice_receives_the_sum_of_its_gradients():
    x = ag.tensor([3.0, -1.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, -2.0])
    x.grad = None
    h = x * 2.0
    (h * h + h).sum().backward()  # d/dx = (2h + 1) * 2
    np.testing.assert_array_equal(x.grad.data, (2 * h.data + 1) * 2)


def test_every_node_runs_after_all_its_consumers_in_branching_graphs():
    # A residual chain: each y_k feeds both the skip and tanh, so nodes wait for two gradients
    # while others are pending. dy_{k+1}/dy_k = 1 + 0.5 (1 - tanh(y_k)^2), multiplied along.
    x = ag.tensor([0.3, -1.2], requires_grad=True, dtype=np.float64)
    y, values = x, []
    for _ in range(30):
        values.append(y.data)
        y = y + ag.tanh(y) * 0.5
    (y * 1.0).sum().backward()
    expected = np.prod([1.0 + 0.5 * (1.0 - np.tanh(v) ** 2) for v in values], axis=0)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)
    # Two branches of different lengths that meet again, then a shared leaf.
    x.grad = None
    a = ag.exp(x)
    long = ag.sin(ag.sin(ag.sin(a)))
    out = (long * a + x).sum()
    out.backward()
    av = np.exp(x.data)
    s1, s2 = np.sin(av), np.sin(np.sin(av))
    dlong = np.cos(s2) * np.cos(s1) * np.cos(av)
    np.testing.assert_allclose(x.grad.data, (dlong * av + np.sin(s2)) * av + 1.0, rtol=1e-12)


def test_hidden_layer_feeding_two_heads_gets_both_gradients():
    rng = np.random.default_rng(0)
    xv, wv, av, bv = (rng.standard_normal(s) for s in [(4, 3), (3, 5), (5, 2), (5, 1)])
    x, w, a, b = f64(xv, False), f64(wv), f64(av), f64(bv)
    h = ag.tanh(x @ w)
    loss = (h @ a).sum() + ((h @ b) ** 2).sum()
    loss.backward()
    hv = np.tanh(xv @ wv)
    dh = np.ones((4, 2)) @ av.T + 2 * (hv @ bv) @ bv.T
    np.testing.assert_allclose(w.grad.data, xv.T @ (dh * (1 - hv ** 2)), rtol=1e-12)
    np.testing.assert_allclose(a.grad.data, hv.T @ np.ones((4, 2)), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, hv.T @ (2 * hv @ bv), rtol=1e-12)


def test_broadcast_gradients_are_summed_back_to_each_input_shape():
    a = f64(np.ones((3, 1)))
    b = f64(np.arange(4.0))
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_array_equal(a.grad.data, np.full((3, 1), 6.0))
    np.testing.assert_array_equal(b.grad.data, np.full(4, 3.0))


@pytest.mark.slow
def test_a_million_op_chain_backwards_without_recursion_error(no_gc):
    # The garbage collector is off only for speed: it would scan the million live nodes again
    # and again while the chain grows; nothing here relies on it.
    x = ag.tensor([0.0], requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    assert y.item() == 1_000_000.0
    y.backward(np.ones(1, np.float32))
    assert x.grad.item() == 1.0
    del y  # freeing the chain must not overflow the stack either


def test_toposort_runs_consumers_before_producers():
    x = ag.tensor(1.0, requires_grad=True)
    a = x * 2.0
    b = ag.exp(a)
    c = a + b
    order = ag.toposort([c.grad_fn])
    assert order.index(c.grad_fn) < order.index(b.grad_fn) < order.index(a.grad_fn)
    assert len(order) == 3


# ---------------------------------------------------------------------------------------------
# retain_graph and the graph after backward


def test_second_backward_through_a_released_graph_raises():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (ag.exp(x) * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*pass "
                                           "retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = ag.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    y = (ag.exp(x) * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_graph_structure_is_kept_after_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    h = x * w
    y = ag.tanh(h).sum()
    y.backward()
    node = y.grad_fn
    assert node.released
    assert node.inputs[0].grad_fn.name == "tanh"
    mul = node.inputs[0].grad_fn.inputs[0].grad_fn
    assert mul is h.grad_fn
    assert mul.inputs[0] is x and mul.inputs[1] is w
    assert mul.needs == (True, True)
    assert mul.next_functions == (x, w)


# ---------------------------------------------------------------------------------------------
# higher order


def test_create_graph_gives_second_derivatives():
    x = f64([2.0, -1.0])
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(g.data, 3 * np.array([4.0, 1.0]))
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * np.array([2.0, -1.0]))


def test_third_derivative_through_grad():
    x = f64(1.5)
    (g1,) = ag.grad(x ** 4, x, create_graph=True)
    (g2,) = ag.grad(g1, x, create_graph=True)
    (g3,) = ag.grad(g2, x)
    assert g1.item() == pytest.approx(4 * 1.5 ** 3)
    assert g2.item() == pytest.approx(12 * 1.5 ** 2)
    assert g3.item() == pytest.approx(24 * 1.5)


def test_hessian_vector_product_by_double_backward():
    rng = np.random.default_rng(1)
    av = rng.standard_normal((3, 3))
    av = av + av.T
    vv = rng.standard_normal(3)
    x = f64(rng.standard_normal(3))
    a = f64(av, False)
    f = (x * (a @ x)).sum() * 0.5 + ag.sin(x).sum()  # H = A - diag(sin x)
    (g,) = ag.grad(f, x, create_graph=True)
    (hv,) = ag.grad((g * f64(vv, False)).sum(), x)
    expected = av @ vv - np.sin(x.data) * vv
    np.testing.assert_allclose(hv.data, expected, rtol=1e-12)


def test_create_graph_through_a_small_network():
    rng = np.random.default_rng(2)
    w = f64(rng.standard_normal((3, 2)))
    x = f64(rng.standard_normal((4, 3)), False)
    loss = ag.softplus(x @ w).mean()
    (gw,) = ag.grad(loss, w, create_graph=True)
    penalty = (gw * gw).sum()  # gradient penalty, as in WGAN-GP
    penalty.backward()
    assert w.grad.shape == (3, 2)
    assert np.all(np.isfinite(w.grad.data)) and np.abs(w.grad.data).sum() > 0
    ag.gradcheck(lambda w_: (ag.grad(ag.softplus(x @ w_).mean(), w_, create_graph=True)[0] ** 2)
                 .sum(), [w])


# ---------------------------------------------------------------------------------------------
# autograd.grad


def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.tensor(3.0, requires_grad=True)
    out = (x * y).sum()
    gs = ag.grad(out, [x, y])
    assert isinstance(gs, tuple) and len(gs) == 2
    np.testing.assert_array_equal(gs[0].data, [3.0, 3.0])
    assert gs[1].item() == 3.0
    assert x.grad is None and y.grad is None
    (gx,) = ag.grad((x * 2.0).sum(), x)
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])


def test_grad_with_respect_to_an_intermediate_tensor():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    (gh,) = ag.grad((h * h).sum(), h)
    np.testing.assert_array_equal(gh.data, [4.0, 8.0])
    assert x.grad is None


def test_grad_with_grad_outputs_and_several_outputs():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y1 = x * 2.0
    y2 = x * x
    gs = ag.grad([y1, y2], x, grad_outputs=[ag.tensor([1.0, 1.0]), ag.tensor([1.0, 0.5])])
    np.testing.assert_array_equal(gs[0].data, [2.0 + 2.0, 2.0 + 2.0])
    (g,) = ag.grad(x * 3.0, x, grad_outputs=ag.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(g.data, [3.0, 6.0])


def test_grad_outputs_count_must_match():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        ag.grad([x * 2.0, x * 3.0], x, grad_outputs=[ag.ones(2)])


def test_grad_of_an_unused_input_raises_unless_allow_unused():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    z = ag.tensor([5.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used.*pass "
                                           r"allow_unused=True"):
        ag.grad((x * 2.0).sum(), [x, z])
    gx, gz = ag.grad((x * 2.0).sum(), [x, z], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])
    assert gz is None


def test_grad_of_an_input_that_does_not_require_grad_raises():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 0 does not require grad; create it with "
                                           "requires_grad=True"):
        ag.grad((x * 2.0).sum(), ag.tensor([1.0]))


def test_grad_of_an_output_without_graph_raises():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():
        y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="output does not require grad.*no_grad"):
        ag.grad(y, x)


def test_grad_releases_the_graph_unless_retained():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (ag.exp(x) * x).sum()
    ag.grad(y, x, retain_graph=True)
    ag.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ag.grad(y, x)


# ---------------------------------------------------------------------------------------------
# grad modes


def test_no_grad_records_nothing():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = ag.exp(x * 2.0).sum()
    assert ag.is_grad_enabled()
    assert y.grad_fn is None
    assert y.requires_grad is False
    assert y.is_leaf


def test_no_grad_enable_grad_and_set_grad_enabled_as_decorators():
    x = ag.tensor([1.0], requires_grad=True)

    @ag.no_grad()
    def frozen(t):
        return t * 2.0

    @ag.enable_grad()
    def recording(t):
        return t * 2.0

    @ag.set_grad_enabled(False)
    def off(t):
        return t * 2.0

    assert frozen.__name__ == "frozen"
    assert frozen(x).requires_grad is False
    assert frozen(x).grad_fn is None
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert recording(x).requires_grad is True
        assert not ag.is_grad_enabled()
    assert off(x).requires_grad is False
    assert frozen(x).item() == 2.0  # reusable


def test_grad_mode_decorators_without_parentheses():
    x = ag.tensor([1.0], requires_grad=True)

    @ag.no_grad
    def frozen(t):
        return t * 2.0

    @ag.enable_grad
    def recording(t):
        return t * 2.0

    assert frozen(x).requires_grad is False
    with ag.no_grad():
        assert recording(x).requires_grad is True


def test_enable_grad_inside_no_grad_and_nesting_restores():
    x = ag.tensor([1.0], requires_grad=True)
    with ag.no_grad():
        with ag.enable_grad():
            assert (x * 2.0).requires_grad
            with ag.set_grad_enabled(False):
                assert not (x * 2.0).requires_grad
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()
    with ag.set_grad_enabled(True):
        assert (x * 2.0).requires_grad
    assert ag.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with ag.no_grad():
            raise ZeroDivisionError
    assert ag.is_grad_enabled()

    @ag.no_grad()
    def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        boom()
    assert ag.is_grad_enabled()


def test_detach_shares_data_and_cuts_the_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert d.grad_fn is None and d.requires_grad is False and d.is_leaf
    assert np.shares_memory(d.data, y.data)
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])  # d treated as a constant


def test_requires_grad_():
    t = ag.tensor([1.0, 2.0])
    assert t.requires_grad_() is t
    assert t.requires_grad
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [2.0, 4.0])
    t.requires_grad_(False)
    assert not (t * t).requires_grad
    y = ag.tensor([1.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="only be changed on leaf tensors; use .detach"):
        y.requires_grad_(False)


# ---------------------------------------------------------------------------------------------
# hooks


def test_hook_on_a_leaf_sees_the_gradient():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x * 3.0).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_hook_on_a_leaf_sees_the_summed_gradient_once():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x * 3.0 + x * x).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5.0, 7.0])


def test_hook_return_value_replaces_the_gradient():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10.0)
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [30.0, 30.0])


def test_hook_on_a_non_leaf_sees_and_replaces_its_gradient():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    seen = []

    def hook(g):
        seen.append(g.data.copy())
        return g * 0.5

    h.register_hook(hook)
    (h * h).sum().backward()
    np.testing.assert_array_equal(seen[0], [4.0, 8.0])
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])  # 0.5 * 2h * 2


def test_non_leaf_hook_result_is_what_retain_grad_keeps():
    x = ag.tensor([1.0], requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    h.register_hook(lambda g: g + 1.0)
    (h * 3.0).sum().backward()
    assert h.grad.item() == 4.0
    assert x.grad.item() == 8.0


def test_hooks_run_in_registration_order_and_can_be_removed():
    x = ag.tensor([1.0], requires_grad=True)
    calls = []
    remove_a = x.register_hook(lambda g: calls.append("a"))
    x.register_hook(lambda g: calls.append("b"))
    (x * 2.0).sum().backward()
    assert calls == ["a", "b"]
    remove_a()
    (x * 2.0).sum().backward()
    assert calls == ["a", "b", "b"]
    remove_a()  # removing twice is harmless


def test_non_leaf_hook_removal():
    x = ag.tensor([1.0], requires_grad=True)
    h = x * 2.0
    remove = h.register_hook(lambda g: g * 100.0)
    remove()
    (h * 1.0).sum().backward()
    assert x.grad.item() == 2.0


def test_hook_on_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient.*requires_grad=True"):
        ag.tensor([1.0]).register_hook(lambda g: g)


def test_hooks_see_gradients_in_autograd_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 2.0)
    (g,) = ag.grad((x * 3.0).sum(), x)
    np.testing.assert_array_equal(g.data, [6.0, 6.0])
    assert x.grad is None


# ---------------------------------------------------------------------------------------------
# in-place operations


def test_modifying_a_saved_tensor_in_place_makes_backward_raise():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0])
    y = (a * b).sum()
    b.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*'mul'.*"
                                           r"Do not modify a tensor in place"):
        y.backward()


def test_modifying_a_parameter_after_the_forward_pass_makes_backward_raise():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with ag.no_grad():
        w.sub_(0.5)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_setitem_counts_as_an_in_place_modification():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0])
    y = ag.exp(a * b).sum()
    b[0] = 10.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_changes_before_a_node_was_recorded_do_not_count_and_later_ones_do():
    # One clock numbers the nodes and dates in-place changes: a change made before the forward
    # pass is older than every node of the graph, one made after it is newer than each of them.
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0])
    b.mul_(2.0)
    with ag.no_grad():
        a.add_(1.0)
    first = (a * b).sum()
    c = ag.tensor([1.0, 1.0])
    second = (ag.tanh(a) * c).sum()  # recorded before c changes
    c.add_(1.0)
    first.backward()
    np.testing.assert_array_equal(a.grad.data, [6.0, 8.0])
    assert first.grad_fn.seq < second.grad_fn.seq < c._version
    with pytest.raises(RuntimeError, match=r"input 1 of 'mul'.*was changed after the forward"):
        second.backward()


def test_in_place_change_of_an_input_that_was_not_saved_is_fine():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0])
    y = (a + b).sum()  # addition's gradient does not read its inputs
    b.add_(1.0)
    y.backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])


def test_in_place_arithmetic_refuses_to_truncate_into_an_integer_tensor():
    t = ag.tensor(np.arange(3))
    with pytest.raises(TypeError, match="Cannot cast ufunc 'multiply' output from dtype"):
        t.mul_(1.5)
    np.testing.assert_array_equal(t.data, [0, 1, 2])
    t.add_(2)
    np.testing.assert_array_equal(t.data, [2, 3, 4])


def test_in_place_ops_bump_the_version_and_compute_in_place():
    t = ag.tensor([1.0, 2.0])
    data = t.data
    v0 = t._version
    t.add_(1.0).mul_(2.0).sub_(ag.tensor([1.0, 1.0]), alpha=2.0).div_(2.0)
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    assert t.data is data
    assert t._version > v0
    t.zero_()
    np.testing.assert_array_equal(t.data, [0.0, 0.0])
    t.fill_(3.0)
    t.copy_(np.array([5.0, 6.0]))
    np.testing.assert_array_equal(t.data, [5.0, 6.0])
    assert t.dtype == np.float32
    t += 1.0
    t *= 2.0
    t -= 1.0
    t /= 3.0
    np.testing.assert_allclose(t.data, [11.0 / 3.0, 13.0 / 3.0], rtol=1e-6)
    assert t.dtype == np.float32


def test_optimizer_style_updates_under_no_grad_keep_working():
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    data = w.data
    for _ in range(3):
        loss = (w * w).sum()
        w.grad = None
        loss.backward()
        with ag.no_grad():
            w -= w.grad * 0.25
    # w <- w - 0.25 * 2w = 0.5 w, three times
    np.testing.assert_allclose(w.data, [0.125, -0.25])
    assert w.data is data
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_in_place_on_a_leaf_that_requires_grad_outside_no_grad_raises():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    for update in (lambda: w.add_(1.0), lambda: w.__isub__(1.0), lambda: w.zero_(),
                   lambda: w.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad is being modified "
                                               "in place; wrap the update in .*no_grad"):
            update()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_in_place_change_of_an_intermediate_input_under_no_grad_makes_backward_raise():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    y = ag.exp(h).sum()
    with ag.no_grad():
        h.add_(1.0)  # recorded on h's node, which exp's node links to
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: input 0 of 'exp' "
                                           r"\(shape \(2,\)\) was changed after the forward "
                                           r"pass used it\. Do not modify"):
        y.backward()


def test_in_place_change_of_an_output_its_gradient_reads_makes_backward_raise():
    # exp's VJP is g * exp(x), read from its output: doubling y in place would double x.grad.
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.exp(x)
    with ag.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"in-place operation: the output of 'exp', which its "
                                           r"gradient reads, was changed after the forward pass "
                                           r"made it\. Do not modify"):
        y.sum().backward()
    assert x.grad is None


def test_in_place_change_of_an_output_its_gradient_does_not_read_is_fine():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0  # mul's VJP reads its inputs, not its output
    with ag.no_grad():
        y.mul_(2.0)
    (y * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_a_user_op_that_reads_its_output_is_protected_by_saves_output():
    class Square(ag.Function):
        """y = x**2; dx = 2 g sqrt(y) for x >= 0, read from the output."""

        saves_output = True

        def forward(self, x):
            self.saved = x * x
            return self.saved

        def vjp(self, F, g, x):
            return (g * self.output(F, x) ** 0.5 * 2.0,)

    x = ag.tensor([1.0, 3.0], requires_grad=True, dtype=np.float64)
    Square()(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 6.0])
    y = Square()(x)
    with ag.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="the output of 'square', which its gradient reads"):
        y.sum().backward()


def test_ops_that_read_their_output_say_so():
    from autograd.function import REGISTRY
    reading = {name for name, op in REGISTRY.items() if op.saves_output}
    assert reading == {"pow", "exp", "sqrt", "tanh", "sigmoid", "logsumexp", "softmax",
                       "log_softmax", "max", "min", "max_pool2d"}


def test_in_place_on_a_recorded_tensor_raises():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    with pytest.raises(RuntimeError, match="in-place operations on tensors that are part of a "
                                           "recorded graph.*out-of-place"):
        h.mul_(2.0)


# ---------------------------------------------------------------------------------------------
# anomaly detection and non-finite values


def test_detect_anomaly_names_the_op_whose_gradient_is_inf():
    x = ag.tensor([0.0, 4.0], requires_grad=True)
    with ag.detect_anomaly(), np.errstate(divide="ignore"):
        y = (ag.sqrt(x) * 3.0).sum()
        with pytest.raises(RuntimeError, match=r"detect_anomaly: function 'sqrt'.*inf"):
            y.backward()


def test_detect_anomaly_names_the_op_that_produced_nan():
    x = ag.tensor([-1.0, 1.0], requires_grad=True)
    with ag.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(RuntimeError, match=r"detect_anomaly: function 'log'.*nan"):
            y = ag.log(x)
            (y * 2.0).sum().backward()


def test_detect_anomaly_does_not_fire_on_finite_gradients():
    x = ag.tensor([1.0, 4.0], requires_grad=True)
    with ag.detect_anomaly():
        ag.sqrt(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.5, 0.25])


def test_non_finite_values_propagate_without_anomaly_mode():
    x = ag.tensor([0.0, -1.0, 4.0], requires_grad=True)
    with np.errstate(all="ignore"):
        y = ag.sqrt(x)
        assert np.isnan(y.data[1])
        y.sum().backward()
    g = x.grad.data
    assert np.isinf(g[0]) and np.isnan(g[1]) and g[2] == 0.25


def test_power_gradient_with_respect_to_exponent_at_zero_base_is_zero():
    x = f64([0.0, 2.0])
    p = f64([2.0, 3.0])
    (x ** p).sum().backward()
    np.testing.assert_allclose(p.grad.data, [0.0, 8.0 * np.log(2.0)])
    assert not np.isnan(p.grad.data).any()


# ---------------------------------------------------------------------------------------------
# memory: the graph has no reference cycles


def test_intermediates_are_freed_by_reference_counting(no_gc):
    x = ag.tensor(np.ones(3), requires_grad=True)
    m = x * 2.0
    h = ag.tanh(m)
    # The nodes link to the nodes before them, not to their output Tensors: a dropped
    # intermediate Tensor dies at once, while its values stay with the graph until the graph
    # itself goes (if a node were in a cycle, they would outlive it).
    ref_m, ref_h = weakref.ref(m), weakref.ref(h)
    ref_m_data, ref_h_data = weakref.ref(m.data), weakref.ref(h.data)
    loss = (h * h).sum()
    del m, h
    assert ref_h() is None and ref_m() is None
    assert ref_h_data() is not None and ref_m_data() is not None
    np.testing.assert_allclose(loss.grad_fn.next_functions[0].inputs[0].data, np.tanh([2.0] * 3))
    del loss
    assert ref_h_data() is None
    assert ref_m_data() is None


def test_a_node_links_to_the_node_before_it_not_to_its_tensor(no_gc):
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    y = x
    for _ in range(3):
        y = ag.relu(y * 2.0 + 1.0)
    node = y.grad_fn
    # one object per op for the garbage collector to scan: the node (no tuple of inputs, no
    # intermediate Tensor kept alive)
    assert node.src is not None and isinstance(node.src, ag.Function)
    assert type(node.args) is np.ndarray  # a one-input node keeps the array itself
    assert node.next_functions == (node.src,)
    assert node.inputs[0].grad_fn is node.src
    np.testing.assert_array_equal(node.inputs[0].data, node.args)
    first = node
    while isinstance(first.src, ag.Function):
        first = first.src
    assert first.next_functions == (x,) and first.inputs[0] is x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [8.0, 0.0])


def test_a_chain_leaves_one_object_per_op_for_the_garbage_collector(no_gc):
    # A million-op graph is scanned by Python's cyclic collector as it grows: what it scans is
    # the nodes alone (no intermediate Tensors, no tuples of inputs for one-input ops).
    x = ag.tensor([1.0], requires_grad=True)
    before = len(gc.get_objects())
    y = x
    for _ in range(1000):
        y = ag.relu(y * 0.5 + 1.0)
    grown = len(gc.get_objects()) - before
    assert 3000 <= grown <= 3010
    y.backward()
    del y
    assert len(gc.get_objects()) - before <= 10


def test_nodes_are_freed_with_the_graph_and_may_be_weakly_referenced(no_gc):
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    y = x
    refs = []
    for _ in range(100):
        y = ag.relu(y * 0.5 + 1.0)
        refs.append(weakref.ref(y.grad_fn))
    y.sum().backward()
    assert all(r() is not None for r in refs)  # the graph holds them until it goes
    del y
    assert all(r() is None for r in refs)


def _size_class(nbytes: int) -> int:
    """The block size CPython's small-object allocator gives an object of `nbytes` bytes."""
    return -(-nbytes // 16) * 16


def test_nodes_have_a_memory_size_class_that_arrays_and_tensors_do_not_use():
    # A graph's nodes fill memory pools of their own only if no ndarray or Tensor has their
    # size (see the comment on `Function.__slots__`): the garbage collector, which walks every
    # live node, then reads them in memory order.
    from autograd.function import REGISTRY, Function

    tensor = ag.tensor([1.0])
    taken = {_size_class(np.ndarray.__basicsize__), _size_class(sys.getsizeof(tensor))}
    classes = [Function, *REGISTRY.values()]
    assert len(classes) > 50

    # a user's op without __slots__ (it gets a __dict__) is bigger still
    class Mine(ag.Function):
        def forward(self, x):
            return x

    for cls in [*classes, Mine]:
        # sys.getsizeof counts what the allocator is asked for, headers included
        assert _size_class(sys.getsizeof(cls.__new__(cls))) not in taken, cls.__name__
    node = (ag.tensor([1.0], requires_grad=True) * 2.0).grad_fn
    assert sys.getsizeof(node) == sys.getsizeof(type(node).__new__(type(node)))
    assert not hasattr(node, "_spare")


def test_names_of_dropped_intermediates_stay_with_their_nodes():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.name = "h"
    assert h.name == "h" and h.grad_fn.extra.name == "h"
    out = (h * h).sum()
    del h
    assert out.grad_fn.next_functions[0].inputs[0].name == "h"
    assert x.name is None
    x.name = "x"
    assert x.name == "x"


def test_intermediates_are_freed_after_backward(no_gc):
    x = ag.tensor(np.ones(3), requires_grad=True)
    m = x * 2.0
    h = ag.exp(m)
    h.retain_grad()
    h.register_hook(lambda g: g)
    ref_m, ref_h = weakref.ref(m.data), weakref.ref(h.data)
    loss = ag.log(h).sum() * 2.0
    del m, h
    loss.backward(retain_graph=True)
    loss.backward()
    assert ref_h() is not None and ref_m() is not None
    del loss
    assert ref_h() is None
    assert ref_m() is None
    np.testing.assert_allclose(x.grad.data, [8.0, 8.0, 8.0])  # two backward passes of 4


def test_intermediates_are_freed_after_grad_and_create_graph(no_gc):
    x = ag.tensor(np.ones(3), requires_grad=True, dtype=np.float64)
    h = ag.sin(x) * x
    ref_h = weakref.ref(h)
    (g,) = ag.grad(h.sum(), x, create_graph=True)
    ref_g = weakref.ref(g)
    (gg,) = ag.grad(g.sum(), x)
    del h, g
    assert ref_h() is None
    assert ref_g() is None
    np.testing.assert_allclose(gg.data, 2 * np.cos(1.0) - np.sin(1.0))


def test_nothing_is_recorded_when_no_input_requires_grad():
    a = ag.tensor([1.0, 2.0])
    b = ag.tensor([3.0, 4.0])
    for y in (a * b, ag.exp(a), a @ b, a[0], ag.concatenate([a, b]), (a + 1.0).sum(),
              ag.softmax(a), ag.maximum(a, b)):
        assert y.grad_fn is None
        assert y.requires_grad is False
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * a
    assert y.grad_fn is not None and y.grad_fn.needs == (True, False)
    y.sum().backward()
    assert a.grad is None


def test_grad_outputs_of_the_wrong_shape_raise():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad: grad has shape \(1, 2\) but the output has shape "
                                         r"\(2,\); they must match exactly"):
        ag.grad(x * 2.0, x, grad_outputs=ag.ones(1, 2))


class _Twice(ag.Function):
    """y = 2a + 2b; da = db = 2g, handed out as one array for both inputs."""

    def forward(self, a, b):
        return 2.0 * (a + b)

    def vjp(self, F, g, a, b):
        r = g * 2.0
        return r, r


def test_a_vjp_returning_one_array_for_two_leaves_does_not_alias_their_grads():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    # a * 3.0 is recorded first, so backward reaches it last: a's second contribution is then
    # added in place into the array a received first, which must not be b's gradient too.
    first = (a * 3.0).sum()
    y = first + _Twice()(a, b).sum()
    y.backward()
    np.testing.assert_allclose(a.grad.data, [5.0, 5.0])
    np.testing.assert_allclose(b.grad.data, [2.0, 2.0])


def test_gradients_of_non_leaves_from_grad_and_retain_grad_match_the_chain_rule():
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    h = x * 3.0
    r = ag.relu(h @ ag.eye(2))
    r.retain_grad()
    out = (r * ag.tensor([5.0, 7.0])).sum()
    (g_r, g_h) = ag.grad(out, [r, h], retain_graph=True)
    np.testing.assert_allclose(g_r.data, [5.0, 7.0])
    np.testing.assert_allclose(g_h.data, [0.0, 7.0])
    out.backward()
    np.testing.assert_allclose(r.grad.data, [5.0, 7.0])
    np.testing.assert_allclose(x.grad.data, [0.0, 21.0])


# ---------------------------------------------------------------------------------------------
# gradients written in place (ops with `vjp_`)


def _big(pattern):
    """`pattern` repeated to 4,096 values: the engine lets ops overwrite gradients this large."""
    return np.tile(np.asarray(pattern, dtype=np.float64), 4096 // len(pattern))


class _Scale(ag.Function):
    """y = 2x; dx = 2g, a new array, kept in `made` so tests can follow it."""

    made: list = []

    def forward(self, x):
        return 2.0 * x

    def vjp(self, F, g, x):
        out = g * 2.0
        _Scale.made.append(out)
        return (out,)


class _Probe(ag.Function):
    """y = x; dx = g, with every gradient it receives kept in `seen`."""

    seen: list = []

    def forward(self, x):
        return x.copy()

    def vjp(self, F, g, x):
        _Probe.seen.append(g)
        return (g,)


def _through_relu(pattern):
    _Scale.made.clear()
    _Probe.seen.clear()
    x = ag.tensor(_big(pattern), requires_grad=True)
    return x, ag.relu(_Probe()(x))


def test_relu_writes_its_gradient_into_an_array_the_engine_owns():
    x, r = _through_relu([-1.0, 2.0, -3.0, 4.0])
    _Scale()(r).sum().backward()
    # relu's input gradient is the very array _Scale's VJP made, masked in place.
    assert _Probe.seen[0] is _Scale.made[0]
    np.testing.assert_array_equal(_Scale.made[0], _big([0.0, 2.0, 0.0, 2.0]))
    np.testing.assert_array_equal(x.grad.data, _big([0.0, 2.0, 0.0, 2.0]))


def test_relu_makes_a_new_array_for_a_small_gradient():
    x = f64([-1.0, 2.0])
    _Scale.made.clear()
    _Scale()(ag.relu(x)).sum().backward()
    np.testing.assert_array_equal(_Scale.made[0], [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0])


def test_relu_leaves_a_gradient_alone_that_a_hook_kept():
    x, r = _through_relu([-1.0, 2.0])
    kept = []
    r.register_hook(kept.append)
    _Scale()(r).sum().backward()
    np.testing.assert_array_equal(kept[0].data, _big([2.0, 2.0]))
    assert _Probe.seen[0] is not _Scale.made[0]
    np.testing.assert_array_equal(x.grad.data, _big([0.0, 2.0]))


def test_relu_leaves_alone_a_gradient_that_retain_grad_or_grad_returned():
    x, r = _through_relu([-1.0, 2.0])
    r.retain_grad()
    out = _Scale()(r).sum()
    (g_r,) = ag.grad(out, [r], retain_graph=True)
    np.testing.assert_array_equal(g_r.data, _big([2.0, 2.0]))
    out.backward()
    np.testing.assert_array_equal(r.grad.data, _big([2.0, 2.0]))
    np.testing.assert_array_equal(x.grad.data, _big([0.0, 2.0]))


def test_relu_leaves_alone_a_gradient_given_to_two_inputs():
    a, b = (ag.tensor(_big(v), requires_grad=True) for v in ([-1.0, 2.0], [3.0, -4.0]))
    _Twice()(ag.relu(a), ag.relu(b)).sum().backward()
    np.testing.assert_array_equal(a.grad.data, _big([0.0, 2.0]))
    np.testing.assert_array_equal(b.grad.data, _big([2.0, 0.0]))


def test_relu_leaves_alone_the_gradient_it_is_seeded_with():
    x = ag.tensor(_big([-1.0, 2.0]), requires_grad=True)
    seed = _big([3.0, 5.0])
    ag.relu(x * 1.0).backward(seed)
    np.testing.assert_array_equal(seed, _big([3.0, 5.0]))
    np.testing.assert_array_equal(x.grad.data, _big([0.0, 5.0]))
