"""The compiled tape: `trace` records a per-example function once; `Tape` replays it on a batch.

`Tape.value_and_grad(rows)` reads the batch here, runs `replay.Replay.run` (every group's
row of `ops.OPS` forward, then its vjp backward: (1.5), summed as in (1.8)) and reduces.
The tracing rules, the slot layout and the errors are described in docs/tape.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from ..errors import NumericOverflowError
from ..params import check_params
from ..value import Value
from .arrays import Array, namespace, to_numpy
from .failures import TraceError
from .planner import schedule
from .recording import Recording, TracedFunction, check_example, check_retrace, real_array
from .reference import reference_replay
from .replay import NeedsNumpy, Replay
from .schedule import Instruction

Reduction = Literal["mean", "sum"]
REDUCTIONS: tuple[Reduction, ...] = ("mean", "sum")
__all__ = ["REDUCTIONS", "Tape", "TapeResult", "TraceError", "trace"]


@dataclass
class TapeResult:
    """What a replay returns.

    loss:    the reduced loss (mean or sum of `losses`, per the tape's reduction).
    losses:  per-example loss, shape (batch,).
    grads:   d loss / d param for each parameter, shape (P,), reduced like the
             loss (summed over the batch, divided by the batch for "mean");
             None after `Tape.forward` (typed as an array all the same, so that the
             result of `value_and_grad` needs no narrowing).
    outputs: the extra outputs the traced function returned, shape (n_extra, batch).
    The arrays are numpy's, or the inputs' own namespace's (torch tensors in, torch out).
    """

    loss: float
    losses: Array
    grads: Array
    outputs: Array


def trace(
    fn: TracedFunction,
    params: Sequence[Value],
    example_inputs: npt.ArrayLike,
    *,
    reduction: Reduction = "mean",
    check_inputs: npt.ArrayLike | None = None,
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
        check_inputs:   further examples to re-trace and compare (see docs/tape.md);
                        by default one perturbed copy of the example.
        check:          False skips the re-trace.

    Raises:
        TraceError when the graph differs between examples or uses a captured Value.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"trace: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    checked = check_params(params, "trace", allow_empty=True)
    example = check_example(example_inputs, None, "example_inputs")
    tape = Tape(Recording(fn, checked, example), reduction)
    if check:
        if check_inputs is None:
            check_retrace(tape._recording, [x * -1.37 + 0.29 for x in example], perturbed=True)
        else:
            tape.check(check_inputs)
    return tape


class Tape:
    """A recorded per-example function, replayed on batches with numpy (or torch & co.).

    Build it with `trace`. `forward(X)` gives the losses; `value_and_grad(X)`
    also the parameters' gradients; `backward(X)` adds them into `.grad`.
    X has shape (batch, n_inputs): one row per example, in the order of
    `example_inputs`; a list of n_inputs arrays of shape (batch,), one per input, works too.
    Parameter values are read from the Values' `.data` at every replay.

    Attributes:
        instructions: the flat program, in topological order (see `Instruction`).
        reduction:    "mean" or "sum", for the loss and the gradients.
        chunk_size:   examples replayed at once; larger batches run in chunks whose
                      gradients are summed (set at trace time from the widest group).
    """

    def __init__(self, recording: Recording, reduction: Reduction) -> None:
        self._recording = recording
        self.reduction: Reduction = reduction
        self.instructions: list[Instruction] = recording.instructions
        self.n_params = recording.n_params
        self.n_inputs = len(recording.inputs)
        self.n_constants = len(recording.constants)
        plan = schedule(self.instructions, self.n_params, self.n_inputs, self.n_constants, recording.roots)
        self.depth = plan.depth  # length of the longest path from a leaf to an output
        self.n_groups = len(plan.groups)  # row calls per forward replay (the same backward, at most)
        self._replayer = Replay(plan, self.n_params, self.n_inputs, [c.data for c in recording.constants])

    @property
    def chunk_size(self) -> int:
        """Examples replayed at once (larger batches run in chunks whose gradients are summed)."""
        return self._replayer.chunk_size

    @chunk_size.setter
    def chunk_size(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"Tape.chunk_size must be an int >= 1, got {size!r}")
        self._replayer.chunk_size = size

    @property
    def params(self) -> list[Value]:
        """The parameters, in slot order."""
        return self._recording.params

    def forward(self, inputs: npt.ArrayLike, param_values: npt.ArrayLike | None = None) -> TapeResult:
        """Per-example losses (and extra outputs) of a batch; `grads` is None."""
        return self._replay(inputs, param_values, backward=False)

    def value_and_grad(self, inputs: npt.ArrayLike, param_values: npt.ArrayLike | None = None) -> TapeResult:
        """Loss and parameter gradients of a batch, leaving every `.grad` untouched.

        `param_values` (shape (P,)) replaces the parameters' `.data` for this call.
        """
        return self._replay(inputs, param_values, backward=True)

    def backward(self, inputs: npt.ArrayLike) -> TapeResult:
        """As `value_and_grad`, and add the gradients into the parameters' `.grad`
        (accumulating, as `Value.backward` does)."""
        result = self.value_and_grad(inputs)
        for p, g in zip(self.params, to_numpy(result.grads).tolist(), strict=True):
            p.grad += g
        return result

    def reference_value_and_grad(self, inputs: npt.ArrayLike, param_values: npt.ArrayLike | None = None) -> TapeResult:
        """`value_and_grad` by the plain replay (`reference.reference_replay`: one instruction at
        a time, no groups, numpy only, no error location): what the fast replay is tested against."""
        params = param_array(param_values, self.params)
        batch = to_numpy(read_batch(inputs, self.n_inputs))
        b = batch.shape[1]
        constants = [np.full(b, c.data) for c in self._recording.constants]
        leaves = [np.full(b, p) for p in cast("list[float]", params.tolist())] + list(batch) + constants
        outputs, grads = reference_replay(self.instructions, self._recording.roots, leaves, self.n_params)
        return self._reduced(outputs, grads, b)

    def check(self, inputs: npt.ArrayLike) -> None:
        """Re-trace on every example of `inputs` (shape (batch, n_inputs)) and raise
        TraceError if any builds a different graph than the recorded one."""
        rows = real_array(inputs, "Tape.check: inputs")
        if rows.ndim != 2 or rows.shape[1] != self.n_inputs:
            raise ValueError(f"Tape.check: inputs must have shape (batch, {self.n_inputs}), got {rows.shape}")
        for row in cast("list[list[float]]", rows.tolist()):  # cast: numpy < 2.3 types tolist() loosely
            check_retrace(self._recording, check_example(row, self.n_inputs, "check_inputs"), perturbed=False)

    def __repr__(self) -> str:
        return (
            f"Tape({len(self.instructions)} instructions, {self.n_params} params, {self.n_inputs} inputs, "
            f"{self.n_constants} constants, depth {self.depth}, {self.n_groups} groups, {self.reduction})"
        )

    def _replay(self, inputs: Any, param_values: Any, backward: bool) -> TapeResult:
        """Check the batch and the parameters, replay (`replay.Replay.run`), reduce."""
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
        return self._reduced(rows, grads, batch.shape[1])

    def _reduced(self, rows: Any, grads: Any | None, b: int) -> TapeResult:
        """The result of a replay, with the loss and gradients reduced over the batch."""
        xp = namespace(rows)
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


# --- reading a batch ------------------------------------------------------------------------------
def read_batch(inputs: Any, n_inputs: int) -> Any:
    """The inputs as an (n_inputs, batch) float64 array in their own namespace (numpy, or
    torch & co., on their device): rows of examples, or a list of n_inputs arrays of shape
    (batch,), one per input. ValueError names a wrong shape or the first input not finite;
    TypeError a tensor the tape cannot read (complex, sparse, meta, requiring grad)."""
    if isinstance(inputs, (list, tuple)) and inputs and all(_is_column(c) for c in inputs):
        spaces = {id(namespace(c)): namespace(c) for c in inputs}
        if len(spaces) > 1:
            raise TypeError("Tape: the input arrays must all be of one kind (all numpy, or all torch), got "
                            + ", ".join(sorted({type(c).__name__ for c in inputs})))
        xp = next(iter(spaces.values()))
        if xp is np:
            return _numpy_batch(inputs, n_inputs)
        for i, column in enumerate(inputs):
            _check_foreign(column, f"Tape: inputs[{i}]")
        if len(inputs) != n_inputs or any(tuple(c.shape) != (inputs[0].shape[0],) for c in inputs):
            _numpy_batch([to_numpy(c) for c in inputs], n_inputs)  # raises the numpy path's error
        return _foreign_batch(xp.stack([_as_float64(xp, c) for c in inputs]), n_inputs, inputs)
    xp = namespace(inputs)
    if xp is np:
        return _numpy_batch(inputs, n_inputs)
    _check_foreign(inputs, "Tape: inputs")
    rows = _as_float64(xp, inputs)
    if rows.ndim == 1 and n_inputs == 1:
        return _foreign_batch(rows[None], n_inputs, inputs)  # one number per example
    return _foreign_batch(rows.T if rows.ndim == 2 else rows, n_inputs, inputs)


def _is_column(x: Any) -> bool:
    """x is an array of one dimension or more, of numpy or another namespace (a torch tensor)."""
    if isinstance(x, np.ndarray):
        return x.ndim >= 1
    return not isinstance(x, np.generic) and namespace(x) is not np and getattr(x, "ndim", 0) >= 1


def _check_foreign(x: Any, what: str) -> None:
    """Refuse, naming `x`, an array of another namespace the replay cannot compute on."""
    kind = str(x.dtype)
    if "complex" in kind:
        raise TypeError(f"{what} must be real numbers, got complex values (dtype {kind}); the tape "
                        "does not cast them to real")
    if getattr(x, "requires_grad", False):
        # Detaching silently would cut the caller's torch graph at a distance: the results
        # carry no gradient back to the inputs (the tape differentiates its params only).
        raise TypeError(f"{what} is a tensor with requires_grad=True; the tape computes gradients for its "
                        "params only and records nothing into torch's autograd: pass inputs.detach()")
    layout = str(getattr(x, "layout", "strided"))
    if getattr(x, "is_sparse", False) or "sparse" in layout:
        raise TypeError(f"{what} is a sparse tensor (layout {layout}); the tape replays on dense arrays: "
                        "pass inputs.to_dense()")
    if getattr(x, "is_meta", False) or str(getattr(x, "device", "")) == "meta":
        raise TypeError(f"{what} is on the 'meta' device, which holds shapes but no numbers; "
                        "pass a tensor on a real device (cpu, cuda, ...)")


def _as_float64(xp: Any, x: Any) -> Any:
    return xp.astype(x, xp.float64) if hasattr(xp, "astype") else x.to(xp.float64)


def _numpy_batch(inputs: Any, n_inputs: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """`read_batch` for numpy: rows of examples, or one array per input."""
    if isinstance(inputs, (list, tuple)) and inputs and all(_is_column(c) for c in inputs):
        columns = [real_array(c if isinstance(c, np.ndarray) else to_numpy(c), "Tape: inputs") for c in inputs]
        if len(columns) != n_inputs or any(c.ndim != 1 or c.shape != columns[0].shape for c in columns):
            shapes = [c.shape for c in columns]
            raise ValueError(f"Tape: expected {n_inputs} input arrays of shape (batch,), got shapes {shapes}")
        batch = np.stack(columns)
    else:
        rows = real_array(inputs, "Tape: inputs")
        if rows.ndim == 1 and n_inputs == 1:
            rows = rows[:, None]
        if rows.ndim != 2 or rows.shape[1] != n_inputs:
            raise ValueError(f"Tape: inputs must have shape (batch, {n_inputs}), got {rows.shape}")
        batch = rows.T
    if batch.shape[1] == 0:
        raise ValueError("Tape: the batch is empty")
    if not np.isfinite(batch).all():
        example, number = (int(i[0]) for i in np.nonzero(~np.isfinite(batch.T)))
        bad = float(batch[number, example])
        value = "NaN" if bad != bad else repr(bad)
        raise ValueError(f"Tape: input {number} of example {example} is {value}; inputs must be finite")
    return batch


def _foreign_batch(batch: Any, n_inputs: int, inputs: Any) -> Any:
    """Another namespace's (n_inputs, batch) float64 array, checked on its device: anything
    wrong is reported by `_numpy_batch` on a numpy copy of `inputs`."""
    xp = namespace(batch)
    if batch.ndim != 2 or batch.shape[0] != n_inputs or batch.shape[1] == 0 or not bool(xp.all(xp.isfinite(batch))):
        _numpy_batch([to_numpy(c) for c in inputs] if isinstance(inputs, (list, tuple)) else to_numpy(inputs),
                     n_inputs)
    return batch


def param_array(param_values: Any, params: list[Value]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The parameters' values (their `.data`, or `param_values` of shape (P,), numpy or not)
    as a finite float array; ValueError naming a bad one (NaN named NaN) and its label."""
    if param_values is None:
        values = np.array([p.data for p in params], dtype=float)
    else:
        values = real_array(param_values if namespace(param_values) is np else to_numpy(param_values),
                            "Tape: param_values")
        if values.shape != (len(params),):
            raise ValueError(f"Tape: param_values must have shape ({len(params)},), got {values.shape}")
    if not np.isfinite(values).all():
        i = int(np.flatnonzero(~np.isfinite(values))[0])
        value = "NaN" if values[i] != values[i] else repr(float(values[i]))
        raise ValueError(f"Tape: parameter {i} ({params[i].label or 'unlabelled'}) is {value}; "
                         "parameters must be finite")
    return values
