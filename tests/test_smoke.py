"""First checks of the engine on hand-computed values."""

import numpy as np

import autograd as ag


def test_backward_of_polynomial_matches_hand_derivative():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x * 3.0 + x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 6 * np.array([1.0, 2.0, 3.0]) + 1)
    assert x.grad.dtype == np.float32


def test_shared_node_receives_sum_of_gradients():
    x = ag.tensor(3.0, requires_grad=True)
    h = x * 2.0
    y = h * h + h  # dy/dh = 2h + 1 = 13, dy/dx = 26
    y.backward()
    assert x.grad.item() == 26.0
