"""Saving and loading checkpoints without pickle: `save(obj, path)` and `load(path)`.

What can be saved: nested dicts (str or int keys), lists and tuples whose leaves are numpy
arrays, `autograd.Tensor`s (saved as their arrays), numpy scalars, and Python `int`, `float`,
`bool`, `str` and `None`. That covers a module's `state_dict()` and an optimizer's, e.g.::

    {'state': {0: {'step': 3, 'exp_avg': array([...])}},
     'param_groups': [{'lr': 0.1, 'betas': (0.9, 0.999), 'params': [0, 1]}]}

The file format is an ordinary numpy ``.npz`` (a zip archive of ``.npy`` files):

- ``__chainrule__`` is a 1-d ``uint8`` array holding a UTF-8 JSON document::

      {"format": "chainrule-checkpoint", "version": 1, "root": <node>}

  where a node is ``{"t": "none"}``, ``{"t": "bool"|"int"|"str", "v": ...}``,
  ``{"t": "float", "v": 0.1}`` (``"nan"``, ``"inf"``, ``"-inf"`` as strings), ``{"t": "list"|
  "tuple", "items": [node, ...]}``, ``{"t": "dict", "keys": [node, ...], "values": [node, ...]}``
  (keys are int or str nodes, in insertion order), or ``{"t": "array"|"scalar", "key": "a0",
  "dtype": "<f4", "shape": [3, 4]}`` for an array (a numpy scalar is stored as a 0-d array);
- every array is stored under its key (``a0``, ``a1``, ...); an array that appears twice in
  `obj` (a tied weight) is stored once and loaded as one array referenced twice.

Loading reads the archive with ``np.load(path, allow_pickle=False)`` and decodes the JSON, so a
checkpoint is data only: nothing in it is ever unpickled or executed. Object arrays (which
numpy can only store by pickling) are refused by `save`, and a file holding pickled data
(a ``pickle``/``torch.save`` file, or an ``.npz`` with object arrays) is refused by `load` with
a `CheckpointError`, without unpickling it.

Because the format is a plain ``.npz``, the arrays are also readable without chainrule:
``np.load(path)["a0"]``; the JSON says which key is which.

`save` writes atomically: it writes a temporary file in the same directory, flushes and fsyncs
it, and renames it over `path` with `os.replace`. If anything fails part way, the previous
file at `path` is untouched and the temporary file is removed.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Tensor

__all__ = ["CheckpointError", "FORMAT", "VERSION", "load", "save"]

#: The format name written into every checkpoint's header.
FORMAT = "chainrule-checkpoint"
#: The header version this code writes; `load` refuses newer versions.
VERSION = 1

_HEADER = "__chainrule__"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_NPY_MAGIC = b"\x93NUMPY"

PathLike = str | os.PathLike


class CheckpointError(ValueError):
    """A file that cannot be loaded as a checkpoint: corrupt, truncated, not a checkpoint, or
    holding pickled data. The message names the file and the problem."""


# ---------------------------------------------------------------------------------------------
# encoding: Python structure -> (JSON node, arrays)
# ---------------------------------------------------------------------------------------------


class _Encoder:
    """Walks `obj`, collecting arrays under generated keys and building the JSON tree."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        # id(array) -> key, so an array referenced twice is stored once. The arrays are kept
        # alive by `obj` during the walk, so ids cannot be reused.
        self._keys: dict[int, str] = {}
        self._open: set[int] = set()  # containers on the current path (cycle detection)

    def _array(self, array: np.ndarray, where: str, tag: str) -> dict:
        if array.dtype.hasobject:
            raise ValueError(
                f"cannot save an object array (dtype {array.dtype}) at {where}: numpy stores "
                "object arrays by pickling, which this format never does; convert it to a "
                "numeric or string dtype")
        key = self._keys.get(id(array))
        if key is None:
            key = f"a{len(self.arrays)}"
            self._keys[id(array)] = key
            self.arrays[key] = array
        return {"t": tag, "key": key, "dtype": array.dtype.str, "shape": list(array.shape)}

    def encode(self, obj: Any, where: str) -> dict:
        # numpy scalars first (np.float64 is a subclass of float), and bool before int (bool is
        # a subclass of int).
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, np.generic):
            return self._array(np.asarray(obj), where, "scalar")
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": int(obj)}
        if isinstance(obj, float):
            value = float(obj)
            return {"t": "float", "v": value if math.isfinite(value) else repr(value)}
        if isinstance(obj, str):
            return {"t": "str", "v": str(obj)}
        if isinstance(obj, Tensor):
            return self._array(obj.data, where, "array")
        if isinstance(obj, np.ndarray):
            return self._array(obj, where, "array")
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._open:
                raise ValueError(f"cannot save a structure that contains itself (at {where})")
            self._open.add(id(obj))
            try:
                if isinstance(obj, dict):
                    return self._dict(obj, where)
                tag = "tuple" if isinstance(obj, tuple) else "list"
                items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
                return {"t": tag, "items": items}
            finally:
                self._open.discard(id(obj))
        raise TypeError(
            f"cannot save a value of type '{type(obj).__name__}' at {where}: supported are "
            "dict, list, tuple, numpy arrays and scalars, autograd.Tensor, int, float, bool, "
            "str and None")

    def _dict(self, obj: dict, where: str) -> dict:
        keys, values = [], []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(
                    f"cannot save a dict key of type '{type(k).__name__}' ({k!r}) at {where}: "
                    "keys must be str or int")
            keys.append({"t": "str", "v": k} if isinstance(k, str) else {"t": "int", "v": int(k)})
            values.append(self.encode(v, f"{where}[{k!r}]"))
        return {"t": "dict", "keys": keys, "values": values}


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------


def save(obj: Any, path: PathLike) -> None:
    """Write `obj` (a state dict or any nested structure described above) to `path`.

    The file is an ``.npz`` archive (no extension is added to `path`). The write is atomic:
    a temporary file in the same directory is written, flushed and fsynced, then renamed over
    `path`, so a failure or a crash part way leaves any previous file at `path` intact.

    Raises:
        TypeError: a value or dict key of an unsupported type (the message says where).
        ValueError: an object array, or a structure that contains itself.
        OSError: the directory does not exist or is not writable.
    """
    path = Path(os.fspath(path))
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")
    header = {"format": FORMAT, "version": VERSION, "root": root}
    text = json.dumps(header, allow_nan=False, separators=(",", ":"))
    arrays: dict[str, np.ndarray] = {_HEADER: np.frombuffer(text.encode("ascii"), np.uint8)}
    arrays.update(encoder.arrays)

    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot save to '{path}': directory '{directory}' does not exist")
    fd, tmp = _create_temporary(directory, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            # A file object, so numpy writes exactly here (given a name it would append .npz).
            # Object arrays were refused above, so nothing is pickled.
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Also on KeyboardInterrupt: never leave a half-written temporary file behind.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _create_temporary(directory: Path, name: str) -> tuple[int, Path]:
    """A new file next to the target. Created with mode 0o666 like any file `open` makes, so the
    user's umask applies (tempfile.mkstemp would make every checkpoint private, 0o600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file for '{directory / name}'")


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------


def _looks_like_pickle(head: bytes) -> bool:
    # Pickle protocols 2 to 5 start with the PROTO opcode (0x80) and the protocol number.
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _check_kind(path: Path, head: bytes) -> None:
    """Refuse, from the first bytes alone, files that are certainly not an .npz checkpoint."""
    if head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC):
        return
    if not head:
        raise CheckpointError(f"'{path}' is empty: not a chainrule checkpoint")
    if _looks_like_pickle(head):
        raise CheckpointError(
            f"'{path}' is a pickle file (e.g. from pickle.dump or an old torch.save), not a "
            "chainrule checkpoint; it was not unpickled, because unpickling can run arbitrary "
            "code")
    if head.startswith(_NPY_MAGIC):
        raise CheckpointError(
            f"'{path}' is a single .npy array, not a chainrule checkpoint; read it with np.load")
    raise CheckpointError(
        f"'{path}' is not a chainrule checkpoint (not a zip/.npz archive; it starts with "
        f"{head[:8]!r})")


def load(path: PathLike) -> Any:
    """Read a checkpoint written by `save` and return the structure that was saved.

    Array leaves come back as numpy arrays (writable, with the saved dtype and shape), also
    where a Tensor was saved: `Module.load_state_dict` and the optimizers' `load_state_dict`
    take arrays. Dict key types (int or str), tuples vs lists, and Python vs numpy scalar types
    are restored as saved. The file is read with ``np.load(allow_pickle=False)``: loading never
    unpickles or executes anything.

    Raises:
        FileNotFoundError: no file at `path`.
        CheckpointError: (a ValueError) the file is not a chainrule checkpoint (a text file, a
            plain ``.npz``, a pickle), is truncated or corrupt, holds pickled object arrays,
            or was written by a newer format version. The message names the file.
    """
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at '{path}': the file does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot load '{path}': it is a directory, not a checkpoint")
    with open(path, "rb") as f:
        head = f.read(8)
    _check_kind(path, head)

    try:
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files)
            if _HEADER not in names:
                shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
                what = f"a plain .npz archive (arrays: {shown})" if names else "an empty archive"
                if any(name.endswith(".pkl") for name in archive.zip.namelist()):
                    what = "a zip holding pickled data (e.g. from torch.save); it was not unpickled"
                raise CheckpointError(
                    f"'{path}' is not a chainrule checkpoint: it is {what}, with no "
                    f"'{_HEADER}' header")
            header = _read_header(path, archive[_HEADER])
            return _Decoder(path, archive, names).decode(header["root"])
    except CheckpointError:
        raise
    except ValueError as e:
        if "pickle" in str(e):
            raise CheckpointError(
                f"'{path}' holds a pickled object array; it was refused and not unpickled, "
                "because unpickling can run arbitrary code") from e
        raise CheckpointError(f"'{path}' is corrupt: {e}") from e
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, RecursionError) as e:
        raise CheckpointError(
            f"'{path}' is truncated or corrupt and cannot be read: "
            f"{type(e).__name__}: {e}") from e


def _read_header(path: Path, raw: np.ndarray) -> dict:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"'{path}' is corrupt: the '{_HEADER}' header is not uint8 bytes")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"'{path}' is corrupt: its header is not valid JSON ({e})") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(
            f"'{path}' is not a chainrule checkpoint: its header names no '{FORMAT}' format")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"'{path}' is corrupt: bad format version {version!r}")
    if version > VERSION:
        raise CheckpointError(
            f"'{path}' was written in checkpoint format version {version}; this version of "
            f"chainrule reads versions up to {VERSION}: upgrade chainrule to load it")
    if "root" not in header:
        raise CheckpointError(f"'{path}' is corrupt: its header has no 'root'")
    return header


class _Decoder:
    """Rebuilds the structure from the JSON tree, checking each array against the header."""

    def __init__(self, path: Path, archive: Any, names: set[str]) -> None:
        self.path = path
        self.archive = archive
        self.names = names
        self.loaded: dict[str, np.ndarray] = {}

    def _corrupt(self, problem: str) -> CheckpointError:
        return CheckpointError(f"'{self.path}' is corrupt: {problem}")

    def _array(self, node: dict) -> np.ndarray:
        key = node.get("key")
        if not isinstance(key, str) or key == _HEADER or key not in self.names:
            raise self._corrupt(f"the header refers to a missing array {key!r}")
        array = self.loaded.get(key)
        if array is None:
            array = self.archive[key]
            self.loaded[key] = array
        if array.dtype.str != node.get("dtype") or list(array.shape) != node.get("shape"):
            raise self._corrupt(
                f"array {key!r} has dtype {array.dtype.str} and shape {list(array.shape)}, but "
                f"the header says dtype {node.get('dtype')} and shape {node.get('shape')}")
        return array

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict):
            raise self._corrupt(f"malformed header entry {node!r}")
        tag = node.get("t")
        if tag == "none":
            return None
        if tag in ("bool", "int", "str"):
            value = node.get("v")
            kind = {"bool": bool, "int": int, "str": str}[tag]
            # type() is exact on purpose: JSON true is a bool, and bool is also an int.
            if type(value) is not kind:
                raise self._corrupt(f"a {tag} entry holds {value!r}")
            return value
        if tag == "float":
            value = node.get("v")
            if isinstance(value, str) and value in ("nan", "inf", "-inf"):
                return float(value)
            if type(value) not in (int, float):
                raise self._corrupt(f"a float entry holds {value!r}")
            return float(value)
        if tag in ("list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                raise self._corrupt(f"a {tag} entry has no item list")
            values = [self.decode(item) for item in items]
            return tuple(values) if tag == "tuple" else values
        if tag == "dict":
            keys, values = node.get("keys"), node.get("values")
            if not isinstance(keys, list) or not isinstance(values, list) or \
                    len(keys) != len(values):
                raise self._corrupt("a dict entry has mismatched keys and values")
            out = {}
            for k, v in zip(keys, values):
                key = self.decode(k)
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise self._corrupt(f"a dict key is {key!r}, not str or int")
                out[key] = self.decode(v)
            return out
        if tag == "array":
            return self._array(node)
        if tag == "scalar":
            array = self._array(node)
            if array.ndim != 0:
                raise self._corrupt(f"scalar {node.get('key')!r} is not 0-d")
            return array[()]
        raise self._corrupt(f"unknown entry type {tag!r}")
