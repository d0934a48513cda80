"""Minibatch iteration (nn.data) and image augmentation (nn.transforms)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from nn.data import DataLoader, TensorDataset
from nn.transforms import augment, hflip, rotate, translate


def epoch_order(loader: DataLoader) -> np.ndarray:
    """The sample order of one epoch of a loader over (arange(n),)."""
    return np.concatenate([ids for (ids,) in loader])


# --------------------------------------------------------------------------- TensorDataset


def test_tensor_dataset_len_and_getitem() -> None:
    x = np.arange(12.0).reshape(6, 2)
    y = np.arange(6)
    dataset = TensorDataset(x, y)
    assert len(dataset) == 6
    xi, yi = dataset[4]
    np.testing.assert_array_equal(xi, [8.0, 9.0])
    assert yi == 4
    xs, ys = dataset[np.array([5, 0])]
    np.testing.assert_array_equal(xs, [[10.0, 11.0], [0.0, 1.0]])
    np.testing.assert_array_equal(ys, [5, 0])
    assert repr(dataset) == "TensorDataset((6, 2), (6,))"


def test_tensor_dataset_of_tensors_returns_tensors() -> None:
    x = autograd.Tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2), requires_grad=True)
    (row,) = TensorDataset(x)[1]
    assert isinstance(row, autograd.Tensor)
    assert row.dtype == np.float32
    np.testing.assert_array_equal(row.data, [2.0, 3.0])
    # A batch is fresh data, not a node hanging off the whole data set.
    assert row.grad_fn is None and not row.requires_grad


def test_tensor_dataset_errors() -> None:
    with pytest.raises(ValueError, match="needs at least one array"):
        TensorDataset()
    with pytest.raises(ValueError, match=r"same first dimension .* got sizes 10, 9, 10"):
        TensorDataset(np.zeros((10, 3)), np.zeros(9), np.zeros(10))
    with pytest.raises(TypeError, match="got list at position 1"):
        TensorDataset(np.zeros(3), [1, 2, 3])
    with pytest.raises(ValueError, match="got a 0-d array at position 0"):
        TensorDataset(np.array(1.0))


# --------------------------------------------------------------------------- DataLoader


def test_batch_sizes_and_len() -> None:
    x = np.arange(10)
    loader = DataLoader(x, batch_size=3, shuffle=False)
    assert len(loader) == 4
    assert [batch.tolist() for batch in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    dropping = DataLoader(x, batch_size=3, shuffle=False, drop_last=True)
    assert len(dropping) == 3
    assert [batch.tolist() for batch in dropping] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_unshuffled_batches_are_views() -> None:
    x = np.arange(20.0).reshape(10, 2)
    first = next(iter(DataLoader(x, batch_size=4, shuffle=False)))
    assert np.shares_memory(first, x)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 40), batch_size=st.integers(1, 15), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_every_sample_once_per_epoch(n: int, batch_size: int, drop_last: bool, shuffle: bool,
                                     seed: int) -> None:
    x = np.arange(n)
    loader = DataLoader((x,), batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = [ids for (ids,) in loader]
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == len(batches) == expected_len
    assert all(len(ids) == batch_size for ids in batches[:-1])
    if batches:
        last = n - (expected_len - 1) * batch_size
        assert len(batches[-1]) == (batch_size if drop_last else last)
    seen = np.concatenate(batches) if batches else np.zeros(0, dtype=int)
    assert len(np.unique(seen)) == len(seen)  # no sample twice
    if not drop_last:
        np.testing.assert_array_equal(np.sort(seen), x)  # every sample once
    else:
        assert len(seen) == expected_len * batch_size
    if not shuffle:
        np.testing.assert_array_equal(seen, x[:len(seen)])


def test_rows_stay_aligned_across_arrays() -> None:
    x = np.arange(50).reshape(25, 2) * 10
    y = np.arange(25)
    for xb, yb in DataLoader([x, y], batch_size=4, seed=1):
        np.testing.assert_array_equal(xb[:, 0], 20 * yb)
        np.testing.assert_array_equal(xb[:, 1], 20 * yb + 10)


def test_shuffle_differs_between_epochs() -> None:
    loader = DataLoader((np.arange(100),), batch_size=10, seed=0)
    first, second = epoch_order(loader), epoch_order(loader)
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(100))
    np.testing.assert_array_equal(np.sort(first), np.arange(100))
    np.testing.assert_array_equal(np.sort(second), np.arange(100))


def test_seed_reproduces_epochs() -> None:
    a = DataLoader((np.arange(50),), batch_size=8, seed=123)
    b = DataLoader((np.arange(50),), batch_size=8, seed=123)
    c = DataLoader((np.arange(50),), batch_size=8, seed=124)
    epochs_a = [epoch_order(a) for _ in range(3)]
    epochs_b = [epoch_order(b) for _ in range(3)]
    for order_a, order_b in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(order_a, order_b)
    assert not np.array_equal(epochs_a[0], epoch_order(c))
    # The first epoch is the permutation of default_rng(seed): a documented, fixed stream.
    np.testing.assert_array_equal(epochs_a[0], np.random.default_rng(123).permutation(50))


def test_generator_seed_is_used_as_is() -> None:
    generator = np.random.default_rng(7)
    loader = DataLoader((np.arange(30),), batch_size=30, seed=generator)
    np.testing.assert_array_equal(epoch_order(loader),
                                  np.random.default_rng(7).permutation(30))


def test_seed_none_follows_manual_seed() -> None:
    loader = DataLoader((np.arange(64),), batch_size=16)  # built before seeding: still applies
    autograd.manual_seed(42)
    first = [epoch_order(loader) for _ in range(2)]
    autograd.manual_seed(42)
    second = [epoch_order(loader) for _ in range(2)]
    for order_a, order_b in zip(first, second):
        np.testing.assert_array_equal(order_a, order_b)
    assert not np.array_equal(first[0], first[1])
    np.testing.assert_array_equal(first[0], np.random.default_rng(42).permutation(64))


def test_tensor_in_tensor_out() -> None:
    x = autograd.Tensor(np.arange(24, dtype=np.float32).reshape(12, 2))
    y = np.arange(12)
    batches = list(DataLoader((x, y), batch_size=5, seed=3))
    assert [len(yb) for _, yb in batches] == [5, 5, 2]
    for xb, yb in batches:
        assert isinstance(xb, autograd.Tensor) and isinstance(yb, np.ndarray)
        assert xb.dtype == np.float32 and xb.shape == (len(yb), 2)
        np.testing.assert_array_equal(xb.data[:, 0], 2 * yb)


def test_single_array_yields_arrays_and_sequences_yield_tuples() -> None:
    x = np.arange(6)
    (batch,) = list(DataLoader(x, batch_size=6, shuffle=False))
    assert isinstance(batch, np.ndarray)
    (pair,) = list(DataLoader([x, x], batch_size=6, shuffle=False))
    assert isinstance(pair, tuple) and len(pair) == 2
    (tensor_batch,) = list(DataLoader(autograd.Tensor(x), batch_size=6, shuffle=False))
    assert isinstance(tensor_batch, autograd.Tensor)
    np.testing.assert_array_equal(tensor_batch.data, x)


def test_loader_over_dataset() -> None:
    dataset = TensorDataset(np.arange(7), np.arange(7) * 2)
    loader = DataLoader(dataset, batch_size=2, shuffle=False)
    assert loader.dataset is dataset
    assert [(a.tolist(), b.tolist()) for a, b in loader][-1] == ([6], [12])


def test_loader_errors() -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        DataLoader(np.zeros(4), batch_size=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got -3"):
        DataLoader(np.zeros(4), batch_size=-3)
    with pytest.raises(TypeError, match="batch_size must be an int, got float"):
        DataLoader(np.zeros(4), batch_size=2.5)
    with pytest.raises(ValueError, match="got sizes 100, 99"):
        DataLoader((np.zeros((100, 2)), np.zeros(99)), batch_size=10)
    with pytest.raises(TypeError, match="got dict"):
        DataLoader({"x": np.zeros(4)}, batch_size=2)


# --------------------------------------------------------------------------- transforms


def digits(n: int = 8, dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    """Random images with every pixel non-zero, so a zero pixel marks the fill of a shift."""
    images = np.random.default_rng(seed).integers(1, 256, size=(n, 28, 28))
    return images.astype(dtype)


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 784)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"rotate": 15.0}, {"shift": 0, "flip": True},
                                     {"shift": 3, "rotate": 10.0, "flip": True}])
def test_augment_keeps_shape_and_dtype(shape: tuple, dtype: type, options: dict) -> None:
    images = digits(5, dtype).reshape(shape)
    out = augment(images, seed=0, **options)
    assert out.shape == shape and out.dtype == dtype
    assert not np.shares_memory(out, images)


def test_translate_exact() -> None:
    images = digits(3)
    out = translate(images, 2, -1)  # two rows down, one column left
    expected = np.zeros_like(images)
    expected[:, 2:, :-1] = images[:, :-2, 1:]
    np.testing.assert_array_equal(out, expected)
    flat = translate(images.reshape(3, 784), 2, -1)
    np.testing.assert_array_equal(flat, expected.reshape(3, 784))


def test_translate_per_image() -> None:
    images = digits(2, np.float32)
    out = translate(images, np.array([0, -3]), np.array([4, 0]))
    expected = np.zeros_like(images)
    expected[0, :, 4:] = images[0, :, :-4]
    expected[1, :-3, :] = images[1, 3:, :]
    np.testing.assert_array_equal(out, expected)
    # Shifting by the whole width leaves nothing.
    np.testing.assert_array_equal(translate(images, 0, 28), np.zeros_like(images))


def test_augment_shift_is_a_translation_within_range() -> None:
    images = digits(40)
    out = augment(images, shift=2, seed=5)
    shifts = []
    for image, result in zip(images, out):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(translate(image[None], dy, dx)[0], result)]
        assert len(matches) == 1  # every output is exactly one of the allowed shifts
        shifts.append(matches[0])
    assert len(set(shifts)) > 5  # drawn per image, not one shift for the batch


def test_augment_seeding() -> None:
    images = digits(16, np.float32)
    np.testing.assert_array_equal(augment(images, rotate=10.0, seed=3),
                                  augment(images, rotate=10.0, seed=3))
    assert not np.array_equal(augment(images, rotate=10.0, seed=3),
                              augment(images, rotate=10.0, seed=4))
    autograd.manual_seed(9)
    first = augment(images, shift=2, rotate=10.0, flip=True)
    autograd.manual_seed(9)
    np.testing.assert_array_equal(first, augment(images, shift=2, rotate=10.0, flip=True))


def test_augment_identity_when_nothing_asked() -> None:
    images = digits(4)
    out = augment(images, shift=0)
    np.testing.assert_array_equal(out, images)
    assert out is not images


def test_hflip_and_augment_flip() -> None:
    images = digits(32)
    np.testing.assert_array_equal(hflip(images), images[:, :, ::-1])
    out = augment(images, shift=0, flip=True, seed=11)
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images)]
    kept = [np.array_equal(o, i) for o, i in zip(out, images)]
    assert all(f != k for f, k in zip(flipped, kept))  # each image exactly one of the two
    assert 4 < sum(flipped) < 28


def test_rotate_quarter_turns_are_exact() -> None:
    images = digits(4)
    # Counter-clockwise as displayed, like np.rot90 on (row, col).
    np.testing.assert_array_equal(rotate(images, 90.0), np.rot90(images, 1, axes=(1, 2)))
    np.testing.assert_array_equal(rotate(images, 180.0), images[:, ::-1, ::-1])
    np.testing.assert_array_equal(rotate(images, 0.0), images)
    floats = images.astype(np.float32)
    np.testing.assert_allclose(rotate(floats, -90.0), np.rot90(floats, -1, axes=(1, 2)),
                               atol=1e-3)


def test_rotate_moves_a_blob_along_the_circle() -> None:
    image = np.zeros((1, 28, 28), dtype=np.float64)
    image[0, 12:16, 21:25] = 1.0  # a 4x4 square centred at (13.5, 22.5): 9 px right of centre
    out = rotate(image, 30.0)
    rows, cols = np.mgrid[0:28, 0:28]
    mass = out[0].sum()
    centroid = np.array([(rows * out[0]).sum(), (cols * out[0]).sum()]) / mass
    angle = np.deg2rad(30.0)
    # Counter-clockwise on screen: up (smaller row) and towards the centre column.
    expected = np.array([13.5 - 9.0 * np.sin(angle), 13.5 + 9.0 * np.cos(angle)])
    np.testing.assert_allclose(centroid, expected, atol=0.05)
    np.testing.assert_allclose(mass, 16.0, rtol=0.05)  # bilinear sampling keeps the area


def test_augment_rotation_is_bounded() -> None:
    image = np.zeros((50, 28, 28), dtype=np.float64)
    image[:, 12:16, 21:25] = 1.0
    out = augment(image, shift=0, rotate=20.0, seed=2)
    rows, cols = np.mgrid[0:28, 0:28]
    mass = out.sum(axis=(1, 2))
    angles = np.rad2deg(np.arctan2(-((rows * out).sum(axis=(1, 2)) / mass - 13.5),
                                   (cols * out).sum(axis=(1, 2)) / mass - 13.5))
    assert np.all(np.abs(angles) <= 20.5)
    assert angles.max() > 10.0 and angles.min() < -10.0


def test_transforms_on_tensors() -> None:
    images = autograd.Tensor(digits(3, np.float32).reshape(3, 784))
    out = augment(images, seed=0)
    assert isinstance(out, autograd.Tensor) and out.shape == (3, 784)
    assert out.dtype == np.float32
    moved = translate(images, 1, 0)
    np.testing.assert_array_equal(moved.data.reshape(3, 28, 28)[:, 1:],
                                  images.data.reshape(3, 28, 28)[:, :-1])


def test_transform_errors() -> None:
    with pytest.raises(ValueError, match=r"shape \(N, H, W\) or \(N, 784\), got shape \(4, 100\)"):
        augment(np.zeros((4, 100)))
    with pytest.raises(ValueError, match=r"got shape \(28, 28, 1, 1\)"):
        rotate(np.zeros((28, 28, 1, 1)), 5.0)
    with pytest.raises(ValueError, match="shift must be a non-negative int, got -1"):
        augment(np.zeros((2, 28, 28)), shift=-1)
    with pytest.raises(ValueError, match="shift must be a non-negative int, got 1.5"):
        augment(np.zeros((2, 28, 28)), shift=1.5)
    with pytest.raises(ValueError, match="rotate must be a non-negative number of degrees"):
        augment(np.zeros((2, 28, 28)), rotate=-5.0)
    with pytest.raises(ValueError, match=r"dy must be a scalar or have one value per image \(2\)"):
        translate(np.zeros((2, 28, 28)), np.array([1, 2, 3]), 0)
    with pytest.raises(TypeError, match="dx must be whole pixels \\(ints\\), got float64"):
        translate(np.zeros((2, 28, 28)), 1, 1.5)
    with pytest.raises(TypeError, match="augment takes a numpy array or autograd.Tensor, got list"):
        augment([[0.0] * 784])
