"""Smoke tests of the examples: each runs in-process in its --quick mode, its key numbers must
show what its docstring claims, and its figures must exist and be real images."""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
# `python -m pytest` puts the repository root on sys.path, a bare `pytest` does not.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

NAMES = ["chain_rule", "curve_fitting", "capacity", "initialization", "optimizers", "residual",
         "mean_field", "noise_labels", "lenet", "hyperparameter_search"]
EXAMPLES = {name: importlib.import_module(f"examples.{name}") for name in NAMES}
mnist = importlib.import_module("examples.mnist")
quickstart = importlib.import_module("examples.quickstart")


def run(name: str, tmp_path: Path, *extra: str) -> dict:
    return EXAMPLES[name].main(["--quick", "--out", str(tmp_path), *extra])


def assert_figures(files: list[str], out: Path) -> None:
    """Every file is inside the output folder, non-trivial, and a real PNG/SVG/GIF."""
    assert files
    for name in files:
        path = Path(name)
        assert path.resolve().is_relative_to(out.resolve()), path
        assert path.is_file(), path
        data = path.read_bytes()
        assert len(data) > 1000, f"{path} has only {len(data)} bytes"
        if path.suffix == ".png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n"), path
        elif path.suffix == ".svg":
            assert b"<svg" in data[:2000], path
        elif path.suffix == ".gif":
            assert data.startswith(b"GIF8"), path
        else:
            raise AssertionError(f"unexpected figure type: {path}")


@pytest.mark.parametrize("name", NAMES)
def test_help_names_the_common_options(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        EXAMPLES[name].main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert f"python -m examples.{name}" in text
    for option in ("--quick", "--out", "--seed"):
        assert option in text
    assert f"runs/{name}" in text
    assert "What to look for" in text  # the docstring is the description


def test_module_runs_as_a_command():
    proc = subprocess.run([sys.executable, "-m", "examples.curve_fitting", "--help"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "sin(x)" in proc.stdout


def test_unknown_option_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        EXAMPLES["curve_fitting"].main(["--no-such-option"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_chain_rule(tmp_path, capsys):
    r = run("chain_rule", tmp_path)
    printed = capsys.readouterr().out
    # The path product of dC/dw1 is the engine's gradient; the video's formula for dC/dw3 too.
    assert r["chain_paths"] == 1
    assert r["chain_matches"] is True
    assert r["chain_total"] == pytest.approx(r["grad_w1"], rel=1e-12)
    assert r["chain_engine"] == pytest.approx(r["grad_w1"], rel=1e-12)
    assert math.prod(r["chain_factors"]) == pytest.approx(r["grad_w1"], rel=1e-12)
    assert r["by_hand_w3"] == pytest.approx(r["grad_w3"], rel=1e-12)
    # A neuron feeding two: the gradient is the sum of two path products.
    assert r["fan_out_paths"] == 2
    assert r["fan_out_matches"] is True
    assert sum(r["fan_out_products"]) == pytest.approx(r["fan_out_engine"], rel=1e-12)
    assert r["fan_out_total"] == pytest.approx(r["fan_out_engine"], rel=1e-12)
    assert all(abs(p) > 1e-3 for p in r["fan_out_products"])
    # One frame per op of the chain: 3 layers x (mul, add, sigmoid), then sub and pow.
    assert len(r["frames"]) == 11
    assert "sum of path products" in printed and "MISMATCH" not in printed
    assert_figures(r["files"], tmp_path)


def test_curve_fitting(tmp_path):
    r = run("curve_fitting", tmp_path)
    assert r["final_loss"] < 0.5 * r["initial_loss"]
    assert r["initial_loss"] > 0.5  # sin(x) has variance 1/2; an untrained net misses it
    assert r["pieces"] == len(r["kinks"]) + 1 >= 3
    assert np.all(np.diff(r["kinks"]) > 0)
    assert np.all(np.abs(r["kinks"]) < 10.0)
    assert_figures(r["files"], tmp_path)


def test_capacity(tmp_path):
    r = run("capacity", tmp_path)
    acc = r["train_acc"]
    assert acc[(20, 0.0)] > acc[(3, 0.0)]
    # The strongest penalty underfits, and the penalty shrinks the weights monotonically.
    assert acc[(20, 0.1)] < acc[(20, 0.0)]
    norms = [run_["weight_norm"] for run_ in r["runs"] if run_["hidden"] == 20]
    assert norms == sorted(norms, reverse=True)
    for run_ in r["runs"]:
        assert 0.4 <= run_["test_acc"] <= 1.0
    assert_figures(r["files"], tmp_path)


def test_initialization(tmp_path):
    r = run("initialization", tmp_path)
    s = r["sigma2"]
    # Kaiming keeps the activations' norm (up to the random drift of 49 finite layers).
    assert 0.1 < s[2.0]["act_ratio"] < 10.0
    assert s[1.0]["act_ratio"] < 1e-4  # sigma^2 = 1 shrinks it by 2^(-1/2) per layer
    assert s[3.0]["act_ratio"] > 1e3  # sigma^2 = 3 blows it up
    assert s[1.0]["loss"] == pytest.approx(math.log(10.0), abs=1e-3)  # a constant output
    assert s[3.0]["loss"] > 100.0
    assert math.isnan(s[3.0]["final_loss"])  # gradient descent diverges
    assert s[2.0]["act"].shape == (49,) and s[2.0]["grad"].shape == (50,)
    # The weight-gradient level is set by sigma^2: ~1e-8 for 1, order one for 2.
    assert np.max(s[1.0]["grad"]) < 1e-5 < 1e-2 < np.min(s[2.0]["grad"])
    pairs = r["pairs"]
    assert pairs["relu + xavier"]["act_ratio"] < 1e-4
    assert 0.1 < pairs["relu + kaiming"]["act_ratio"] < 10.0
    assert pairs["tanh + kaiming"]["grad_ratio"] > 10.0 * pairs["tanh + xavier"]["grad_ratio"]
    assert_figures(r["files"], tmp_path)


def test_optimizers(tmp_path):
    r = run("optimizers", tmp_path)
    q = r["quadratic"]
    lr = r["lr"]
    gd = q[f"GD lr={lr:g}"]
    assert q["Newton"] < 1e-20  # one step to the minimum of a quadratic
    for name in ("momentum beta=0.9", "debiased momentum", "Nesterov momentum", "Adam lr=0.5"):
        assert q[name] < gd / 3.0, name
    diverged = [v for k, v in q.items() if "(2.04/L)" in k]
    assert diverged and diverged[0] > 1e3  # beyond lr = 2/L
    first = r["first_step"]
    assert first["debiased momentum"] == pytest.approx(first[f"GD lr={lr:g}"], rel=1e-12)
    assert first["momentum beta=0.9"] == pytest.approx(0.1 * first[f"GD lr={lr:g}"],
                                                       rel=1e-12)
    for name, losses in r["mnist_loss"].items():
        assert all(math.isfinite(v) for v in losses), name
    assert r["mnist_loss"]["Adam lr=0.002"][-1] < r["mnist_loss"]["SGD lr=0.01"][-1]
    assert_figures(r["files"], tmp_path)


def test_residual(tmp_path):
    r = run("residual", tmp_path)
    plain, res = r["plain (default init)"], r["residual"]
    assert plain["grads"].shape == res["grads"].shape == (32,)
    # The first layer of the plain net gets almost nothing; the residual one a full gradient.
    assert res["grads"][0] > 1e6 * plain["grads"][0]
    assert plain["grads"][0] < 1e-6 * plain["grads"][-1]
    assert res["grads"][0] > 0.1 * res["grads"][-1]
    assert res["final_loss"] < plain["final_loss"] - 0.5
    assert res["test_acc"] > plain["test_acc"]
    assert_figures(r["files"], tmp_path)


def test_mean_field(tmp_path):
    r = run("mean_field", tmp_path)
    assert r["critical_sigma_w2"] == pytest.approx(1.76095464, abs=1e-6)
    t = r["theory"]
    assert t["ordered"]["chi1"] < 1.0 < t["chaotic"]["chi1"]
    assert t["critical"]["chi1"] == pytest.approx(1.0, abs=1e-6)
    for phase in t.values():  # a finite random net settles near the predicted length
        assert 0.6 < phase["q_measured"] / phase["q_star"] < 1.6
    # Gradients fall towards the input (ordered), keep their size (critical), or grow
    # (chaotic): over 24 layers chi_1^12 = 0.04 and 34; a finite net scatters around that.
    assert t["ordered"]["grad_ratio"] < 0.25
    assert 0.4 < t["critical"]["grad_ratio"] < 4.0
    assert t["chaotic"]["grad_ratio"] > 10.0
    deepest = {phase: acc[-1] for phase, acc in r["accuracy"].items()}
    assert deepest["critical"] > deepest["ordered"] + 0.2
    assert deepest["critical"] > deepest["chaotic"] + 0.2
    assert_figures(r["files"], tmp_path)


def test_noise_labels(tmp_path):
    r = run("noise_labels", tmp_path)
    real, shuffled = r["real"], r["shuffled"]
    assert len(real["losses"]) == len(shuffled["losses"]) == 8
    assert real["losses"][-1] < 0.5 * shuffled["losses"][-1]
    assert real["losses"][-1] < real["losses"][0]
    assert real["epochs_to_half"] is not None and shuffled["epochs_to_half"] is None
    assert real["test_acc"] > 0.6
    assert shuffled["test_acc"] < 0.25  # memorized noise does not generalize
    assert_figures(r["files"], tmp_path)


def test_lenet(tmp_path):
    r = run("lenet", tmp_path)
    assert r["LeNet-5"]["parameters"] == 61_706
    assert r["MLP 784-16-16-10"]["parameters"] == 13_002
    assert r["LeNet-5"]["test_acc"] > 0.3  # one epoch on 1,000 digits
    for name in ("LeNet-5", "MLP 784-16-16-10", "MLP 784-100-100-10"):
        assert math.isfinite(r[name]["final_loss"]) and r[name]["final_loss"] < math.log(10.0)
    assert_figures(r["files"], tmp_path)


def test_hyperparameter_search(tmp_path):
    r = run("hyperparameter_search", tmp_path)
    assert r["grid"]["distinct_lr"] == 2  # a 2 x 2 grid
    assert r["random"]["distinct_lr"] == 4
    for name in ("grid", "random"):
        trials = r[name]["trials"]
        assert len(trials) == 4
        assert r[name]["best_val_acc"] == max(score for _, score in trials)
        assert 1e-3 <= r[name]["best_params"]["lr"] <= 1.0
        assert 1e-5 <= r[name]["best_params"]["weight_decay"] <= 1e-1
        assert 0.0 <= r[name]["test_acc"] <= 1.0
    assert_figures(r["files"], tmp_path)


def test_hyperparameter_search_rejects_a_non_square_budget(tmp_path, capsys):
    with pytest.raises(SystemExit):
        EXAMPLES["hyperparameter_search"].main(["--trials", "5", "--out", str(tmp_path)])
    assert "--trials must be a square number" in capsys.readouterr().err


def test_quickstart(capsys):
    quickstart.main()
    lines = capsys.readouterr().out.splitlines()
    y = float(lines[0].split("=")[1])
    x = np.array([1.0, 2.0, 3.0])
    assert y == pytest.approx(float((np.tanh(0.5 * x) ** 2).sum()), rel=1e-6)
    assert lines[1].startswith("dy/dx") and lines[2].startswith("dy/dw")


@pytest.mark.slow
def test_mnist_demo_reaches_90_percent(tmp_path, capsys):
    """The main demo with its default settings: at least 90% on the bundled test split."""
    r = mnist.main(["--out", str(tmp_path), "--no-progress"])
    assert r["test_acc"] >= 0.90
    assert r["model"].num_parameters() == 13_002
    assert os.path.getsize(r["checkpoint"]) > 13_002 * 4
    assert 0.1 <= r["noise_confidence"] <= 1.0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed
    for name in ("history.png", "weights.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert any((tmp_path / name).is_file() for name in ("graph.svg", "graph.dot"))
