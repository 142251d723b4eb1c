"""`autograd-mini demo`: what the library is for, in one run with no arguments.

Five steps: `backward()` beside the closed-form delta rule (1.5)-(1.8) on the derivation's
network; that network's graph and explorer page; MLP(2, [16, 16, 1]) trained on two moons
with the compiled tape; its decision boundary (PNG); the list of files written.
"""

from __future__ import annotations

import errno
import io
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

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
from .interrupts import held_interrupts
from .terminal import TextOutput, fit_lines, width

NETWORK_X, NETWORK_T = (0.35, 0.9), 0.5
"""The derivation's network: input and target."""
MOONS_POINTS, MOONS_NOISE, MOONS_SEED = 100, 0.1, 0
TRAINING_STEPS, TRAINING_SEED = 100, 1
INSTALL_DEMO = 'pip install "autograd-mini[demo]"'
SIGMOID_ONLY = ("note: the derivation's delta formulas (1.3)-(1.8) are for sigmoid neurons with squared error; "
                "here backward() applies the same chain rule with each op's own derivative (relu, hinge)")

Points = list[list[float]]


class Report:
    """The demo's printed report: prose fitted to `columns`, tables printed whole."""

    def __init__(self, out: TextOutput, columns: int) -> None:
        self.out, self.columns = out, columns

    def say(self, text: str, indent: str = "") -> None:
        """Print `text`, each line after `indent` and wrapped at spaces to fit the columns."""
        print(fit_lines(text, self.columns, indent), file=self.out, flush=True)

    def table(self, text: str, indent: str = "   ") -> None:
        """Print a table (never wrapped: its columns would break), indented when that still fits."""
        lines = text.splitlines()
        if max(map(len, lines), default=0) + len(indent) <= self.columns:
            lines = [indent + line if line else "" for line in lines]
        print("\n".join(lines), file=self.out, flush=True)


@dataclass
class DemoResult:
    """The numbers and files of a demo run."""

    max_difference: float = math.nan
    final_loss: float = math.nan
    accuracy: float = math.nan
    train_seconds: float = math.nan
    files: list[Path] = field(default_factory=list)


def run_demo(out_dir: Path, *, out: TextOutput, progress: bool = True, columns: int | None = None) -> DemoResult:
    """Run the five steps, writing files into `out_dir` (created if needed), printing to `out`.

    Lines are fitted to `columns` (default: the terminal's width). Raises OSError when
    the folder cannot be made or written (NotADirectoryError when `out_dir` is a file);
    every file is written with `files.atomic_write`.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    report, result = Report(out, width() if columns is None else columns), DemoResult()
    loss, weight, network = delta_check(report, result)
    draw_network(report, loss, weight, out_dir, result)
    explore_network(report, loss, network, out_dir / "explore.html", result)
    model, X, y, losses = train_moons(report, result, progress)
    plot_moons(report, model, X, y, losses, out_dir / "moons.png", result)
    report.say("\n5. Files written")
    for path in result.files:
        report.say(f"   {path}")
    return result


# --- 1. the delta rule --------------------------------------------------------------------------
def delta_check(report: Report, result: DemoResult) -> tuple[Value, Value, MLP]:
    """Step 1: backward() against delta_gradients on the derivation's network; returns (E, a hidden weight, model)."""
    model = MLP(2, [2, 1], bias=False, seed=2)
    x = [Value(v, label=f"x{i}") for i, v in enumerate(NETWORK_X)]
    t = Value(NETWORK_T, label="t")
    y = model(x)
    assert isinstance(y, Value)  # one output neuron
    loss = squared_error(y, t)
    loss.label = "E"
    loss.backward()
    reference = delta_gradients(model, NETWORK_X, NETWORK_T)
    report.say("1. backward() against the delta rule")
    report.say("   MLP(2, [2, 1], bias=False): the derivation's sigmoid neurons (1.1)-(1.3)")
    report.say(f"   input x = {list(NETWORK_X)}, target t = {NETWORK_T}, output y = {y.data:.6g}")
    report.say(f"   loss E = 1/2 (t - y)^2 (1.4) = {loss.data:.6g}")
    report.say("")
    rows = [(str(p.label), p.grad, d) for p, d in zip(model.parameters(), reference, strict=True)]
    report.table(comparison_table(rows, report.columns - 3))
    result.max_difference = max(abs(engine - delta) for _, engine, delta in rows)
    weight = model.layers[0].neurons[0].w[0]
    report.say(f"\n   largest difference: {result.max_difference:.3g}")
    report.say("\n   the derivation's quantities per neuron, delta_table(model, x, t):")
    report.table(delta_table(model, NETWORK_X, NETWORK_T).format(report.columns - 3))  # 3: the indent
    report.say(f"\n   explain(E, {weight.label}): the chain rule path by path")
    report.say(str(explain(loss, weight)), indent="   | ")
    return loss, weight, model


def comparison_table(rows: Sequence[tuple[str, float, float]], columns: int) -> str:
    """Each weight's backward() gradient beside the delta rule's: a table, stacked when narrower than it."""
    header = f"{'weight':<10} {'backward()':>24} {'delta rule (1.5)-(1.8)':>24} {'difference':>12}"
    if len(header) <= columns:
        return "\n".join([header, *(f"{name:<10} {e!r:>24} {d!r:>24} {e - d:>12.3g}" for name, e, d in rows)])
    stacked = [f"{name}:\n  backward()  {e!r}\n  delta rule  {d!r}\n  difference  {e - d:.3g}" for name, e, d in rows]
    return "\n".join(["backward() and delta rule (1.5)-(1.8)", *stacked])


# --- 2. the graph ---------------------------------------------------------------------------------
def draw_network(report: Report, loss: Value, weight: Value, out_dir: Path, result: DemoResult) -> None:
    """Step 2: the network's graph, neurons boxed, paths from `weight` to E in red."""
    drawing = draw(loss, group_neurons=True, show_derivatives=True, highlight=weight)
    report.say("\n2. The computation graph")
    try:
        path = atomic_write(out_dir / "network.svg", drawing.svg())
    except RendererNotFoundError as exc:  # the DOT text needs no renderer
        path = atomic_write(out_dir / "network.dot", drawing.source)
        report.say(f"   no Graphviz renderer, so the graph is saved as DOT text: {exc}")
    result.files.append(path)
    report.say(f"   {path}\n      {drawing.node_count} nodes; edges carry local derivatives; "
               f"red: the paths from {weight.label} to E")


def explore_network(report: Report, loss: Value, model: MLP, path: Path, result: DemoResult) -> None:
    """Step 2, continued: the explorer page stepping through both passes, with each neuron's delta row."""
    from ..views.explorer.page import explore

    try:
        page = explore(loss, model=model, x=list(NETWORK_X), t=NETWORK_T)
    except RendererNotFoundError as exc:
        report.say(f"   no explorer page: it lays the graph out with a Graphviz renderer: {exc}")
        return
    result.files.append(page.save(path))
    report.say(f"   {path}\n      open it in a browser: {page.steps} steps through the forward and backward pass;\n"
               "      click a node for its delta row and chain-rule paths")


# --- 3. training ----------------------------------------------------------------------------------
def train_moons(report: Report, result: DemoResult, progress: bool) -> tuple[MLP, Points, list[int], list[float]]:
    """Step 3: MLP(2, [16, 16, 1]) on make_moons, trained by `train.fit` on the compiled tape.

    micrograd's demo setup: relu hidden layers, a linear output read as a
    score (class 1 when > 0), the hinge loss, SGD with a decaying rate.
    """
    X, y = make_moons(MOONS_POINTS, MOONS_NOISE, MOONS_SEED)
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=TRAINING_SEED)
    report.say(f"\n3. Training MLP(2, [16, 16, 1]) on make_moons({MOONS_POINTS} points, noise {MOONS_NOISE})")
    report.say(f"   relu hidden layers, hinge loss, {TRAINING_STEPS} full-batch SGD steps on the compiled tape")
    report.say(SIGMOID_ONLY, indent="   ")
    start, bar = time.perf_counter(), None
    try:
        with held_interrupts():  # a tqdm cut in half by Ctrl-C prints a traceback when collected
            bar = _progress_bar(TRAINING_STEPS) if progress else None
        history = fit(model, X, y, loss="hinge", steps=TRAINING_STEPS, compiled=True, callback=_advance(bar))
    finally:
        if bar is not None:
            with held_interrupts():
                bar.close()
    result.train_seconds = time.perf_counter() - start
    result.final_loss = history.loss[-1]
    scores = _scores(model, X)
    result.accuracy = sum((s > 0.0) == (label == 1) for s, label in zip(scores.tolist(), y, strict=True)) / len(y)
    correct = round(result.accuracy * len(y))
    report.say(f"   final loss {result.final_loss:.4f}, accuracy {result.accuracy:.0%} ({correct}/{len(y)} points), "
               f"trained in {result.train_seconds:.2f} s")
    return model, X, y, history.loss


def _progress_bar(steps: int) -> Any:
    """A tqdm bar on stderr; disable=None turns it off when stderr is not a terminal
    (a log file or a pipe would otherwise collect one '\\r' line per refresh)."""
    from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no types; types-tqdm is not installed

    return tqdm(total=steps, desc="   training", unit="step", leave=False, disable=None)


def _advance(bar: Any) -> Callable[[int, float, float], None] | None:
    """fit's callback moving the bar one step, or None without a bar."""
    if bar is None:
        return None

    def callback(step: int, loss: float, accuracy: float) -> None:
        with held_interrupts():
            bar.set_postfix(loss=f"{loss:.4f}", accuracy=f"{accuracy:.0%}", refresh=False)
            bar.update(1)

    return callback


# --- 4. the picture -------------------------------------------------------------------------------
def plot_moons(report: Report, model: MLP, X: Points, y: list[int], losses: list[float], path: Path,
               result: DemoResult) -> None:
    """Step 4: decision boundary with the points, and the loss curve, in one PNG (needs matplotlib)."""
    report.say("\n4. The decision boundary")
    try:
        with held_interrupts():  # a C extension's import turns Ctrl-C into an ImportError
            import matplotlib

            matplotlib.use("Agg")  # files only: no display needed
            import matplotlib.pyplot as plt
    except ImportError:
        report.say(f"   skipped: the picture needs matplotlib; install it with\n      {INSTALL_DEMO}")
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
    report.say(f"   {path}\n      the boundary with the training points, and the loss curve")


def _grid(X: Points, steps: int = 120) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """A steps x steps grid over the data's bounding box plus a margin."""
    data = np.asarray(X, dtype=float)
    (x0, y0), (x1, y1) = data.min(axis=0) - 0.5, data.max(axis=0) + 0.5
    xs, ys = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    return xs, ys


def _scores(model: MLP, points: Points | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The model's score at every point, one batched replay of a tape of `model(x)`."""
    tape = trace(lambda params, inputs: model(inputs), model.parameters(), [0.0, 0.0])
    scores: npt.NDArray[np.float64] = np.asarray(tape.forward(np.asarray(points, dtype=float)).losses, dtype=float)
    return scores
