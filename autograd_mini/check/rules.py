"""Each op alone on fresh leaves: its forward, its local derivative, and whether it accumulates.

`unit(op)` runs `op` on leaves at a few points and compares the learner's
local derivatives (the leaves' gradients when the output is seeded with 1)
with autograd_mini's. When they differ, `MISTAKES` holds the usual wrong
rules of each op; one that fits every point is named ("yours gives 1 - t,
the rule is 1 - t**2"), otherwise the numbers are shown. These are the
mistakes only: every right number comes from autograd_mini.

`accumulates(op)` runs `op(x, y) + x + y`: backward runs the adds first, so an
op whose backward assigns (`x.grad = ...`) instead of adding drops their share.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .adapter import Adapter
from .program import SPECS, Program, Step
from .run import EngineError, close, run_learner, run_reference

Rule = Callable[[float, float, float, float], float]
"""A derivative formula f(x, y, c, t): operands x and y, the number c, the output t."""

_X = (0.7, -1.3, 2.1)
_POSITIVE = (0.7, 1.3, 2.1)
_Y = (1.9, 0.6, -1.1)
_C = (2.0, 3.0, -1.5)
_POW = ((0.7, 2.0), (1.3, 3.0), (-1.1, -1.0), (1.6, 0.5))

MISTAKES: dict[tuple[str, int], list[tuple[str, Rule]]] = {
    ("tanh", 0): [("1 - t", lambda x, y, c, t: 1 - t), ("t**2", lambda x, y, c, t: t * t),
                  ("1 + t**2", lambda x, y, c, t: 1 + t * t), ("t**2 - 1", lambda x, y, c, t: t * t - 1),
                  ("1 - x**2", lambda x, y, c, t: 1 - x * x), ("1", lambda x, y, c, t: 1.0)],
    ("sigmoid", 0): [("t", lambda x, y, c, t: t), ("1 - t", lambda x, y, c, t: 1 - t),
                     ("t * (1 + t)", lambda x, y, c, t: t * (1 + t)), ("-t * (1 - t)", lambda x, y, c, t: -t * (1 - t)),
                     ("x * (1 - x)", lambda x, y, c, t: x * (1 - x)), ("1", lambda x, y, c, t: 1.0)],
    ("exp", 0): [("x", lambda x, y, c, t: x), ("1", lambda x, y, c, t: 1.0), ("x * t", lambda x, y, c, t: x * t),
                 ("e**(x - 1)", lambda x, y, c, t: math.exp(x - 1))],
    ("log", 0): [("log(x)", lambda x, y, c, t: math.log(x)), ("x", lambda x, y, c, t: x),
                 ("-1/x", lambda x, y, c, t: -1 / x), ("1/x**2", lambda x, y, c, t: 1 / (x * x)),
                 ("1", lambda x, y, c, t: 1.0)],
    ("relu", 0): [("x", lambda x, y, c, t: x), ("1", lambda x, y, c, t: 1.0),
                  ("1 if x < 0 else 0", lambda x, y, c, t: float(x < 0))],
    ("pow", 0): [("x**(c - 1)", lambda x, y, c, t: x ** (c - 1)), ("c * x**c", lambda x, y, c, t: c * x**c),
                 ("c * x", lambda x, y, c, t: c * x),
                 ("(c - 1) * x**(c - 1)", lambda x, y, c, t: (c - 1) * x ** (c - 1)),
                 ("c * x**(c - 2)", lambda x, y, c, t: c * x ** (c - 2)), ("x**c", lambda x, y, c, t: x**c)],
    ("mul", 0): [("x (the operand's own value: swapped)", lambda x, y, c, t: x), ("x * y", lambda x, y, c, t: x * y),
                 ("1 (the rule of add)", lambda x, y, c, t: 1.0)],
    ("mul", 1): [("y (the operand's own value: swapped)", lambda x, y, c, t: y), ("x * y", lambda x, y, c, t: x * y),
                 ("1 (the rule of add)", lambda x, y, c, t: 1.0)],
    ("add", 0): [("y (the rule of mul)", lambda x, y, c, t: y), ("x", lambda x, y, c, t: x)],
    ("add", 1): [("x (the rule of mul)", lambda x, y, c, t: x), ("y", lambda x, y, c, t: y)],
    ("mul_number", 0): [("x", lambda x, y, c, t: x)],
    ("rmul", 0): [("x", lambda x, y, c, t: x)],
    ("sub", 1): [("1 (the sign is wrong)", lambda x, y, c, t: 1.0)],
    ("rsub", 0): [("1 (the sign is wrong)", lambda x, y, c, t: 1.0)],
    ("neg", 0): [("1 (the sign is wrong)", lambda x, y, c, t: 1.0)],
    ("div", 0): [("y", lambda x, y, c, t: y), ("-1/y", lambda x, y, c, t: -1 / y)],
    ("div", 1): [("x/y**2", lambda x, y, c, t: x / (y * y)), ("-1/y**2", lambda x, y, c, t: -1 / (y * y)),
                 ("1/y", lambda x, y, c, t: 1 / y), ("-x/y", lambda x, y, c, t: -x / y)],
    ("div_number", 0): [("c", lambda x, y, c, t: c)],
    ("rdiv", 0): [("c/x**2", lambda x, y, c, t: c / (x * x)), ("-1/x**2", lambda x, y, c, t: -1 / (x * x)),
                  ("1/c", lambda x, y, c, t: 1 / c), ("-c/x", lambda x, y, c, t: -c / x)],
}
FORWARD_MISTAKES: dict[str, list[tuple[str, Rule]]] = {
    "rsub": [("x - c (the operands swapped)", lambda x, y, c, t: x - c)],
    "rdiv": [("x / c (the operands swapped)", lambda x, y, c, t: x / c)],
    "sub": [("y - x (the operands swapped)", lambda x, y, c, t: y - x)],
    "div": [("y / x (the operands swapped)", lambda x, y, c, t: y / x)],
}


@dataclass
class Unit:
    """The op alone: `ok`, and when not, what is wrong (`kind`, `cause`) and the program that shows it."""

    op: str
    ok: bool = True
    kind: str = ""
    cause: str = ""
    program: Program | None = None
    error: EngineError | None = None
    numbers: list[str] = field(default_factory=list)


def points(op: str) -> list[tuple[float, float, float]]:
    """(x, y, c) points where the op alone is tested: inside its row's sample domain."""
    if op == "pow":
        return [(x, 0.0, c) for x, c in _POW]
    xs = _POSITIVE if op == "log" else _X
    return [(x, y, c) for x, y, c in zip(xs, _Y, _C)]


def alone(op: str, x: float, y: float, c: float) -> Program:
    spec = SPECS[op]
    leaves = (x, y) if spec.operands == 2 else (x,)
    return Program(leaves, (Step(op, tuple(range(spec.operands)), c),))


def with_sums(op: str, x: float, y: float, c: float) -> Program:
    """op(x, y) + x + y: the adds run first in backward, then the op must add to x and y."""
    single = alone(op, x, y, c)
    n = len(single.leaves)
    steps = list(single.steps)
    for leaf in range(n):
        steps.append(Step("add", (n + len(steps) - 1, leaf)))
    return Program(single.leaves, tuple(steps))


def unit(adapter: Adapter, op: str) -> Unit:
    """Test the op alone at each of its points: forward, local derivative per operand."""
    result = Unit(op)
    for x, y, c in points(op):
        program = alone(op, x, y, c)
        mine = run_learner(adapter, program)
        expected, _ = run_reference(program)
        if mine.error is not None:
            who = op if mine.error.op not in (None, "backward") or not mine.error.stage.startswith("running") \
                else "backward()"
            if mine.error.timeout:
                return Unit(op, False, "timeout", str(mine.error), program, mine.error)
            return Unit(op, False, "exception", f"{who} raised {mine.error}", program, mine.error)
        t_mine, t = mine.values[-1], expected.values[-1]
        if not close(t_mine, t):
            return Unit(op, False, "forward", _forward_cause(op, program, x, y, c, t_mine, t), program)
        seed = mine.grads[-1]
        if seed is not None and not close(seed, 1.0):
            return Unit(op, False, "seed", f"the output's .grad is {seed!r} after backward(): backward() must "
                        "seed the root's gradient with 1 (self.grad = 1) before the backward pass", program)
        for position in range(SPECS[op].operands):
            got, want = mine.grads[position], expected.grads[position]
            if not close(0.0 if got is None else got, want):
                return Unit(op, False, "local derivative",
                            _derivative_cause(adapter, op, position), program)
    return result


def accumulates(adapter: Adapter, op: str) -> bool:
    """True if op's backward adds into its operands' gradients (tested on op(x, y) + x + y)."""
    x, y, c = points(op)[0]
    program = with_sums(op, x, y, c)
    mine = run_learner(adapter, program)
    expected, _ = run_reference(program)
    if mine.error is not None:
        return True  # nothing can be told from a run that raised
    return all(close(0.0 if mine.grads[i] is None else mine.grads[i], expected.grads[i])
               for i in range(len(program.leaves)))


def _forward_cause(op: str, program: Program, x: float, y: float, c: float, mine: float | None,
                   t: float) -> str:
    code = program.step_code(0).replace("x0", repr(x)).replace("x1", repr(y))
    for text, rule in FORWARD_MISTAKES.get(op, []):
        if _fits(rule, [(x, y, c, t)], [mine]):
            return f"wrong forward value: yours computes {text}: {code} gives {mine!r}, expected {t!r}"
    return f"wrong forward value: {code} gives {mine!r}, expected {t!r}"


def _derivative_cause(adapter: Adapter, op: str, position: int) -> str:
    """Fit the learner's local derivative of `op` w.r.t. operand `position` against the usual mistakes."""
    spec = SPECS[op]
    at: list[tuple[float, float, float, float]] = []
    mine: list[float | None] = []
    wanted: list[float] = []
    rows = []
    for x, y, c in points(op):
        program = alone(op, x, y, c)
        got = run_learner(adapter, program)
        expected, _ = run_reference(program)
        grad = got.grads[position]
        if got.error is not None or grad is None:
            continue
        at.append((x, y, c, expected.values[-1]))
        mine.append(grad)
        wanted.append(expected.grads[position])
        rows.append(f"{program.step_code(0).replace('x0', repr(x)).replace('x1', repr(y))}: "
                    f"yours {got.grads[position]:.6g}, expected {expected.grads[position]:.6g}")
    operand = "xy"[position] if spec.operands == 2 else "x"
    rule = spec.rules[position]
    for text, candidate in MISTAKES.get((op, position), []) + _GENERIC:
        if _fits(candidate, at, mine):
            return (f"wrong local derivative of {op} with respect to {operand}: "
                    f"yours gives {text}, the rule is {rule}")
    ratios = {round(m / w, 9) for m, w in zip(mine, wanted) if m is not None and w != 0.0}
    if len(ratios) == 1 and len(mine) == len(wanted) > 1:
        k = ratios.pop()
        text = f"-({rule}), the sign is wrong" if k == -1 else f"{k:g} * ({rule})"
        return f"wrong local derivative of {op} with respect to {operand}: yours gives {text}"
    return (f"wrong local derivative of {op} with respect to {operand} (the rule is {rule}): "
            + "; ".join(rows))


# A mistake of any op, fitted after the op's own ones (a wrong sign or factor is found from the ratio).
_GENERIC: list[tuple[str, Rule]] = [("0 (no gradient flows back)", lambda x, y, c, t: 0.0)]


def _fits(rule: Rule, at: list[tuple[float, float, float, float]], mine: list[float | None]) -> bool:
    if not at:
        return False
    for point, value in zip(at, mine):
        try:
            predicted = rule(*point)
        except (ArithmeticError, ValueError):
            return False
        if not isinstance(predicted, float | int) or value is None or not close(value, float(predicted)):
            return False
    return True
