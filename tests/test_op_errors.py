"""Bad input to an op raises a clear error naming the op and the shapes involved.

Shape mismatches raise ValueError naming the op and both shapes; an axis out of range raises
numpy's AxisError (a ValueError) naming the axis; asking an integer tensor for a gradient raises
TypeError. Nothing is silently broadcast or wrapped around.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag
from autograd.ops import nn_ops

AxisError = np.exceptions.AxisError


def t(*shape: int, dtype: object = np.float64, requires_grad: bool = False) -> ag.Tensor:
    return ag.Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# broadcasting in binary ops


BINARY = [
    ("add", ag.add), ("subtract", ag.subtract), ("multiply", ag.multiply),
    ("divide", ag.divide), ("power", ag.power), ("maximum", ag.maximum),
    ("minimum", ag.minimum),
]


@pytest.mark.parametrize("name,op", BINARY)
def test_binary_op_broadcast_error_names_the_op_and_both_shapes(name, op):
    msg = re.escape(f"{name}: operands of shapes (2, 3) and (4,) cannot be broadcast together")
    with pytest.raises(ValueError, match=msg):
        op(t(2, 3, requires_grad=True), t(4))
    # A plain ndarray operand is checked the same way.
    with pytest.raises(ValueError, match=msg):
        op(t(2, 3), np.ones(4))


@pytest.mark.parametrize("name,op", [("add", lambda a, b: a + b),
                                     ("subtract", lambda a, b: a - b),
                                     ("multiply", lambda a, b: a * b),
                                     ("divide", lambda a, b: a / b),
                                     ("power", lambda a, b: a ** b)])
def test_operators_report_the_broadcast_error_of_their_op(name, op):
    with pytest.raises(ValueError, match=re.escape(f"{name}: operands of shapes (3, 1, 2) and "
                                                   "(4, 3) cannot be broadcast together")):
        op(t(3, 1, 2), t(4, 3))
    # Reflected with an ndarray on the left: the shapes keep their order.
    with pytest.raises(ValueError, match=re.escape(f"{name}: operands of shapes (5,) and (2, 3)")):
        op(np.ones(5), t(2, 3))


def test_where_broadcast_error_lists_condition_and_operand_shapes():
    with pytest.raises(ValueError, match=re.escape(
            "where: operands of shapes (4,), (2, 3) and (2, 3) cannot be broadcast together")):
        ag.where(np.ones(4, dtype=bool), t(2, 3), t(2, 3))


def test_other_value_errors_of_binary_ops_keep_numpy_message():
    # Not a shape problem, so it must not be reported as one.
    with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
        ag.power(ag.tensor(np.array([2])), ag.tensor(np.array([-1])))


# ---------------------------------------------------------------------------------------------
# shape errors of the other ops


@pytest.mark.parametrize("sa,sb", [((2, 3), (2, 3)), ((2,), (3,)), ((4, 2, 3), (2, 4, 5)),
                                   ((3,), (2, 4))])
def test_matmul_shape_mismatch_names_both_shapes(sa, sb):
    with pytest.raises(ValueError, match=re.escape(f"matmul: shapes {sa} and {sb} are not "
                                                   "aligned")):
        ag.matmul(t(*sa), t(*sb))
    with pytest.raises(ValueError, match=re.escape(f"matmul: shapes {sa} and {sb}")):
        t(*sa) @ t(*sb)


def test_matmul_of_a_scalar_is_an_error():
    with pytest.raises(ValueError, match=re.escape(
            "matmul: operands must be at least 1-D, got shapes () and (2, 3)")):
        ag.matmul(t(), t(2, 3))


def test_concatenate_mismatch_names_every_shape_and_the_axis():
    with pytest.raises(ValueError, match=re.escape(
            "concatenate: shapes (2, 3), (3, 3) do not match except along axis 1")):
        ag.concatenate([t(2, 3), t(3, 3)], axis=1)
    with pytest.raises(ValueError, match=re.escape(
            "concatenate: shapes (2, 3), (2,) do not match except along axis 0")):
        ag.concatenate([t(2, 3), t(2)])
    with pytest.raises(ValueError, match="concatenate: need at least one tensor"):
        ag.concatenate([])


def test_stack_mismatch_names_every_shape():
    with pytest.raises(ValueError, match=re.escape(
            "stack: all inputs must have the same shape, got (2, 3), (3, 2)")):
        ag.stack([t(2, 3), t(3, 2)])
    with pytest.raises(ValueError, match="stack: need at least one tensor"):
        ag.stack([])


def test_reshape_error_names_both_shapes():
    with pytest.raises(ValueError, match=re.escape(
            "reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into shape (4,)")):
        ag.reshape(t(2, 3), (4,))
    with pytest.raises(ValueError, match=re.escape("reshape: cannot reshape a tensor of shape "
                                                   "(2, 3) (6 elements) into shape (4, 2)")):
        t(2, 3).reshape(4, 2)


def test_broadcast_to_error_names_both_shapes():
    with pytest.raises(ValueError, match=re.escape(
            "broadcast_to: cannot broadcast shape (2, 3) to (3, 3)")):
        ag.broadcast_to(t(2, 3), (3, 3))
    with pytest.raises(ValueError, match=re.escape(
            "broadcast_to: cannot broadcast shape (2, 3) to (3,)")):
        ag.broadcast_to(t(2, 3), (3,))


def test_linear_shape_mismatch_names_input_and_weight_shapes():
    with pytest.raises(ValueError, match=re.escape(
            "linear: input of shape (2, 3) does not fit a weight of shape (4, 2)")):
        ag.linear(t(2, 3), t(4, 2))


def test_other_shape_errors_name_the_op():
    with pytest.raises(ValueError, match=re.escape(
            "split: axis 1 of length 3 cannot be split into 2 equal sections")):
        ag.split(t(2, 3), 2, axis=1)
    with pytest.raises(ValueError, match=re.escape(
            "squeeze: axis 1 of shape (2, 3) has length 3, not 1")):
        ag.squeeze(t(2, 3), 1)
    with pytest.raises(ValueError, match=re.escape(
            "sliding_window_view: window (4,) does not fit into axis 1 of shape (2, 3)")):
        ag.sliding_window_view(t(2, 3), 4, axis=1)
    with pytest.raises(ValueError, match=re.escape(
            "transpose: axes (0, 0) are not a permutation of 2 axes")):
        ag.transpose(t(2, 3), (0, 0))


# ---------------------------------------------------------------------------------------------
# unknown axes


REDUCTIONS = [ag.sum, ag.mean, ag.max, ag.min, ag.var, ag.logsumexp]


@pytest.mark.parametrize("op", REDUCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("axis", [2, -3, (0, 2)])
def test_reduction_over_an_unknown_axis_raises_axis_error_naming_op_and_axis(op, axis):
    bad = axis[-1] if isinstance(axis, tuple) else axis
    with pytest.raises(AxisError, match=re.escape(
            f"{op.__name__}: axis {bad} is out of bounds for array of dimension 2")):
        op(t(2, 3, requires_grad=True), axis=axis)


def test_std_over_an_unknown_axis_raises_axis_error():
    with pytest.raises(AxisError, match="std: axis 5 is out of bounds for array of dimension 2"):
        ag.std(t(2, 3), axis=5)


@pytest.mark.parametrize("op", [ag.sum, ag.mean, ag.var], ids=lambda f: f.__name__)
def test_repeated_axis_is_an_error(op):
    with pytest.raises(ValueError, match=re.escape(f"{op.__name__}: repeated axis in (0, -2)")):
        op(t(2, 3), axis=(0, -2))


@pytest.mark.parametrize("call", [
    lambda x: ag.softmax(x, axis=2),
    lambda x: ag.log_softmax(x, axis=-3),
    lambda x: ag.argmax(x, axis=2),
    lambda x: ag.squeeze(x, 2),
    lambda x: ag.expand_dims(x, 4),
    lambda x: ag.split(x, 1, axis=2),
    lambda x: ag.swapaxes(x, 0, 2),
    lambda x: ag.concatenate([x, x], axis=2),
    lambda x: ag.stack([x, x], axis=-4),
    lambda x: ag.sliding_window_view(x, 1, axis=2),
], ids=["softmax", "log_softmax", "argmax", "squeeze", "expand_dims", "split", "swapaxes",
        "concatenate", "stack", "sliding_window_view"])
def test_shape_and_nn_ops_reject_unknown_axes(call):
    # Never wrapped around to a valid axis, never reported as a shape mismatch.
    with pytest.raises(AxisError, match=r"axis -?\d is out of bounds for array of dimension \d"):
        call(t(2, 3))


# ---------------------------------------------------------------------------------------------
# gradients of integer tensors


@pytest.mark.parametrize("make", [
    lambda: ag.Tensor([1, 2], requires_grad=True),
    lambda: ag.tensor(np.array([1, 2], dtype=np.int32), requires_grad=True),
    lambda: ag.tensor([1, 2]).requires_grad_(),
    lambda: ag.tensor([True, False]).requires_grad_(),
    lambda: ag.arange(3, requires_grad=True),
    lambda: ag.zeros(3, dtype=np.int64, requires_grad=True),
], ids=["Tensor", "tensor-int32", "requires_grad_", "bool", "arange", "zeros-int64"])
def test_requires_grad_on_an_integer_tensor_is_a_type_error(make):
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, "
                                        "got dtype (int|bool)"):
        make()


def test_setting_requires_grad_on_an_integer_tensor_is_a_type_error():
    x = ag.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="got dtype int64"):
        x.requires_grad = True
    assert not x.requires_grad


# ---------------------------------------------------------------------------------------------
# options of single ops


def test_clip_without_bounds_is_an_error():
    with pytest.raises(ValueError, match="clip: at least one of a_min and a_max must be given"):
        ag.clip(t(3))
    with pytest.raises(ValueError, match="clip: at least one of a_min and a_max must be given"):
        t(3).clip()


def test_cross_entropy_rejects_bad_targets():
    z = t(2, 3, requires_grad=True)
    with pytest.raises(TypeError, match="cross_entropy: target must hold integer class indices, "
                                        "got float64"):
        ag.cross_entropy(z, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=re.escape(
            "cross_entropy: target class indices must be in [0, 3), got values from 0 to 3")):
        ag.cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError, match=re.escape(
            "cross_entropy: target class indices must be in [0, 3), got values from -1 to 2")):
        ag.cross_entropy(z, ag.tensor(np.array([-1, 2])))
    # Targets of any integer type and layout (a strided int32 view here) are checked at both
    # ends: a negative index must not wrap around to the last class.
    strided = np.array([0, -5, 2, 7], dtype=np.int32)[::2]
    np.testing.assert_allclose(ag.cross_entropy(z, strided).data,
                               ag.cross_entropy(z, np.array([0, 2])).data)
    with pytest.raises(ValueError, match=re.escape(
            "cross_entropy: target class indices must be in [0, 3), got values from -5 to 7")):
        ag.cross_entropy(z, np.array([0, -5, 2, 7], dtype=np.int32)[1::2])
    with pytest.raises(ValueError, match=re.escape(
            "cross_entropy: target class indices must be in [0, 3), got values from -1 to -1")):
        ag.cross_entropy(t(1, 3), np.array([-1], dtype=np.int8))
    with pytest.raises(ValueError, match=re.escape("got values from 0 to 18446744073709551615")):
        ag.cross_entropy(z, np.array([0, 2**64 - 1], dtype=np.uint64))
    np.testing.assert_allclose(ag.cross_entropy(z, np.array([0, 2], dtype=np.uint64)).data,
                               ag.cross_entropy(z, np.array([0, 2])).data)
    with pytest.raises(TypeError, match="cross_entropy: target must hold integer class indices, "
                                        "got bool"):
        nn_ops.CrossEntropy(np.array([True, False]))
    with pytest.raises(ValueError, match=re.escape(
            "cross_entropy: input of shape (2, 3) needs (N, C) with N class indices, got a target "
            "of shape (3,)")):
        ag.cross_entropy(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=re.escape(
            "cross_entropy: input of shape (3,) needs (N, C)")):
        ag.cross_entropy(t(3), np.array([0]))


@pytest.mark.parametrize("spec,shapes,message", [
    ("ij,jk->ik", [(2, 3)], "einsum: 'ij,jk->ik' names 2 operands, got 1"),
    ("ijk->i", [(2, 3)], "einsum: subscripts 'ijk' do not match an operand with 2 axes"),
    ("ii->i", [(3, 3)], "einsum: repeated index within one operand ('ii', a diagonal) is not "
                        "supported"),
    ("ij,jk->ik", [(2, 3), (2, 3)], "einsum: 'ij,jk->ik' does not fit shapes (2, 3), (2, 3)"),
    ("ij->k", [(2, 3)], "einsum: 'ij->k' does not fit shapes (2, 3)"),
    ("ij->i->j", [(2, 3)], "einsum: 'ij->i->j' has more than one '->'"),
    ("i1->i", [(2, 3)], "einsum: 'i1->i' does not fit shapes (2, 3)"),
])
def test_einsum_bad_spec_names_the_spec(spec, shapes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ag.einsum(spec, *[t(*s) for s in shapes])


def test_cross_entropy_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match="cross_entropy: reduction must be 'none', 'mean' or "
                                         "'sum', got 'avg'"):
        ag.cross_entropy(t(2, 3), np.array([0, 1]), reduction="avg")
