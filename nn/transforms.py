"""Image augmentation for batches of digits: random shifts, small rotations, horizontal flips.

Augmenting the training set with slightly moved copies of its images is the notes' cheapest
remedy for overfitting: the label of a digit does not change when it moves by a pixel or two.

Every transform is one inverse coordinate map resampled once, vectorized over the batch. For
an output pixel ``q = (row, col)`` of an image shifted by ``s = (dy, dx)``, rotated by
``theta`` about the centre ``c = ((H - 1) / 2, (W - 1) / 2)`` and optionally mirrored, the
source pixel is::

    p = R(-theta) (q - s - c) + c,        then col -> W - 1 - col if mirrored

read with bilinear interpolation (exact integer indexing when no rotation is asked for);
pixels that come from outside the image are 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import autograd

Seed = int | np.random.Generator | None
Images = np.ndarray | autograd.Tensor

__all__ = ["augment", "hflip", "rotate", "translate"]


def _generator(seed: Seed) -> np.random.Generator:
    # default_rng returns a Generator argument unchanged, and seeds a fresh one from an int.
    return autograd.get_generator() if seed is None else np.random.default_rng(seed)


def _as_batch(images: np.ndarray, caller: str) -> np.ndarray:
    """View ``(N, 28, 28)`` or ``(N, 784)`` images as ``(N, H, W)``."""
    if images.ndim == 3:
        return images
    if images.ndim == 2 and images.shape[1] == 28 * 28:
        return images.reshape(images.shape[0], 28, 28)
    raise ValueError(
        f"{caller} expects a batch of images of shape (N, H, W) or (N, 784), got shape "
        f"{images.shape}"
    )


def _per_image(value: float | np.ndarray, n: int, name: str, dtype: type) -> np.ndarray:
    """Broadcast a scalar or per-image parameter to shape (n,)."""
    array = np.asarray(value)
    if dtype is np.intp and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be whole pixels (ints), got {array.dtype}")
    array = array.astype(dtype, copy=False)
    if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != n):
        raise ValueError(f"{name} must be a scalar or have one value per image ({n}), got "
                         f"shape {array.shape}")
    return np.broadcast_to(array, (n,))


def _warp(images: np.ndarray, dy: np.ndarray, dx: np.ndarray, theta: np.ndarray | None,
          mirror: np.ndarray | None) -> np.ndarray:
    """Resample each image ``n`` of an ``(N, H, W)`` batch through the map in the module
    docstring, with integer shifts ``dy[n], dx[n]``, angle ``theta[n]`` (radians, counter-
    clockwise as displayed) and ``mirror[n]``; ``None`` skips a part."""
    n, h, w = images.shape
    # A zero border (one pixel before, two after) and source coordinates clamped into
    # [-1, H] x [-1, W]: every corner read then lands inside the padded image, and anything
    # from outside the image reads zeros, with no mask per corner. Reads go through flat
    # indices, which numpy gathers much faster than three broadcast index arrays.
    ph, pw = h + 3, w + 3
    padded = np.pad(images, ((0, 0), (1, 2), (1, 2))).reshape(-1)
    offset = (np.arange(n) * (ph * pw))[:, None, None] + (pw + 1)
    rows = np.arange(h)[None, :, None] - dy[:, None, None]  # (N, H, 1): shift undone
    cols = np.arange(w)[None, None, :] - dx[:, None, None]  # (N, 1, W)

    if theta is None:
        if mirror is not None:
            cols = np.where(mirror[:, None, None], (w - 1) - cols, cols)
        return padded[offset + np.clip(rows, -1, h) * pw + np.clip(cols, -1, w)]

    compute = np.result_type(images.dtype, np.float32)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    cos = np.cos(theta).astype(compute)[:, None, None]
    sin = np.sin(theta).astype(compute)[:, None, None]
    py, px = (rows - cy).astype(compute), (cols - cx).astype(compute)
    src_cols = cx + cos * px - sin * py  # R(-theta), in (row down, col right) coordinates
    src_rows = cy + sin * px + cos * py
    if mirror is not None:
        src_cols = np.where(mirror[:, None, None], (w - 1) - src_cols, src_cols)
    src_rows = np.clip(src_rows, -1.0, float(h))
    src_cols = np.clip(src_cols, -1.0, float(w))

    row0, col0 = np.floor(src_rows), np.floor(src_cols)
    frac_r, frac_c = src_rows - row0, src_cols - col0
    corner = offset + row0.astype(np.intp) * pw + col0.astype(np.intp)

    def lerp_cols(index: np.ndarray) -> np.ndarray:
        left = padded[index].astype(compute, copy=False)
        return left + frac_c * (padded[index + 1] - left)

    top, bottom = lerp_cols(corner), lerp_cols(corner + pw)
    out = top + frac_r * (bottom - top)
    if np.issubdtype(images.dtype, np.integer):
        info = np.iinfo(images.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(images.dtype)
    return out.astype(images.dtype, copy=False)


def _apply(images: Images, caller: str,
           transform: Callable[[np.ndarray], np.ndarray]) -> Images:
    """Run ``transform`` on the ``(N, H, W)`` view of ``images``; same shape, dtype and kind."""
    if isinstance(images, autograd.Tensor):
        return autograd.Tensor(_apply(images.data, caller, transform))
    if not isinstance(images, np.ndarray):
        raise TypeError(f"{caller} takes a numpy array or autograd.Tensor, got "
                        f"{type(images).__name__}")
    return transform(_as_batch(images, caller)).reshape(images.shape)


def translate(images: Images, dy: int | np.ndarray, dx: int | np.ndarray) -> Images:
    """Shift every image down by ``dy`` and right by ``dx`` whole pixels (negative: up, left),
    filling with zeros: ``out[n, i, j] = images[n, i - dy, j - dx]``. ``dy`` and ``dx`` are
    ints or one int per image."""

    def transform(batch: np.ndarray) -> np.ndarray:
        n = batch.shape[0]
        return _warp(batch, _per_image(dy, n, "dy", np.intp), _per_image(dx, n, "dx", np.intp),
                     None, None)

    return _apply(images, "translate", transform)


def rotate(images: Images, degrees: float | np.ndarray) -> Images:
    """Rotate every image counter-clockwise (as displayed) by ``degrees`` about its centre,
    bilinear interpolation, zero fill. ``degrees`` is a number or one per image."""

    def transform(batch: np.ndarray) -> np.ndarray:
        n = batch.shape[0]
        theta = np.deg2rad(_per_image(degrees, n, "degrees", np.float64))
        zero = np.zeros(n, dtype=np.intp)
        return _warp(batch, zero, zero, theta, None)

    return _apply(images, "rotate", transform)


def hflip(images: Images) -> Images:
    """Mirror every image left to right: ``out[n, i, j] = images[n, i, W - 1 - j]``."""
    return _apply(images, "hflip", lambda batch: batch[:, :, ::-1].copy())


def augment(images: Images, shift: int = 2, rotate: float = 0.0, flip: bool = False,
            seed: Seed = None) -> Images:
    """Randomly shift, rotate and mirror each image of a batch, independently per image.

    Image ``n`` is shifted by ``dy_n, dx_n ~ U{-shift, ..., shift}`` pixels, rotated by
    ``theta_n ~ U[-rotate, rotate]`` degrees when ``rotate > 0``, and mirrored left to right
    with probability 1/2 when ``flip`` (off by default: a mirrored 2 is no longer a 2), all
    in one resampling (see the module docstring).

    Args:
        images: ``(N, 28, 28)`` or ``(N, 784)`` (any ``(N, H, W)`` too), a numpy array or an
            ``autograd.Tensor``; the result has the same shape, dtype and kind.
        shift: the largest shift in pixels along each axis.
        rotate: the largest rotation in degrees.
        flip: mirror a random half of the images.
        seed: ``None`` draws from ``autograd.get_generator()``; an int seeds a fresh generator
            (the same augmentation every call: pass a ``np.random.Generator`` to get new draws
            each epoch from one seed).
    """
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or shift < 0:
        raise ValueError(f"shift must be a non-negative int, got {shift!r}")
    if not rotate >= 0.0:
        raise ValueError(f"rotate must be a non-negative number of degrees, got {rotate!r}")

    def transform(batch: np.ndarray) -> np.ndarray:
        n = batch.shape[0]
        rng = _generator(seed)
        dy, dx = rng.integers(-shift, shift + 1, size=(2, n)) if shift else np.zeros((2, n), int)
        theta = np.deg2rad(rng.uniform(-rotate, rotate, size=n)) if rotate else None
        mirror = rng.random(n) < 0.5 if flip else None
        if not shift and theta is None and mirror is None:
            return batch.copy()
        return _warp(batch, dy, dx, theta, mirror)

    return _apply(images, "augment", transform)
