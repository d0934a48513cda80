"""Ready-made models (MLP, LeNet5, ResidualMLP), and an end-to-end run that must learn."""

import numpy as np
import pytest

import autograd as ag
import nn


def test_the_3blue1brown_network_has_13002_parameters():
    model = nn.MLP([784, 16, 16, 10])
    assert model.num_parameters() == 13_002
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                        "4.bias"]
    assert model(ag.randn(3, 784)).shape == (3, 10)
    assert repr(model).splitlines()[:2] == ["MLP(  # 13,002 parameters",
                                            "  sizes=[784, 16, 16, 10]"]


@pytest.mark.parametrize("activation,cls", [("sigmoid", nn.Sigmoid), ("Tanh", nn.Tanh),
                                            (nn.ELU, nn.ELU), ("leaky_relu", nn.LeakyReLU)])
def test_mlp_activation_by_name_or_class(activation, cls):
    model = nn.MLP([2, 3, 3, 1], activation=activation)
    assert isinstance(model[1], cls) and isinstance(model[3], cls) and len(model) == 5


def test_mlp_activation_instance_is_copied_per_layer():
    model = nn.MLP([2, 3, 3, 1], activation=nn.PReLU())
    assert model[1] is not model[3]
    assert model.num_parameters() == 9 + 12 + 4 + 2


def test_mlp_output_activation_and_forward_value():
    ag.set_default_dtype(np.float64)
    model = nn.MLP([3, 4, 2], activation="tanh", output_activation=nn.Softmax(axis=1))
    x = np.random.default_rng(0).standard_normal((5, 3))
    h = np.tanh(x @ model[0].weight.data.T + model[0].bias.data)
    z = h @ model[2].weight.data.T + model[2].bias.data
    np.testing.assert_allclose(model(x).data, np.exp(z) / np.exp(z).sum(1, keepdims=True))
    assert ag.gradcheck(lambda x: model(x), (ag.Tensor(x, requires_grad=True),))


def test_mlp_errors():
    with pytest.raises(ValueError, match=r"at least an input and an output size, got \[3\]"):
        nn.MLP([3])
    with pytest.raises(ValueError, match="unknown activation 'swish'; expected one of elu"):
        nn.MLP([2, 2, 2], activation="swish")
    with pytest.raises(TypeError, match="activation must be a name, a Module class or a Module "
                                        "instance, got 3"):
        nn.MLP([2, 2, 2], activation=3)


def test_lenet5_shapes_and_parameter_count():
    model = nn.LeNet5()
    assert model.num_parameters() == 61_706
    assert model(ag.randn(2, 1, 28, 28)).shape == (2, 10)
    assert model(ag.randn(3, 28, 28)).shape == (3, 10)
    assert model.features[0].weight.shape == (6, 1, 5, 5)
    assert model.classifier[1].weight.shape == (120, 400)
    assert nn.LeNet5(num_classes=4, activation="tanh")(ag.randn(1, 1, 28, 28)).shape == (1, 4)


def test_lenet5_backward_reaches_every_parameter():
    model = nn.LeNet5()
    loss = nn.CrossEntropyLoss()(model(ag.randn(4, 1, 28, 28)), np.array([0, 1, 2, 3]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert np.any(p.grad.data != 0), name


def test_residual_mlp_structure_and_value():
    ag.set_default_dtype(np.float64)
    model = nn.ResidualMLP(3, 5, depth=2, out_features=2, activation="relu")
    assert model.num_parameters() == (3 * 5 + 5) + 2 * (5 * 5 + 5) + (5 * 2 + 2)
    assert sum(isinstance(m, nn.Residual) for m in model.modules()) == 2
    x = np.random.default_rng(1).standard_normal((4, 3))
    h = np.maximum(x @ model[0].weight.data.T + model[0].bias.data, 0)
    for block in (model[2], model[3]):
        fc = block.f[0]
        h = h + np.maximum(h @ fc.weight.data.T + fc.bias.data, 0)
    out = h @ model[4].weight.data.T + model[4].bias.data
    np.testing.assert_allclose(model(x).data, out)
    with pytest.raises(ValueError, match="depth must be non-negative, got -1"):
        nn.ResidualMLP(3, 5, -1, 2)


def test_two_spirals_are_learned_by_plain_sgd():
    """An MLP trained by full-batch gradient descent (updates in place under no_grad) separates
    the two interleaved spirals, which no linear classifier can."""
    ag.manual_seed(0)
    x, y = nn.datasets.spiral(n_classes=2, n_per_class=100, noise=0.2, seed=0)
    model = nn.MLP([2, 64, 64, 2])
    loss_fn = nn.CrossEntropyLoss()
    inputs = ag.Tensor(x)
    first = None
    for _ in range(300):
        loss = loss_fn(model(inputs), y)
        first = loss.item() if first is None else first
        model.zero_grad()
        loss.backward()
        with ag.no_grad():
            for p in model.parameters():
                p.sub_(p.grad, alpha=1.0)
    model.eval()
    accuracy = (model(inputs).data.argmax(axis=1) == y).mean()
    assert accuracy >= 0.9
    assert loss.item() < 0.25 * first
