"""nn.serialization: checkpoints that round-trip exactly and never execute code on load."""

from __future__ import annotations

import json
import math
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
import nn
import optim
from nn import serialization
from nn.serialization import CheckpointError, load, save


def plain(obj: Any) -> Any:
    """What `load` should return for `obj`: Tensors become their arrays, the rest unchanged."""
    if isinstance(obj, autograd.Tensor):
        return obj.data
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(plain(v) for v in obj)
    return obj


def assert_same(got: Any, want: Any, where: str = "obj") -> None:
    """Exact structural equality: types (int vs bool, tuple vs list, numpy scalar types), dict
    key types and order, array dtypes and shapes, NaN and the sign of zero."""
    assert type(got) is type(want), f"{where}: {type(got)} != {type(want)}"
    if isinstance(want, dict):
        assert [(type(k), k) for k in got] == [(type(k), k) for k in want], where
        for k in want:
            assert_same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape, where
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, np.generic):
        assert got.dtype == want.dtype, where
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, float):
        assert (math.isnan(got) and math.isnan(want)) or (
            got == want and math.copysign(1.0, got) == math.copysign(1.0, want)), where
    else:
        assert got == want, where


def round_trip(obj: Any, path: Path) -> Any:
    save(obj, path)
    return load(path)


def write_npz(path: Path, header: Any, **arrays: np.ndarray) -> None:
    """A hand-made archive with a given JSON header, to exercise load's checks."""
    text = json.dumps(header).encode()
    np.savez(path, __chainrule__=np.frombuffer(text, np.uint8), **arrays)
    # np.savez appends .npz to a bare name.
    Path(str(path) + ".npz").replace(path)


def header_of(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(archive["__chainrule__"].tobytes().decode())


# --------------------------------------------------------------------------- round trips


def optimizer_state() -> dict:
    return {
        "state": {
            0: {"step": 3, "exp_avg": np.arange(6, dtype=np.float32).reshape(2, 3),
                "exp_avg_sq": np.full((2, 3), 0.5, dtype=np.float32)},
            1: {"step": 3, "exp_avg": np.zeros(3, dtype=np.float32),
                "exp_avg_sq": np.ones(3, dtype=np.float32)},
        },
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                          "amsgrad": False, "maximize": False, "foreach": None,
                          "params": [0, 1]}],
    }


def test_optimizer_state_dict_round_trip(tmp_path: Path) -> None:
    obj = optimizer_state()
    got = round_trip(obj, tmp_path / "opt.ckpt")
    assert_same(got, obj)
    # The details that matter to an optimizer: int keys stay ints, betas stays a tuple.
    assert list(got["state"]) == [0, 1]
    assert got["param_groups"][0]["betas"] == (0.9, 0.999)
    assert got["param_groups"][0]["foreach"] is None


def test_module_state_dict_of_tensors_loads_as_arrays(tmp_path: Path) -> None:
    weight = autograd.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    running = autograd.Tensor(np.array([1.0, 2.0], dtype=np.float64))
    state = {"fc.weight": weight, "bn.running_var": running,
             "bn.num_batches_tracked": autograd.Tensor(np.array(7, dtype=np.int64))}
    got = round_trip(state, tmp_path / "model.ckpt")
    assert list(got) == ["fc.weight", "bn.running_var", "bn.num_batches_tracked"]
    assert all(type(v) is np.ndarray for v in got.values())
    assert_same(got, plain(state))
    # Arrays come back writable and independent of the saved tensors.
    got["fc.weight"][0, 0] = 100.0
    assert weight.data[0, 0] == 0.0


@pytest.mark.parametrize("array", [
    np.arange(24, dtype=np.float16).reshape(2, 3, 4),
    np.linspace(-1, 1, 7, dtype=np.float32),
    np.array([np.pi, -0.0, np.inf, -np.inf, np.nan]),
    np.arange(-5, 5, dtype=np.int8),
    np.array([0, 2**63 - 1], dtype=np.uint64),
    np.array([True, False, True]),
    np.array([1 + 2j, -3.5j], dtype=np.complex64),
    np.arange(6, dtype=">f4").reshape(3, 2),
    np.array(["ab", "ünï", ""]),
    np.array(3.5, dtype=np.float32),
    np.zeros((0, 3), dtype=np.float32),
    np.arange(12.0).reshape(3, 4).T,
    np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
])
def test_arrays_keep_dtype_shape_and_values(tmp_path: Path, array: np.ndarray) -> None:
    got = round_trip({"x": array}, tmp_path / "a.ckpt")["x"]
    assert got.dtype == array.dtype
    assert got.shape == array.shape
    np.testing.assert_array_equal(got, array)


def test_python_and_numpy_scalars_keep_their_types(tmp_path: Path) -> None:
    obj = [None, True, False, 0, -(2**70), 1.5, -0.0, float("nan"), float("inf"),
           float("-inf"), "", "naïve ✓ \ud800", np.float32(0.1), np.float64(2.5), np.int64(-3),
           np.uint8(255), np.bool_(True), np.complex128(1 - 1j)]
    got = round_trip(obj, tmp_path / "s.ckpt")
    assert_same(got, obj)
    assert type(got[12]) is np.float32 and got[12] == np.float32(0.1)


def test_containers_keep_their_kind_and_key_order(tmp_path: Path) -> None:
    obj = {"b": [], "a": (), 2: {}, 1: [(1,), [1]], "2": {"nested": {"deeper": [{"x": 1}]}}}
    got = round_trip(obj, tmp_path / "c.ckpt")
    assert_same(got, obj)
    assert list(got) == ["b", "a", 2, 1, "2"]
    assert 2 in got and "2" in got and got[2] == {} and got["2"] != {}


@pytest.mark.parametrize("obj", [None, 3, "text", np.arange(3), [1, 2], (np.float32(1),)])
def test_top_level_need_not_be_a_dict(tmp_path: Path, obj: Any) -> None:
    assert_same(round_trip(obj, tmp_path / "t.ckpt"), obj)


def test_shared_array_is_stored_once_and_loaded_shared(tmp_path: Path) -> None:
    tied = np.arange(4, dtype=np.float32)
    path = tmp_path / "tied.ckpt"
    got = round_trip({"encoder.weight": tied, "decoder.weight": autograd.Tensor(tied)}, path)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["__chainrule__.npy", "a0.npy"]
    assert got["encoder.weight"] is got["decoder.weight"]
    np.testing.assert_array_equal(got["encoder.weight"], tied)


def test_file_is_a_readable_npz_with_a_versioned_header(tmp_path: Path) -> None:
    path = tmp_path / "h.ckpt"
    save({"w": np.ones((2, 2), np.float32), "step": 5}, path)
    header = header_of(path)
    assert header["format"] == "chainrule-checkpoint" == serialization.FORMAT
    assert header["version"] == 1 == serialization.VERSION
    assert header["root"] == {
        "t": "dict",
        "keys": [{"t": "str", "v": "w"}, {"t": "str", "v": "step"}],
        "values": [{"t": "array", "key": "a0", "dtype": "<f4", "shape": [2, 2]},
                   {"t": "int", "v": 5}]}
    with np.load(path, allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["a0"], np.ones((2, 2)))


def test_save_takes_str_and_pathlike_and_adds_no_extension(tmp_path: Path) -> None:
    save([1], str(tmp_path / "plain"))
    save([2], tmp_path / "other.pt")
    assert sorted(os.listdir(tmp_path)) == ["other.pt", "plain"]
    assert load(str(tmp_path / "plain")) == [1]
    assert load(tmp_path / "other.pt") == [2]


finite = st.floats(allow_nan=True, allow_infinity=True)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**80), 2**80), finite, st.text(max_size=8),
    hnp.arrays(st.sampled_from([np.float32, np.float64, np.int16, np.bool_]),
               hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
    hnp.from_dtype(np.dtype(np.float32)), hnp.from_dtype(np.dtype(np.float64)),
    hnp.from_dtype(np.dtype(np.int64)), hnp.from_dtype(np.dtype(np.bool_)),
)
structures = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(-50, 50)), children,
                        max_size=4),
    ),
    max_leaves=12,
)


@given(obj=structures)
def test_round_trip_of_any_nested_structure(tmp_path_factory: pytest.TempPathFactory,
                                            obj: Any) -> None:
    path = tmp_path_factory.mktemp("prop") / "x.ckpt"
    assert_same(round_trip(obj, path), obj)


def test_training_resumes_exactly_from_a_checkpoint(tmp_path: Path) -> None:
    """Model and Adam state saved mid-training and loaded into fresh objects continue the run
    bit for bit."""
    x = autograd.randn(32, 3)
    y = autograd.randn(32, 2)

    def step(model: nn.Module, opt: optim.Optimizer) -> None:
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    for _ in range(3):
        step(model, opt)
    path = tmp_path / "run.ckpt"
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)

    checkpoint = load(path)
    assert checkpoint["epoch"] == 3
    assert checkpoint["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.99)
    assert all(type(v) is np.ndarray for v in checkpoint["model"].values())
    resumed = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    resumed_opt = optim.Adam(resumed.parameters(), lr=0.5)
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert resumed_opt.param_groups[0]["lr"] == 0.01

    step(model, opt)
    step(resumed, resumed_opt)
    for (name, p), q in zip(model.named_parameters(), resumed.parameters()):
        assert p.dtype == q.dtype == np.float32
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


# --------------------------------------------------------------------------- what save refuses


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "obj.ckpt"
    with pytest.raises(ValueError, match=r"object array \(dtype object\) at obj\['bad'\]"):
        save({"ok": np.ones(2), "bad": np.array([{"a": 1}], dtype=object)}, path)
    assert not path.exists()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("obj, message", [
    ({"s": {1, 2}}, r"type 'set' at obj\['s'\]"),
    ([1, [2, object()]], r"type 'object' at obj\[1\]\[1\]"),
    ({1.5: "x"}, r"dict key of type 'float' \(1.5\) at obj: keys must be str or int"),
    ({True: "x"}, r"dict key of type 'bool'"),
    ({(1, 2): "x"}, r"dict key of type 'tuple'"),
    (b"bytes", r"type 'bytes' at obj"),
])
def test_unsupported_values_are_refused_naming_where(tmp_path: Path, obj: Any,
                                                     message: str) -> None:
    with pytest.raises(TypeError, match=message):
        save(obj, tmp_path / "x.ckpt")
    assert os.listdir(tmp_path) == []


def test_a_structure_containing_itself_is_refused(tmp_path: Path) -> None:
    loop: list = [1]
    loop.append({"again": loop})
    with pytest.raises(ValueError, match=r"contains itself \(at obj\[1\]\['again'\]\)"):
        save(loop, tmp_path / "loop.ckpt")
    # The same list twice side by side is not a cycle.
    shared = [1, 2]
    assert round_trip([shared, shared], tmp_path / "ok.ckpt") == [[1, 2], [1, 2]]


def test_save_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="directory '.*nowhere' does not exist"):
        save({"a": 1}, tmp_path / "nowhere" / "x.ckpt")


# --------------------------------------------------------------------------- atomic writes


def test_failed_write_keeps_the_previous_checkpoint(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.ckpt"
    save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()

    def crash(file: Any, **arrays: np.ndarray) -> None:
        file.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save({"w": np.arange(5.0)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.ckpt"]  # the temporary file was removed
    np.testing.assert_array_equal(load(path)["w"], np.arange(3.0))


def test_interrupted_rename_keeps_the_previous_checkpoint(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    path = tmp_path / "model.ckpt"
    save({"step": 1}, path)

    def interrupted(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"step": 2}, path)
    assert os.listdir(tmp_path) == ["model.ckpt"]
    monkeypatch.undo()
    assert load(path) == {"step": 1}


def test_save_fsyncs_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append("replace")
        assert Path(src).parent == Path(dst).parent  # same directory, so the rename is atomic
        real_replace(src, dst)

    monkeypatch.setattr(serialization.os, "fsync", fsync)
    monkeypatch.setattr(serialization.os, "replace", replace)
    save({"a": np.ones(2)}, tmp_path / "x.ckpt")
    assert events[:2] == ["fsync", "replace"]
    assert os.listdir(tmp_path) == ["x.ckpt"]


def test_save_overwrites_an_existing_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "x.ckpt"
    save({"v": 1}, path)
    save({"v": 2}, path)
    assert load(path) == {"v": 2}
    assert os.listdir(tmp_path) == ["x.ckpt"]


def test_saved_file_permissions_follow_the_umask(tmp_path: Path) -> None:
    # A checkpoint is an ordinary file: mode 0o666 less the umask, not a private 0o600 one.
    old = os.umask(0o022)
    try:
        save({"a": 1}, tmp_path / "x.ckpt")
    finally:
        os.umask(old)
    assert (tmp_path / "x.ckpt").stat().st_mode & 0o777 == (0o644 if os.name == "posix"
                                                            else 0o666)


# --------------------------------------------------------------------------- what load refuses


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no checkpoint at '.*absent.ckpt'"):
        load(tmp_path / "absent.ckpt")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        load(tmp_path)


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.ckpt"
    save({"w": np.arange(1000, dtype=np.float64), "b": np.ones(10)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.ckpt' is truncated or corrupt"):
        load(path)


def test_corrupted_bytes_are_detected_by_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "flip.ckpt"
    values = np.arange(1000, dtype=np.float64)
    save({"w": values}, path)
    data = bytearray(path.read_bytes())
    # Flip bytes inside the array's data, leaving the zip structure intact.
    start = data.index(values[500:502].tobytes())
    data[start: start + 8] = bytes(b ^ 0xFF for b in data[start: start + 8])
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="flip.ckpt' is truncated or corrupt.*CRC"):
        load(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ckpt"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty.ckpt' is empty: not a chainrule checkpoint"):
        load(path)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(CheckpointError,
                       match=r"notes.txt' is not a chainrule checkpoint \(not a zip"):
        load(path)


def test_plain_npz(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, weight=np.ones(3), bias=np.zeros(3))
    with pytest.raises(CheckpointError,
                       match=r"arrays.npz' is not a chainrule checkpoint: it is a plain \.npz "
                             r"archive \(arrays: bias, weight\)"):
        load(path)


def test_single_npy_file(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.ones(3))
    with pytest.raises(CheckpointError, match="w.npy' is a single .npy array"):
        load(path)


def test_other_zip(tmp_path: Path) -> None:
    path = tmp_path / "docs.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="not a chainrule checkpoint"):
        load(path)


def test_header_of_another_format(tmp_path: Path) -> None:
    path = tmp_path / "other.ckpt"
    write_npz(path, {"format": "something-else", "version": 1, "root": {"t": "none"}})
    with pytest.raises(CheckpointError, match="header names no 'chainrule-checkpoint' format"):
        load(path)


def test_newer_format_version(tmp_path: Path) -> None:
    path = tmp_path / "future.ckpt"
    write_npz(path, {"format": "chainrule-checkpoint", "version": 2, "root": {"t": "none"}})
    with pytest.raises(CheckpointError, match="format version 2; .* reads versions up to 1"):
        load(path)


def test_header_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.ckpt"
    np.savez(path, __chainrule__=np.frombuffer(b"{not json", np.uint8))
    Path(str(path) + ".npz").replace(path)
    with pytest.raises(CheckpointError, match="bad.ckpt' is corrupt: its header is not valid"):
        load(path)


@pytest.mark.parametrize("root, arrays, message", [
    ({"t": "array", "key": "a7", "dtype": "<f8", "shape": [2]}, {},
     "refers to a missing array 'a7'"),
    ({"t": "array", "key": "a0", "dtype": "<f4", "shape": [2]}, {"a0": np.ones(2)},
     "array 'a0' has dtype <f8 and shape \\[2\\], but the header says dtype <f4"),
    ({"t": "array", "key": "a0", "dtype": "<f8", "shape": [3]}, {"a0": np.ones(2)},
     "the header says dtype <f8 and shape \\[3\\]"),
    ({"t": "scalar", "key": "a0", "dtype": "<f8", "shape": [2]}, {"a0": np.ones(2)},
     "scalar 'a0' is not 0-d"),
    ({"t": "mystery"}, {}, "unknown entry type 'mystery'"),
    ({"t": "int", "v": "7"}, {}, "a int entry holds '7'"),
    ({"t": "bool", "v": 1}, {}, "a bool entry holds 1"),
    ({"t": "float", "v": "1e3"}, {}, "a float entry holds '1e3'"),
    ({"t": "list"}, {}, "a list entry has no item list"),
    ({"t": "dict", "keys": [{"t": "str", "v": "a"}], "values": []}, {},
     "mismatched keys and values"),
    ({"t": "dict", "keys": [{"t": "none"}], "values": [{"t": "none"}]}, {},
     "a dict key is None"),
    ([1, 2], {}, "malformed header entry \\[1, 2\\]"),
])
def test_inconsistent_header(tmp_path: Path, root: Any, arrays: dict, message: str) -> None:
    path = tmp_path / "h.ckpt"
    write_npz(path, {"format": "chainrule-checkpoint", "version": 1, "root": root}, **arrays)
    with pytest.raises(CheckpointError, match="h.ckpt' is corrupt: .*" + message):
        load(path)


# --------------------------------------------------------------------------- no code execution


class _Exploit:
    """Unpickling this object calls open(marker, 'w'), i.e. runs code that creates a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (open, (self.marker, "w"))


class _ShellExploit:
    """Unpickling this object runs a shell command that creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch '{self.marker}'",))


def _assert_payload_is_live(payload: bytes, marker: Path) -> None:
    """The crafted bytes really do run code when unpickled (so the tests below can fail)."""
    result = pickle.loads(payload)  # noqa: S301  (deliberate: proves the exploit works)
    if hasattr(result, "close"):
        result.close()
    assert marker.exists()
    marker.unlink()


@pytest.mark.parametrize("exploit", [_Exploit, _ShellExploit])
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_not_executed(tmp_path: Path, exploit: type,
                                          protocol: int) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"weight": exploit(marker)}, protocol=protocol)
    if exploit is _Exploit:
        _assert_payload_is_live(payload, marker)
    path = tmp_path / "evil.pt"
    path.write_bytes(payload)
    with pytest.raises(CheckpointError, match="evil.pt' is a pickle file .* was not unpickled"):
        load(path)
    assert not marker.exists()


def test_malicious_protocol0_pickle_is_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Exploit(marker), protocol=0)
    _assert_payload_is_live(payload, marker)
    path = tmp_path / "evil0.pt"
    path.write_bytes(payload)
    with pytest.raises(CheckpointError, match="evil0.pt' is not a chainrule checkpoint"):
        load(path)
    assert not marker.exists()


def test_pickled_object_array_inside_a_checkpoint_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = np.array([_Exploit(marker)], dtype=object)
    path = tmp_path / "evil.ckpt"
    # A valid header that points at a pickled object array (np.savez pickles object arrays).
    write_npz(path, {"format": "chainrule-checkpoint", "version": 1,
                     "root": {"t": "array", "key": "a0", "dtype": "|O", "shape": [1]}},
              a0=evil)
    with np.load(path, allow_pickle=True) as archive:  # the file is live: unpickling runs it
        archive["a0"][0].close()
    assert marker.exists()
    marker.unlink()
    with pytest.raises(CheckpointError,
                       match="evil.ckpt' holds a pickled object array; it was refused"):
        load(path)
    assert not marker.exists()


def test_plain_npz_with_pickled_object_array_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([_Exploit(marker)], dtype=object))
    with pytest.raises(CheckpointError, match="not a chainrule checkpoint: it is a plain .npz"):
        load(path)
    assert not marker.exists()


def test_torch_style_zip_with_pickle_inside_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(_Exploit(marker)))
        z.writestr("archive/version", "3\n")
    with pytest.raises(CheckpointError,
                       match="model.pt' is not a chainrule checkpoint: it is a zip holding "
                             "pickled data"):
        load(path)
    assert not marker.exists()


def test_load_uses_numpy_without_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real_load = np.load

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    save({"a": np.ones(2)}, tmp_path / "x.ckpt")
    monkeypatch.setattr(serialization.np, "load", spy)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads called"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle.load called"))
    load(tmp_path / "x.ckpt")
    assert calls == [False]
