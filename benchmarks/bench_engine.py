"""Engine benchmark for issue 2: autograd_mini against micrograd 0.1.0 and PyTorch scalar tensors.

Run:  python benchmarks/bench_engine.py            (full sizes, bare process, about 8 minutes of CPU)
      python benchmarks/bench_engine.py --heavy    (torch and matplotlib imported first; torch rows)
      python benchmarks/bench_engine.py --quick    (tiny sizes, a few seconds: checks it runs)

Workloads (the same ops, data and initial weights for every engine):
  moons step  MLP 2 -> 16 -> 16 (ReLU) -> 1 (linear) on 100 moons samples, loss
              mean(relu(1 - y*score)) + 1e-4 * sum(p*p), forward + backward + SGD update.
              autograd_mini uses its n-ary nodes (dot for net_j of (1.1), sum_of for the
              mean and the regularizer); a second autograd_mini row runs micrograd's exact
              binary-op code, to show what the n-ary nodes buy.
  deep chain  x = x * 1.0000001 + 0.0000001, 100,000 ops, forward + backward.
  wide sum    sum(a_i * b_i) over 100,000 pairs with binary + and * only, forward + backward.
  memory      RSS growth per graph node for 1,000,000 nodes after backward, each engine
              in a fresh subprocess.
No timing is asserted anywhere; targets are printed with PASS / MISS.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from common import (
    GC_AUTO,
    GC_OFF,
    Contender,
    Target,
    check_text,
    environment_line,
    format_ratio,
    format_table,
    import_heavy,
    measure,
    one_thread,
    process_line,
    rss_bytes,
    speedup,
    torch_if_imported,
)

from autograd_mini import Value, dot, sum_of

# Row names used in tables and targets.
AM = "autograd_mini"
AM_OFF = "autograd_mini (gc off)"
AM_BINARY = "autograd_mini (binary ops)"
MG = "micrograd"
MG_OFF = "micrograd (gc off)"
TORCH = "torch scalars"

CHAIN_FACTOR = 1.0000001
CHAIN_OFFSET = 0.0000001


# --- engines: the few things that differ between autograd_mini, micrograd and torch ------------
@dataclass(frozen=True)
class Engine:
    """How to make a leaf, read numbers back and update parameters in one engine."""

    name: str
    leaf: Callable[[float], Any]
    number: Callable[[Any], float]
    grad: Callable[[Any], float]
    zero_grad: Callable[[Sequence[Any]], None]
    assign: Callable[[Sequence[Any], Sequence[float]], None]
    sgd: Callable[[Sequence[Any], float], None]


def _set_grads(params: Sequence[Any], value: Any) -> None:
    for p in params:
        p.grad = value


def _assign_data(params: Sequence[Any], values: Sequence[float]) -> None:
    for p, v in zip(params, values):
        p.data = v


def _sgd_data(params: Sequence[Any], lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad


def autograd_mini_engine() -> Engine:
    """autograd_mini's Value."""
    return Engine(AM, Value, lambda v: v.data, lambda v: v.grad,
                  lambda ps: _set_grads(ps, 0.0), _assign_data, _sgd_data)


def micrograd_engine() -> Engine | None:
    """micrograd 0.1.0's Value, or None when micrograd is not installed."""
    try:
        from micrograd.engine import Value as MicroValue
    except ImportError:
        return None
    return Engine(MG, MicroValue, lambda v: float(v.data), lambda v: float(v.grad),
                  lambda ps: _set_grads(ps, 0), _assign_data, _sgd_data)


def torch_engine(always: bool = False) -> Engine | None:
    """One float64 torch tensor per scalar, or None when torch is not imported yet (a bare
    process stays bare; `always` imports it) or not installed."""
    torch = torch_if_imported()
    if torch is None and always:
        try:
            import torch
        except ImportError:
            return None
    if torch is None:
        return None

    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def assign(params: Sequence[Any], values: Sequence[float]) -> None:
        with torch.no_grad():
            for p, v in zip(params, values):
                p.fill_(v)

    def sgd(params: Sequence[Any], lr: float) -> None:
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad

    return Engine(TORCH, leaf, lambda t: t.item(), lambda t: 0.0 if t.grad is None else t.grad.item(),
                  lambda ps: _set_grads(ps, None), assign, sgd)


def micrograd_recursion_limit(nodes: int) -> int:
    """A recursion limit deep enough for micrograd's recursive build_topo on `nodes` nodes."""
    return 2 * nodes + 10_000


# --- workload 1: the moons step -------------------------------------------------------------------
Layers = list[tuple[list[list[Any]], list[Any]]]  # per layer: weight rows (one per neuron), biases


@dataclass(frozen=True)
class MoonsProblem:
    """Data and initial weights shared by every engine: X rows, labels in {-1, +1}, layer weights."""

    X: list[list[float]]
    y: list[float]
    layers: Layers

    def flat_weights(self) -> list[float]:
        """Initial weights in micrograd's parameters() order (per neuron: weights, then bias)."""
        return [p for rows, biases in self.layers for row, b in zip(rows, biases) for p in (*row, b)]


def make_moons_data(n: int, noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    """autograd_mini.nn.datasets.make_moons when it exists, else the same two interleaved half circles."""
    try:
        from autograd_mini.nn.datasets import make_moons
    except ImportError:
        pass
    else:
        X, y = make_moons(n, noise=noise, seed=seed)
        return [[float(a), float(b)] for a, b in X], [int(label) for label in y]
    rng = random.Random(seed)
    n_outer = n // 2
    X, y = [], []
    for i in range(n):
        outer = i < n_outer
        count = n_outer if outer else n - n_outer
        t = math.pi * (i if outer else i - n_outer) / max(count - 1, 1)
        x0, x1 = (math.cos(t), math.sin(t)) if outer else (1.0 - math.cos(t), 0.5 - math.sin(t))
        X.append([x0 + rng.gauss(0.0, noise), x1 + rng.gauss(0.0, noise)])
        y.append(0 if outer else 1)
    return X, y


def moons_problem(n_samples: int = 100, sizes: Sequence[int] = (2, 16, 16, 1), seed: int = 1337) -> MoonsProblem:
    """The moons data (labels mapped to -1/+1) and micrograd-style initial weights (uniform(-1, 1), bias 0)."""
    X, labels = make_moons_data(n_samples, noise=0.1, seed=seed)
    rng = random.Random(seed)
    layers: Layers = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        rows = [[rng.uniform(-1.0, 1.0) for _ in range(nin)] for _ in range(nout)]
        layers.append((rows, [0.0] * nout))
    return MoonsProblem(X, [2.0 * label - 1.0 for label in labels], layers)


def leaf_layers(engine: Engine, problem: MoonsProblem) -> tuple[Layers, list[Any]]:
    """The problem's initial weights as leaves of `engine`, and the flat parameter list."""
    layers = [([[engine.leaf(w) for w in row] for row in rows], [engine.leaf(b) for b in biases])
              for rows, biases in problem.layers]
    params = [p for rows, biases in layers for row, b in zip(rows, biases) for p in (*row, b)]
    return layers, params


def forward_binary(layers: Layers, x: Sequence[Any]) -> Any:
    """micrograd's MLP forward, op for op: act = sum(w_i * x_i, b); relu except on the last layer."""
    for index, (rows, biases) in enumerate(layers):
        last = index == len(layers) - 1
        outputs = []
        for row, b in zip(rows, biases):
            act = sum((wi * xi for wi, xi in zip(row, x)), b)
            outputs.append(act if last else act.relu())
        x = outputs
    return x[0]


def forward_nary(layers: Layers, x: Sequence[Any]) -> Value:
    """The same MLP with one `dot` node per neuron: net_j = sum_k w_kj O_k + b_j, (1.1)."""
    for index, (rows, biases) in enumerate(layers):
        last = index == len(layers) - 1
        outputs = []
        for row, b in zip(rows, biases):
            act = dot(row, x) + b
            outputs.append(act if last else act.relu())
        x = outputs
    return x[0]


def hinge_loss_binary(scores: Sequence[Any], y: Sequence[float], params: Sequence[Any]) -> Any:
    """mean(relu(1 - y*score)) + 1e-4 * sum(p*p), with Python's sum (a chain of binary +)."""
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + 1e-4 * sum(p * p for p in params)


def hinge_loss_nary(scores: Sequence[Value], y: Sequence[float], params: Sequence[Value]) -> Value:
    """The same loss with one `sum` node for the mean and one for the regularizer."""
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    return sum_of(losses) * (1.0 / len(losses)) + 1e-4 * sum_of([p * p for p in params])


def moons_step(engine: Engine, layers: Layers, params: Sequence[Any], problem: MoonsProblem,
               nary: bool, lr: float = 0.05) -> list[float]:
    """One training step: zero grads, forward, loss, backward, SGD. Returns [loss, grad of params[0]].

    The graph lives in locals only, so it is freed when this returns (inside the timing).
    """
    forward, loss_fn = (forward_nary, hinge_loss_nary) if nary else (forward_binary, hinge_loss_binary)
    engine.zero_grad(params)
    scores = [forward(layers, x) for x in problem.X]
    loss = loss_fn(scores, problem.y, params)
    loss.backward()
    first_grad = engine.grad(params[0])
    engine.sgd(params, lr)
    return [engine.number(loss), first_grad]


def moons_contender(name: str, engine: Engine, problem: MoonsProblem, nary: bool, gc_mode: str = GC_AUTO,
                    recursion: int | None = None, steps: int = 1) -> Contender:
    """A moons-step contender: `steps` steps per timed block, weights reset (untimed) before each block."""
    layers, params = leaf_layers(engine, problem)
    initial = problem.flat_weights()
    return Contender(name, lambda: moons_step(engine, layers, params, problem, nary),
                     setup=lambda: engine.assign(params, initial), gc_mode=gc_mode, recursion_limit=recursion,
                     steps=steps)


# --- workloads 2 and 3: deep chain, wide sum ---------------------------------------------------------
def deep_chain(engine: Engine, n_ops: int) -> list[float]:
    """x = x * 1.0000001 + 0.0000001 for n_ops / 2 steps, then backward: [x, dx/dx0]."""
    x0 = engine.leaf(0.5)
    x = x0
    for _ in range(n_ops // 2):
        x = x * CHAIN_FACTOR + CHAIN_OFFSET
    x.backward()
    return [engine.number(x), engine.grad(x0)]


def wide_leaves(engine: Engine, n_pairs: int, seed: int = 7) -> tuple[list[Any], list[Any]]:
    """n_pairs leaves a_i and b_i with the same random values in every engine."""
    rng = random.Random(seed)
    values = [(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)) for _ in range(n_pairs)]
    return [engine.leaf(a) for a, _ in values], [engine.leaf(b) for _, b in values]


def wide_sum(engine: Engine, a: Sequence[Any], b: Sequence[Any]) -> list[float]:
    """sum(a_i * b_i) with binary + and * only (Python's sum: a chain of adds), then backward."""
    total = sum(ai * bi for ai, bi in zip(a, b))
    total.backward()
    return [engine.number(total), engine.grad(a[0]), engine.grad(b[-1])]


def wide_contender(name: str, engine: Engine, n_pairs: int, gc_mode: str = GC_AUTO,
                   recursion: int | None = None) -> Contender:
    """A wide-sum contender; its leaves are made once and their gradients zeroed (untimed) before each run."""
    a, b = wide_leaves(engine, n_pairs)
    return Contender(name, lambda: wide_sum(engine, a, b), setup=lambda: engine.zero_grad(a + b),
                     gc_mode=gc_mode, recursion_limit=recursion)


# --- the contenders of one workload, in table order ----------------------------------------------
def engines() -> tuple[Engine, Engine | None, Engine | None]:
    """(autograd_mini, micrograd or None, torch or None)."""
    return autograd_mini_engine(), micrograd_engine(), torch_engine()


def workload_contenders(workload: str, size: int, steps: int = 1) -> list[Contender]:
    """Every engine's contender for `workload` ("moons step", "deep chain", "wide sum") at `size`.

    Rows: autograd_mini (gc on), autograd_mini (gc off), [autograd_mini (binary ops)],
    micrograd (gc on), micrograd (gc off), torch scalars; "gc on" means GC_AUTO.
    """
    if workload not in ("moons step", "deep chain", "wide sum"):
        raise ValueError(f"unknown workload {workload!r}")
    am, mg, th = engines()
    deep = micrograd_recursion_limit(4 * size)  # comfortably above the node count of any of these graphs
    problem = moons_problem(n_samples=size) if workload == "moons step" else None

    def make(name: str, engine: Engine, gc_mode: str, recursion: int | None = None, nary: bool = False) -> Contender:
        if problem is not None:
            return moons_contender(name, engine, problem, nary, gc_mode, recursion, steps)
        if workload == "deep chain":
            return Contender(name, lambda: deep_chain(engine, size), gc_mode=gc_mode, recursion_limit=recursion)
        return wide_contender(name, engine, size, gc_mode, recursion)

    moons = workload == "moons step"
    rows = [make(AM, am, GC_AUTO, nary=moons), make(AM_OFF, am, GC_OFF, nary=moons)]
    if moons:
        rows.append(make(AM_BINARY, am, GC_AUTO))
    if mg is not None:
        rows += [make(MG, mg, GC_AUTO, deep), make(MG_OFF, mg, GC_OFF, deep)]
    if th is not None:
        rows.append(make(TORCH, th, GC_AUTO))
    return rows


def timing_rows(workload: str, contenders: Sequence[Contender]) -> list[list[str]]:
    """Table rows: workload | engine | median ms | vs micrograd | vs micrograd (gc off) | vs torch | check."""
    by_name = {c.name: c for c in contenders}
    reference = by_name[AM].result
    rows = []
    for c in contenders:
        rows.append([workload, c.name, f"{c.median * 1e3:.1f}",
                     format_ratio(speedup(by_name.get(MG), c)), format_ratio(speedup(by_name.get(MG_OFF), c)),
                     format_ratio(speedup(by_name.get(TORCH), c)), check_text(reference, c.result)])
    return rows


TIMING_HEADERS = ["workload", "engine", "median ms", "vs micrograd", "vs micrograd (gc off)", "vs torch", "check"]


# --- workload 4: memory per node, one engine per fresh subprocess --------------------------------------
def build_for_memory(engine: Engine, shape: str, nodes: int) -> tuple[Any, list[Any], int]:
    """A graph of about `nodes` nodes (constants and leaves counted), differentiated; (root, leaves, count)."""
    if shape == "chain":  # per step: constant, mul, constant, add
        steps = nodes // 4
        x0 = engine.leaf(0.5)
        x = x0
        for _ in range(steps):
            x = x * CHAIN_FACTOR + CHAIN_OFFSET
        x.backward()
        return x, [x0], 4 * steps + 1
    if shape == "wide":  # per pair: a_i, b_i, a_i * b_i, one add (+ the 0 that sum() starts from)
        pairs = nodes // 4
        a, b = wide_leaves(engine, pairs)
        total = sum(ai * bi for ai, bi in zip(a, b))
        total.backward()
        return total, a + b, 4 * pairs + 1
    raise ValueError(f"unknown shape {shape!r}")


def memory_child(engine_name: str, shape: str, nodes: int) -> dict[str, Any]:
    """Measure one engine in this (fresh) process: RSS growth per node with the graph and grads alive."""
    factories = {AM: autograd_mini_engine, MG: micrograd_engine, TORCH: lambda: torch_engine(always=True)}
    engine = factories[engine_name]()  # only this engine is imported into the child
    if engine is None:
        raise ImportError(f"{engine_name} is not installed")
    limit = micrograd_recursion_limit(nodes) if engine_name == MG else None
    if limit is not None:
        sys.setrecursionlimit(limit)
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    root, leaves, count = build_for_memory(engine, shape, nodes)
    seconds = time.perf_counter() - start
    after = rss_bytes()
    assert root is not None and leaves  # the graph and its gradients are alive while measuring
    return {"engine": engine_name, "shape": shape, "nodes": count, "bytes_per_node": (after - before) / count,
            "rss_before_mb": before / 2**20, "seconds": seconds,
            "recursion_limit": limit, "default_recursion_limit": sys.getrecursionlimit() == 1000}


def run_memory_child(engine_name: str, shape: str, nodes: int, timeout: float = 900.0) -> dict[str, Any] | str:
    """memory_child in a fresh interpreter; its JSON result, or an error text."""
    command = [sys.executable, __file__, "--memory-child", engine_name, shape, str(nodes)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        return f"failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:] or ''}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_table(nodes: int, torch_nodes: int) -> tuple[list[list[str]], dict[tuple[str, str], float]]:
    """Rows of the memory table and {(engine, shape): bytes per node}."""
    am, mg, th = engines()
    plan = [(e.name, nodes) for e in (am, mg) if e is not None] + ([(TORCH, torch_nodes)] if th else [])
    per_node: dict[tuple[str, str], float] = {}
    rows = []
    for shape in ("chain", "wide"):
        results = {}
        for name, n in plan:
            result = run_memory_child(name, shape, n)
            results[name] = result
            if isinstance(result, dict):
                per_node[(name, shape)] = result["bytes_per_node"]
        for name, _ in plan:
            result = results[name]
            if isinstance(result, str):
                rows.append([f"memory ({shape})", name, "-", "-", "-", "-", result])
                continue
            mine = result["bytes_per_node"]
            versus_mg = per_node.get((MG, shape))
            limit = result["recursion_limit"]
            note = f"recursion limit raised to {limit:,}" if limit else "default recursion limit"
            rows.append([f"memory ({shape})", name, f"{result['nodes']:,}", f"{mine:.0f}",
                         f"{result['rss_before_mb']:.0f}",
                         "-" if versus_mg is None else f"{mine / versus_mg:.2f}",
                         f"{result['seconds']:.1f} s build+backward; {note}"])
    return rows, per_node


MEMORY_HEADERS = ["workload", "engine", "nodes", "bytes/node (RSS after backward)", "RSS before (MiB)",
                  "fraction of micrograd", "note"]


# --- no recursion: autograd_mini under a recursion limit barely above the current depth ----------------
def runs_without_recursion(n_ops: int) -> bool:
    """True when a deep chain's backward works with the recursion limit 50 frames above the current depth."""
    am = autograd_mini_engine()
    depth = _stack_depth()
    previous = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(depth + 50)
        deep_chain(am, n_ops)
        a, b = wide_leaves(am, n_ops // 2)
        wide_sum(am, a, b)
    except RecursionError:
        return False
    finally:
        sys.setrecursionlimit(previous)
    return True


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


# --- main --------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 3 repeats: checks that it runs")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per workload (default 9)")
    parser.add_argument("--steps", type=int, default=None, help="moons steps per timed block (default 4)")
    parser.add_argument("--wall", action="store_true", help="wall-clock time instead of this process's CPU time")
    parser.add_argument("--heavy", action="store_true",
                        help="import torch and matplotlib first (and time torch scalars): a process with many objects")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--only", choices=("moons step", "deep chain", "wide sum"), action="append",
                        help="time only this workload (repeatable; default: all three)")
    parser.add_argument("--memory-child", nargs=3, metavar=("ENGINE", "SHAPE", "NODES"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run every workload and print the tables and targets."""
    args = parse_args(argv)
    if args.memory_child:
        engine_name, shape, nodes = args.memory_child
        print(json.dumps(memory_child(engine_name, shape, int(nodes))))
        return
    quick = args.quick
    repeats = args.repeats or (3 if quick else 9)
    steps = args.steps or (2 if quick else 4)
    clock = time.perf_counter if args.wall else time.process_time
    sizes = {"moons step": 10 if quick else 100, "deep chain": 2_000 if quick else 100_000,
             "wide sum": 2_000 if quick else 100_000}
    print(f"# autograd_mini engine benchmark{' (--quick)' if quick else ''}")
    print(environment_line())
    heavy = import_heavy() if args.heavy else None
    print(process_line(heavy))
    print_method(repeats, steps, args.wall)
    _, mg, _ = engines()
    if mg is not None:
        print(f"micrograd only: sys.setrecursionlimit raised to {micrograd_recursion_limit(4 * sizes['wide sum']):,}"
              " during its runs (its build_topo recurses); autograd_mini runs under the default limit of 1000")
    ratios: dict[tuple[str, str, str], float | None] = {}
    rows = []
    for workload, size in sizes.items():
        if args.only and workload not in args.only:
            continue
        contenders = workload_contenders(workload, size, steps if workload == "moons step" else 1)
        measure(contenders, repeats, clock=clock)
        rows += timing_rows(workload, contenders)
        by_name = {c.name: c for c in contenders}
        for c in contenders:
            for reference in (MG, MG_OFF, TORCH):
                ratios[(workload, c.name, reference)] = speedup(by_name.get(reference), c)
    print()
    print(format_table(TIMING_HEADERS, rows))

    per_node: dict[tuple[str, str], float] = {}
    if not args.no_memory:
        nodes = 20_000 if quick else 1_000_000
        print()
        print(f"memory: {nodes:,} nodes per graph (leaves and constants counted), one fresh subprocess per engine")
        print("and shape; RSS growth from before building to after backward (graph and gradients alive) / nodes")
        memory_rows, per_node = memory_table(nodes, nodes)
        print(format_table(MEMORY_HEADERS, memory_rows))
    print()
    print_targets(ratios, per_node, runs_without_recursion(sizes["deep chain"]))


def print_method(repeats: int, steps: int, wall: bool) -> None:
    """The measuring method, in a few lines above the table."""
    print(f"clock: {'wall time' if wall else 'process CPU time'}; medians over {repeats} interleaved rounds"
          f" (+1 warm-up); moons: {steps} steps back to back per timed block, reported per step")
    print("gc on = collector enabled, automatic collections only (nothing forced in the timing, nothing frozen);"
          " gc off = disabled, leaked cycles collected untimed; one untimed gc.collect() between blocks")
    print("ratio = reference median / row median (how many times faster the row is)")


def print_targets(ratios: dict[tuple[str, str, str], float | None], per_node: dict[tuple[str, str], float],
                  no_recursion: bool) -> None:
    """The issue's targets next to the measured numbers (gc-off autograd_mini rows: like for like, for context)."""
    targets = [Target("moons step", AM, MG, 20.0), Target("moons step", AM, MG_OFF, 3.0),
               Target("moons step", AM_OFF, MG_OFF, 3.0),
               Target("wide sum", AM, MG, 10.0)]  # the 2.5x over gc-off micrograd was withdrawn (issue 14)
    rows = []
    for t in targets:
        measured = ratios.get((t.workload, t.engine, t.reference))
        rows.append([t.workload, f"{t.engine} vs {t.reference}", f">= {t.minimum:g}x", format_ratio(measured),
                     t.verdict(measured)])
    for shape in ("chain", "wide"):
        mine, theirs = per_node.get((AM, shape)), per_node.get((MG, shape))
        fraction = None if mine is None or theirs is None else mine / theirs
        rows.append([f"memory ({shape})", f"{AM} / {MG} bytes per node", "<= 0.25",
                     "-" if fraction is None else f"{fraction:.3f}",
                     "n/a" if fraction is None else ("PASS" if fraction <= 0.25 else "MISS")])
    rows.append(["recursion", f"{AM} deep chain + wide sum", "no recursion limit",
                 "ran with limit = depth + 50" if no_recursion else "RecursionError",
                 "PASS" if no_recursion else "MISS"])
    print(format_table(["workload", "comparison", "target", "measured", "verdict"], rows))


if __name__ == "__main__":
    one_thread()
    main()
