"""Smoke test of the benchmarks: `python -m benchmarks.run --quick` runs every workload at tiny
sizes, every implementation passes its numerical cross-check, and the table and results file
show them all. These are not timed tests; only that the scripts work and check what they claim.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from benchmarks import harness, mlp, run

#: A word of each workload's case titles, as the table shows them.
TITLES = {"mlp": "SGD step, batch", "ops": "-op chain (mul, add, relu)",
          "deep": "-op chain, forward+backward", "cnn": "LeNet-5-like CNN",
          "micrograd": "micrograd demo", "memory": "peak RSS"}


@pytest.fixture(scope="module")
def quick_run():
    """One quick run of every workload without the optional frameworks (as on a bare CI box)."""
    cfg = harness.Config(quick=True, frameworks=frozenset({"chainrule", "numpy"}))
    return run.run_workloads(cfg, list(run.WORKLOADS))


def test_every_workload_runs_and_every_check_passes(quick_run):
    results = quick_run
    assert {r.workload for r in results} == set(run.WORKLOADS)
    failed = [(r.case, r.impl, r.check) for r in results if r.check.startswith("FAILED")]
    assert failed == []
    # Every chainrule row ran, was checked against numpy and got a time (or memory) and ratio.
    ours = [r for r in results if r.impl.startswith("chainrule")]
    assert {r.workload for r in ours} == set(run.WORKLOADS)
    for r in ours:
        assert r.check == "ok", (r.case, r.impl, r.check)
        assert r.value is not None and r.value > 0 and r.ratio is not None and r.ratio > 0
    # The numpy reference of each case is its own unit of measure.
    for r in results:
        if r.impl.startswith("numpy") and r.value is not None:
            assert r.ratio == pytest.approx(1.0)


def test_deep_chain_graph_is_freed_by_refcounting(quick_run):
    results = quick_run
    mem = [r for r in results if r.workload == "deep" and r.tag.startswith("memory-")
           and r.impl == "chainrule"]
    assert len(mem) == 1 and mem[0].extra["freed"] == 1.0


def test_main_prints_the_table_and_writes_the_results_file(tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    (out).write_text("old table\n\n## What each optimization bought\n\nkept by hand\n")
    rc = run.main(["--quick", "--only", "mlp,cnn", "--frameworks", "chainrule,numpy",
                   "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| workload | implementation | median | vs numpy | check | notes |" in printed
    assert TITLES["mlp"] in printed and TITLES["cnn"] in printed
    assert TITLES["micrograd"] not in printed  # --only
    assert "FAILED" not in printed
    text = out.read_text()
    assert text.startswith("# Benchmark results")
    assert "## Machine" in text and "- numpy: " in text and "- CPU: " in text
    assert "- other processes during the run: " in text
    assert "- ... during each workload: mlp " in text and ", cnn " in text
    assert "| chainrule (autograd ops) |" in text and "| ok |" in text
    assert "old table" not in text
    assert text.rstrip().endswith("## What each optimization bought\n\nkept by hand")


def test_table_names_every_workload(quick_run):
    results = quick_run
    table = harness.table(results)
    for workload, title in TITLES.items():
        assert title in table, workload


def test_missing_torch_and_micrograd_are_reported_not_installed(monkeypatch):
    # None in sys.modules makes `import torch` raise ImportError, as when it is not installed.
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "micrograd", None)
    cfg = harness.Config(quick=True)
    assert not harness.available("torch", cfg)
    results = run.run_workloads(cfg, ["mlp"])
    torch_rows = [r for r in results if r.impl.startswith("torch")]
    assert torch_rows and all(r.check == "not installed" and r.value is None for r in torch_rows)
    assert all(not r.check.startswith("FAILED") for r in results)


def test_a_wrong_gradient_fails_the_cross_check():
    p = mlp.problem((6, 5, 3), 4)
    ref = harness.one_step(mlp.numpy_impl(p), p.init)

    def wrong(problem):
        step, params = mlp.numpy_impl(problem)

        def bad_step():
            loss = step()
            params()[0] += 1e-3  # as if the first weight's gradient were off
            return loss

        return bad_step, params

    assert harness.check_step(mlp.chainrule_ops_impl, p, ref) == "ok"
    assert harness.check_step(wrong, p, ref).startswith("FAILED: 'update of param 0' off by")


def test_compare_reports_shape_and_missing_entries():
    ref = {"loss": np.asarray(1.0), "w": np.ones(3)}
    assert harness.compare(ref, {"loss": 1.0 + 1e-7, "w": np.ones(3)}) == "ok"
    assert harness.compare(ref, {"loss": 1.0}) == "FAILED: no 'w'"
    assert harness.compare(ref, {"loss": 1.0, "w": np.ones(4)}) == (
        "FAILED: 'w' has shape (4,), expected (3,)")
    assert harness.compare(ref, {"loss": np.nan, "w": np.ones(3)}).startswith(
        "FAILED: 'loss' off by nan")


def test_goals_are_read_off_the_rows():
    rows = [harness.Result("mlp", "c", "numpy (hand-written)", 1e-3, "ms", 1.0, tag="big"),
            harness.Result("mlp", "c", "chainrule (autograd ops)", 1.05e-3, "ms", 1.05,
                           tag="big"),
            harness.Result("ops", "c", "chainrule", 5e-6, "us/op", 2.0, tag="relu-1"),
            harness.Result("ops", "c", "torch (eager)", 12e-6, "us/op", 5.0, tag="relu-1")]
    got = {g: (m, ok) for g, m, ok in run.goals(rows)}
    assert got["big MLP step, autograd ops: <= 1.10x numpy"] == ("1.050x", "yes")
    assert got["per-op forward+backward, shape (1,): < 6 us"] == ("5.000 us/op", "yes")
    assert got["per-op forward+backward, shape (1,): <= half of PyTorch's"] == (
        "0.417x of torch (eager)", "yes")
    assert got["small MLP step, nn + optim: <= 2.0x numpy"] == ("not measured", "-")
    # Three decimals, so that a ratio just over a limit does not read as meeting it.
    rows[1].ratio = 1.1004
    got = {g: (m, ok) for g, m, ok in run.goals(rows)}
    assert got["big MLP step, autograd ops: <= 1.10x numpy"] == ("1.100x", "NO")


@pytest.mark.parametrize("argv, message", [
    (["--only", "nope"], "unknown workload nope"),
    (["--frameworks", "jax"], "unknown framework jax"),
    (["--repeats", "0"], "--repeats must be at least 1"),
])
def test_bad_arguments_are_rejected(argv, message, capsys):
    with pytest.raises(SystemExit):
        run.parse_args(argv)
    assert message in capsys.readouterr().err


def test_fusion_summary_compares_fused_and_unfused_rows():
    rows = [harness.Result("mlp", "MLP big", "chainrule (autograd ops)", 2e-3, "ms", tag="big"),
            harness.Result("mlp", "MLP big", "chainrule (unfused ops)", 3e-3, "ms", tag="big")]
    assert run.fusion(rows) == [
        "- MLP big: 3.000 ms from unfused ops (matmul, add, log_softmax, indexing, mean) -> "
        "2.000 ms with `linear` and `cross_entropy(reduction='mean')` (33% less)"]
    assert run.fusion(rows[:1]) == []


def test_ratios_pair_the_samples_of_each_round():
    ref = harness.Result("w", "c", "numpy", 2.0, "s", samples=[1.0, 2.0, 3.0])
    other = harness.Result("w", "c", "x", 2.4, "s", samples=[3.0, 2.2, 2.4])
    alone = harness.Result("w", "c", "y", 5.0, "MB")
    harness.ratios([ref, other, alone], "numpy")
    assert ref.ratio == 1.0
    assert other.ratio == pytest.approx(1.1)  # median of 3.0, 1.1, 0.8 (not 2.4 / 2.0)
    assert alone.ratio == pytest.approx(2.5)  # no samples: the values' ratio


def test_interleave_rotates_the_order_and_collects_what_each_sample_left():
    import gc
    import weakref

    calls: list[str] = []
    garbage: list[weakref.ref] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    def make(name: str):
        def case() -> None:
            if calls and calls[-1] == "a" and name == "b":
                # a's cyclic garbage is collected before b's sample starts
                assert all(r() is None for r in garbage)
            calls.append(name)
            if name == "a":
                garbage.append(weakref.ref(Cycle()))
        return case

    kept = Cycle()  # alive before timing starts: frozen while it runs, tracked again after
    times = harness.interleave({"a": make("a"), "b": make("b")}, repeats=3)
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3}
    # one calibration call each, then rounds in rotated order: ab, ba, ab
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]
    assert gc.get_freeze_count() == 0 and gc.is_tracked(kept)


def test_a_sample_pays_for_collecting_its_own_cyclic_garbage_only(monkeypatch):
    clock = [0.0]
    found = {"cyclic": 7, "clean": 0}
    current = ["clean"]

    class FakeTime:
        @staticmethod
        def perf_counter() -> float:
            return clock[0]

    class FakeGC:
        @staticmethod
        def collect() -> int:
            clock[0] += 1.0  # every collection takes a second
            return found[current[0]]

    def call(kind: str):
        def fn() -> None:
            current[0] = kind
            clock[0] += 2.0  # every call takes two seconds
        return fn

    monkeypatch.setattr(harness, "time", FakeTime)
    monkeypatch.setattr(harness, "gc", FakeGC)
    assert harness._sample(call("clean"), 4) == 2.0
    assert harness._sample(call("cyclic"), 4) == 2.25  # (4 * 2 s + 1 s of collection) / 4


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux's")
def test_keep_freed_memory_sets_glibcs_thresholds_in_its_own_process():
    import subprocess

    code = ("from benchmarks import harness; print(harness.keep_freed_memory())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    if "mallopt is not available" in out:  # a Linux without glibc (musl)
        assert out == "default (glibc's mallopt is not available here)"
    else:
        assert out == ("freed memory kept in the process (M_TRIM_THRESHOLD=1024 MiB, "
                       "M_MMAP_THRESHOLD=32 MiB)")
