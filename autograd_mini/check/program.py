"""A program: one expression, built the same way on any engine.

Slots 0..n-1 are the leaves, slot n + k the result of step k; the last slot is
the output. The same `Program` is built on the learner's engine (through an
`Adapter`) and on autograd_mini's `Value` (the reference), so the two graphs
correspond node for node, and `code()` prints it in the learner's own API.

The ops are those a micrograd-style class may have: operators between two
nodes, operators with a number on either side (`x - 2.0`, `2.0 - x`), `**`
with a number exponent, `-x`, and the methods relu, tanh, exp, log, sigmoid.
Each `OpSpec` names the row of `autograd_mini.ops` whose sample domain says
where the op is tested, and the rule in words for the report; the numbers of
every derivative come from autograd_mini itself, never from here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import ops


@dataclass(frozen=True)
class OpSpec:
    """One op of the learner's API: how to apply it and how it reads as code.

    name:     the checker's name ("rsub" is `2.0 - x`).
    operands: graph operands (1 or 2); `number` says whether it also takes a number c.
    code:     the code with {0}, {1} for the operands and {c} for the number.
    row:      the row of `autograd_mini.ops` it computes (its sample domain is used).
    rules:    the derivative rule per operand, in words (t is the op's output).
    apply:    apply(operands, c) on any object with Python operators and methods.
    """

    name: str
    operands: int
    number: bool
    code: str
    row: str
    rules: tuple[str, ...]
    apply: Callable[[Sequence[Any], float], Any] = field(repr=False, compare=False)


def _spec(name: str, operands: int, code: str, row: str, rules: tuple[str, ...],
          apply: Callable[[Sequence[Any], float], Any]) -> OpSpec:
    return OpSpec(name, operands, "{c}" in code, code, row, rules, apply)


def _method(name: str) -> Callable[[Sequence[Any], float], Any]:
    return lambda xs, c: getattr(xs[0], name)()


# Simplest first: hypothesis shrinks a drawn op towards the front of this list.
SPECS: dict[str, OpSpec] = {s.name: s for s in [
    _spec("add",        2, "{0} + {1}",   "add", ("1", "1"),              lambda xs, c: xs[0] + xs[1]),
    _spec("mul",        2, "{0} * {1}",   "mul", ("y", "x"),              lambda xs, c: xs[0] * xs[1]),
    _spec("sub",        2, "{0} - {1}",   "sub", ("1", "-1"),             lambda xs, c: xs[0] - xs[1]),
    _spec("neg",        1, "-{0}",        "neg", ("-1",),                 lambda xs, c: -xs[0]),
    _spec("add_number", 1, "{0} + {c}",   "add", ("1",),                  lambda xs, c: xs[0] + c),
    _spec("mul_number", 1, "{0} * {c}",   "mul", ("c",),                  lambda xs, c: xs[0] * c),
    _spec("sub_number", 1, "{0} - {c}",   "sub", ("1",),                  lambda xs, c: xs[0] - c),
    _spec("div_number", 1, "{0} / {c}",   "div", ("1/c",),                lambda xs, c: xs[0] / c),
    _spec("radd",       1, "{c} + {0}",   "add", ("1",),                  lambda xs, c: c + xs[0]),
    _spec("rmul",       1, "{c} * {0}",   "mul", ("c",),                  lambda xs, c: c * xs[0]),
    _spec("rsub",       1, "{c} - {0}",   "sub", ("-1",),                 lambda xs, c: c - xs[0]),
    _spec("rdiv",       1, "{c} / {0}",   "div", ("-c/x**2",),            lambda xs, c: c / xs[0]),
    _spec("div",        2, "{0} / {1}",   "div", ("1/y", "-x/y**2"),      lambda xs, c: xs[0] / xs[1]),
    _spec("pow",        1, "{0} ** {c}",  "pow", ("c * x**(c - 1)",),     lambda xs, c: xs[0] ** _exponent(c)),
    _spec("relu",       1, "{0}.relu()",  "relu", ("1 if x > 0 else 0",), _method("relu")),
    _spec("tanh",       1, "{0}.tanh()",  "tanh", ("1 - t**2",),          _method("tanh")),
    _spec("exp",        1, "{0}.exp()",   "exp", ("t (= e**x)",),         _method("exp")),
    _spec("log",        1, "{0}.log()",   "log", ("1/x",),                _method("log")),
    _spec("sigmoid",    1, "{0}.sigmoid()", "sigmoid", ("t * (1 - t)",),  _method("sigmoid")),
]}
REQUIRED = ("add", "mul")
BASES: dict[str, tuple[str, ...]] = {
    "sub": ("add", "neg", "mul"), "neg": ("mul",), "add_number": ("add",), "mul_number": ("mul",),
    "sub_number": ("add", "neg", "mul"), "div_number": ("mul", "pow"), "radd": ("add",), "rmul": ("mul",),
    "rsub": ("add", "neg", "mul"), "rdiv": ("mul", "pow"), "div": ("mul", "pow"),
}
"""The ops a micrograd-style engine usually builds each op from (`x - y` as `x + (-y)`, `-x` as
`x * -1`): when one of these is wrong too, the finding is reported once, on the base op."""
"""Without these two nothing can be built: an engine lacking one fails the check."""


def _exponent(c: float) -> float | int:
    """An integral exponent as an int (x ** 2, as a learner writes it), others as floats."""
    return int(c) if float(c).is_integer() else c


def number_code(c: float) -> str:
    """A number as the learner would write it: 2.0, -1.5, 2 for an integral exponent."""
    return repr(float(c))


@dataclass(frozen=True)
class Step:
    """Slot n + k: op `op` on the earlier slots `args`, with the number `c` if the op takes one."""

    op: str
    args: tuple[int, ...]
    c: float = 0.0


@dataclass(frozen=True)
class Program:
    """Leaves with their values, then steps; the last slot is the output."""

    leaves: tuple[float, ...]
    steps: tuple[Step, ...]
    loop: str | None = None  # code shown instead of the steps (the deep chain's `for` loop)

    @property
    def size(self) -> int:
        return len(self.leaves) + len(self.steps)

    @property
    def output(self) -> int:
        return self.size - 1

    def name(self, slot: int) -> str:
        """x0, x1, ... for leaves, v0, v1, ... for steps, `out` for the output."""
        n = len(self.leaves)
        if slot == self.output and self.steps:
            return "out"
        return f"x{slot}" if slot < n else f"v{slot - n}"

    def step_code(self, k: int, codes: Mapping[str, str] | None = None) -> str:
        """The code of step k (its right-hand side); `codes` overrides an op's code template."""
        step = self.steps[k]
        spec = SPECS[step.op]
        names = [self.name(a) for a in step.args]
        template = (codes or {}).get(step.op, spec.code)
        c = str(_exponent(step.c)) if step.op == "pow" else number_code(step.c)
        if step.c < 0 and template.startswith("{c}"):
            c = f"({c})"
        return template.format(*names, c=c)

    def uses(self) -> list[list[tuple[int, int]]]:
        """For each slot, the (step slot, operand position) pairs that read it: one per edge."""
        used: list[list[tuple[int, int]]] = [[] for _ in range(self.size)]
        n = len(self.leaves)
        for k, step in enumerate(self.steps):
            for position, a in enumerate(step.args):
                used[a].append((n + k, position))
        return used

    def ops(self) -> frozenset[str]:
        return frozenset(s.op for s in self.steps)


def build(program: Program, leaf: Callable[[float], Any],
          apply: Callable[[str, Sequence[Any], float], Any]) -> list[Any]:
    """Every slot of `program`, built with `leaf(x)` and `apply(op, operands, c)`, in slot order."""
    slots = [leaf(x) for x in program.leaves]
    for step in program.steps:
        slots.append(apply(step.op, [slots[a] for a in step.args], step.c))
    return slots


def in_sample(op: str, operands: Sequence[float], c: float) -> bool:
    """True if the op's inputs lie where its `autograd_mini.ops` row says it is well tested.

    Inputs the row samples from `ops.REAL` may be any moderate number; every
    other input must lie in one of the row's intervals (the divisor away from 0,
    log's argument positive, relu's away from its kink, ...).
    """
    row = ops.OPS[SPECS[op].row]
    inputs = _row_inputs(op, operands, c)
    if not all(math.isfinite(x) and abs(x) <= 1e6 for x in inputs):
        return False
    assert row.sample is not None  # every built-in row has one
    return any(all(_within(case[min(i, len(case) - 1)], x) for i, x in enumerate(inputs)) for case in row.sample)


def _within(union: ops.Union_, x: float) -> bool:
    return union == ops.REAL or any(lo <= x <= hi for lo, hi in union)


def _row_inputs(op: str, operands: Sequence[float], c: float) -> list[float]:
    """The inputs of the table row, in its order: `2.0 - x` is sub(2.0, x)."""
    if op in ("radd", "rmul", "rsub", "rdiv"):
        return [c, operands[0]]
    if SPECS[op].number:
        return [operands[0], c]
    return list(operands)


def reference_apply(op: str, operands: Sequence[Any], c: float) -> Any:
    """The op on autograd_mini Values (or floats): the same Python as the learner's code."""
    return SPECS[op].apply(operands, c)


NUMBER_OPS = {name for name, spec in SPECS.items() if spec.number}
BINARY = {name for name, spec in SPECS.items() if spec.operands == 2}
