"""The compiled tape: record a scalar graph once, replay it for a whole batch.

The graph a model builds is the same for every example; only the numbers
differ. `trace` calls a per-example function once on Values, walks the graph it
recorded (`graph.reverse_topological_order`, iterative) into a flat list of
instructions (op row, input slots, output slot), and returns a `Tape`. A replay
holds one number per example in every slot and runs the *same rows* of
`ops.OPS` on numpy arrays: `op.forward(*arrays)` forward and
`op.vjp(g, out, *arrays)` backward, the chain rule (1.5) with gradients summed
over consumers (1.8). No op has a second implementation here.

Slots come in four kinds: parameters (the Values passed as `params`, one
number shared by every example), per-example inputs (one number per example),
constants (leaves created while tracing, such as the 2 in `x * 2`) and op
results. A node that depends only on parameters and constants is *shared*: it
is computed once per replay, and its gradient is kept already summed over the
batch. Every other node is *batched*: a row of a (slots x batch) matrix.

Level scheduling: instructions with the same op, arity, depth and operand
layout form one group, evaluated by one call of the row on stacked operands of
shape (k, batch), so the number of numpy calls per replay grows with the
graph's depth, not its node count. Every index array is computed at trace time
by `_tape_schedule` (grouping, row layout, gather and scatter indices). The
replay of a batch, forward and backward, is `_tape_replay.Replay.run`; the
errors it raises are located by `_tape_errors`. One direction: tape ->
replay -> errors -> schedule, none imports the tape.

A layer's `dot` rows that read the same inputs run as one matrix product
(the dot row's batched form, `ops.BATCHED`), forward and backward, so weight
gradients are summed over the batch by the product itself. Replays run on
numpy arrays, or on the namespace of the inputs passed: torch tensors (on any
device) give torch results.

The rule of tracing (what cannot be recorded): the traced function must build
the same graph for every example. Branches inside ops (relu, abs, the
sigmoid's two formulas) are fine, because they are ops evaluated per example.
A Python `if` on `.data`, a loop whose length depends on an input, or a
number read from an input's `.data` and fed back as a constant is recorded
for the traced example only. `trace` re-traces on a second example and raises
`TraceError` when the op sequence, the wiring or a constant differs; that
catches most violations, not all (both examples may take the same branch), so
`Tape.check(inputs)` re-traces on as many examples as you like.

A Value captured from outside the function (neither in `params` nor built
inside it) is refused with `TraceError`: it is usually a parameter missing from
`params`. Pass it in `params`, or build constants inside the function. (Only
the re-trace can tell a captured Value from a fresh constant; with
`check=False` a captured leaf is frozen as a constant.)

Errors: a forward value that is not finite raises the eager engine's
`DomainError` / `NumericOverflowError` with the eager engine's words, plus
the example's index in the batch and the row of the tape. NaN is named NaN;
complex inputs are refused (never cast); a non-finite parameter is named. Backward is checked once at the end; if any
gradient is not finite, backward is re-run with checks at every group (and the
eager rule of skipping nodes whose gradient is 0), so errors match the engine's.
Gradients are computed only for nodes on a path from a parameter to the loss,
so a rule whose derivative is infinite only towards an input raises nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AutogradMiniError, NumericOverflowError
from ..graph import reverse_topological_order
from ..params import check_params
from ..value import Value
from .arrays import namespace, param_array, read_batch, real_array, to_numpy
from .failures import TraceError
from .replay import NeedsNumpy, Replay
from .schedule import Instruction, schedule

REDUCTIONS = ("mean", "sum")


@dataclass
class TapeResult:
    """What a replay returns.

    loss:    the reduced loss (mean or sum of `losses`, per the tape's reduction).
    losses:  per-example loss, shape (batch,).
    grads:   d loss / d param for each parameter, shape (P,), reduced like the
             loss (summed over the batch, divided by the batch for "mean");
             None after `Tape.forward`.
    outputs: the extra outputs the traced function returned, shape (n_extra, batch).
    The arrays are numpy's, or the inputs' own namespace's (torch tensors in, torch out).
    """

    loss: float
    losses: np.ndarray
    grads: np.ndarray | None
    outputs: np.ndarray


def trace(
    fn: Callable[[list[Value], list[Value]], Any],
    params: Sequence[Value],
    example_inputs: Sequence[float],
    *,
    reduction: str = "mean",
    check_inputs: Sequence[Sequence[float]] | None = None,
    check: bool = True,
) -> Tape:
    """Record `fn` for one example and return the `Tape` that replays it batched.

    Args:
        fn:             fn(params, inputs) -> Value: the loss of ONE example, where
                        `params` is the list given here (the same Value objects;
                        a closure over a model's parameters works as well) and
                        `inputs` one leaf Value per number of the example. It may
                        also return a tuple (loss, extra1, ...) of Values: the
                        extras (a model's score, say) are replayed too and
                        returned per example in `TapeResult.outputs`.
        params:         the leaf Values that gradients are taken for.
        example_inputs: the numbers of one example (features, target, ...).
        reduction:      "mean" (default) or "sum" over the batch, for the loss and
                        the gradients alike.
        check_inputs:   further examples to re-trace and compare (see the module
                        docstring); by default one perturbed copy of the example.
        check:          False skips the re-trace.

    Raises:
        TraceError when the graph differs between examples or uses a captured Value.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"trace: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    params = check_params(params, "trace", allow_empty=True)
    example = _check_example(example_inputs, None, "example_inputs")
    recording = _Recording(fn, params, example)
    tape = Tape(recording, reduction)
    if check:
        if check_inputs is None:
            tape._check_one([x * -1.37 + 0.29 for x in example], perturbed=True)
        else:
            tape.check(check_inputs)
    return tape


class _Recording:
    """One trace of `fn`: the instructions in topological order, in unified slots."""

    def __init__(self, fn: Callable[..., Any], params: list[Value], example: list[float]) -> None:
        self.fn = fn
        self.params = params
        self.inputs = [Value(x, label=f"input{i}") for i, x in enumerate(example)]
        roots = _roots(fn(params, self.inputs))
        slot_of = {id(p): i for i, p in enumerate(params)}
        slot_of.update({id(x): len(params) + i for i, x in enumerate(self.inputs)})
        anchor = Value(0.0)
        anchor.inputs = tuple(roots)  # one walk covers the loss and the extra outputs
        order = reverse_topological_order(anchor)[1:]
        order.reverse()
        self.constants: list[Value] = []
        nodes: list[Value] = []
        for node in order:
            if id(node) in slot_of:
                continue
            if node.op is None:
                self.constants.append(node)
            else:
                nodes.append(node)
        base = len(params) + len(self.inputs)
        for j, c in enumerate(self.constants):
            slot_of[id(c)] = base + j
        base += len(self.constants)
        for j, node in enumerate(nodes):
            slot_of[id(node)] = base + j
        self.instructions = [
            Instruction(node.op, tuple(slot_of[id(x)] for x in node.inputs), slot_of[id(node)])  # type: ignore[arg-type]
            for node in nodes
        ]
        self.roots = [slot_of[id(r)] for r in roots]
        self.n_params = len(params)

    def signature(self) -> tuple[Any, ...]:
        """What must be equal between two traces of the same function."""
        ops = tuple((ins.op.name, ins.inputs) for ins in self.instructions)
        return ops, tuple(self.roots), len(self.constants)


def _roots(result: Any) -> list[Value]:
    items = list(result) if isinstance(result, tuple) else [result]
    if not items or not all(isinstance(v, Value) for v in items):
        raise TypeError(
            f"trace: the function must return a Value (the loss) or a tuple of Values, got {type(result).__name__}"
        )
    return items


class Tape:
    """A recorded per-example function, replayed on batches with numpy.

    Build it with `trace`. `forward(X)` gives the losses; `value_and_grad(X)`
    also the parameters' gradients; `backward(X)` adds them into `.grad`.
    X has shape (batch, n_inputs): one row per example, in the order of
    `example_inputs` (a sequence of n_inputs arrays of shape (batch,) works too).
    Parameter values are read from the Values' `.data` at every replay.

    Attributes:
        instructions: the flat program, in topological order (see `Instruction`).
        reduction:    "mean" or "sum", for the loss and the gradients.
        chunk_size:   examples replayed at once; larger batches run in chunks whose
                      gradients are summed (set at trace time from the widest group).
    """

    def __init__(self, recording: _Recording, reduction: str) -> None:
        self._recording = recording
        self._fn_params: list[Value] = recording.params
        self.reduction = reduction
        self.instructions: list[Instruction] = recording.instructions
        self.n_params = recording.n_params
        self.n_inputs = len(recording.inputs)
        self.n_constants = len(recording.constants)
        plan = schedule(self.instructions, self.n_params, self.n_inputs, self.n_constants, recording.roots)
        self._depth, self._n_groups = plan.depth, len(plan.groups)
        self._replayer = Replay(plan, self.n_params, self.n_inputs, [c.data for c in recording.constants])

    @property
    def chunk_size(self) -> int:
        """Examples replayed at once: larger batches run in chunks whose gradients are summed
        (set at trace time from the widest group)."""
        return self._replayer.chunk_size

    @chunk_size.setter
    def chunk_size(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"Tape.chunk_size must be an int >= 1, got {size!r}")
        self._replayer.chunk_size = size

    # --- public replay ----------------------------------------------------------------------
    def forward(self, inputs: Any, param_values: np.ndarray | None = None) -> TapeResult:
        """Per-example losses (and extra outputs) of a batch; `grads` is None."""
        return self._replay(inputs, param_values, backward=False)

    def value_and_grad(self, inputs: Any, param_values: np.ndarray | None = None) -> TapeResult:
        """Loss and parameter gradients of a batch, leaving every `.grad` untouched.

        `param_values` (shape (P,)) replaces the parameters' `.data` for this call.
        """
        return self._replay(inputs, param_values, backward=True)

    def backward(self, inputs: Any) -> TapeResult:
        """As `value_and_grad`, and add the gradients into the parameters' `.grad`
        (accumulating, as `Value.backward` does)."""
        result = self.value_and_grad(inputs)
        assert result.grads is not None
        for p, g in zip(self.params, result.grads.tolist(), strict=True):
            p.grad += g
        return result

    def check(self, inputs: Any) -> None:
        """Re-trace on every example of `inputs` (shape (batch, n_inputs)) and raise
        TraceError if any builds a different graph than the recorded one."""
        rows = real_array(inputs, "Tape.check: inputs")
        if rows.ndim != 2 or rows.shape[1] != self.n_inputs:
            raise ValueError(f"Tape.check: inputs must have shape (batch, {self.n_inputs}), got {rows.shape}")
        for row in rows.tolist():
            self._check_one(row, perturbed=False)

    @property
    def params(self) -> list[Value]:
        """The parameters, in slot order."""
        return self._fn_params

    @property
    def depth(self) -> int:
        """Length of the longest path from a leaf to an output."""
        return self._depth

    @property
    def n_groups(self) -> int:
        """Row calls per forward replay (the same number backward, at most)."""
        return self._n_groups

    def __repr__(self) -> str:
        return (
            f"Tape({len(self.instructions)} instructions, {self.n_params} params, {self.n_inputs} inputs, "
            f"{self.n_constants} constants, depth {self.depth}, {self.n_groups} groups, {self.reduction})"
        )

    # --- replay -------------------------------------------------------------------------------
    def _replay(self, inputs: Any, param_values: Any, backward: bool) -> TapeResult:
        """Check the batch and the parameters, replay (`_tape_replay.Replay.run`), reduce."""
        params = param_array(param_values, self.params)
        batch = read_batch(inputs, self.n_inputs)
        xp = namespace(batch)
        if xp is np:
            rows, grads = self._replayer.run(batch, params, backward)
        else:  # torch & co., on their device; a non-finite number re-runs the batch on numpy
            try:
                rows, grads = self._replayer.run(batch, xp.asarray(params, device=batch.device), backward)
            except NeedsNumpy:
                rows, grads = self._replayer.run(to_numpy(batch), params, backward)
                rows = xp.asarray(rows, device=batch.device)
                grads = None if grads is None else xp.asarray(grads, device=batch.device)
        b = batch.shape[1]
        if grads is not None and not (np.isfinite(grads).all() if xp is np else bool(xp.all(xp.isfinite(grads)))):
            grads = to_numpy(grads)
            i = int(np.flatnonzero(~np.isfinite(grads))[0])
            raise NumericOverflowError(
                f"tape backward: the gradient of parameter {i} ({self.params[i].label or 'unlabelled'}) summed "
                f"over the batch is {float(grads[i])!r}; it overflows float64"
            )
        losses, outputs = rows[0], rows[1:]
        if self.reduction == "mean":
            loss = float(losses.sum()) / b  # what losses.mean() computes, without its overhead
            grads = None if grads is None else grads / b
        else:
            loss = float(losses.sum())
        return TapeResult(loss, losses, grads, outputs)

    # --- structure checks -------------------------------------------------------------------
    def _check_one(self, example: list[float], perturbed: bool) -> None:
        rec = self._recording
        example = _check_example(example, self.n_inputs, "check_inputs")
        try:
            other = _Recording(rec.fn, self.params, example)
        except AutogradMiniError:
            if perturbed:
                return  # the perturbed example left the function's domain: nothing to compare
            raise
        _compare(rec, other, example)


def _compare(first: _Recording, other: _Recording, example: list[float]) -> None:
    """Raise TraceError unless `other` recorded the same program as `first`."""
    hint = (
        "the traced function must build the same graph for every example (no Python `if` on .data; "
        "relu/abs are fine)"
    )
    if first.signature() != other.signature():
        where = _first_difference(first, other)
        raise TraceError(f"the recorded graph differs for the example {example}: {where}; {hint}")
    for j, (a, c) in enumerate(zip(first.constants, other.constants, strict=True)):
        if a is c:
            label = f" labelled {a.label!r}" if a.label else ""
            raise TraceError(
                f"the function uses a Value{label} (data={a.data!r}) created outside it that is not in params; "
                "pass it in params to train it, or build constants inside the function"
            )
        if a.data != c.data:
            raise TraceError(
                f"constant {j} is {a.data!r} for the traced example but {c.data!r} for {example}: "
                f"it was computed from an input's .data; {hint}"
            )


def _first_difference(first: _Recording, other: _Recording) -> str:
    for i, (a, b) in enumerate(zip(first.instructions, other.instructions, strict=False)):
        if (a.op.name, a.inputs) != (b.op.name, b.inputs):
            return f"instruction {i} is {a.op.name}{a.inputs} in the trace but {b.op.name}{b.inputs} here"
    n1, n2 = len(first.instructions), len(other.instructions)
    if n1 != n2:
        return f"{n1} instructions in the trace, {n2} here"
    return "the outputs or the number of constants differ"


def _check_example(example: Any, expected: int | None, name: str) -> list[float]:
    items = real_array(example, f"trace: {name}")
    if items.ndim != 1 or (expected is not None and items.shape[0] != expected):
        want = f"({expected},)" if expected is not None else "(n_inputs,)"
        raise ValueError(f"trace: {name} must be one example of shape {want}, got shape {items.shape}")
    if not np.isfinite(items).all():
        raise ValueError(f"trace: {name} must be finite, got {example!r}")
    return items.tolist()
