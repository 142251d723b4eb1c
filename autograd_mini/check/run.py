"""Run one program on the learner's engine and on autograd_mini, and compare them.

Every call into the learner's engine is guarded: whatever it raises (a
RecursionError from a recursive backward, a SystemExit included) becomes an
`EngineError` saying at which step it happened and, read from the traceback,
in which of the engine's methods. Every call is also bounded in time
(`time_limit`): an engine that loops forever, or is quadratic on the deep
chain, is stopped and reported, never waited for. The reference is
autograd_mini's `Value`, whose float backward also leaves each interior
node's gradient in `.grad`.

`session` holds what one `check_engine` call shares: the tolerance of the
comparisons (looser for an engine that computes in float32) and the programs
that ran out of time once (not run again).
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..value import Value
from .adapter import Adapter
from .program import Program, build, reference_apply

REL_TOL = 1e-9
ABS_TOL = 1e-9
FLOAT32_TOL = 1e-3
"""The relative and absolute tolerance for an engine that computes in float32 (about 8000 of its ulps: a
wrong rule is off by far more, rounding after a few ops far less)."""
SECONDS = 2.0
"""Time allowed to one small program (build, backward, read): microseconds on any engine, unless it hangs."""
DEEP_SECONDS = 10.0
"""Time allowed to the deep chain: a linear engine needs well under a second for its 5000 ops."""


SAFE_RECURSION_LIMIT = 4000
"""The recursion limit while the learner's code runs, when its file raised it higher: Python frames that
recurse through C (map, a dunder called from C) overflow an 8 MB C stack near 14,000 levels and crash
the process; a RecursionError is a finding."""


class EngineTimeout(BaseException):
    """Raised into the learner's code when a call runs out of time (a BaseException, so that an engine's
    own `except Exception` cannot swallow it)."""


@dataclass
class Session:
    """What one `check_engine` call shares: the tolerance and the programs that ran out of time."""

    rel_tol: float = REL_TOL
    abs_tol: float = ABS_TOL
    timed_out: dict[tuple[Program, int], Run] = field(default_factory=dict)


_SESSION: ContextVar[Session | None] = ContextVar("check_session", default=None)


@contextlib.contextmanager
def session(rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> Iterator[Session]:
    """A fresh `Session` for the comparisons and runs inside the `with` block."""
    current = Session(rel_tol, abs_tol)
    token = _SESSION.set(current)
    try:
        yield current
    finally:
        _SESSION.reset(token)


def _session() -> Session:
    return _SESSION.get() or Session()


@contextlib.contextmanager
def guard(seconds: float) -> Iterator[None]:
    """`time_limit(seconds)`, with the recursion limit at most `SAFE_RECURSION_LIMIT`: around every call
    into the learner's engine."""
    limit = sys.getrecursionlimit()
    capped = min(limit, SAFE_RECURSION_LIMIT)
    sys.setrecursionlimit(capped)
    try:
        with time_limit(seconds):
            yield
    finally:
        if sys.getrecursionlimit() == capped:  # else the engine set its own limit in the call: it stays
            sys.setrecursionlimit(limit)


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `EngineTimeout` inside the block once it has run `seconds` (again every 0.2 s after, in case
    the engine swallows it). Needs SIGALRM and the main thread; elsewhere the block runs unbounded."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    armed = [True]

    def alarm(signum: int, frame: types.FrameType | None) -> None:
        if armed[0]:
            raise EngineTimeout(f"took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    started = time.monotonic()
    left, interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if left > 0:  # someone else's alarm (pytest-timeout's, say) was set: set it again, less the time spent
            signal.setitimer(signal.ITIMER_REAL, max(left - (time.monotonic() - started), 1e-3), interval)

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
    step_op: str | None = None  # the op of the step being computed, when it was another op's code that raised

    @property
    def recursion(self) -> bool:
        return self.exception == "RecursionError"

    @property
    def timeout(self) -> bool:
        return self.exception == "EngineTimeout"

    def __str__(self) -> str:
        where = f" in {self.op}" if self.op else ""
        if self.op and self.step_op and self.step_op != self.op:
            where += f" (called by {self.step_op})"
        if self.timeout:
            return f"no answer{where} while {self.stage}: it {self.message} (an endless loop, or far too slow?)"[:300]
        return f"{self.exception}{where} while {self.stage}: {self.message}"[:300]


@dataclass
class Run:
    """One program on one engine: every slot's value and gradient (None: not read), or the error."""

    values: list[float | None]
    grads: list[float | None]
    error: EngineError | None = None


def run_learner(adapter: Adapter, program: Program, backward_calls: int = 1) -> Run:
    """Build `program` on the learner's engine, run backward, read every node (within `SECONDS`, or
    `DEEP_SECONDS` for the deep chain; a program that ran out of time once is not run again)."""
    key = (program, backward_calls)
    timed_out = _session().timed_out
    if key in timed_out:
        return timed_out[key]
    run = Run([None] * program.size, [None] * program.size)
    where: list[Any] = ["building the leaves", None]  # the stage, and the op of the step being computed
    try:
        with guard(SECONDS if program.loop is None else DEEP_SECONDS):
            _run(adapter, program, backward_calls, run, where)
    except (Exception, SystemExit, EngineTimeout) as exc:  # noqa: BLE001 - what the learner's code raises is a finding
        run.error = EngineError(where[0], type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "",
                                _blamed_method(exc.__traceback__) or where[1], where[1])
        if isinstance(exc, EngineTimeout):
            timed_out[key] = run
    return run


def _run(adapter: Adapter, program: Program, backward_calls: int, run: Run, where: list[Any]) -> None:
    nodes: list[Any] = []
    for x in program.leaves:
        nodes.append(adapter.leaf(x))
        run.values[len(nodes) - 1] = adapter.data(nodes[-1])
    for k, step in enumerate(program.steps):
        where[:] = f"computing {program.name(len(program.leaves) + k)} = {program.step_code(k)}", step.op
        nodes.append(adapter.apply(step.op, [nodes[a] for a in step.args], step.c))
        run.values[len(nodes) - 1] = adapter.data(nodes[-1])  # read at once: a bad result blames its op
    where[1] = None
    for call in range(backward_calls):
        where[0] = "running backward()" + (" a second time" if call else "")
        adapter.backward(nodes[-1])
    where[0] = "reading .grad"
    run.grads = [adapter.grad(node) for node in nodes]


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
    """Equal within the session's tolerance (a relative 1e-9, absolute 1e-9 near zero; 1e-3 for an
    engine in float32); None matches only None."""
    if mine is None or expected is None:
        return mine is expected
    tol = _session()
    return math.isclose(mine, expected, rel_tol=tol.rel_tol, abs_tol=tol.abs_tol)


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


def _qualname(code: types.CodeType, classes: list[type]) -> str:
    """The code's qualified name ("Value.exp.<locals>._backward"), on Python 3.10 too.

    3.10 has no `co_qualname`: a closure's enclosing method is then the method, among
    `classes` (those of the traceback's variables), whose constants hold the closure's code.
    """
    qualname: str | None = getattr(code, "co_qualname", None)
    if qualname is not None:
        return qualname
    for cls in classes:
        for name, attr in vars(cls).items():
            method = getattr(attr, "__code__", None)
            if isinstance(method, types.CodeType) and code in method.co_consts:
                return f"{cls.__name__}.{name}.<locals>.{code.co_name}"
    return code.co_name


def _classes_in(tb: types.TracebackType | None) -> list[type]:
    """The classes of the variables of the traceback's frames (the engine's Value among them)."""
    classes: list[type] = []
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            classes += [cls for cls in type(value).__mro__ if cls not in classes and cls is not object]
        tb = tb.tb_next
    return classes


def _blamed_method(tb: types.TracebackType | None) -> str | None:
    """The innermost engine method in the traceback, as an op name ("mul" for Value.__mul__'s _backward)."""
    found = None
    here = __file__.rpartition("/")[0]
    classes = _classes_in(tb) if sys.version_info < (3, 11) else []
    while tb is not None:
        code = tb.tb_frame.f_code
        if not code.co_filename.startswith(here):
            for part in _qualname(code, classes).split("."):
                if part in _METHOD_OPS:
                    found = _METHOD_OPS[part]
                elif part == "backward":
                    found = "backward"
        tb = tb.tb_next
    return found
