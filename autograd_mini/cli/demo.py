"""`autograd-mini demo`: what the library is for, in one run with no arguments.

1. The derivation's network (sigmoid neurons, squared error (1.1)-(1.4)):
   `backward()` beside the closed-form delta rule, the per-neuron `delta_table`,
   and `explain` for one weight.
2. That network's computation graph, drawn to SVG, and its explorer page
   (`explore`), stepping through both passes in a browser.
3. `MLP(2, [16, 16, 1])` trained on two moons with the compiled tape (relu and
   hinge loss: the delta formulas no longer apply, and the demo says so).
4. The decision boundary with the training points, and the loss curve (PNG).
5. A list of the files written.

`run` prints as it goes and returns a `DemoResult` with the numbers.
"""

from __future__ import annotations

import errno
import io
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..files import atomic_write
from ..nn.datasets import make_moons
from ..nn.delta import delta_gradients, delta_table
from ..nn.losses import squared_error
from ..nn.network import MLP
from ..nn.train import fit
from ..tape.trace import trace
from ..value import Value
from ..views.draw import draw
from ..views.explain import explain
from ..views.render import RendererNotFoundError

NETWORK = {"x": [0.35, 0.9], "t": 0.5}
MOONS = {"n": 100, "noise": 0.1, "seed": 0}
TRAINING = {"steps": 100, "seed": 1}
INSTALL_DEMO = 'pip install "autograd-mini[demo]"'
SIGMOID_ONLY = ("note: the derivation's delta formulas (1.3)-(1.8) are for sigmoid neurons with squared error; "
                "here backward() applies the same chain rule with each op's own derivative (relu, hinge)")


@dataclass
class DemoResult:
    """The numbers and files of a demo run."""

    max_difference: float = math.nan
    final_loss: float = math.nan
    accuracy: float = math.nan
    train_seconds: float = math.nan
    files: list[Path] = field(default_factory=list)


def run(out_dir: Path, *, out: TextIO, progress: bool = True) -> DemoResult:
    """Run the five steps, writing files into `out_dir` (created if needed).

    Raises OSError when the folder cannot be made or written (NotADirectoryError
    when `out_dir` is a file); every file is written with `files.atomic_write`.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    result = DemoResult()
    say = _printer(out)
    loss, weight, network = delta_check(say, result)
    draw_network(say, loss, weight, out_dir, result)
    explore_network(say, loss, network, out_dir / "explore.html", result)
    model, X, y, losses = train_moons(say, result, progress)
    plot_moons(say, model, X, y, losses, out_dir / "moons.png", result)
    say("\n5. Files written")
    for path in result.files:
        say(f"   {path}")
    return result


# --- 1. the delta rule --------------------------------------------------------------------------
def delta_check(say: Callable[[str], None], result: DemoResult) -> tuple[Value, Value, MLP]:
    """Step 1: backward() against delta_gradients on the derivation's network; returns (E, a hidden weight, model)."""
    model = MLP(2, [2, 1], bias=False, seed=2)
    x = [Value(v, label=f"x{i}") for i, v in enumerate(NETWORK["x"])]
    t = Value(NETWORK["t"], label="t")
    loss = squared_error(model(x), t)
    loss.label = "E"
    loss.backward()
    reference = delta_gradients(model, [v.data for v in x], t.data)
    say("1. backward() against the delta rule")
    say("   MLP(2, [2, 1], bias=False): sigmoid neurons (1.1)-(1.3) without biases, as in the derivation")
    say(f"   input x = [{x[0].data}, {x[1].data}], target t = {t.data}: output y = {loss.inputs[0].data:.6g}, "
        f"loss E = 1/2 (t - y)^2 (1.4) = {loss.data:.6g}")
    say("")
    say(f"   {'weight':<10} {'backward()':>24} {'delta rule (1.5)-(1.8)':>24} {'difference':>12}")
    differences = []
    for p, d in zip(model.parameters(), reference, strict=True):
        differences.append(abs(p.grad - d))
        say(f"   {p.label:<10} {p.grad!r:>24} {d!r:>24} {p.grad - d:>12.3g}")
    result.max_difference = max(differences)
    weight = model.layers[0].neurons[0].w[0]
    say(f"\n   largest difference: {result.max_difference:.3g}")
    say("\n   the derivation's quantities per neuron, delta_table(model, x, t):")
    say(_indent(str(delta_table(model, [v.data for v in x], t.data)), "   "))
    say(f"\n   explain(E, {weight.label}): the chain rule path by path")
    say(_indent(str(explain(loss, weight)), "   | "))
    return loss, weight, model


# --- 2. the graph ---------------------------------------------------------------------------------
def draw_network(say: Callable[[str], None], loss: Value, weight: Value, out_dir: Path, result: DemoResult) -> None:
    """Step 2: the network's graph, neurons boxed, paths from `weight` to E in red."""
    drawing = draw(loss, group_neurons=True, show_derivatives=True, highlight=weight)
    say("\n2. The computation graph")
    try:
        path = atomic_write(out_dir / "network.svg", drawing.svg())
    except RendererNotFoundError as exc:  # the DOT text needs no renderer
        path = atomic_write(out_dir / "network.dot", drawing.source)
        say(f"   no Graphviz renderer, so the graph is saved as DOT text: {exc}")
    result.files.append(path)
    say(f"   {path}: {drawing.node_count} nodes; edges carry local derivatives, "
        f"the paths from {weight.label} to E are red")


def explore_network(say: Callable[[str], None], loss: Value, model: MLP, path: Path, result: DemoResult) -> None:
    """Step 2, continued: the explorer page stepping through both passes, with each neuron's delta row."""
    from ..views.explorer.page import explore

    try:
        page = explore(loss, model=model, x=NETWORK["x"], t=NETWORK["t"])
    except RendererNotFoundError as exc:
        say(f"   no explorer page: it lays the graph out with a Graphviz renderer: {exc}")
        return
    result.files.append(page.save(path))
    say(f"   {path}: open it in a browser and step through the forward and backward pass "
        f"({page.steps} steps; click a node for its delta row and chain-rule paths)")


# --- 3. training ----------------------------------------------------------------------------------
def train_moons(say: Callable[[str], None], result: DemoResult, progress: bool) -> tuple[MLP, list, list, list[float]]:
    """Step 3: MLP(2, [16, 16, 1]) on make_moons, trained by `train.fit` on the compiled tape.

    micrograd's demo setup: relu hidden layers, a linear output read as a
    score (class 1 when > 0), the hinge loss, SGD with a decaying rate.
    """
    X, y = make_moons(**MOONS)
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=TRAINING["seed"])
    steps = TRAINING["steps"]
    say(f"\n3. Training MLP(2, [16, 16, 1]) on make_moons({MOONS['n']} points, noise {MOONS['noise']})")
    say(f"   relu hidden layers, hinge loss, {steps} full-batch SGD steps on the compiled tape")
    say(f"   {SIGMOID_ONLY}")
    bar = _progress_bar(steps) if progress else None
    start = time.perf_counter()
    try:
        history = fit(model, X, y, loss="hinge", steps=steps, compiled=True, callback=_advance(bar))
    finally:
        if bar is not None:
            bar.close()
    result.train_seconds = time.perf_counter() - start
    result.final_loss = history.loss[-1]
    scores = _scores(model, X)
    result.accuracy = sum((s > 0.0) == (label == 1) for s, label in zip(scores.tolist(), y, strict=True)) / len(y)
    correct = round(result.accuracy * len(y))
    say(f"   final loss {result.final_loss:.4f}, accuracy {result.accuracy:.0%} ({correct}/{len(y)} points), "
        f"trained in {result.train_seconds:.2f} s")
    return model, X, y, history.loss


def _progress_bar(steps: int) -> Any:
    """A tqdm bar on stderr; disable=None turns it off when stderr is not a terminal
    (a log file or a pipe would otherwise collect one '\\r' line per refresh)."""
    from tqdm import tqdm

    return tqdm(total=steps, desc="   training", unit="step", leave=False, disable=None)


def _advance(bar: Any) -> Callable[[int, float, float], None] | None:
    if bar is None:
        return None

    def callback(step: int, loss: float, accuracy: float) -> None:
        bar.set_postfix(loss=f"{loss:.4f}", accuracy=f"{accuracy:.0%}", refresh=False)
        bar.update(1)

    return callback


# --- 4. the picture -------------------------------------------------------------------------------
def plot_moons(
    say: Callable[[str], None], model: MLP, X: list, y: list[int], losses: list[float], path: Path, result: DemoResult
) -> None:
    """Step 4: decision boundary with the points, and the loss curve, in one PNG (needs matplotlib)."""
    say("\n4. The decision boundary")
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        say(f"   skipped: the picture needs matplotlib; install it with: {INSTALL_DEMO}")
        return
    xs, ys = _grid(X)
    scores = _scores(model, np.column_stack([xs.ravel(), ys.ravel()])).reshape(xs.shape)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.25, 1]})
    left.contourf(xs, ys, scores, levels=[-1e9, 0.0, 1e9], colors=["#aec7e8", "#ffbb78"], alpha=0.8)
    left.contour(xs, ys, scores, levels=[0.0], colors="k", linewidths=1)
    for label, colour in ((0, "#1f77b4"), (1, "#ff7f0e")):
        points = [p for p, c in zip(X, y, strict=True) if c == label]
        left.scatter([p[0] for p in points], [p[1] for p in points], c=colour, edgecolors="k", s=28,
                     label=f"class {label}")
    left.set_title(f"decision boundary, accuracy {result.accuracy:.0%}")
    left.legend(loc="lower left", fontsize=8)
    right.plot(range(1, len(losses) + 1), losses, color="#d62728")
    right.set_yscale("log")
    right.set_xlabel("step")
    right.set_ylabel("loss")
    right.set_title("training loss")
    figure.tight_layout()
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=100)
    plt.close(figure)
    atomic_write(path, png.getvalue())
    result.files.append(path)
    say(f"   {path}: the boundary with the training points, and the loss curve")


def _grid(X: list, steps: int = 120) -> tuple[Any, Any]:
    """A steps x steps grid over the data's bounding box plus a margin."""
    data = np.asarray(X)
    (x0, y0), (x1, y1) = data.min(axis=0) - 0.5, data.max(axis=0) + 0.5
    return np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))


def _scores(model: MLP, points: Any) -> Any:
    """The model's score at every point, one batched replay of a tape of `model(x)`."""
    tape = trace(lambda params, inputs: model(inputs), model.parameters(), [0.0, 0.0])
    return tape.forward(np.asarray(points, dtype=float)).losses


# --- helpers --------------------------------------------------------------------------------------
def _printer(out: TextIO) -> Callable[[str], None]:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    return say


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in text.splitlines())
