"""optim.search: grid and random search find the known best of a synthetic score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optim.search import LogUniform, SearchResult, Uniform, grid_search, random_search


def score(lr: float, weight_decay: float, activation: str) -> float:
    """Best at lr = 1e-2, weight_decay = 0.3, activation 'relu' (score 1.0)."""
    bonus = 1.0 if activation == "relu" else 0.5
    return bonus - (math.log10(lr) + 2.0) ** 2 - (weight_decay - 0.3) ** 2


SPACE = {
    "lr": LogUniform(1e-4, 1.0, num=5),
    "weight_decay": Uniform(0.0, 0.6, num=3),
    "activation": ["tanh", "relu"],
}


def test_grid_search_tries_every_combination_and_finds_the_best() -> None:
    calls = []

    def train(**params) -> float:
        calls.append(params)
        return score(**params)

    result = grid_search(train, SPACE)
    assert len(result.trials) == 5 * 3 * 2 == len(calls)
    lrs = sorted({p["lr"] for p, _ in result.trials})
    np.testing.assert_allclose(lrs, [1e-4, 1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)
    assert sorted({p["weight_decay"] for p, _ in result.trials}) == [0.0, 0.3, 0.6]
    assert result.best_params["activation"] == "relu"
    assert result.best_params["lr"] == pytest.approx(1e-2, rel=1e-12)
    assert result.best_params["weight_decay"] == pytest.approx(0.3, rel=1e-12)
    assert result.best_score == pytest.approx(1.0, abs=1e-12)
    assert result.best_score == max(s for _, s in result.trials)
    assert all(s == pytest.approx(score(**p), abs=0) for p, s in result.trials)
    # The first axis changes slowest (itertools.product order).
    assert [p["activation"] for p, _ in result.trials[:2]] == ["tanh", "relu"]


def test_grid_search_minimizes_with_mode_min() -> None:
    result = grid_search(lambda **p: -score(**p), SPACE, mode="min")
    assert result.best_score == pytest.approx(-1.0, abs=1e-12)
    assert result.best_params["activation"] == "relu"
    assert result.best_params["lr"] == pytest.approx(1e-2)


def test_random_search_finds_the_best_region_and_is_reproducible() -> None:
    result = random_search(score, SPACE, n_trials=300, seed=0)
    assert len(result.trials) == 300
    assert result.best_params["activation"] == "relu"
    assert abs(math.log10(result.best_params["lr"]) + 2.0) < 0.15
    assert abs(result.best_params["weight_decay"] - 0.3) < 0.1
    assert result.best_score == max(s for _, s in result.trials) > 0.97
    again = random_search(score, SPACE, n_trials=300, seed=0)
    assert again.trials == result.trials
    other = random_search(score, SPACE, n_trials=300, seed=1)
    assert other.trials != result.trials


def test_random_search_samples_within_the_ranges_and_log_uniformly() -> None:
    space = {"lr": LogUniform(1e-5, 1e-1), "x": Uniform(-2.0, 3.0), "k": [1, 2, 3]}
    result = random_search(lambda **p: 0.0, space, n_trials=4000, seed=3)
    lrs = np.array([p["lr"] for p, _ in result.trials])
    xs = np.array([p["x"] for p, _ in result.trials])
    ks = [p["k"] for p, _ in result.trials]
    assert lrs.min() >= 1e-5 and lrs.max() <= 1e-1
    assert xs.min() >= -2.0 and xs.max() <= 3.0
    # Each of the four decades gets about a quarter of the log-uniform samples.
    per_decade = np.histogram(np.log10(lrs), bins=[-5, -4, -3, -2, -1])[0] / len(lrs)
    np.testing.assert_allclose(per_decade, 0.25, atol=0.03)
    np.testing.assert_allclose(np.histogram(xs, bins=5, range=(-2, 3))[0] / len(xs), 0.2,
                               atol=0.03)
    assert set(ks) == {1, 2, 3} and abs(ks.count(1) / len(ks) - 1 / 3) < 0.03
    assert all(type(p["lr"]) is float and type(p["k"]) is int for p, _ in result.trials)


def test_nan_scores_are_never_the_best() -> None:
    result = grid_search(lambda lr: math.nan if lr > 0.5 else -lr, {"lr": [1.0, 0.1, 0.2]})
    assert result.best_params == {"lr": 0.1} and result.best_score == -0.1
    assert math.isnan(result.trials[0][1])
    assert result.top(2) == [({"lr": 0.1}, -0.1), ({"lr": 0.2}, -0.2)]
    assert math.isnan(result.top()[-1][1])
    none = grid_search(lambda lr: math.nan, {"lr": [1.0, 2.0]})
    assert none.best_params is None and math.isnan(none.best_score)


def test_result_top_orders_for_min_mode() -> None:
    r = SearchResult(mode="min")
    for v in [3.0, 1.0, 2.0]:
        r.add({"v": v}, v)
    assert [s for _, s in r.top(3)] == [1.0, 2.0, 3.0]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"cannot enumerate the continuous range "
                                         r"Uniform\(low=0.0, high=1.0, num=None\): give it a "
                                         r"number of grid points"):
        grid_search(score, {"x": Uniform(0.0, 1.0)})
    with pytest.raises(ValueError, match="cannot enumerate the continuous range LogUniform"):
        grid_search(score, {"lr": LogUniform(1e-3, 1e-1)})
    with pytest.raises(ValueError, match="the search space is empty"):
        grid_search(score, {})
    with pytest.raises(ValueError, match=r"space\['a'\] is an empty list of choices"):
        random_search(score, {"a": []}, n_trials=3)
    with pytest.raises(ValueError, match=r"space\['a'\] must be a list of choices or a "
                                         r"Uniform/LogUniform range, got float"):
        grid_search(score, {"a": 0.5})
    with pytest.raises(ValueError, match="mode must be 'max'"):
        grid_search(score, SPACE, mode="best")
    with pytest.raises(ValueError, match="n_trials must be a positive integer, got 0"):
        random_search(score, SPACE, n_trials=0)
    with pytest.raises(ValueError, match="LogUniform needs 0 < low, got low=0"):
        LogUniform(0, 1)
    with pytest.raises(ValueError, match="Uniform needs finite low < high, got low=2, high=1"):
        Uniform(2, 1)
    with pytest.raises(ValueError, match="num must be a positive integer, got 0"):
        Uniform(0, 1, num=0)
    with pytest.raises(TypeError, match="train_fn must return a number"):
        grid_search(lambda a: "good", {"a": [1]})
