"""Datasets the course notes train on: MNIST (a bundled real subset, or the standard files) and
the small synthetic sets (CS231n's spiral, two moons, the sin(x) + noise regression).

Everything returns plain numpy arrays; wrap them in a :class:`nn.data.DataLoader` to iterate
over minibatches. Random sets take ``seed``: ``None`` draws from the engine's global generator
(``autograd.get_generator()``, reproducible with ``autograd.manual_seed``), an int seeds a
fresh generator, a ``np.random.Generator`` is used as is.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

import autograd

Seed = int | np.random.Generator | None
Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

__all__ = ["mnist", "moons", "read_idx", "sine", "spiral"]

_BUNDLED_MNIST = Path(__file__).resolve().parent / "_data" / "mnist_5k.npz"
# The bundled subset's train/test split must be the same on every machine and every numpy
# version, so it is drawn from a fixed seed and from the bit generator's raw stream, which
# numpy keeps stable across releases (Generator methods such as permutation may change).
_SPLIT_SEED = 20_171_122
_TEST_SHARE = 5  # one sample in five of each class is held out: 400 / 100 per digit

# IDX type codes (third byte of the magic number) -> big-endian dtype of the data.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# The four standard MNIST files, by the key each one fills.
_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _generator(seed: Seed) -> np.random.Generator:
    # default_rng returns a Generator argument unchanged, and seeds a fresh one from an int.
    return autograd.get_generator() if seed is None else np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------------------------


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (the format of the MNIST files), gzipped or not.

    Layout: a magic number ``0x00 0x00 T D`` (T the element type code, D the number of
    dimensions), then D big-endian uint32 sizes, then the elements in C order, big-endian.
    Gzip is recognised by its content, not by the file name.

    Returns:
        A writable array of shape ``(size_1, ..., size_D)`` in native byte order.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: corrupt gzip data, a wrong magic number, or a file shorter or longer than
            its header declares; the message names the file.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"IDX file {path} does not exist")
    if not path.is_file():
        raise ValueError(f"{path}: expected an IDX file, found a directory or special file")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({error})") from error
    if len(raw) < 4:
        raise ValueError(
            f"{path}: truncated IDX file: {len(raw)} bytes, shorter than the 4-byte magic number"
        )
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file: wrong magic number 0x{raw[:4].hex()} (an IDX file "
            "starts with two zero bytes, a type code 08, 09, 0b, 0c, 0d or 0e, and the number "
            "of dimensions, e.g. 0x00000803 for MNIST images, 0x00000801 for labels)"
        )
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes, "
            f"the file holds {len(raw)}"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    count = math.prod(shape)
    expected, found = count * dtype.itemsize, len(raw) - header
    if found < expected:
        raise ValueError(
            f"{path}: truncated IDX file: the header declares shape {shape} ({expected} bytes "
            f"of data) but the file holds {found} bytes of data"
        )
    if found > expected:
        raise ValueError(
            f"{path}: corrupt IDX file: {found - expected} unexpected bytes after the "
            f"{expected} bytes of data that shape {shape} declares"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    # frombuffer views immutable bytes; one copy makes the result writable and native-endian.
    return data.astype(dtype.newbyteorder("="))


def _find_idx(directory: Path, name: str) -> Path:
    # Some mirrors spell the files "train-images.idx3-ubyte"; accept both, gzipped or not.
    for stem in (name, name.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            candidate = directory / (stem + suffix)
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"MNIST file {name} (or {name}.gz) not found in {directory}")


def _check_pair(images: np.ndarray, labels: np.ndarray, images_from: str, labels_from: str) -> None:
    """Check an images/labels pair: uint8 (N, H, W) images, N integer labels in 0..9."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{images_from}: expected uint8 images of shape (N, 28, 28), got {images.dtype} "
            f"of shape {images.shape}"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{labels_from}: expected integer labels of shape (N,), got {labels.dtype} of "
            f"shape {labels.shape}"
        )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"mismatched counts: {images_from} holds {images.shape[0]} images but "
            f"{labels_from} holds {labels.shape[0]} labels"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(
            f"{labels_from}: labels must be digits 0..9, found values from {labels.min()} to "
            f"{labels.max()}"
        )


def _read_mnist_dir(directory: Path) -> dict[str, np.ndarray]:
    files = {key: _find_idx(directory, name) for key, name in _MNIST_FILES.items()}
    arrays = {key: read_idx(file) for key, file in files.items()}
    for split in ("train", "test"):
        _check_pair(arrays[f"x_{split}"], arrays[f"y_{split}"],
                    str(files[f"x_{split}"]), str(files[f"y_{split}"]))
    return arrays


def _balanced_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed, class-balanced train/test indices: ``n_c // 5`` test samples of each class ``c``.

    Each sample gets two random keys from the fixed-seed stream: within each class the lowest
    selection keys go to the test set; both sets are then ordered by the other key, so the
    classes interleave (ordering by the selection key would front-load one class).
    """
    n = labels.shape[0]
    select, order = np.random.PCG64(_SPLIT_SEED).random_raw(2 * n).reshape(2, n)
    by_class = np.lexsort((select, labels))
    sorted_labels = labels[by_class]
    rank = np.arange(n) - np.searchsorted(sorted_labels, sorted_labels, side="left")
    n_test = np.bincount(labels, minlength=10) // _TEST_SHARE
    is_test = rank < n_test[sorted_labels]
    train, test = by_class[~is_test], by_class[is_test]
    return (train[np.argsort(order[train], kind="stable")],
            test[np.argsort(order[test], kind="stable")])


def _read_mnist_npz(file: Path) -> dict[str, np.ndarray]:
    with open(file, "rb") as stream:
        is_zip = stream.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    if not is_zip:
        raise ValueError(f"{file}: not an .npz file (it does not start with a zip header)")
    try:
        with np.load(file, allow_pickle=False) as npz:
            contents = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{file}: corrupt .npz file ({error})") from error
    except ValueError as error:  # e.g. pickled object arrays, refused by allow_pickle=False
        raise ValueError(f"{file}: {error}") from error
    if {"x_train", "y_train", "x_test", "y_test"} <= contents.keys():
        for split in ("train", "test"):
            _check_pair(contents[f"x_{split}"], contents[f"y_{split}"],
                        f"{file}[x_{split}]", f"{file}[y_{split}]")
        return {key: contents[key] for key in _MNIST_FILES}
    if {"images", "labels"} <= contents.keys():
        images, labels = contents["images"], contents["labels"]
        _check_pair(images, labels, f"{file}[images]", f"{file}[labels]")
        train, test = _balanced_split(labels)
        return {"x_train": images[train], "y_train": labels[train],
                "x_test": images[test], "y_test": labels[test]}
    raise ValueError(
        f"{file}: expected arrays 'images' and 'labels', or 'x_train', 'y_train', 'x_test' "
        f"and 'y_test'; found {sorted(contents)}"
    )


def mnist(path: str | os.PathLike | None = None, *, flatten: bool = True,
          scale: bool = True) -> Split:
    """MNIST handwritten digits as ``((x_train, y_train), (x_test, y_test))``.

    Args:
        path: ``None`` for the bundled subset: 5,000 real MNIST digits (500 per class), split
            into a fixed 4,000 train / 1,000 test split, 400 / 100 per class, identical on
            every machine. Otherwise a directory holding the four standard IDX files
            (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
            ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``),
            or an ``.npz`` file with arrays ``x_train, y_train, x_test, y_test`` (as Keras
            ships it) or ``images, labels`` (split like the bundled subset, one in five of
            each class held out).
        flatten: images as rows of ``H * W = 784`` pixels; otherwise ``(N, 28, 28)``.
        scale: float32 pixels ``x / 255`` in ``[0, 1]``; otherwise uint8 ``0..255``.

    Returns:
        Images as described, labels as int64 digits ``0..9``.

    Raises:
        FileNotFoundError: ``path`` or one of the four IDX files does not exist.
        ValueError: a malformed file (see :func:`read_idx`), mismatched image and label
            counts, or arrays of the wrong shape or dtype; the message names the file.
    """
    if path is None:
        arrays = _read_mnist_npz(_BUNDLED_MNIST)
    else:
        path = Path(path).expanduser()
        if path.is_dir():
            arrays = _read_mnist_dir(path)
        elif not path.exists():
            raise FileNotFoundError(f"MNIST path {path} does not exist")
        elif path.suffix == ".npz":
            arrays = _read_mnist_npz(path)
        else:
            raise ValueError(
                f"{path}: expected a directory holding the four MNIST IDX files or an .npz "
                "file"
            )

    def images(x: np.ndarray) -> np.ndarray:
        if flatten:
            x = x.reshape(x.shape[0], -1)
        # One pass, computed in float32: x / 255 maps 0..255 onto [0, 1] exactly at the ends.
        return np.divide(x, 255.0, dtype=np.float32) if scale else x

    def labels(y: np.ndarray) -> np.ndarray:
        return y.astype(np.int64)

    return ((images(arrays["x_train"]), labels(arrays["y_train"])),
            (images(arrays["x_test"]), labels(arrays["y_test"])))


# ---------------------------------------------------------------------------------------------
# Synthetic sets
# ---------------------------------------------------------------------------------------------


def _check_count(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _check_noise(noise: float) -> None:
    if not noise >= 0.0:
        raise ValueError(f"noise must be a non-negative standard deviation, got {noise}")


def spiral(n_classes: int = 3, n_per_class: int = 100, noise: float = 0.2,
           seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """CS231n's spiral: ``n_classes`` interleaved arms that no linear classifier separates.

    Sample ``i`` of class ``k`` (``i = 0..n-1``, ``n = n_per_class``) lies at radius
    ``r_i = i / (n - 1)`` and angle ``theta = 4k + 4 r_i + noise * eps``, ``eps ~ N(0, 1)``:
    ``x = (r_i sin theta, r_i cos theta)``.

    Returns:
        ``X`` float32 of shape ``(n_classes * n_per_class, 2)`` and ``y`` int64 class labels,
        grouped by class.
    """
    _check_count("n_classes", n_classes)
    _check_count("n_per_class", n_per_class)
    _check_noise(noise)
    rng = _generator(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    theta = 4.0 * y + 4.0 * radius + noise * rng.standard_normal(y.shape[0])
    x = np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=1)
    return x.astype(np.float32), y


def moons(n: int = 100, noise: float = 0.1,
          seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as scikit-learn's ``make_moons``.

    Class 0: ``(cos t, sin t)``, class 1: ``(1 - cos t, 1/2 - sin t)``, ``t`` evenly spaced in
    ``[0, pi]`` (``n // 2`` points in class 0, the rest in class 1), plus Gaussian noise of
    standard deviation ``noise`` on each coordinate.

    Returns:
        ``X`` float32 of shape ``(n, 2)`` and ``y`` int64 labels, grouped by class.
    """
    _check_count("n", n)
    _check_noise(noise)
    rng = _generator(seed)
    n_outer = n // 2
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n - n_outer)
    x = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
        np.stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1),
    ])
    x += noise * rng.standard_normal(x.shape)
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n - n_outer, dtype=np.int64)])
    return x.astype(np.float32), y


def sine(n: int = 200, noise: float = 0.1, low: float = -10.0, high: float = 10.0,
         seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Noisy samples of ``sin``: ``y = sin(x) + noise * eps``, ``x ~ U[low, high)``,
    ``eps ~ N(0, 1)``; the curve-fitting regression of the notes.

    Returns:
        ``x`` and ``y`` float32 of shape ``(n, 1)``, sorted by ``x`` (so a fit plots as a line).
    """
    _check_count("n", n)
    _check_noise(noise)
    if not low < high:
        raise ValueError(f"low must be less than high, got low={low}, high={high}")
    rng = _generator(seed)
    x = np.sort(rng.uniform(low, high, size=n))
    y = np.sin(x) + noise * rng.standard_normal(n)
    return x.astype(np.float32).reshape(n, 1), y.astype(np.float32).reshape(n, 1)
