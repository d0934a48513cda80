"""Hyperparameter search: `grid_search` and `random_search` over a space of choices and ranges.

A space maps each hyperparameter's name to a list of choices, or to a `Uniform(low, high)` or
`LogUniform(low, high)` range. Random search samples ranges continuously (log-uniform for
scales such as learning rates and weight decay); grid search needs a finite set, so a range
must say how many points it contributes (`num=`: evenly spaced, geometrically for LogUniform).
The course notes' advice: search coarse first, then fine around the best, and prefer random
search, which tries a new value of every hyperparameter in every trial.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Uniform:
    """Values spread evenly over [low, high]; on a grid, `num` evenly spaced points."""

    low: float
    high: float
    num: int | None = None

    def __post_init__(self) -> None:
        _check_range(self, self.low, self.high, self.num)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def grid(self) -> list[float]:
        return [float(v) for v in np.linspace(self.low, self.high, _grid_size(self))]


@dataclass(frozen=True)
class LogUniform:
    """Values whose logarithm is uniform over [log low, log high] (0 < low < high).

    Right for scale parameters: 1e-4..1e-1 gets as many samples per decade in each decade.
    On a grid, `num` geometrically spaced points.
    """

    low: float
    high: float
    num: int | None = None

    def __post_init__(self) -> None:
        _check_range(self, self.low, self.high, self.num)
        if not self.low > 0:
            raise ValueError(f"LogUniform needs 0 < low, got low={self.low}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def grid(self) -> list[float]:
        return [float(v) for v in np.geomspace(self.low, self.high, _grid_size(self))]


Range = Uniform | LogUniform


def _check_range(r: Range, low: float, high: float, num: int | None) -> None:
    name = type(r).__name__
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} needs finite low < high, got low={low}, high={high}")
    if num is not None and (int(num) != num or num < 1):
        raise ValueError(f"{name}: num must be a positive integer, got {num}")


def _grid_size(r: Range) -> int:
    if r.num is None:
        raise ValueError(
            f"grid_search cannot enumerate the continuous range {r}: give it a number of grid "
            f"points, e.g. {type(r).__name__}({r.low}, {r.high}, num=5), or use random_search")
    return int(r.num)


@dataclass
class SearchResult:
    """Every trial as `(params, score)` in the order run, and the best of them.

    `best_params`/`best_score` follow `mode` ("max": higher is better, "min": lower); trials
    whose score is NaN (e.g. a diverged run) are never the best. If every score is NaN,
    `best_params` is None and `best_score` NaN.
    """

    mode: str = "max"
    trials: list[tuple[dict[str, Any], float]] = field(default_factory=list)
    best_params: dict[str, Any] | None = None
    best_score: float = math.nan

    def add(self, params: dict[str, Any], score: float) -> None:
        self.trials.append((params, score))
        if math.isnan(score):
            return
        if (self.best_params is None
                or (score > self.best_score if self.mode == "max" else score < self.best_score)):
            self.best_params = params
            self.best_score = score

    def top(self, k: int = 5) -> list[tuple[dict[str, Any], float]]:
        """The k best trials, best first (NaN scores last), e.g. to refine a coarse search."""
        sign = -1.0 if self.mode == "max" else 1.0
        return sorted(self.trials,
                      key=lambda t: (math.isnan(t[1]), sign * t[1] if not math.isnan(t[1])
                                     else 0.0))[:k]


def _check(space: Mapping[str, Any], mode: str) -> None:
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' (higher score is better) or 'min', got {mode!r}")
    if not space:
        raise ValueError("the search space is empty: map each hyperparameter name to a list of "
                         "choices or to Uniform/LogUniform")
    for name, spec in space.items():
        if isinstance(spec, (Uniform, LogUniform)):
            continue
        if isinstance(spec, (str, bytes)) or not isinstance(spec, (Sequence, np.ndarray)):
            raise ValueError(
                f"space[{name!r}] must be a list of choices or a Uniform/LogUniform range, got "
                f"{type(spec).__name__}")
        if len(spec) == 0:
            raise ValueError(f"space[{name!r}] is an empty list of choices")


def _score(train_fn: Callable[..., Any], params: dict[str, Any]) -> float:
    score = train_fn(**params)
    try:
        return float(score)
    except (TypeError, ValueError):
        raise TypeError(
            f"train_fn must return a number (the score), got {type(score).__name__} for "
            f"{params}") from None


def grid_search(train_fn: Callable[..., Any], space: Mapping[str, Any],
                mode: str = "max") -> SearchResult:
    """Run `train_fn(**params)` on every combination of the space's values (a full grid).

    Lists are used as given; Uniform/LogUniform ranges need `num` grid points. Trials run in
    the order of `itertools.product` over the space's entries.
    """
    _check(space, mode)
    names = list(space)
    axes = [spec.grid() if isinstance(spec, (Uniform, LogUniform)) else list(spec)
            for spec in space.values()]
    result = SearchResult(mode=mode)
    for values in itertools.product(*axes):
        params = dict(zip(names, values))
        result.add(params, _score(train_fn, params))
    return result


def random_search(train_fn: Callable[..., Any], space: Mapping[str, Any], n_trials: int,
                  seed: int | None = None, mode: str = "max") -> SearchResult:
    """Run `train_fn(**params)` on `n_trials` random points of the space.

    Each trial draws every hyperparameter independently: a uniform choice from a list, a
    uniform or log-uniform value from a range (`num` is ignored). `seed` makes the trials
    reproducible (its own generator; the global one is untouched).
    """
    _check(space, mode)
    if int(n_trials) != n_trials or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials}")
    rng = np.random.default_rng(seed)
    result = SearchResult(mode=mode)
    for _ in range(int(n_trials)):
        params = {}
        for name, spec in space.items():
            if isinstance(spec, (Uniform, LogUniform)):
                params[name] = spec.sample(rng)
            else:
                params[name] = spec[int(rng.integers(len(spec)))]
        result.add(params, _score(train_fn, params))
    return result
