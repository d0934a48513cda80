"""Datasets (nn.datasets): the bundled MNIST subset, IDX and npz files, synthetic sets."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

import autograd
from nn.datasets import mnist, moons, read_idx, sine, spiral

BUNDLED = Path(__file__).resolve().parents[1] / "nn" / "_data" / "mnist_5k.npz"

IDX_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B,
             np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` in the IDX format: magic, big-endian uint32 sizes, big-endian data."""
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    header = bytes([0, 0, IDX_CODES[dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def fake_mnist(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, size=n, dtype=np.uint8))


def write_mnist_dir(directory: Path, gz: bool = False, n_train: int = 6,
                    n_test: int = 3) -> dict[str, np.ndarray]:
    x_train, y_train = fake_mnist(n_train, 0)
    x_test, y_test = fake_mnist(n_test, 1)
    suffix = ".gz" if gz else ""
    write_idx(directory / f"train-images-idx3-ubyte{suffix}", x_train, gz)
    write_idx(directory / f"train-labels-idx1-ubyte{suffix}", y_train, gz)
    write_idx(directory / f"t10k-images-idx3-ubyte{suffix}", x_test, gz)
    write_idx(directory / f"t10k-labels-idx1-ubyte{suffix}", y_test, gz)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


# --------------------------------------------------------------------------- bundled MNIST


def test_bundled_mnist_shapes_dtypes_and_scaling() -> None:
    (x_train, y_train), (x_test, y_test) = mnist()
    assert x_train.shape == (4000, 784) and x_test.shape == (1000, 784)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    (raw_train, _), (raw_test, _) = mnist(flatten=False, scale=False)
    assert raw_train.shape == (4000, 28, 28) and raw_train.dtype == np.uint8
    assert raw_test.shape == (1000, 28, 28)
    np.testing.assert_allclose(x_train, raw_train.reshape(4000, 784) / 255.0, rtol=1e-6)
    (square, _), _ = mnist(flatten=False)
    assert square.shape == (4000, 28, 28) and square.dtype == np.float32


def test_bundled_mnist_is_class_balanced() -> None:
    (_, y_train), (_, y_test) = mnist()
    np.testing.assert_array_equal(np.bincount(y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [100] * 10)
    # The file is grouped by class; the split must not be: the first 50 mix many digits.
    assert len(np.unique(y_train[:50])) >= 8 and len(np.unique(y_test[:50])) >= 8


def test_bundled_mnist_split_is_a_disjoint_partition_with_labels_kept() -> None:
    (x_train, y_train), (x_test, y_test) = mnist(flatten=True, scale=False)
    with np.load(BUNDLED, allow_pickle=False) as npz:
        images, labels = npz["images"].reshape(5000, 784), npz["labels"]
    label_of = {row.tobytes(): label for row, label in zip(images, labels)}
    assert len(label_of) == 5000  # no duplicate images in the file, so rows identify samples
    train_rows = [row.tobytes() for row in x_train]
    test_rows = [row.tobytes() for row in x_test]
    assert not set(train_rows) & set(test_rows)
    assert set(train_rows) | set(test_rows) == set(label_of)
    assert [label_of[row] for row in train_rows] == y_train.tolist()
    assert [label_of[row] for row in test_rows] == y_test.tolist()


def test_bundled_mnist_split_is_fixed() -> None:
    autograd.manual_seed(0)
    first = mnist(flatten=False, scale=False)
    autograd.manual_seed(1)
    second = mnist(flatten=False, scale=False)
    digest = hashlib.sha256()
    for (x_a, y_a), (x_b, y_b) in zip(first, second):
        np.testing.assert_array_equal(x_a, x_b)
        np.testing.assert_array_equal(y_a, y_b)
    for array in (*first[0], *first[1]):
        digest.update(array.astype(array.dtype.newbyteorder("<")).tobytes())
    # The same split on every machine and numpy version (a raw bit-generator stream).
    assert digest.hexdigest() == (
        "2c91419eff5b8b42f36fb6168074a9bebe0c329f2b4cb72eb3d39a1922093e7b")
    assert first[0][1][:10].tolist() == [3, 0, 0, 3, 9, 8, 8, 4, 2, 8]


def test_bundled_attribution_is_shipped() -> None:
    readme = (BUNDLED.parent / "README.md").read_text()
    assert "LeCun" in readme and "Creative Commons" in readme


# --------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    images, labels = fake_mnist(5, 3)
    got_images = read_idx(write_idx(tmp_path / "images", images, gz))
    got_labels = read_idx(write_idx(tmp_path / "labels", labels, gz))
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
    got_images[0, 0, 0] = 7  # writable, not a view of the file's bytes


@pytest.mark.parametrize("dtype", ["i1", ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_other_types_come_back_native(tmp_path: Path, dtype: str) -> None:
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    got = read_idx(write_idx(tmp_path / "data.idx", array))
    np.testing.assert_array_equal(got, array)
    assert got.dtype == np.dtype(dtype).newbyteorder("=")


def test_read_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"IDX file .*nothing-here does not exist"):
        read_idx(tmp_path / "nothing-here")
    with pytest.raises(ValueError, match="expected an IDX file, found a directory"):
        read_idx(tmp_path)


def test_read_idx_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "fake-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + bytes(40))
    with pytest.raises(ValueError, match=r"fake-idx3-ubyte: not an IDX file: wrong magic "
                                         r"number 0x12340803"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x07\x01" + bytes(40))  # unknown type code
    with pytest.raises(ValueError, match="wrong magic number 0x00000701"):
        read_idx(path)


def test_read_idx_truncated(tmp_path: Path) -> None:
    array = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    data = idx_bytes(array)
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(data[:-4])
    with pytest.raises(ValueError, match=r"short-idx3-ubyte: truncated IDX file: the header "
                                         r"declares shape \(2, 3, 3\) \(18 bytes of data\) "
                                         r"but the file holds 14 bytes of data"):
        read_idx(path)
    path.write_bytes(data[:9])  # cut inside the sizes
    with pytest.raises(ValueError, match="truncated IDX header: 3 dimensions need 16 bytes, "
                                         "the file holds 9"):
        read_idx(path)
    path.write_bytes(data[:2])
    with pytest.raises(ValueError, match="truncated IDX file: 2 bytes"):
        read_idx(path)
    path.write_bytes(data + b"\x00\x00")
    with pytest.raises(ValueError, match="2 unexpected bytes after the 18 bytes of data"):
        read_idx(path)


def test_read_idx_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8)))[:-10])
    with pytest.raises(ValueError, match=r"cut.gz: corrupt or truncated gzip data"):
        read_idx(path)


# --------------------------------------------------------------------------- mnist(path)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_idx_directory(tmp_path: Path, gz: bool) -> None:
    written = write_mnist_dir(tmp_path, gz)
    (x_train, y_train), (x_test, y_test) = mnist(tmp_path)
    assert x_train.shape == (6, 784) and x_train.dtype == np.float32
    np.testing.assert_allclose(x_train * 255.0, written["x_train"].reshape(6, 784), atol=1e-4)
    np.testing.assert_array_equal(y_train, written["y_train"])
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert x_test.shape == (3, 784) and x_test.max() <= 1.0
    _, (raw_test, _) = mnist(tmp_path, flatten=False, scale=False)
    np.testing.assert_array_equal(raw_test, written["x_test"])
    np.testing.assert_array_equal(y_test, written["y_test"])


def test_mnist_directory_with_dotted_names(tmp_path: Path) -> None:
    written = write_mnist_dir(tmp_path)
    for path in tmp_path.iterdir():
        path.rename(tmp_path / path.name.replace("-idx", ".idx"))
    _, (x_test, _) = mnist(tmp_path, scale=False, flatten=False)
    np.testing.assert_array_equal(x_test, written["x_test"])


def test_mnist_directory_missing_file(tmp_path: Path) -> None:
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"MNIST file t10k-labels-idx1-ubyte \(or "
                                                r"t10k-labels-idx1-ubyte.gz\) not found in"):
        mnist(tmp_path)


def test_mnist_mismatched_counts(tmp_path: Path) -> None:
    write_mnist_dir(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"mismatched counts: .*train-images-idx3-ubyte holds 6 "
                                         r"images but .*train-labels-idx1-ubyte holds 5 labels"):
        mnist(tmp_path)


def test_mnist_bad_arrays_in_files(tmp_path: Path) -> None:
    write_mnist_dir(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 784), np.uint8))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte: expected uint8 images of "
                                         r"shape \(N, 28, 28\), got uint8 of shape \(3, 784\)"):
        mnist(tmp_path)
    write_mnist_dir(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1, 12, 3], np.uint8))
    with pytest.raises(ValueError, match="labels must be digits 0..9, found values from 1 to 12"):
        mnist(tmp_path)
    write_mnist_dir(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + bytes(6))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte: truncated IDX header"):
        mnist(tmp_path)


def test_mnist_from_keras_npz(tmp_path: Path) -> None:
    written = write_mnist_dir(tmp_path)
    path = tmp_path / "mnist.npz"
    np.savez(path, **written)
    (x_train, y_train), (x_test, y_test) = mnist(path, scale=False)
    np.testing.assert_array_equal(x_train, written["x_train"].reshape(6, 784))
    np.testing.assert_array_equal(y_test, written["y_test"])
    assert y_train.dtype == np.int64 and x_test.shape == (3, 784)


def test_mnist_from_images_labels_npz_is_split_like_the_bundle(tmp_path: Path) -> None:
    images, _ = fake_mnist(100, 7)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 10)
    path = tmp_path / "digits.npz"
    np.savez_compressed(path, images=images, labels=labels)
    (x_train, y_train), (x_test, y_test) = mnist(path, scale=False, flatten=False)
    np.testing.assert_array_equal(np.bincount(y_train), [8] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [2] * 10)
    assert x_train.shape == (80, 28, 28) and x_test.shape == (20, 28, 28)
    # Each image keeps its label (random images: each identifies its sample).
    index_of = {images[i].tobytes(): i for i in range(100)}
    assert len(index_of) == 100
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert [labels[index_of[image.tobytes()]] for image in x] == y.tolist()


def test_mnist_npz_errors(tmp_path: Path) -> None:
    wrong_keys = tmp_path / "wrong.npz"
    np.savez(wrong_keys, pixels=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"wrong.npz: expected arrays 'images' and 'labels'.*"
                                         r"found \['pixels'\]"):
        mnist(wrong_keys)
    not_zip = tmp_path / "text.npz"
    not_zip.write_text("hello")
    with pytest.raises(ValueError, match="text.npz: not an .npz file"):
        mnist(not_zip)
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, images=np.array([None, 1], dtype=object), labels=np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="objects.npz: .*allow_pickle"):
        mnist(pickled)
    mismatched = tmp_path / "mismatched.npz"
    np.savez(mismatched, images=np.zeros((4, 28, 28), np.uint8), labels=np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"mismatched.npz\[images\] holds 4 images but "
                                         r".*mismatched.npz\[labels\] holds 3 labels"):
        mnist(mismatched)


def test_mnist_path_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="MNIST path .*missing does not exist"):
        mnist(tmp_path / "missing")
    other = tmp_path / "digits.csv"
    other.write_text("0,1\n")
    with pytest.raises(ValueError, match="digits.csv: expected a directory holding the four "
                                         "MNIST IDX files or an .npz file"):
        mnist(other)


# --------------------------------------------------------------------------- synthetic sets


def test_spiral() -> None:
    x, y = spiral(n_classes=4, n_per_class=50, seed=0)
    assert x.shape == (200, 2) and x.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50] * 4)
    # Noise moves only the angle: the radius of point i of each arm is i / (n - 1).
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius, np.tile(np.linspace(0.0, 1.0, 50), 4), atol=1e-6)
    clean, _ = spiral(3, 5, noise=0.0, seed=1)
    r = np.linspace(0.0, 1.0, 5)
    theta = 4.0 * 2 + 4.0 * r  # the third arm, CS231n's formula
    np.testing.assert_allclose(clean[10:], np.stack([r * np.sin(theta), r * np.cos(theta)], 1),
                               atol=1e-6)


def test_moons() -> None:
    x, y = moons(n=101, noise=0.0, seed=0)
    assert x.shape == (101, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50, 51])
    outer, inner = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-6)
    assert outer[:, 1].min() >= -1e-6  # the upper half circle
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert inner[:, 1].max() <= 0.5 + 1e-6  # the lower half circle, shifted
    noisy, _ = moons(n=2000, noise=0.1, seed=0)
    clean, _ = moons(n=2000, noise=0.0, seed=0)
    assert 0.09 < np.std(noisy - clean) < 0.11


def test_sine() -> None:
    x, y = sine(n=5000, noise=0.1, seed=0)
    assert x.shape == (5000, 1) and y.shape == (5000, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert x.min() >= -10.0 and x.max() < 10.0
    assert np.all(np.diff(x[:, 0]) >= 0.0)
    assert 0.09 < np.std(y - np.sin(x)) < 0.11
    x, y = sine(n=50, noise=0.0, low=0.0, high=3.0, seed=1)
    assert x.min() >= 0.0 and x.max() < 3.0
    np.testing.assert_allclose(y, np.sin(x), atol=1e-6)


@pytest.mark.parametrize("make", [lambda s: spiral(seed=s), lambda s: moons(seed=s),
                                  lambda s: sine(seed=s)])
def test_synthetic_sets_are_seeded(make) -> None:
    first, second, other = make(3), make(3), make(4)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    autograd.manual_seed(5)
    global_first = make(None)
    autograd.manual_seed(5)
    for a, b in zip(global_first, make(None)):
        np.testing.assert_array_equal(a, b)
    generator = np.random.default_rng(3)
    np.testing.assert_array_equal(make(generator)[0], first[0])


def test_synthetic_errors() -> None:
    with pytest.raises(ValueError, match="n_classes must be at least 1, got 0"):
        spiral(n_classes=0)
    with pytest.raises(TypeError, match="n_per_class must be an int, got float"):
        spiral(n_per_class=10.0)
    with pytest.raises(ValueError, match="n must be at least 1, got -2"):
        moons(n=-2)
    with pytest.raises(ValueError, match="noise must be a non-negative standard deviation"):
        sine(noise=-0.1)
    with pytest.raises(ValueError, match="low must be less than high, got low=1.0, high=1.0"):
        sine(low=1.0, high=1.0)
