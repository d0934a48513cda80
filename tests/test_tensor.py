"""Tensor construction, dtype rules, factories, attributes, operators and indexing."""

import numpy as np
import pytest

import autograd as ag

# ---------------------------------------------------------------------------------------------
# construction and dtype rules


def test_python_floats_and_lists_become_float32_by_default():
    assert ag.tensor(1.5).dtype == np.float32
    assert ag.Tensor([1.0, 2.0]).dtype == np.float32
    assert ag.tensor([[1, 2.5], [3, 4]]).dtype == np.float32
    np.testing.assert_array_equal(ag.tensor([1.0, 2.0]).data, np.array([1.0, 2.0], np.float32))


def test_set_default_dtype_float64_changes_what_python_floats_become():
    ag.set_default_dtype(np.float64)
    assert ag.get_default_dtype() == np.float64
    assert ag.tensor(0.1).dtype == np.float64
    assert ag.tensor(0.1).item() == 0.1
    assert ag.zeros(2).dtype == np.float64
    assert ag.randn(2).dtype == np.float64
    assert ag.arange(0.0, 1.0, 0.5).dtype == np.float64


def test_set_default_dtype_rejects_non_floating_dtypes():
    with pytest.raises(TypeError, match="only floating dtypes are allowed, got int32"):
        ag.set_default_dtype(np.int32)
    assert ag.get_default_dtype() == np.float32


def test_numpy_arrays_keep_their_dtype_and_are_not_copied():
    for dt in (np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_):
        a = np.zeros(3, dtype=dt)
        t = ag.Tensor(a)
        assert t.dtype == dt
        assert t.data is a
    assert ag.Tensor(np.float64(2.0)).dtype == np.float64


def test_tensor_factory_copies_its_data():
    a = np.array([1.0, 2.0])
    t = ag.tensor(a)
    a[0] = 99.0
    assert t.data[0] == 1.0
    assert t.dtype == np.float64


def test_explicit_dtype_argument_converts():
    assert ag.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert ag.Tensor(np.ones(2, np.float64), dtype="float32").dtype == np.float32
    assert ag.tensor(1.0, dtype=np.float16).dtype == np.float16


def test_integer_and_bool_tensors_are_allowed():
    i = ag.tensor([1, 2, 3])
    b = ag.tensor([True, False])
    assert i.dtype == np.int64
    assert b.dtype == np.bool_
    assert not i.requires_grad
    assert (i + 1).tolist() == [2, 3, 4]
    assert (i + 1).dtype == np.int64


@pytest.mark.parametrize("make", [
    lambda: ag.tensor([1, 2], requires_grad=True),
    lambda: ag.Tensor(np.array([True]), requires_grad=True),
    lambda: ag.zeros(2, dtype=np.int64, requires_grad=True),
    lambda: ag.arange(3, requires_grad=True),
    lambda: ag.tensor([1, 2]).requires_grad_(),
])
def test_integer_and_bool_tensors_cannot_require_grad(make):
    with pytest.raises(TypeError, match=r"only floating-point tensors can require gradients, got "
                                        r"dtype (int64|bool).*astype"):
        make()


def test_setting_requires_grad_on_int_tensor_raises():
    t = ag.tensor([1, 2])
    with pytest.raises(TypeError, match="only floating-point tensors"):
        t.requires_grad = True
    assert t.requires_grad is False


# ---------------------------------------------------------------------------------------------
# factories


def test_zeros_ones_full_eye_values_shapes_and_dtypes():
    np.testing.assert_array_equal(ag.zeros(2, 3).data, np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(ag.zeros((2, 3)).data, np.zeros((2, 3)))
    np.testing.assert_array_equal(ag.ones(4).data, np.ones(4, np.float32))
    assert ag.ones(2, 2).dtype == np.float32
    assert ag.zeros(2, dtype=np.float64).dtype == np.float64
    f = ag.full((2, 2), 3.5)
    np.testing.assert_array_equal(f.data, np.full((2, 2), 3.5, np.float32))
    assert f.dtype == np.float32
    assert ag.full(3, 7, dtype=np.int32).tolist() == [7, 7, 7]
    np.testing.assert_array_equal(ag.eye(3).data, np.eye(3, dtype=np.float32))
    e = ag.eye(2, 3, dtype=np.float64)
    assert e.shape == (2, 3) and e.dtype == np.float64
    np.testing.assert_array_equal(e.data, np.eye(2, 3))


@pytest.mark.parametrize("factory", [
    lambda **kw: ag.zeros(2, 3, **kw),
    lambda **kw: ag.ones(2, 3, **kw),
    lambda **kw: ag.full((2, 3), 1.0, **kw),
    lambda **kw: ag.eye(2, 3, **kw),
    lambda **kw: ag.rand(2, 3, **kw),
    lambda **kw: ag.randn(2, 3, **kw),
    lambda **kw: ag.zeros_like(np.zeros((2, 3)), **kw),
    lambda **kw: ag.ones_like(ag.zeros(2, 3), **kw),
])
def test_factories_accept_requires_grad_and_dtype(factory):
    t = factory(requires_grad=True, dtype=np.float64)
    assert t.shape == (2, 3)
    assert t.dtype == np.float64
    assert t.requires_grad is True
    assert t.is_leaf
    plain = factory()
    assert plain.requires_grad is False
    assert factory(requires_grad=True).requires_grad is True


def test_zeros_like_and_ones_like_keep_shape_and_dtype():
    src = ag.tensor(np.arange(6.0).reshape(2, 3))  # float64
    z = ag.zeros_like(src)
    o = ag.ones_like(src, requires_grad=True)
    assert z.shape == o.shape == (2, 3)
    assert z.dtype == o.dtype == np.float64
    assert o.requires_grad
    np.testing.assert_array_equal(o.data, np.ones((2, 3)))
    assert ag.zeros_like(src, dtype=np.float32).dtype == np.float32
    assert ag.ones_like(ag.tensor([1, 2])).dtype == np.int64


def test_arange_follows_numpy_and_the_default_dtype():
    i = ag.arange(5)
    assert i.dtype == np.int64
    assert i.tolist() == [0, 1, 2, 3, 4]
    f = ag.arange(0.0, 1.0, 0.25)
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f.data, [0.0, 0.25, 0.5, 0.75])
    assert ag.arange(2, 8, 3).tolist() == [2, 5]
    assert ag.arange(3, dtype=np.float32).dtype == np.float32
    r = ag.arange(0.0, 3.0, requires_grad=True, dtype=np.float64)
    assert r.requires_grad and r.dtype == np.float64 and r.tolist() == [0.0, 1.0, 2.0]


def test_rand_and_randn_draw_from_the_global_generator():
    u = ag.rand(1000)
    assert u.dtype == np.float32
    assert 0.0 <= u.data.min() and u.data.max() < 1.0
    assert abs(u.data.mean() - 0.5) < 0.05
    n = ag.randn(2000, dtype=np.float64)
    assert abs(n.data.mean()) < 0.1 and abs(n.data.std() - 1.0) < 0.1
    ag.manual_seed(7)
    expected = np.random.default_rng(7).standard_normal((3, 2))
    np.testing.assert_allclose(ag.randn(3, 2, dtype=np.float64).data, expected)


def test_manual_seed_reproduces_a_sequence_of_draws():
    ag.manual_seed(123)
    first = [ag.randn(4).data, ag.rand(2, 2).data, ag.get_generator().integers(0, 100, 5)]
    ag.manual_seed(123)
    second = [ag.randn(4).data, ag.rand(2, 2).data, ag.get_generator().integers(0, 100, 5)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    ag.manual_seed(124)
    assert not np.array_equal(ag.randn(4).data, first[0])


def test_manual_seed_returns_the_global_generator():
    g = ag.manual_seed(5)
    assert g is ag.get_generator()
    assert isinstance(g, np.random.Generator)


# ---------------------------------------------------------------------------------------------
# attributes


def test_leaf_attributes():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    x = ag.Tensor(a, requires_grad=True)
    assert x.data is a
    assert x.grad is None
    assert x.requires_grad is True
    assert x.is_leaf is True
    assert x.grad_fn is None
    assert x.shape == (2, 3)
    assert x.ndim == 2
    assert x.size == 6
    assert x.dtype == np.float32
    assert len(x) == 2
    assert x.numpy() is a
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_op_output_attributes():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * ag.tensor([3.0, 3.0])
    assert y.requires_grad is True
    assert y.is_leaf is False
    assert y.grad_fn is not None
    assert y.grad_fn.name == "mul"
    assert y.grad_fn.inputs[0] is x


def test_transpose_attribute_T():
    x = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    x.T.sum(axis=1).backward(ag.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.data, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])


def test_item_and_scalar_conversions():
    assert ag.tensor(2.5).item() == 2.5
    assert ag.tensor([[3.0]]).item() == 3.0
    assert isinstance(ag.tensor([1]).item(), int)
    assert float(ag.tensor([2.0])) == 2.0
    with pytest.raises(ValueError, match=r"only one-element tensors.*got shape \(2,\)"):
        ag.tensor([1.0, 2.0]).item()


def test_len_of_0d_tensor_raises():
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ag.tensor(1.0))


def test_truth_value_of_multi_element_tensor_is_ambiguous():
    assert bool(ag.tensor([1.0]))
    assert not bool(ag.tensor(0.0))
    with pytest.raises(ValueError, match="ambiguous; use .any\\(\\) or .all\\(\\)"):
        bool(ag.tensor([1.0, 2.0]))


def test_numpy_asarray_returns_the_data_without_copy():
    x = ag.tensor([[1.0, 2.0]], requires_grad=True)
    assert np.asarray(x) is x.data
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.array(x), x.data)
    assert np.array(x) is not x.data


def test_dlpack_hands_over_the_memory_without_copy():
    x = ag.tensor([1.0, 2.0, 3.0])
    y = np.from_dlpack(x)
    assert np.shares_memory(y, x.data)
    x.data[1] = 10.0
    assert y[1] == 10.0
    assert x.__dlpack_device__() == x.data.__dlpack_device__()


def test_repr_shows_values_dtype_and_grad_fn():
    x = ag.tensor([1.5, 2.0], requires_grad=True)
    r = repr(x)
    assert r.startswith("tensor([1.5, 2. ]")
    assert "requires_grad=True" in r
    y = x * ag.tensor([2.0, 2.0])
    assert repr(y) == "tensor([3., 4.], grad_fn=<MulBackward>)"
    assert repr(ag.tensor([1.0], dtype=np.float64)) == "tensor([1.], dtype=float64)"
    assert repr(ag.tensor([1, 2])) == "tensor([1, 2], dtype=int64)"
    ag.set_default_dtype(np.float64)
    assert "dtype=float32" in repr(ag.tensor([1.0], dtype=np.float32))


def test_name_is_an_optional_label():
    x = ag.tensor(1.0)
    assert x.name is None
    x.name = "w"
    assert x.name == "w"


# ---------------------------------------------------------------------------------------------
# operators with numpy arrays and Python scalars


def test_ndarray_op_tensor_returns_a_tensor():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    for y in (np.ones(2, np.float32) + x, np.ones(2, np.float32) * x,
              np.ones(2, np.float32) - x, np.ones(2, np.float32) / x,
              np.ones((2, 2), np.float32) @ x):
        assert isinstance(y, ag.Tensor)
        assert y.requires_grad
    y = np.array([3.0, 4.0], np.float32) - x
    np.testing.assert_array_equal(y.data, [2.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, -1.0])


def test_python_scalar_op_tensor_returns_a_tensor():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    for y, expected in ((2.0 * x, [2.0, 4.0]), (1.0 + x, [2.0, 3.0]), (1.0 - x, [0.0, -1.0]),
                        (2.0 / x, [2.0, 1.0]), (2.0 ** x, [2.0, 4.0]), (x ** 2, [1.0, 4.0]),
                        (-x, [-1.0, -2.0]), (3 * x, [3.0, 6.0])):
        assert isinstance(y, ag.Tensor)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.data, expected)


def test_python_scalars_take_the_tensor_dtype():
    x32 = ag.tensor([1.0, 2.0], dtype=np.float32)
    y = x32 * 1.000001
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, x32.data * np.float32(1.000001))
    assert (1.000001 * x32).dtype == np.float32
    assert (x32 + 1e-8).dtype == np.float32
    assert (x32 / 3.0).dtype == np.float32
    assert (x32 ** 0.5).dtype == np.float32
    x64 = ag.tensor([1.0, 2.0], dtype=np.float64)
    z = x64 * 1.000001
    assert z.dtype == np.float64
    assert z.data[0] == 1.000001
    assert (x64 + 1e-12).data[0] == 1.0 + 1e-12
    assert (ag.tensor([1.0], dtype=np.float16) * 1.5).dtype == np.float16


def test_python_scalars_keep_the_sign_of_zero_and_nan():
    # -0.0 == 0.0 as dict keys, so a cache of scalar constants must not hand one for the other.
    x = ag.tensor([1.0, -2.0, -0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for y, expected in ((x / 0.0, x.data / np.float32(0.0)),
                            (x / -0.0, x.data / np.float32(-0.0)),
                            (x * 0.0, x.data * np.float32(0.0)),
                            (x * -0.0, x.data * np.float32(-0.0)),
                            (x + 0.0, x.data + np.float32(0.0)),
                            (x + -0.0, x.data + np.float32(-0.0))):
            np.testing.assert_array_equal(y.data, expected)
            np.testing.assert_array_equal(np.signbit(y.data), np.signbit(expected))
    assert np.isnan((x * float("nan")).data).all()
    assert ((x * 2.0) * 2).data.tolist() == [4.0, -8.0, -0.0]


def test_gradients_keep_the_tensor_dtype():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    ((x * 1.000001) ** 2.0 / 3.0).sum().backward()
    assert x.grad.dtype == np.float32
    x64 = ag.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    (x64 * 1.000001).sum().backward()
    assert x64.grad.dtype == np.float64
    assert x64.grad.data[0] == 1.000001


# ---------------------------------------------------------------------------------------------
# hashing and comparisons


def test_tensors_hash_by_identity():
    a = ag.tensor([1.0, 2.0])
    b = ag.tensor([1.0, 2.0])
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    assert len({a, b, a}) == 2
    assert a in {a}
    assert b not in {a}
    assert hash(a) != hash(b)


def test_equality_is_elementwise():
    a = ag.tensor([1.0, 2.0, 3.0])
    b = ag.tensor([1.0, 0.0, 3.0])
    eq = a == b
    assert isinstance(eq, ag.Tensor)
    assert eq.dtype == np.bool_
    assert eq.tolist() == [True, False, True]
    assert (a != b).tolist() == [False, True, False]
    assert (a == 2.0).tolist() == [False, True, False]


def test_comparisons_return_bool_tensors_without_grad():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    cases = {
        "<": (x < 2.0, [True, False, False]),
        "<=": (x <= 2.0, [True, True, False]),
        ">": (x > 2.0, [False, False, True]),
        ">=": (x >= 2.0, [False, True, True]),
        "==": (x == ag.tensor([1.0, 5.0, 3.0]), [True, False, True]),
        "!=": (x != np.array([1.0, 5.0, 3.0]), [False, True, False]),
        "rev": (2.0 < x, [False, False, True]),
    }
    for name, (t, expected) in cases.items():
        assert isinstance(t, ag.Tensor), name
        assert t.dtype == np.bool_, name
        assert t.requires_grad is False and t.grad_fn is None, name
        assert t.tolist() == expected, name


# ---------------------------------------------------------------------------------------------
# indexing


def test_basic_indexing_values_and_gradient():
    x = ag.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    np.testing.assert_array_equal(x[1].data, [4.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(x[0, 1:3].data, [1.0, 2.0])
    np.testing.assert_array_equal(x[:, -1].data, [3.0, 7.0, 11.0])
    np.testing.assert_array_equal(x[::2, ::3].data, [[0.0, 3.0], [8.0, 11.0]])
    assert x[None, ..., 0].shape == (1, 3)
    assert x[1, 2].shape == ()
    x[1:, ::2].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])


def test_integer_array_indexing_accumulates_repeated_indices():
    x = ag.tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[[0, 2, 0, 0]]
    np.testing.assert_array_equal(y.data, [10.0, 30.0, 10.0, 10.0])
    (y * ag.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [8.0, 0.0, 2.0])


def test_integer_tensor_and_2d_advanced_indexing():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    rows = ag.tensor([0, 1, 1])
    cols = ag.tensor([2, 0, 2])
    y = x[rows, cols]
    np.testing.assert_array_equal(y.data, [2.0, 3.0, 5.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 1], [1, 0, 1]])
    np.testing.assert_array_equal(x[ag.tensor([1, 0])].data, [[3, 4, 5], [0, 1, 2]])


def test_boolean_indexing_values_and_gradient():
    x = ag.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    mask = x > 0.0
    y = x[mask]
    np.testing.assert_array_equal(y.data, [1.0, 4.0])
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(x[np.array([False, True])].data, [[-3.0, 4.0]])


def test_iteration_yields_rows():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert len(rows) == 2
    assert all(isinstance(r, ag.Tensor) for r in rows)
    assert rows[1].tolist() == [3.0, 4.0]


# ---------------------------------------------------------------------------------------------
# bad input: a clear error naming the op and the shapes


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "subtract"),
    (lambda a, b: a * b, "multiply"), (lambda a, b: a / b, "divide"),
    (lambda a, b: a ** b, "power"), (lambda a, b: ag.maximum(a, b), "maximum"),
    (lambda a, b: ag.minimum(a, b), "minimum"),
    (lambda a, b: a + b.data, "add"), (lambda a, b: b.data * a, "multiply"),
])
def test_broadcast_mismatch_names_the_op_and_both_shapes(op, name):
    a = ag.ones(2, 3, requires_grad=True)
    b = ag.ones(4)
    with pytest.raises(ValueError, match=rf"{name}: operands of shapes \((2, 3|4,)\) and "
                                         r"\((4,|2, 3)\) cannot be broadcast together"):
        op(a, b)


def test_shape_errors_of_matmul_concatenate_and_reshape():
    a = ag.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 2\) are not aligned"):
        a @ ag.ones(4, 2)
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 3\), \(2, 4\) do not match "
                                         r"except along axis 0"):
        ag.concatenate([a, ag.ones(2, 4)], axis=0)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) "
                                         r"\(6 elements\) into shape \(4, 2\)"):
        a.reshape(4, 2)


def test_unknown_axis_raises_numpy_axis_error_naming_it():
    a = ag.ones(2, 3)
    with pytest.raises(np.exceptions.AxisError, match="sum: axis 2 is out of bounds"):
        a.sum(axis=2)
    with pytest.raises(np.exceptions.AxisError, match="axis -3 is out of bounds"):
        ag.mean(a, axis=-3)
