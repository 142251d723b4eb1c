"""Run one program on the learner's engine and on autograd_mini, and compare them.

Every call into the learner's engine is guarded: whatever it raises (a
RecursionError from a recursive backward included) becomes an `EngineError`
saying at which step it happened and, read from the traceback, in which of the
engine's methods. The reference is autograd_mini's `Value`, whose float
backward also leaves each interior node's gradient in `.grad`.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Any

from ..value import Value
from .adapter import Adapter
from .program import Program, build, reference_apply

REL_TOL = 1e-9
ABS_TOL = 1e-9

# The engine's method a traceback frame belongs to -> the op it implements.
_METHOD_OPS = {
    "__add__": "add", "__radd__": "radd", "__mul__": "mul", "__rmul__": "rmul", "__sub__": "sub",
    "__rsub__": "rsub", "__truediv__": "div", "__rtruediv__": "rdiv", "__pow__": "pow", "__neg__": "neg",
    "relu": "relu", "tanh": "tanh", "exp": "exp", "log": "log", "sigmoid": "sigmoid",
}


@dataclass(frozen=True)
class EngineError:
    """The learner's engine raised: where (`stage`), what, and which of its methods (`op`, if told)."""

    stage: str
    exception: str
    message: str
    op: str | None

    @property
    def recursion(self) -> bool:
        return self.exception == "RecursionError"

    def __str__(self) -> str:
        where = f" in {self.op}" if self.op else ""
        return f"{self.exception}{where} while {self.stage}: {self.message}"[:300]


@dataclass
class Run:
    """One program on one engine: every slot's value and gradient (None: not read), or the error."""

    values: list[float | None]
    grads: list[float | None]
    error: EngineError | None = None


def run_learner(adapter: Adapter, program: Program, backward_calls: int = 1) -> Run:
    """Build `program` on the learner's engine, run backward, read every node."""
    n = program.size
    run = Run([None] * n, [None] * n)
    nodes: list[Any] = []
    stage, step_op = "building the leaves", None
    try:
        for x in program.leaves:
            nodes.append(adapter.leaf(x))
            run.values[len(nodes) - 1] = adapter.data(nodes[-1])
        for k, step in enumerate(program.steps):
            stage, step_op = f"computing {program.name(len(program.leaves) + k)} = {program.step_code(k)}", step.op
            nodes.append(adapter.apply(step.op, [nodes[a] for a in step.args], step.c))
            run.values[len(nodes) - 1] = adapter.data(nodes[-1])  # read at once: a bad result blames its op
        step_op = None
        for call in range(backward_calls):
            stage = "running backward()" + (" a second time" if call else "")
            adapter.backward(nodes[-1])
        stage = "reading .grad"
        run.grads = [adapter.grad(node) for node in nodes]
    except Exception as exc:  # noqa: BLE001 - anything the learner's code raises is a finding
        run.error = EngineError(stage, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "",
                                _blamed_method(exc.__traceback__) or step_op)
    return run


@dataclass
class Expected:
    """autograd_mini's numbers for a program: every slot's value and gradient."""

    values: list[float]
    grads: list[float]


def run_reference(program: Program, backward_calls: int = 1) -> tuple[Expected, list[Value]]:
    """The same program on autograd_mini's Value (labelled with the program's names)."""
    nodes = build(program, Value, reference_apply)
    for slot, node in enumerate(nodes):
        node.label = program.name(slot)
    for _ in range(backward_calls):
        nodes[-1].backward()
    return Expected([v.data for v in nodes], [float(v.grad) for v in nodes]), nodes


def close(mine: float | None, expected: float | None) -> bool:
    """Equal within a relative 1e-9 (absolute 1e-9 near zero); None matches only None."""
    if mine is None or expected is None:
        return mine is expected
    return math.isclose(mine, expected, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def grad_close(program: Program, slot: int, mine: float | None, expected: float | None) -> bool:
    """A gradient comparison: an interior node the engine keeps no gradient for is not compared;
    a leaf without one counts as 0."""
    if mine is None:
        if slot >= len(program.leaves):
            return True
        mine = 0.0
    return close(mine, expected)


def agrees(program: Program, mine: Run, expected: Expected) -> bool:
    """True if the learner's run raised nothing and every value and gradient matches."""
    if mine.error is not None:
        return False
    return all(close(a, b) for a, b in zip(mine.values, expected.values)) and all(
        grad_close(program, slot, a, b) for slot, (a, b) in enumerate(zip(mine.grads, expected.grads)))


def _blamed_method(tb: types.TracebackType | None) -> str | None:
    """The innermost engine method in the traceback, as an op name ("mul" for Value.__mul__'s _backward)."""
    found = None
    here = __file__.rpartition("/")[0]
    while tb is not None:
        code = tb.tb_frame.f_code
        if not code.co_filename.startswith(here):
            qualname = getattr(code, "co_qualname", code.co_name)
            for part in qualname.split("."):
                if part in _METHOD_OPS:
                    found = _METHOD_OPS[part]
                elif part == "backward":
                    found = "backward"
        tb = tb.tb_next
    return found
