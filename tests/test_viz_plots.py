"""viz.plots: every plot function makes a matplotlib Figure on the headless Agg backend."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import viz  # noqa: E402


def test_plot_history_from_dict_and_list(tmp_path):
    history = {"epoch": [1, 2, 3, 4], "loss": [2.0, 1.0, 0.5, 0.25],
               "val_loss": [2.1, 1.2, 0.7, 0.6], "acc": [0.3, 0.6, 0.8, 0.9],
               "val_acc": [0.3, 0.5, 0.7, 0.75]}
    fig = viz.plot_history(history, path=tmp_path / "history.png")
    assert isinstance(fig, Figure)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "loss" and acc_ax.get_title() == "acc"
    assert [line.get_label() for line in loss_ax.get_lines()] == ["loss", "val_loss"]
    np.testing.assert_allclose(loss_ax.get_lines()[1].get_ydata(), history["val_loss"])
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_xdata(), [1, 2, 3, 4])
    assert loss_ax.get_xlabel() == "epoch"
    assert (tmp_path / "history.png").read_bytes()[:4] == b"\x89PNG"
    rows = [{"loss": 3.0 / k, "accuracy": k / 10} for k in range(1, 8)]
    fig = viz.plot_history(rows, xlabel="step")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(),
                               [k / 10 for k in range(1, 8)])
    # a loss falling by orders of magnitude is drawn on a log axis
    fig = viz.plot_history({"loss": [1e3, 1e1, 1e-1]})
    assert fig.axes[0].get_yscale() == "log"


def test_plot_history_errors():
    with pytest.raises(TypeError, match="expected a dict of lists or a list of dicts"):
        viz.plot_history(3.0)
    with pytest.raises(TypeError, match="one dict per epoch"):
        viz.plot_history([1.0, 2.0])
    with pytest.raises(ValueError, match="no metric to plot"):
        viz.plot_history({"epoch": [1, 2]})


def spiral_like(n=60):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 0] > 1).astype(int)
    return X, y


def test_plot_decision_boundary_multiclass_and_binary(tmp_path):
    X, y = spiral_like()
    model = nn.MLP([2, 8, 3])
    fig = viz.plot_decision_boundary(model, X, y, resolution=50, path=tmp_path / "db.png")
    assert isinstance(fig, Figure) and (tmp_path / "db.png").exists()
    ax = fig.axes[0]
    assert len(ax.collections) >= 2                     # filled regions and the points
    points = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(points, X)
    assert ax.get_title().startswith("decision boundary (accuracy ")
    # a linear binary classifier (one score) splits the plane along w.x = 0
    w = ag.tensor(np.array([[1.0], [-1.0]], dtype=np.float32))
    Xb = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.5], [0.5, 2.0]], dtype=np.float32)
    yb = np.array([1, 0, 1, 0])
    fig = viz.plot_decision_boundary(lambda x: x @ w, Xb, yb, resolution=30, title="linear")
    assert fig.axes[0].get_title() == "linear"
    fig = viz.plot_decision_boundary(lambda x: x @ w, Xb, yb, resolution=30)
    assert fig.axes[0].get_title() == "decision boundary (accuracy 100.0%)"
    assert ag.is_grad_enabled()                        # no_grad was only around the model


def test_plot_decision_boundary_errors():
    model = nn.MLP([2, 3])
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        viz.plot_decision_boundary(model, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="4 points but 3 labels"):
        viz.plot_decision_boundary(model, np.zeros((4, 2)), np.zeros(3))


def test_show_weights_draws_one_image_per_unit(tmp_path):
    layer = nn.Linear(784, 10)
    fig = viz.show_weights(layer, path=tmp_path / "w.png", title="first layer")
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 10 and len(fig.axes) == 12          # a 4 x 3 grid
    img = images[3].images[0]
    np.testing.assert_allclose(img.get_array(), layer.weight.data[3].reshape(28, 28))
    lo, hi = img.get_clim()
    assert lo == -hi == -np.abs(layer.weight.data[3]).max()
    assert (tmp_path / "w.png").exists()
    fig = viz.show_weights(np.ones((3, 6)), image_shape=(2, 3), ncols=3)
    assert len([ax for ax in fig.axes if ax.images]) == 3 and len(fig.axes) == 3
    with pytest.raises(ValueError, match=r"rows of length 5 cannot be shown as \(28, 28\)"):
        viz.show_weights(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"expected a weight of shape \(out, in\)"):
        viz.show_weights(np.ones(5))


def test_plot_layer_stats_from_a_plain_dict():
    stats = {"layer1": {"act_std": 1.0, "grad_norm": 0.5},
             "layer2": {"act_std": 0.5, "grad_norm": 0.25},
             "layer3": {"act_std": 0.25, "grad_norm": 0.125}}
    fig = viz.plot_layer_stats(stats)
    act, grad = fig.axes
    assert act.get_title() == "activations" and grad.get_title() == "gradient norms"
    np.testing.assert_allclose(act.get_lines()[0].get_ydata(), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(grad.get_lines()[0].get_ydata(), [0.5, 0.25, 0.125])
    assert [t.get_text() for t in act.get_xticklabels()] == ["layer1", "layer2", "layer3"]
    with pytest.raises(ValueError, match="no per-layer statistics"):
        viz.plot_layer_stats({"a": 1.0})
    with pytest.raises(TypeError, match="expected an nn.utils.Monitor or a dict"):
        viz.plot_layer_stats(3.0)


def test_plot_layer_stats_from_a_monitor(tmp_path):
    model = nn.MLP([5, 8, 8, 2], activation=nn.Tanh)
    monitor = nn.utils.Monitor(model)
    with pytest.raises(ValueError, match="has not recorded any step yet"):
        viz.plot_layer_stats(monitor)
    x = ag.randn(16, 5)
    loss = (model(x) ** 2.0).mean()
    loss.backward()
    monitor.record_gradients()
    fig = viz.plot_layer_stats(monitor, path=tmp_path / "layers.png")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["activations", "gradient norms", "dead / saturated units"]
    act = fig.axes[0]
    labels = [line.get_label() for line in act.get_lines()]
    assert labels == ["mean", "std", "norm"]
    record = monitor.last()
    std = [record["layers"][name]["std"] for name in ("0", "1", "2", "3", "4")]
    np.testing.assert_allclose(act.get_lines()[1].get_ydata(), std)
    grads = fig.axes[1].get_lines()[0].get_ydata()
    np.testing.assert_allclose(grads, [record["grad_norms"][f"{i}.weight"] for i in (0, 2, 4)])
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["0", "2", "4"]
    assert (tmp_path / "layers.png").exists()
    monitor.detach()


def test_plot_trajectories_over_contours(tmp_path):
    def rosenbrock(x, y):
        return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2

    t = np.linspace(0, 1, 20)
    paths = {"sgd": np.stack([-1 + 2 * t, 1 - t * 0.5], axis=1),
             "adam": [ag.tensor([-1.0, 1.0]), ag.tensor([0.0, 0.5]), ag.tensor([1.0, 1.0])]}
    fig = viz.plot_trajectories(rosenbrock, paths, path=tmp_path / "traj.png")
    ax = fig.axes[0]
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in labelled] == ["sgd", "adam"]
    np.testing.assert_allclose(labelled[1].get_xydata(), [[-1, 1], [0, 0.5], [1, 1]])
    contour = [c for c in ax.collections if hasattr(c, "levels")][0]
    levels = np.asarray(contour.levels)
    assert np.allclose(np.diff(np.log(levels)), np.log(levels[1] / levels[0]))  # log-spaced
    assert (tmp_path / "traj.png").exists()
    bowl = viz.plot_trajectories(lambda x, y: x ** 2 + y ** 2, [np.array([[1.0, 1.0],
                                                                          [0.1, 0.1]])],
                                 xlim=(-2, 2), ylim=(-2, 2), levels=10)
    ax = bowl.axes[0]
    assert ax.get_xlim() == (-2, 2) and ax.get_lines()[0].get_label() == "path 1"
    with pytest.raises(ValueError, match=r"shape \(T, 2\)"):
        viz.plot_trajectories(lambda x, y: x, [np.zeros((3, 3))])
    with pytest.raises(ValueError, match="must work elementwise on arrays"):
        viz.plot_trajectories(lambda x, y: 1.0, [np.zeros((3, 2))])
    with pytest.raises(ValueError, match="no paths given"):
        viz.plot_trajectories(lambda x, y: x, [])


def test_plot_layer_stats_skips_a_later_evaluation_pass():
    model = nn.MLP([3, 4, 2])
    monitor = nn.utils.Monitor(model)
    model(ag.randn(8, 3)).sum().backward()
    monitor.record_gradients()
    with ag.no_grad():
        model(ag.randn(8, 3))                    # an evaluation pass: a step without gradients
    assert "grad_norms" not in monitor.last()
    fig = viz.plot_layer_stats(monitor)
    assert [ax.get_title() for ax in fig.axes][:2] == ["activations", "gradient norms"]
    fig = viz.plot_layer_stats(monitor, step=-1)
    assert "gradient norms" not in [ax.get_title() for ax in fig.axes]
    monitor.detach()
