"""Compiled-tape benchmark (issues 6 and 14): one training step of the moons MLP on every engine.

Run:  python benchmarks/bench_tape.py --heavy    (torch and matplotlib imported first: torch rows, ~3 minutes)
      python benchmarks/bench_tape.py            (a bare process: no torch rows)
      python benchmarks/bench_tape.py --quick    (few repeats, small batches: checks it runs)

The step: MLP 2 -> width -> width (ReLU) -> 1 (linear) on n moons samples, full batch,
loss mean(relu(1 - y * score)) + 1e-4 * sum(p * p), forward + backward + SGD update,
from the same initial weights in every engine:
  tape                 autograd_mini.trace: the per-example graph recorded once, replayed
                       with numpy; the parameters stay one array between steps, as
                       `train.fit(compiled=True)` keeps them.
  numpy closed form    the same step written by hand with numpy matrix products (the
                       floor: what the tape's numpy calls could cost at best).
  torch tensors        the same step with float64 PyTorch tensors and autograd, on one
                       thread (only in the heavy process: a bare process imports no torch).
  autograd_mini eager  the scalar engine (batch 100, width 16 only).
  micrograd            micrograd 0.1.0's demo code, gc on and off (batch 100, width 16 only).
Every library runs on one thread (numpy's BLAS via OPENBLAS_NUM_THREADS=1, torch via
set_num_threads(1)); gc runs with its automatic collections only. No timing is asserted;
targets are printed with PASS / MISS.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
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
    speedup,
    torch_if_imported,
)

from autograd_mini import Value, sum_of, trace
from autograd_mini.nn import MLP
from autograd_mini.nn.datasets import make_moons

LR = 0.05
ALPHA = 1e-4
TAPE, EAGER, MG, MG_OFF, TORCH = "tape", "autograd_mini eager", "micrograd", "micrograd (gc off)", "torch tensors"
NUMPY = "numpy closed form"
TAPE_MG = "tape (in micrograd's rounds)"
TARGETS = [
    Target("moons step", TAPE, MG, 300.0),
    Target("moons step", TAPE, EAGER, 15.0),
]
SIZES = [(100, 16), (1_000, 16), (10_000, 16), (100, 64), (1_000, 64), (10_000, 64)]


def scaling_targets(n: int, width: int) -> list[Target]:
    """Issue 14's targets at one size: tape vs torch (faster at width 16 up to batch 1,000, else
    within 1.5x) and tape vs the numpy closed form (within 2.5x everywhere)."""
    workload = f"{n:,} x {width}"
    versus_torch = 1.0 if width == 16 and n <= 1_000 else 1.0 / 1.5
    return [Target(workload, TAPE, TORCH, versus_torch), Target(workload, TAPE, NUMPY, 1.0 / 2.5)]


class Problem:
    """Moons data (labels -1/+1) and the initial weights of an MLP(2, [width, width, 1])."""

    def __init__(self, n: int, width: int, seed: int = 1) -> None:
        X, y = make_moons(n, noise=0.1, seed=0)
        self.X = [[float(a), float(b)] for a, b in X]
        self.y = [2.0 * label - 1.0 for label in y]
        self.width = width
        model = MLP(2, [width, width, 1], activation="relu", output_activation="linear", seed=seed)
        self.initial = [p.data for p in model.parameters()]
        self.n = n

    def model(self) -> MLP:
        """A fresh autograd_mini MLP holding the initial weights."""
        model = MLP(2, [self.width, self.width, 1], activation="relu", output_activation="linear", seed=0)
        for p, v in zip(model.parameters(), self.initial, strict=True):
            p.data = v
        return model

    def layer_arrays(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The initial weights as (W of shape (nout, nin), b) per layer."""
        sizes, flat, layers = [2, self.width, self.width, 1], iter(self.initial), []
        for nin, nout in zip(sizes[:-1], sizes[1:], strict=True):
            rows = [[next(flat) for _ in range(nin + 1)] for _ in range(nout)]
            layers.append((np.array([r[:nin] for r in rows]), np.array([r[nin] for r in rows])))
        return layers


def assign(params: Sequence[Any], values: Sequence[float]) -> None:
    """Write `values` into the parameters' .data."""
    for p, v in zip(params, values, strict=True):
        p.data = v


# --- contenders ---------------------------------------------------------------------------------
def tape_contender(problem: Problem) -> tuple[Contender, Any]:
    """The tape step: replay, SGD on the parameter array, values written back into the Values."""
    model = problem.model()
    params = model.parameters()

    def loss_fn(params: list[Value], inputs: list[Value]) -> Value:
        x0, x1, t = inputs
        return (1 - t * model([x0, x1])).relu() + ALPHA * sum_of([p * p for p in params])

    rows = np.array([[a, b, t] for (a, b), t in zip(problem.X, problem.y, strict=True)])
    tape = trace(loss_fn, params, rows[0], check_inputs=rows[1:2])

    state = {"values": np.array(problem.initial)}

    def step() -> list[float]:
        result = tape.value_and_grad(rows, state["values"])
        assert result.grads is not None
        state["values"] = state["values"] - LR * result.grads  # kept as an array between steps, as fit does
        return [result.loss, float(result.grads[0])]

    def setup() -> None:
        state["values"] = np.array(problem.initial)

    return Contender(TAPE, step, setup=setup), tape


def eager_contender(problem: Problem) -> Contender:
    """autograd_mini's scalar engine, one graph per step."""
    model = problem.model()
    params = model.parameters()

    def step() -> list[float]:
        for p in params:
            p.grad = 0.0
        losses = [(1 - t * model(x)).relu() for x, t in zip(problem.X, problem.y, strict=True)]
        loss = sum_of(losses) / len(losses) + ALPHA * sum_of([p * p for p in params])
        loss.backward()
        first = params[0].grad
        for p in params:
            p.data -= LR * p.grad
        return [loss.data, first]

    return Contender(EAGER, step, setup=lambda: assign(params, problem.initial))


def micrograd_contenders(problem: Problem) -> list[Contender]:
    """micrograd's demo step, gc enabled and disabled (empty when micrograd is missing)."""
    try:
        from micrograd.engine import Value as MicroValue
        from micrograd.nn import MLP as MicroMLP
    except ImportError:
        return []
    model = MicroMLP(2, [problem.width, problem.width, 1])
    params = model.parameters()

    def step() -> list[float]:
        inputs = [list(map(MicroValue, x)) for x in problem.X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * score).relu() for yi, score in zip(problem.y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        loss = data_loss + ALPHA * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        first = params[0].grad
        for p in params:
            p.data -= LR * p.grad
        return [loss.data, first]

    def setup() -> None:
        assign(params, problem.initial)

    limit = 100_000  # micrograd's recursive topological sort
    return [Contender(MG, step, setup=setup, gc_mode=GC_AUTO, recursion_limit=limit),
            Contender(MG_OFF, step, setup=setup, gc_mode=GC_OFF, recursion_limit=limit)]


def torch_contender(problem: Problem) -> Contender | None:
    """The step with float64 torch tensors: matmuls over the batch (None unless torch was imported)."""
    torch = torch_if_imported()
    if torch is None:
        return None
    torch.set_num_threads(1)
    X = torch.tensor(problem.X, dtype=torch.float64)
    y = torch.tensor(problem.y, dtype=torch.float64)
    initial = [(torch.tensor(w), torch.tensor(b)) for w, b in problem.layer_arrays()]
    weights = [t.clone().requires_grad_(True) for pair in initial for t in pair]

    def step() -> list[float]:
        for w in weights:
            w.grad = None
        h = X
        for i in range(0, len(weights), 2):
            h = h @ weights[i].T + weights[i + 1]
            if i < len(weights) - 2:
                h = torch.relu(h)
        loss = torch.relu(1 - y * h[:, 0]).mean() + ALPHA * sum((w * w).sum() for w in weights)
        loss.backward()
        with torch.no_grad():
            for w in weights:
                w -= LR * w.grad
        return [loss.item(), weights[0].grad[0, 0].item()]

    def setup() -> None:
        with torch.no_grad():
            for w, v in zip(weights, [t for pair in initial for t in pair], strict=True):
                w.copy_(v)

    return Contender(TORCH, step, setup=setup)


def numpy_contender(problem: Problem) -> Contender:
    """The step by hand with numpy: forward, the backward of each layer as matrix products
    (the closed form the tape's table rows amount to), L2 term, SGD."""
    X = np.array(problem.X)
    y = np.array(problem.y)
    initial = problem.layer_arrays()
    layers = [[w.copy(), b.copy()] for w, b in initial]

    def step() -> list[float]:
        zs, hs = [], [X]
        for i, (w, b) in enumerate(layers):
            z = hs[-1] @ w.T + b
            zs.append(z)
            hs.append(np.maximum(z, 0.0) if i < len(layers) - 1 else z)
        margin = 1.0 - y * hs[-1][:, 0]
        squares = sum(float((w * w).sum() + (b * b).sum()) for w, b in layers)
        loss = float(np.maximum(margin, 0.0).mean()) + ALPHA * squares
        dz = (-(y * (margin > 0.0)) / len(y))[:, None]
        grads = []
        for i in range(len(layers) - 1, -1, -1):
            w, b = layers[i]
            grads.append((dz.T @ hs[i] + 2.0 * ALPHA * w, dz.sum(axis=0) + 2.0 * ALPHA * b))
            if i:
                dz = (dz @ w) * (zs[i - 1] > 0.0)
        grads.reverse()
        for (w, b), (dw, db) in zip(layers, grads, strict=True):
            w -= LR * dw
            b -= LR * db
        return [loss, float(grads[0][0][0, 0])]

    def setup() -> None:
        for layer, (w, b) in zip(layers, initial, strict=True):
            layer[0], layer[1] = w.copy(), b.copy()

    return Contender(NUMPY, step, setup=setup)


# --- reports ------------------------------------------------------------------------------------
def faster(reference: Contender | None, contender: Contender) -> float | None:
    """How many times faster `contender` is than `reference`, per step."""
    return speedup(reference, contender)


def timed(contender: Contender, steps: int, gc_mode: str = GC_AUTO) -> Contender:
    """`contender` run `steps` times back to back per timed block (a training loop), in `gc_mode`.

    Its result (for the check column) stays the first step's after each setup,
    so engines timed over different numbers of steps compare the same numbers.
    """
    run, setup = contender.run, contender.setup
    first: dict[str, Any] = {}

    def fresh() -> None:
        if setup is not None:
            setup()
        first.clear()

    def step() -> Any:
        return first.setdefault("result", run())

    contender.run, contender.setup = step, fresh
    contender.steps, contender.gc_mode = steps, gc_mode
    contender.warm = True  # every row alike: one untimed step after the untimed collection
    return contender


def clocked(contenders: Sequence[Contender], repeats: int, warmup: int) -> None:
    """common.measure on the wall clock.

    Its default clock, process CPU time, also counts the threads torch and
    numpy's BLAS keep spinning after a call, which made a 0.4 ms tape step read
    as 4 ms once torch had run in the process.
    """
    measure(contenders, repeats=repeats, warmup=warmup, clock=time.perf_counter)


def step_table(quick: bool) -> list[str]:
    """The moons step (batch 100, width 16) on every engine: median ms per step, ratios, check, targets."""
    problem = Problem(100, 16)
    fast = [timed(tape_contender(problem)[0], 20), timed(numpy_contender(problem), 20),
            timed(eager_contender(problem), 2)]
    torch_row = torch_contender(problem)
    if torch_row is not None:
        fast.insert(1, timed(torch_row, 20))
    # Interleaved rounds (common.measure), so load drift hits every engine alike.
    clocked(fast, repeats=5 if quick else 40, warmup=2)
    # micrograd takes about a second a step: its own rounds, interleaved with the tape again
    # so that its ratio compares runs made under the same machine load.
    slow = micrograd_contenders(problem)
    slow = [timed(c, 1, c.gc_mode) for c in slow]
    if slow:
        tape_again = timed(tape_contender(problem)[0], 20)
        tape_again.name = TAPE_MG
        slow.insert(0, tape_again)
        clocked(slow, repeats=1 if quick else 5, warmup=0 if quick else 1)
    contenders = fast + slow
    by_name = {c.name: c for c in contenders}
    reference = by_name[EAGER].result
    headers = ["engine", "median ms/step", "tape is x faster", "check (loss, dL/dw0 of step 1)"]
    rows = []
    for c in contenders:
        tape = by_name[TAPE_MG] if c.name in (MG, MG_OFF) else by_name[TAPE]
        rows.append([c.name, f"{c.median * 1e3:.3f}", format_ratio(faster(c, tape)),
                     check_text(reference, c.result, 1e-9)])
    lines = ["moons step: MLP(2, [16, 16, 1]), 100 samples, forward + backward + SGD update", "",
             format_table(headers, rows), "", "targets:"]
    for target in TARGETS:
        tape = by_name.get(TAPE_MG, by_name[TAPE]) if target.reference == MG else by_name[TAPE]
        measured = faster(by_name.get(target.reference), tape)
        lines.append(f"  tape vs {target.reference}: {format_ratio(measured)} (>= {target.minimum:.0f}x faster)"
                     f" {target.verdict(measured)}")
    return lines


def scaling_table(quick: bool) -> list[str]:
    """Time per step of the tape, torch and the numpy closed form for batch 100 / 1,000 / 10,000
    and width 16 / 64, with issue 14's targets."""
    headers = ["batch x width", "tape ms", "torch ms", "numpy closed form ms", "tape / torch", "tape / numpy",
               "targets (torch, numpy)", "check", "groups", "chunk"]
    rows = []
    sizes = [(100, 16), (1_000, 16), (100, 64)] if quick else SIZES
    for n, width in sizes:
        problem = Problem(n, width)
        steps = {100: 20, 1_000: 10, 10_000: 2}[n]
        tape_row, tape = tape_contender(problem)
        contenders = [timed(tape_row, steps), timed(numpy_contender(problem), steps)]
        torch_row = torch_contender(problem)
        if torch_row is not None:
            contenders.append(timed(torch_row, steps))
        clocked(contenders, repeats=3 if quick else (15 if n < 10_000 else 9), warmup=1)
        by_name = {c.name: c for c in contenders}
        verdicts = []
        for target in scaling_targets(n, width):
            verdicts.append(target.verdict(speedup(by_name.get(target.reference), by_name[TAPE])))
        torch_c = by_name.get(TORCH)
        rows.append([f"{n:,} x {width}", f"{by_name[TAPE].median * 1e3:.3f}",
                     "-" if torch_c is None else f"{torch_c.median * 1e3:.3f}",
                     f"{by_name[NUMPY].median * 1e3:.3f}",
                     "-" if torch_c is None else f"{by_name[TAPE].median / torch_c.median:.2f}",
                     f"{by_name[TAPE].median / by_name[NUMPY].median:.2f}", ", ".join(verdicts),
                     check_text(by_name[NUMPY].result, by_name[TAPE].result, 1e-9), str(tape.n_groups),
                     str(tape.chunk_size)])
    return ["time per step as the batch and the width grow (forward + backward + update, one thread)",
            "targets: tape faster than torch at width 16 up to batch 1,000, else within 1.5x of it;"
            " within 2.5x of the numpy closed form everywhere", "",
            format_table(headers, rows)]


def main(argv: Sequence[str] | None = None) -> None:
    """Print the step table, the targets and the scaling table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, small sizes: check that it runs")
    parser.add_argument("--heavy", action="store_true", help="import torch and matplotlib first (torch rows)")
    parser.add_argument("--no-step-table", action="store_true", help="only the scaling table")
    args = parser.parse_args(argv)
    random.seed(0)  # micrograd's MLP draws its (overwritten) initial weights from `random`
    print(environment_line())
    print(process_line(import_heavy() if args.heavy else None))
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"load average at start: {_load()}")
    if not args.no_step_table:
        print()
        print("\n".join(step_table(args.quick)))
    print()
    print("\n".join(scaling_table(args.quick)))
    print(f"\nload average at end: {_load()} (wall-clock medians of interleaved rounds: other processes")
    print("on a busy machine inflate every engine's time alike, so the ratios are the numbers to read)")


def _load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3]) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


if __name__ == "__main__":
    one_thread()
    sys.exit(main())
