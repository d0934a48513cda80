"""Minibatch iteration for stochastic gradient descent.

One epoch of minibatch SGD shuffles the N samples with a random permutation ``pi`` and cuts
it into ``ceil(N / B)`` consecutive batches of ``B`` indices (``floor(N / B)`` with
``drop_last``); the model takes one update per batch, so every sample is seen exactly once
per epoch::

    for epoch in range(epochs):
        for x, y in DataLoader((x_train, y_train), batch_size=32):
            ...  # forward, backward, one optimizer step

Batches come back as the same kind of array they were cut from: numpy arrays give numpy
arrays, ``autograd.Tensor`` gives fresh leaf Tensors (no graph links back to the full set).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

import autograd

Array = np.ndarray | autograd.Tensor
Seed = int | np.random.Generator | None

__all__ = ["DataLoader", "TensorDataset"]


def _take(array: Array, index: slice | np.ndarray | int) -> Array:
    """Rows ``index`` of ``array``, as the same kind of array (a slice stays a view)."""
    if isinstance(array, autograd.Tensor):
        return autograd.Tensor(array.data[index])
    return array[index]


class TensorDataset:
    """Samples ``i`` of several arrays that share their first dimension.

    ``dataset[i] == (a_1[i], ..., a_k[i])``; ``len(dataset)`` is that shared first dimension N.
    Each array is a numpy array or an ``autograd.Tensor``; indexing returns the same kind.
    """

    def __init__(self, *arrays: Array) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        for position, array in enumerate(arrays):
            if not isinstance(array, (np.ndarray, autograd.Tensor)):
                raise TypeError(
                    f"TensorDataset takes numpy arrays or autograd.Tensor, got "
                    f"{type(array).__name__} at position {position}"
                )
            if array.ndim == 0:
                raise ValueError(
                    f"TensorDataset needs arrays with a first (sample) dimension, got a 0-d "
                    f"array at position {position}"
                )
        sizes = [array.shape[0] for array in arrays]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(
                "all arrays must have the same first dimension (number of samples), got sizes "
                + ", ".join(str(size) for size in sizes)
            )
        self.arrays: tuple[Array, ...] = arrays

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: int | slice | np.ndarray) -> tuple[Array, ...]:
        return tuple(_take(array, index) for array in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(array.shape)) for array in self.arrays)
        return f"TensorDataset({shapes})"


class DataLoader:
    """Iterate over minibatches of one or several arrays.

    Args:
        arrays: a numpy array or ``autograd.Tensor``; a tuple or list of them sharing their
            first dimension; or a :class:`TensorDataset`.
        batch_size: samples per batch ``B`` (the last batch may be smaller).
        shuffle: draw a new permutation of the samples at the start of every epoch
            (every ``iter()``); otherwise batches are consecutive views in the given order.
        drop_last: drop the final batch when it holds fewer than ``B`` samples.
        seed: ``None`` draws the permutations from the engine's global generator
            (``autograd.get_generator()``, so ``autograd.manual_seed`` reproduces a run); an
            int seeds this loader's own generator; a ``np.random.Generator`` is used as is.

    A single array yields single batches; a tuple, list or dataset yields tuples of batches.
    ``len(loader)`` is the number of batches per epoch: ``ceil(N / B)``, or ``floor(N / B)``
    with ``drop_last``.
    """

    def __init__(
        self,
        arrays: Array | Sequence[Array] | TensorDataset,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: Seed = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self._single = isinstance(arrays, (np.ndarray, autograd.Tensor))
        if isinstance(arrays, TensorDataset):
            self.dataset = arrays
        elif self._single:
            self.dataset = TensorDataset(arrays)
        elif isinstance(arrays, (tuple, list)):
            self.dataset = TensorDataset(*arrays)
        else:
            raise TypeError(
                "DataLoader takes a numpy array, an autograd.Tensor, a tuple or list of them, "
                f"or a TensorDataset, got {type(arrays).__name__}"
            )
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        # An int seed makes one generator for the loader's lifetime, so that successive
        # epochs still get different permutations while two loaders with one seed agree.
        # (default_rng returns a Generator argument unchanged.)
        self._generator = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Array | tuple[Array, ...]]:
        n = len(self.dataset)
        stop = len(self) * self.batch_size
        starts = range(0, stop, self.batch_size)
        if self.shuffle:
            # Looked up per epoch so that a manual_seed after construction still applies.
            generator = self._generator
            if generator is None:
                generator = autograd.get_generator()
            order = generator.permutation(n)
            batches = (order[start:start + self.batch_size] for start in starts)
        else:
            batches = (slice(start, min(start + self.batch_size, n)) for start in starts)
        for index in batches:
            batch = self.dataset[index]
            yield batch[0] if self._single else batch

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
