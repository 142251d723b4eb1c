"""`fit`: full-batch training of an MLP, on the compiled tape or the eager engine.

Both build one example's loss from Values and take the mean over the batch: the tape
(`compiled=True`) records it once and replays it with numpy; the eager path builds
every graph and calls `backward()` each step, as micrograd's demo does. Both update
with the same `optim.SGD` or `optim.Adam`; no penalty is hidden (`alpha` is 0.0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

from ..errors import NumericOverflowError
from ..tape.trace import trace
from ..value import Value, sum_of
from .losses import squared_error
from .network import MLP, warn_unreachable_targets
from .optim import SGD, Adam, Optimizer, check_real

LossFn = Callable[[Any, list[Value]], Value]
LearningRate = Union[float, Callable[[int, int], float], None]  # noqa: UP007 (a runtime alias on 3.10)
LOSSES = ("hinge", "squared_error")
Array = NDArray[np.float64]
ExampleLoss = Callable[[list[Value], list[Value]], tuple[Value, ...]]
Batch = Callable[[Array], tuple[float, Array, Array]]  # parameter values -> (loss, grads, outputs (n, k))


@dataclass
class History:
    """What `fit` recorded at each step, measured before that step's update.

    loss:     the batch loss (mean per-example loss plus the L2 term).
    accuracy: the fraction of examples classified correctly.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.loss)


def fit(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    *,
    loss: str | LossFn = "hinge",
    steps: int = 100,
    lr: LearningRate = None,
    optimizer: str | Optimizer = "sgd",
    momentum: float = 0.0,
    alpha: float = 0.0,
    compiled: bool = True,
    callback: Callable[[int, float, float], Any] | None = None,
    threshold: float | None = None,
) -> History:
    """Train `model` on (X, y), full batch, for `steps` steps; return the `History`.

    Args:
        model:     an `nn.MLP` (any object with `__call__`, `parameters()` and `nin` works).
        X, y:      one list of `model.nin` numbers per example; one target per example, a
                   number or a list with one per output ("squared_error" needs exactly
                   that). For "hinge" (one output), labels 0/1 or -1/+1 become -1/+1.
        loss:      "hinge" (relu(1 - t * score)), "squared_error" ((1.4) summed over the
                   outputs), or loss(output, targets) -> Value for one example.
        steps:     number of updates (full batch: one step is one epoch).
        lr:        a number, or lr(step, steps) -> number; None means micrograd's schedule
                   1.0 - 0.9 * step / steps for "sgd" and 0.01 for "adam". Every rate must
                   be finite and > 0 (ValueError naming the step).
        optimizer: "sgd" (with `momentum`), "adam", or an `optim.Optimizer` built on
                   `model.parameters()` (then `lr` is ignored; its step() reads `.grad`).
        alpha:     weight of an L2 penalty alpha * sum(p * p); 0.0 adds none
                   (micrograd's demo used 1e-4).
        compiled:  replay a recorded tape (fast) or run the eager engine.
        callback:  callback(step, loss, accuracy) after every step; the Values are up to date.
        threshold: an output above it predicts class 1 (one output); default 0.0 for
                   "hinge", else 0.5. With several outputs the largest wins.

    A UserWarning says when a target lies outside the output activation's range. On
    the compiled path the parameters live in one array between steps and are written
    into `.data` (the last gradients into `.grad`) at the end, before every callback
    and when fit raises. loss="squared_error", lr=0.5, steps=1 is the textbook step.
    """
    features, targets = _dataset(model, X, y, loss)
    if not callable(loss):  # a custom loss decides what its targets mean
        who = "fit (the hinge loss reads labels as -1/+1)" if loss == "hinge" else "fit"
        warn_unreachable_targets(model, targets.ravel().tolist(), who)
    params = model.parameters()
    per_example = _per_example_loss(model, params, loss, len(features[0]), alpha if compiled else 0.0)
    threshold = (0.0 if loss == "hinge" else 0.5) if threshold is None else float(threshold)
    update = _Update(params, optimizer, lr, momentum, steps)
    rows = np.hstack([features, targets])
    batch = _compiled_batch(per_example, params, rows) if compiled else _eager_batch(per_example, params, rows, alpha)
    update.deferred = compiled
    return _train(batch, update, targets, threshold, steps, callback)


def _train(
    batch: Batch,
    update: _Update,
    targets: Array,
    threshold: float,
    steps: int,
    callback: Callable[[int, float, float], Any] | None,
) -> History:
    """fit's loop: each step measures the batch, records loss and accuracy, then updates.

    The Values are written up to date before every callback, and at the end even when a step raises.
    """
    history = History()
    try:
        for step in range(steps):
            value, grads, outputs = batch(update.values)
            history.loss.append(value)
            history.accuracy.append(_accuracy(outputs, targets, threshold))
            update.step(step, grads)
            if callback is not None:
                update.write_back()
                callback(step, value, history.accuracy[-1])
    finally:
        update.write_back()
    return history


def _per_example_loss(model: Any, params: list[Value], loss: str | LossFn, nin: int, alpha: float) -> ExampleLoss:
    """fn(params, inputs) -> (loss of one example + L2 term, *model outputs).

    On the tape the L2 term depends on no input, so it is computed once per
    replay; the mean over the batch of (loss_i + L2) is mean(loss_i) + L2.
    """
    if not (callable(loss) or loss in LOSSES):
        raise ValueError(f"fit: loss must be one of {LOSSES} or a function, got {loss!r}")

    def fn(_params: list[Value], inputs: list[Value]) -> tuple[Value, ...]:
        out = model(inputs[:nin])  # a custom loss gets what the model returns: a Value for one output
        outs = out if isinstance(out, list) else [out]
        ts = inputs[nin:]
        if loss == "hinge":
            value = (1.0 - ts[0] * outs[0]).relu()
        elif loss == "squared_error":
            value = sum_of([squared_error(o, t) for o, t in zip(outs, ts, strict=True)])  # (1.4) per output
        else:
            assert callable(loss)  # checked above
            value = loss(out, ts)
        if alpha:
            value = value + alpha * sum_of([p * p for p in params])
        return (value, *outs)

    return fn


def _compiled_batch(fn: ExampleLoss, params: list[Value], rows: Array) -> Batch:
    """The batch's loss, gradients and outputs by replaying a tape of `fn` recorded once."""
    tape = trace(fn, params, rows[0].tolist(), check_inputs=rows[1:2].tolist() if len(rows) > 1 else None)

    def batch(values: Array) -> tuple[float, Array, Array]:
        result = tape.value_and_grad(rows, values)
        assert result.grads is not None  # value_and_grad always computes them
        return result.loss, result.grads, result.outputs.T

    return batch


def _eager_batch(fn: ExampleLoss, params: list[Value], rows: Array, alpha: float) -> Batch:
    """The same on the eager engine: every example's graph, their mean plus the L2 term
    (built once, not once per example as on the tape), backward()."""

    def batch(values: Array) -> tuple[float, Array, Array]:
        # `values` are already in the Values' .data: the eager path writes them every step.
        results = [fn(params, [Value(v) for v in row]) for row in rows.tolist()]
        total = sum_of([r[0] for r in results]) / len(results)
        if alpha:
            total = total + alpha * sum_of([p * p for p in params])
        for p in params:
            p.grad = 0.0
        total.backward()
        outputs = np.array([[o.data for o in r[1:]] for r in results])
        return total.data, np.array([p.grad for p in params]), outputs

    return batch


def _accuracy(outputs: Array, targets: Array, threshold: float) -> float:
    """Fraction of rows whose predicted class matches the target's."""
    if outputs.shape[1] == 1:
        hits = (outputs[:, 0] > threshold) == (targets[:, 0] > threshold)
    else:
        hits = outputs.argmax(axis=1) == targets.argmax(axis=1)
    return float(hits.mean())


class _Update:
    """One step of fit's optimizer, on the parameter array.

    For "sgd" / "adam" fit builds an `optim.SGD` / `optim.Adam` (the one
    implementation of both rules), sets its `lr` from the schedule before every
    step and hands it the gradient array. The parameter values are kept as an
    array (`values`, what the tape replays with). With `deferred` (the compiled
    path) nothing is written into the Values until `write_back`; otherwise every
    step writes `.grad` and `.data`. An `optim.Optimizer` passed by the user is
    stepped through its own `step()`, which reads `.grad` and writes `.data`.
    """

    def __init__(self, params: list[Value], optimizer: str | Optimizer, lr: LearningRate, momentum: float, steps: int):
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"fit: steps must be an int >= 0, got {steps!r}")
        if not (isinstance(optimizer, Optimizer) or optimizer in ("sgd", "adam")):
            raise ValueError(f"fit: optimizer must be 'sgd', 'adam' or an optim.Optimizer, got {optimizer!r}")
        self.params, self.steps = params, steps
        self.values = np.array([p.data for p in params], dtype=float)
        self.grads: Array | None = None
        self.deferred = False
        self._dirty = False  # values or grads not yet written into the Values
        self.lr: LearningRate = None  # None: the user's optimizer keeps its own lr
        self.optimizer: Optimizer
        if isinstance(optimizer, Optimizer):
            self.optimizer = optimizer
        elif optimizer == "sgd":  # lr=1.0 is a placeholder: step() sets the schedule's rate
            self.optimizer = SGD(params, lr=1.0, momentum=momentum)
            self.lr = (lambda k, n: 1.0 - 0.9 * k / n) if lr is None else lr
        else:
            self.optimizer = Adam(params, lr=1.0)
            self.lr = 0.01 if lr is None else lr
        if self.lr is not None and not callable(self.lr):
            self.rate(0)  # a bad fixed rate fails before any work, not at the first step

    def rate(self, k: int) -> float:
        """The learning rate of step k, checked: finite and > 0 (a negative rate would ascend)."""
        assert self.lr is not None
        rate = self.lr(k, self.steps) if callable(self.lr) else self.lr
        if isinstance(rate, (np.floating, np.integer)):  # a schedule written with numpy
            rate = rate.item()
        return check_real(rate, "fit", f"the learning rate at step {k}", low=0.0, low_open=True)

    def step(self, k: int, grads: Array) -> None:
        """Apply one update with the gradient array `grads` (parameters' order)."""
        self.grads = grads
        if self.lr is None:
            for p, g in zip(self.params, grads.tolist(), strict=True):
                p.grad = g
            self.optimizer.step()
            self.values = np.array([p.data for p in self.params], dtype=float)
            return
        self.optimizer.lr = self.rate(k)
        try:
            self.values = self.optimizer.step_arrays(self.values, grads, write=not self.deferred)
        except NumericOverflowError as exc:
            raise NumericOverflowError(
                f"fit: step {k} would make a parameter non-finite; lower the learning rate"
            ) from exc
        self._dirty = True
        if not self.deferred:
            self.write_back()

    def write_back(self) -> None:
        """The parameter array into `.data` and the last gradients into `.grad`, if not done yet."""
        if not self._dirty:
            return
        assert self.grads is not None
        for p, x, g in zip(self.params, self.values.tolist(), self.grads.tolist(), strict=True):
            p.data = x
            p.grad = g
        self._dirty = False


def _dataset(model: Any, X: Sequence[Sequence[float]], y: Sequence[Any], loss: Any) -> tuple[Array, Array]:
    """X as (n, nin) and y as (n, n_targets) float arrays, checked."""
    features = np.asarray(X, dtype=float)
    nin = getattr(model, "nin", features.shape[-1] if features.ndim == 2 else None)
    if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] != nin:
        raise ValueError(
            f"fit: X must be a non-empty list of examples with {nin} numbers each, got shape {features.shape}"
        )
    targets = np.asarray(y, dtype=float)
    if targets.ndim == 1:
        targets = targets[:, None]
    if targets.ndim != 2 or targets.shape[0] != features.shape[0]:
        raise ValueError(f"fit: y must have one target per example ({features.shape[0]}), got shape {targets.shape}")
    if not (np.isfinite(features).all() and np.isfinite(targets).all()):
        raise ValueError("fit: X and y must be finite")
    _check_outputs(model, targets.shape[1], loss)
    if loss == "hinge":
        if targets.shape[1] != 1 or not np.isin(targets, (-1.0, 0.0, 1.0)).all():
            raise ValueError("fit: the hinge loss needs one label per example, 0/1 or -1/+1")
        targets = np.where(targets > 0, 1.0, -1.0)
    return features, targets


def _check_outputs(model: Any, n_targets: int, loss: Any) -> None:
    """The built-in losses pair outputs with targets one to one: no output or target may go unused."""
    nouts = getattr(model, "nouts", None)
    if not nouts or callable(loss):  # a custom loss decides how outputs and targets meet
        return
    outputs = nouts[-1]
    if loss == "hinge" and outputs != 1:
        raise ValueError(f"fit: the hinge loss needs a model with exactly 1 output, got {outputs} outputs")
    if loss == "squared_error" and n_targets != outputs:
        raise ValueError(
            f"fit: squared_error needs one target per output: the model has {outputs} outputs, "
            f"got {n_targets} targets per example"
        )
