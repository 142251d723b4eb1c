"""One trace of a per-example function as a flat program, and the checks that two traces agree.

The rules of tracing (what a tape can and cannot record) are in docs/tape.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from ..errors import AutogradMiniError
from ..graph import Roots, reverse_topological_order
from ..ops import Op
from ..value import Value
from .failures import TraceError
from .schedule import Instruction

TracedFunction = Callable[[list[Value], list[Value]], "Value | tuple[Value, ...]"]
"""fn(params, inputs) -> the loss Value of one example, or a tuple (loss, extra, ...) of Values."""


class Recording:
    """One trace of `fn`: the instructions in topological order, in the tape's slots
    (parameters, then inputs, then constants, then one slot per instruction)."""

    def __init__(self, fn: TracedFunction, params: list[Value], example: list[float]) -> None:
        self.fn = fn
        self.params = params
        self.inputs = [Value(x, label=f"input{i}") for i, x in enumerate(example)]
        outputs = _outputs(fn(params, self.inputs))
        slot_of = {id(p): i for i, p in enumerate(params)}
        slot_of.update({id(x): len(params) + i for i, x in enumerate(self.inputs)})
        order = reverse_topological_order(Roots(outputs))[1:]
        order.reverse()
        self.constants: list[Value] = [v for v in order if v.op is None and id(v) not in slot_of]
        nodes = [v for v in order if v.op is not None and id(v) not in slot_of]
        for slot, v in enumerate(self.constants + nodes, start=len(params) + len(self.inputs)):
            slot_of[id(v)] = slot
        self.instructions = [
            Instruction(_op_of(v), tuple(slot_of[id(x)] for x in v.inputs), slot_of[id(v)]) for v in nodes
        ]
        self.roots = [slot_of[id(r)] for r in outputs]
        self.n_params = len(params)

    def signature(self) -> tuple[object, ...]:
        """What must be equal between two traces of the same function."""
        ops = tuple((ins.op.name, ins.inputs) for ins in self.instructions)
        return ops, tuple(self.roots), len(self.constants)


def _op_of(node: Value) -> Op:
    assert node.op is not None
    return node.op


def _outputs(result: object) -> list[Value]:
    items = list(result) if isinstance(result, tuple) else [result]
    values = [v for v in items if isinstance(v, Value)]
    if not items or len(values) != len(items):
        raise TypeError(
            f"trace: the function must return a Value (the loss) or a tuple of Values, got {type(result).__name__}"
        )
    return values


def check_retrace(first: Recording, example: list[float], perturbed: bool) -> None:
    """Trace `first.fn` again on `example`; raise TraceError unless it records the same program.
    A `perturbed` example (made up by `trace`) that leaves the function's domain is skipped."""
    try:
        other = Recording(first.fn, first.params, example)
    except AutogradMiniError:
        if perturbed:
            return
        raise
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


def _first_difference(first: Recording, other: Recording) -> str:
    for i, (a, b) in enumerate(zip(first.instructions, other.instructions, strict=False)):
        if (a.op.name, a.inputs) != (b.op.name, b.inputs):
            return f"instruction {i} is {a.op.name}{a.inputs} in the trace but {b.op.name}{b.inputs} here"
    n1, n2 = len(first.instructions), len(other.instructions)
    if n1 != n2:
        return f"{n1} instructions in the trace, {n2} here"
    return "the outputs or the number of constants differ"


def check_example(example: object, expected: int | None, name: str) -> list[float]:
    """One example (shape (n_inputs,)) as finite floats; ValueError naming `name` otherwise."""
    items = real_array(example, f"trace: {name}")
    if items.ndim != 1 or (expected is not None and items.shape[0] != expected):
        want = f"({expected},)" if expected is not None else "(n_inputs,)"
        raise ValueError(f"trace: {name} must be one example of shape {want}, got shape {items.shape}")
    if not np.isfinite(items).all():
        raise ValueError(f"trace: {name} must be finite, got {example!r}")
    return [float(x) for x in cast("list[float]", items.tolist())]  # cast: numpy < 2.3 types tolist() loosely


def real_array(data: object, what: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """`data` as a float array; complex numbers (or anything not real) are refused, never cast."""
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be real numbers: {exc}") from None
    if array.dtype.kind == "c":
        raise TypeError(f"{what} must be real numbers, got complex values (dtype {array.dtype}); the tape "
                        "does not cast them to real")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{what} must be real numbers, got dtype {array.dtype}")
    return array.astype(float, copy=False)
