"""nn benchmark for issue 3: autograd_mini.nn.MLP against micrograd's own micrograd.nn.MLP.

Run:  python benchmarks/bench_nn.py            (full: moons step + 100-step training, several minutes)
      python benchmarks/bench_nn.py --heavy    (the same after importing torch and matplotlib)
      python benchmarks/bench_nn.py --quick    (tiny sizes: checks that it runs)

Both models are MLP(2, [16, 16, 1]) with ReLU hidden layers and a linear output
(micrograd's only architecture), on the same make_moons(100, noise=0.1) data;
micrograd's initial weights are copied into ours, so the losses agree to
rounding. Loss: mean(relu(1 - y*score)) + 1e-4 * sum(p*p), written for each
library the way its users write it: autograd_mini with `losses.hinge`,
`sum_of` and `optim.SGD`; micrograd exactly as in its demo notebook.
Workloads:
  moons step      one zero_grad + forward + loss + backward + SGD update.
  training run    100 such steps with micrograd's demo schedule lr = 1 - 0.9 k / 100.
No timing is asserted anywhere; targets are printed with PASS / MISS.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from typing import Any

from bench_engine import AM, AM_OFF, MG, MG_OFF, hinge_loss_binary, micrograd_recursion_limit
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
)

from autograd_mini import sum_of
from autograd_mini.nn import MLP
from autograd_mini.nn.datasets import make_moons
from autograd_mini.nn.losses import hinge
from autograd_mini.nn.optim import SGD

SIZES = [16, 16, 1]
ALPHA = 1e-4


def moons_data(n: int, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    """make_moons(n, noise=0.1) with labels mapped to -1 / +1."""
    X, y = make_moons(n, noise=0.1, seed=seed)
    return X, [2.0 * label - 1.0 for label in y]


def micrograd_model(seed: int = 1337) -> Any:
    """micrograd.nn.MLP(2, [16, 16, 1]) with random.seed(seed), as in its demo."""
    from micrograd.nn import MLP as MicroMLP

    random.seed(seed)
    return MicroMLP(2, SIZES)


def autograd_mini_model(weights: Sequence[float] | None = None, seed: int = 1337) -> MLP:
    """autograd_mini's MLP(2, [16, 16, 1], relu, linear output), optionally with the given weights.

    Both libraries list parameters layer by layer, neuron by neuron, weights then bias,
    so micrograd's parameters() values can be copied over one to one.
    """
    model = MLP(2, SIZES, activation="relu", output_activation="linear", seed=seed)
    if weights is not None:
        set_weights(model.parameters(), weights)
    return model


def set_weights(params: Sequence[Any], weights: Sequence[float]) -> None:
    """Assign `weights` to the parameters' data, in order (works for both libraries)."""
    if len(params) != len(weights):
        raise ValueError(f"expected {len(params)} weights, got {len(weights)}")
    for p, w in zip(params, weights):
        p.data = w


def autograd_mini_step(model: MLP, optimizer: SGD, X: Sequence[Sequence[float]], y: Sequence[float],
                       lr: float) -> list[float]:
    """One step with autograd_mini's idioms; returns [loss, grad of the first parameter]."""
    optimizer.zero_grad()
    scores = [model(x) for x in X]
    params = optimizer.params
    loss = hinge(scores, y) + ALPHA * sum_of([p * p for p in params])
    loss.backward()
    first_grad = params[0].grad
    optimizer.lr = lr
    optimizer.step()
    return [loss.data, first_grad]


def micrograd_step(model: Any, X: Sequence[Sequence[float]], y: Sequence[float], lr: float) -> list[float]:
    """One step as in micrograd's demo notebook; returns [loss, grad of the first parameter]."""
    model.zero_grad()
    scores = list(map(model, X))
    loss = hinge_loss_binary(scores, y, model.parameters())
    loss.backward()
    params = model.parameters()
    first_grad = float(params[0].grad)
    for p in params:
        p.data -= lr * p.grad
    return [loss.data, first_grad]


def schedule(k: int, steps: int) -> float:
    """micrograd's demo learning rate: 1.0 - 0.9 k / steps."""
    return 1.0 - 0.9 * k / steps


def accuracy(scores: Sequence[float], y: Sequence[float]) -> float:
    """Fraction of samples whose score has the label's sign."""
    return sum((s > 0) == (label > 0) for s, label in zip(scores, y)) / len(y)


def autograd_mini_training(model: MLP, X: Sequence[Sequence[float]], y: Sequence[float], steps: int) -> list[float]:
    """`steps` steps from the model's current weights; returns [final loss, training accuracy]."""
    optimizer = SGD(model.parameters(), lr=1.0)
    loss = 0.0
    for k in range(steps):
        loss = autograd_mini_step(model, optimizer, X, y, schedule(k, steps))[0]
    return [loss, accuracy([model(x).data for x in X], y)]


def micrograd_training(model: Any, X: Sequence[Sequence[float]], y: Sequence[float], steps: int) -> list[float]:
    """`steps` micrograd steps from the model's current weights; returns [final loss, training accuracy]."""
    loss = 0.0
    for k in range(steps):
        loss = micrograd_step(model, X, y, schedule(k, steps))[0]
    return [loss, accuracy([model(x).data for x in X], y)]


class Trainer:
    """One model's training run as `steps` calls of `step()`, so gc modes apply per step (see common.time_once).

    `reset()` restores the initial weights and the schedule; each `step()` runs step k of the
    schedule and returns [loss, grad of the first parameter].
    """

    def __init__(self, step: Any, params: Sequence[Any], initial: Sequence[float], steps: int) -> None:
        self._step, self.params, self.initial, self.steps, self.k = step, params, initial, steps, 0

    def reset(self) -> None:
        """Initial weights, step 0."""
        set_weights(self.params, self.initial)
        self.k = 0

    def step(self) -> list[float]:
        """Step k with lr = schedule(k, steps)."""
        result = self._step(schedule(self.k, self.steps))
        self.k += 1
        return result


def contenders(workload: str, n_samples: int, train_steps: int) -> tuple[list[Contender], dict[str, Any]]:
    """autograd_mini and micrograd (gc on and off) for "moons step" or "training run", and each row's model.

    The moons step is timed in blocks of 4 steps from the initial weights (lr 1.0); the
    training run is one block of `train_steps` steps with micrograd's schedule.
    """
    X, y = moons_data(n_samples)
    reference = micrograd_model()
    initial = [p.data for p in reference.parameters()]
    recursion = micrograd_recursion_limit(100 * n_samples + 10_000)
    training = workload != "moons step"
    block = train_steps if training else 4
    rows, models = [], {}
    for name, gc_mode in ((AM, GC_AUTO), (AM_OFF, GC_OFF), (MG, GC_AUTO), (MG_OFF, GC_OFF)):
        if name in (AM, AM_OFF):
            model: Any = autograd_mini_model(initial)
            optimizer = SGD(model.parameters(), lr=1.0)
            step = _bind(autograd_mini_step, model, optimizer, X, y)
        else:
            model = micrograd_model()
            step = _bind(micrograd_step, model, X, y)
        trainer = Trainer(step, model.parameters(), initial, train_steps if training else 10**9)
        rows.append(Contender(name, trainer.step if training else _bind(step, 1.0), setup=trainer.reset,
                              gc_mode=gc_mode, recursion_limit=None if name in (AM, AM_OFF) else recursion,
                              steps=block))
        models[name] = model
    return rows, models


def _bind(function: Any, *args: Any) -> Any:
    return lambda *more: function(*args, *more)


def rows_for(workload: str, group: Sequence[Contender], tolerance: float, per: int = 1) -> list[list[str]]:
    """Table rows: workload | engine | median ms (per `per` calls) | vs micrograd | vs micrograd (gc off) | check."""
    by_name = {c.name: c for c in group}
    reference = by_name[AM].result
    return [[workload, c.name, f"{c.median * per * 1e3:.1f}", format_ratio(speedup(by_name[MG], c)),
             format_ratio(speedup(by_name[MG_OFF], c)), check_text(reference, c.result, tolerance),
             _numbers(c.result)] for c in group]


def _numbers(result: Sequence[float]) -> str:
    return ", ".join(f"{x:.6g}" for x in result)


def main(argv: Sequence[str] | None = None) -> None:
    """Run both workloads and print the table and targets."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds of the moons step (default 9)")
    parser.add_argument("--train-repeats", type=int, default=None, help="timed training runs (default 3)")
    parser.add_argument("--wall", action="store_true", help="wall-clock time instead of process CPU time")
    parser.add_argument("--heavy", action="store_true", help="import torch and matplotlib first")
    args = parser.parse_args(argv)
    quick = args.quick
    n_samples, train_steps = (10, 5) if quick else (100, 100)
    repeats = args.repeats or (3 if quick else 9)
    train_repeats = args.train_repeats or (2 if quick else 3)
    clock = time.perf_counter if args.wall else time.process_time
    print(f"# autograd_mini nn benchmark{' (--quick)' if quick else ''}")
    print(environment_line())
    print(process_line(import_heavy() if args.heavy else None))
    print(f"clock: {'wall time' if args.wall else 'process CPU time'}; gc on (automatic collections only) /"
          " gc off and interleaving as in bench_engine.py; nothing frozen")
    print(f"moons step: {n_samples} samples, 4 steps per timed block, medians of {repeats} rounds (+1 warm-up);"
          f" training run: {train_steps} steps, medians of {train_repeats} runs (no warm-up)")
    print("micrograd only: sys.setrecursionlimit raised during its runs (its build_topo recurses)")
    step_group, _ = contenders("moons step", n_samples, train_steps)
    measure(step_group, repeats, clock=clock)
    train_group, models = contenders("training run", n_samples, train_steps)
    measure(train_group, train_repeats, warmup=0, clock=clock)
    headers = ["workload", "engine", "median ms", "vs micrograd", "vs micrograd (gc off)", "check", "result"]
    training = f"training ({train_steps} steps)"
    rows = rows_for("moons step", step_group, 1e-9) + rows_for(training, train_group, 1e-6, per=train_steps)
    print()
    print("result: [loss, d loss / d first weight] of the (last) step; the training run's times are per run")
    print(format_table(headers, rows))
    print()
    X, y = moons_data(n_samples)
    print("training accuracy after the last run: " + ", ".join(
        f"{name} {accuracy([float(model(x).data) for x in X], y):.2f}" for name, model in models.items()))
    print()
    print_targets(step_group, train_group, train_steps)


def print_targets(step_group: Sequence[Contender], train_group: Sequence[Contender], train_steps: int) -> None:
    """The issue's targets (20x, 3x) for the step and the training run."""
    rows = []
    for workload, group in (("moons step", step_group), (f"training ({train_steps} steps)", train_group)):
        by_name = {c.name: c for c in group}
        for target in (Target(workload, AM, MG, 20.0), Target(workload, AM, MG_OFF, 3.0),
                       Target(workload, AM_OFF, MG_OFF, 3.0)):
            measured = speedup(by_name[target.reference], by_name[target.engine])
            rows.append([workload, f"{target.engine} vs {target.reference}", f">= {target.minimum:g}x",
                         format_ratio(measured), target.verdict(measured)])
    print(format_table(["workload", "comparison", "target", "measured", "verdict"], rows))


if __name__ == "__main__":
    one_thread()
    main()
