"""The named traps: small graphs that each catch one known way to get backward wrong.

Most come from the issues of karpathy/micrograd, where learners asked why
their engine was wrong (#64's `a = 1; b = a + a; c = b + b` among them).
A trap is built only from ops the engine has; one it cannot build is skipped.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .program import Program, Step
from .run import SAFE_RECURSION_LIMIT

DEEP = 5000
"""Ops in the deep chain: several times Python's default recursion limit of 1000 (more when an
engine raised the limit: see `chain_depth`)."""
DEEPEST = 100_000


def chain_depth() -> int:
    """DEEP, or twice the current recursion limit when an engine raised it (at most DEEPEST):
    a recursive backward must still fail, not pass because the limit moved."""
    return max(DEEP, min(2 * sys.getrecursionlimit(), DEEPEST))


@dataclass(frozen=True)
class Trap:
    """A named trap: its programs, what it catches, and how it is judged.

    kind: "compare" (values and gradients must match), "twice" (backward()
    called twice: leaves must hold twice the gradient) or "convention" (shown,
    never failed: relu's derivative at 0).
    """

    name: str
    catches: str
    programs: tuple[Program, ...]
    kind: str = "compare"


def _p(leaves: tuple[float, ...], *steps: tuple[str, tuple[int, ...]] | tuple[str, tuple[int, ...], float],
       loop: str | None = None) -> Program:
    return Program(leaves, tuple(Step(*s) for s in steps), loop)


def traps(supported: frozenset[str], float32: bool = False) -> list[Trap]:
    """Every trap the engine's ops can build, in the order the report lists them (`float32`: for an engine
    computing in float32, whose exp overflows past 88.7 instead of 709.8)."""
    found = [
        Trap("a + a", "= instead of += when one node feeds one op twice",
             (_p((1.5,), ("add", (0, 0))),)),
        Trap("reused non-leaf", "a non-leaf used twice must finish its gradient before passing it on "
             "(b = a + a; c = b + b, micrograd #64)",
             (_p((1.0,), ("add", (0, 0)), ("add", (1, 1))),)),
        Trap("x * x", "both operands one node: children kept in a set, = instead of +=",
             (_p((-1.5,), ("mul", (0, 0))),)),
        Trap("diamond", "a shared interior node: backward without a topological order",
             (_p((0.5, -2.0), ("add", (0, 1)), ("mul", (2, 0)), ("mul", (2, 1)), ("add", (3, 4))),)),
        Trap(f"deep chain ({chain_depth()} ops)", "a recursive topological sort or backward: RecursionError past "
             f"the recursion limit (now {min(sys.getrecursionlimit(), SAFE_RECURSION_LIMIT)})",
             (_deep_chain(supported, chain_depth()),)),
        Trap("backward() twice", "interior gradients that compound on a second backward(); leaves must "
             "accumulate (twice the gradient, as in PyTorch)",
             (_p((0.5, -1.5), ("mul", (0, 1)), ("add", (2, 0)), ("mul", (3, 3))),), kind="twice"),
    ]
    left = [(op, c) for op, c in (("radd", 2.0), ("rsub", 2.0), ("rmul", 2.0), ("rdiv", 2.0)) if op in supported]
    if left:
        found.append(Trap("numbers on the left", "missing or wrong reflected operators: 2 - x, 2 / x, 2 * x",
                          tuple(_p((0.75,), (op, (0,), c), ("mul", (1, 0))) for op, c in left)))
    if {"mul_number", "add_number"} <= supported:
        found.append(Trap("constant inside the graph", "numbers lifted into the graph: (x * 3.0 + 1.0) * x",
                          (_p((1.25,), ("mul_number", (0,), 3.0), ("add_number", (1,), 1.0), ("mul", (2, 0))),)))
    if "relu" in supported:
        found.append(Trap("relu at 0", "a convention, not a bug: shows relu's derivative at its kink",
                          (_p((0.0,), ("relu", (0,))),), kind="convention"))
    near = 88.0 if float32 else 700.0  # exp near overflow: e**88 < 3.4e38, e**700 < 1.8e308
    large = [_p((x,), (op, (0,))) for op, x in (("tanh", 1000.0), ("tanh", -1000.0), ("exp", near),
                                                ("sigmoid", -1000.0), ("sigmoid", 1000.0))
             if op in supported]
    if large:
        found.append(Trap("large inputs", "overflow in a naive formula: tanh(1000) via e**(2x), exp near its "
                          "limit, sigmoid(-1000) via 1 / (1 + e**-x)", tuple(large)))
    return found


def _deep_chain(supported: frozenset[str], depth: int) -> Program:
    """x0, then `out = out + 0.5` depth times (or `out = out + x0` for an engine without numbers on the right)."""
    if "add_number" in supported:
        steps = [Step("add_number", (k,), 0.5) for k in range(depth)]
        body = "out + 0.5"
    else:
        steps = [Step("add", (k, 0)) for k in range(depth)]
        body = "out + x0"
    return Program((0.25,), tuple(steps), f"out = x0\nfor _ in range({depth}):\n    out = {body}")
