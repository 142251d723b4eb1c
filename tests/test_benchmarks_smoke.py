"""Smoke tests for benchmarks/: every workload runs at a tiny size and the engines agree.

No timing is asserted: these check that the benchmark scripts still run and that
they compare like with like (the same loss and gradients from autograd_mini,
micrograd and PyTorch on identical weights and data). The micrograd and torch
parts are skipped when those packages are not installed.
"""

from __future__ import annotations

import gc
import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_benchmarks(*names: str) -> list[ModuleType]:
    """The benchmark scripts as modules named "benchmarks_<name>", loaded in order.

    The scripts import each other by their bare names (`from common import ...`),
    as they do when run as `python benchmarks/bench_engine.py`. While loading, each
    bare name is an alias of the module just loaded, so those imports find it; the
    aliases are removed afterwards, so no top-level `common` stays in sys.modules.
    """
    bare = {name: sys.modules.get(name) for name in names}
    modules = []
    try:
        for name in names:
            spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = sys.modules[name] = module
            spec.loader.exec_module(module)
            modules.append(module)
    finally:
        for name, previous in bare.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return modules


common, bench_engine, bench_nn, bench_tape = load_benchmarks("common", "bench_engine", "bench_nn", "bench_tape")

TINY_SIZES = (2, 3, 3, 1)


@pytest.fixture
def frozen_heap():
    """Freeze the test process's objects while a test times things, so each untimed gc.collect()
    between blocks is cheap (a test-suite speed-up only: the scripts freeze nothing)."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def step_and_grads(engine: bench_engine.Engine, nary: bool) -> tuple[float, list[float]]:
    """One moons step on a tiny problem: the loss and every parameter's gradient (before the update)."""
    problem = bench_engine.moons_problem(n_samples=6, sizes=TINY_SIZES, seed=3)
    layers, params = bench_engine.leaf_layers(engine, problem)
    forward = bench_engine.forward_nary if nary else bench_engine.forward_binary
    loss_fn = bench_engine.hinge_loss_nary if nary else bench_engine.hinge_loss_binary
    loss = loss_fn([forward(layers, x) for x in problem.X], problem.y, params)
    loss.backward()
    return engine.number(loss), [engine.grad(p) for p in params]


def hinge_by_hand(problem: bench_engine.MoonsProblem) -> float:
    """The moons loss computed with plain floats: the closed-form oracle."""
    total = 0.0
    for x, y in zip(problem.X, problem.y):
        values = list(x)
        for index, (rows, biases) in enumerate(problem.layers):
            nets = [sum(w * v for w, v in zip(row, values)) + b for row, b in zip(rows, biases)]
            values = nets if index == len(problem.layers) - 1 else [max(n, 0.0) for n in nets]
        total += max(1.0 - y * values[0], 0.0)
    return total / len(problem.X) + 1e-4 * sum(w * w for w in problem.flat_weights())


def test_moons_loss_matches_closed_form_and_binary_form() -> None:
    problem = bench_engine.moons_problem(n_samples=6, sizes=TINY_SIZES, seed=3)
    am = bench_engine.autograd_mini_engine()
    loss_nary, grads_nary = step_and_grads(am, nary=True)
    loss_binary, grads_binary = step_and_grads(am, nary=False)
    assert close(loss_nary, hinge_by_hand(problem))
    assert close(loss_binary, loss_nary)
    assert all(close(a, b) for a, b in zip(grads_nary, grads_binary))
    assert any(g != 0.0 for g in grads_nary)


@pytest.mark.parametrize("which", ["micrograd", "torch"])
def test_moons_step_agrees_with_other_engines(which: str) -> None:
    pytest.importorskip(which)
    other = bench_engine.micrograd_engine() if which == "micrograd" else bench_engine.torch_engine()
    assert other is not None
    loss, grads = step_and_grads(bench_engine.autograd_mini_engine(), nary=True)
    other_loss, other_grads = step_and_grads(other, nary=False)
    assert close(loss, other_loss)
    assert len(grads) == len(other_grads)
    assert all(close(a, b, rel=1e-10) for a, b in zip(grads, other_grads))


def test_moons_step_updates_weights_and_returns_loss() -> None:
    am = bench_engine.autograd_mini_engine()
    problem = bench_engine.moons_problem(n_samples=6, sizes=TINY_SIZES, seed=3)
    layers, params = bench_engine.leaf_layers(am, problem)
    loss, first_grad = bench_engine.moons_step(am, layers, params, problem, nary=True, lr=0.5)
    assert close(loss, hinge_by_hand(problem))
    assert close(params[0].data, problem.flat_weights()[0] - 0.5 * first_grad)


def test_deep_chain_and_wide_sum_match_closed_forms() -> None:
    am = bench_engine.autograd_mini_engine()
    f, c, steps = bench_engine.CHAIN_FACTOR, bench_engine.CHAIN_OFFSET, 300
    x, dx = bench_engine.deep_chain(am, 2 * steps)
    assert close(dx, f**steps, rel=1e-12)
    assert close(x, 0.5 * f**steps + c * (f**steps - 1) / (f - 1), rel=1e-9)
    a, b = bench_engine.wide_leaves(am, 50)
    total, da0, db_last = bench_engine.wide_sum(am, a, b)
    assert close(total, sum(ai.data * bi.data for ai, bi in zip(a, b)), rel=1e-12)
    assert da0 == b[0].data and db_last == a[-1].data


@pytest.mark.parametrize("which", ["micrograd", "torch"])
def test_deep_chain_and_wide_sum_agree_with_other_engines(which: str) -> None:
    pytest.importorskip(which)
    other = bench_engine.micrograd_engine() if which == "micrograd" else bench_engine.torch_engine()
    assert other is not None
    am = bench_engine.autograd_mini_engine()
    assert all(close(p, q) for p, q in zip(bench_engine.deep_chain(am, 400), bench_engine.deep_chain(other, 400)))
    ours = bench_engine.wide_sum(am, *bench_engine.wide_leaves(am, 40))
    theirs = bench_engine.wide_sum(other, *bench_engine.wide_leaves(other, 40))
    assert all(close(p, q) for p, q in zip(ours, theirs))


def test_time_once_modes_restore_gc_and_recursion_limit(frozen_heap: None) -> None:
    limit = sys.getrecursionlimit()
    calls = []
    for mode in (common.GC_AUTO, common.GC_OFF):
        contender = common.Contender(mode, lambda: calls.append(gc.isenabled()) or [1.0], gc_mode=mode,
                                     recursion_limit=limit + 1000, steps=2)
        assert common.time_once(contender) >= 0.0
        assert contender.result == [1.0]
        assert gc.isenabled() and sys.getrecursionlimit() == limit
    assert calls == [True, True, False, False]


def test_measure_interleaves_and_ratios(frozen_heap: None) -> None:
    order = []
    group = [common.Contender(name, lambda name=name: order.append(name)) for name in "abc"]
    common.measure(group, repeats=3, warmup=0)
    assert order == list("abc" "bca" "cab")
    assert all(len(c.times) == 3 for c in group)
    fast, slow = group[0], group[1]
    fast.times, slow.times = [1.0, 2.0, 3.0], [10.0, 20.0, 60.0]
    assert common.speedup(slow, fast) == pytest.approx(10.0)
    assert common.format_ratio(None) == "-" and common.format_ratio(2.0) == "2.00x"
    assert common.Target("w", "a", "b", 3.0).verdict(2.9) == "MISS"
    assert common.Target("w", "a", "b", 3.0).verdict(3.0) == "PASS"
    assert common.check_text([1.0, 2.0], [1.0, 2.5]).startswith("DIFFERS")
    table = common.format_table(["x", "long header"], [["1", "2"]]).splitlines()
    assert len(table) == 3 and len({len(line) for line in table}) == 1


def test_no_recursion_needed() -> None:
    assert bench_engine.runs_without_recursion(2_000)


def test_memory_child_in_a_subprocess() -> None:
    result = bench_engine.run_memory_child(bench_engine.AM, "wide", 4_000)
    assert isinstance(result, dict), result
    assert result["nodes"] == 4_001 and result["recursion_limit"] is None
    assert math.isfinite(result["bytes_per_node"]) and result["rss_before_mb"] > 0.0
    assert result["engine"] == bench_engine.AM and result["shape"] == "wide" and result["default_recursion_limit"]


def test_engine_script_runs_quick(capsys: pytest.CaptureFixture[str], frozen_heap: None) -> None:
    bench_engine.main(["--quick", "--no-memory", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "| moons step | autograd_mini" in out and "| wide sum" in out and "| deep chain" in out
    assert "DIFFERS" not in out
    assert "ran with limit = depth + 50" in out


def test_nn_benchmark_agrees_with_micrograd(capsys: pytest.CaptureFixture[str], frozen_heap: None) -> None:
    pytest.importorskip("micrograd")
    X, y = bench_nn.moons_data(8)
    reference = bench_nn.micrograd_model()
    ours = bench_nn.autograd_mini_model([p.data for p in reference.parameters()])
    optimizer = bench_nn.SGD(ours.parameters(), lr=1.0)
    our_loss, _ = bench_nn.autograd_mini_step(ours, optimizer, X, y, lr=0.5)
    their_loss, _ = bench_nn.micrograd_step(reference, X, y, lr=0.5)
    assert close(our_loss, their_loss)
    for p, q in zip(ours.parameters(), reference.parameters(), strict=True):
        assert close(p.grad, q.grad, rel=1e-9) and close(p.data, q.data, rel=1e-9)
    assert all(close(a, b, rel=1e-9) for a, b in zip(bench_nn.autograd_mini_training(ours, X, y, 3),
                                                     bench_nn.micrograd_training(reference, X, y, 3)))
    bench_nn.main(["--quick", "--repeats", "1", "--train-repeats", "1"])
    out = capsys.readouterr().out
    assert "| training (5 steps)" in out and "DIFFERS" not in out


def test_loading_the_scripts_leaves_no_bare_module_names() -> None:
    for module in (common, bench_engine, bench_nn, bench_tape):
        bare = module.__name__.removeprefix("benchmarks_")
        assert sys.modules[module.__name__] is module and sys.modules.get(bare) is not module
    assert bench_nn.hinge_loss_binary is bench_engine.hinge_loss_binary  # one copy of each script
    assert bench_engine.Contender is common.Contender


def test_numpy_closed_form_step_is_the_tapes_step() -> None:
    """The floor the tape is compared with computes the same step: loss and gradient of step 1,
    and the weights after three steps."""
    problem = bench_tape.Problem(30, 5)
    tape_row, _ = bench_tape.tape_contender(problem)
    numpy_row = bench_tape.numpy_contender(problem)
    for _ in range(3):
        ours, floor = tape_row.run(), numpy_row.run()
        assert all(close(a, b, rel=1e-12) for a, b in zip(ours, floor, strict=True))


def test_tape_script_runs_quick(capsys: pytest.CaptureFixture[str], frozen_heap: None) -> None:
    bench_tape.main(["--quick", "--no-step-table"])
    out = capsys.readouterr().out
    assert "| 100 x 16" in out and "| 100 x 64" in out and "DIFFERS" not in out
    assert "targets (torch, numpy)" in out


def test_heavy_process_helpers() -> None:
    line = common.process_line(None)
    assert line.startswith("bare process") and "objects tracked" in line
    assert common.process_line(["torch 2"]).startswith("heavy process (imported first: torch 2)")


def test_a_warm_block_makes_one_untimed_call_first(frozen_heap: None) -> None:
    calls = []
    contender = common.Contender("w", lambda: calls.append(1) or [1.0], steps=3, warm=True)
    common.time_once(contender)
    assert len(calls) == 4
    contender.warm = False
    common.time_once(contender)
    assert len(calls) == 7
