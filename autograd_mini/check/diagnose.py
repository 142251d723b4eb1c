"""Name the cause of a failing program: the first wrong node in backward order, and why.

Forward values first, then the root's seed, then gradients in reverse topological
order (1.8): at the first wrong node every consumer is right, so what its gradient
is instead names the cause (see `diagnose`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from ..engine import local_derivatives
from ..value import Value
from .program import BASES, Program
from .rules import Unit
from .run import Expected, Run, close, grad_close


@dataclass(frozen=True)
class Diagnosis:
    """What is blamed (`op`: an op name or "backward"), the kind of mistake, the sentence, the node."""

    op: str
    kind: str
    cause: str
    first_wrong: int | None = None


def diagnose(program: Program, mine: Run, expected: Expected, reference: list[Value],
             unit: Callable[[str], Unit], accumulates: Callable[[str], bool]) -> Diagnosis:
    """The cause of the disagreement between `mine` and `expected` on `program`.

    At the first node whose gradient differs, it should be the sum of its consumers'
    contributions (consumer gradient x local derivative, from `engine.local_derivatives`).
    What it is instead tells the cause: a consumer whose rule is wrong alone (a wrong
    local derivative); one use's share missing, `a + a` giving 1 (assignment instead of
    accumulation, pinned by `rules.accumulates`); otherwise a consumer passed its gradient
    on before it was complete, or twice (no topological order).
    """
    n = len(program.leaves)
    if mine.error is not None:
        return _error(program, mine, expected, unit)
    for slot in range(program.size):
        if not close(mine.values[slot], expected.values[slot]):
            if slot < n:
                return Diagnosis("leaf", "forward", f"a leaf made from {program.leaves[slot]!r} has .data "
                                 f"{mine.values[slot]!r}", slot)
            op = program.steps[slot - n].op
            found = unit(op)
            if not found.ok and found.kind == "forward":
                op, found = _base(op, found, unit)
                return Diagnosis(op, "forward", found.cause, slot)
            return Diagnosis(op, "forward", f"wrong forward value: {program.name(slot)} = "
                             f"{program.step_code(slot - n)} gives {mine.values[slot]!r}, expected "
                             f"{expected.values[slot]!r}", slot)
    root = program.output
    seed = mine.grads[root]
    if seed is not None and not close(seed, 1.0):
        if all(g in (None, 0.0) for g in mine.grads):
            cause = ("every .grad is 0 after backward(): the root's gradient is never seeded "
                     "(backward() must start with self.grad = 1)")
        else:
            cause = f"the root's .grad is {seed!r} after backward(); backward() must seed it with 1"
        return Diagnosis("backward", "seed", cause, root)
    for slot in range(root - 1, -1, -1):
        if not grad_close(program, slot, mine.grads[slot], expected.grads[slot]):
            return _first_wrong(program, slot, mine, expected, reference, unit, accumulates)
    return Diagnosis("backward", "mismatch", "the results differ", None)


def _error(program: Program, mine: Run, expected: Expected, unit: Callable[[str], Unit]) -> Diagnosis:
    error = mine.error
    assert error is not None
    if error.recursion and error.stage.startswith("running backward"):
        return Diagnosis("backward", "recursion",
                         f"backward() raised RecursionError on a graph {program.size} nodes deep: a recursive "
                         "topological sort (or a recursive backward) fails past Python's recursion limit "
                         "(about 1000; a limit raised past 4000 is held at 4000 while the checker runs your code, as "
                         "recursion through C code can crash Python beyond); build the order with a loop and an "
                         "explicit stack", None)
    op = error.op or "backward"
    if error.exception == "OverflowError" and error.step_op is not None:
        op = error.step_op  # tanh(1000) through exp(2000): the formula is tanh's, exp overflows rightly
    if error.timeout and program.loop is not None:
        slow = ("a backward linear in the graph's size takes well under a second there (a topological sort "
                "per node? a list searched where a set belongs?)" if error.stage.startswith("running backward")
                else "each op should take microseconds however big the graph (does it walk the graph?)")
        return Diagnosis(op, "timeout", f"{error}: on a chain of {program.size} nodes, {slow}", None)
    if op not in ("backward",):
        found = unit(op)
        if not found.ok and found.kind not in ("exception", "timeout"):
            op, found = _base(op, found, unit)
            return Diagnosis(op, found.kind, found.cause, None)
    if error.timeout:
        return Diagnosis(op, "timeout", str(error), None)
    if error.exception == "OverflowError" and all(math.isfinite(x) for x in expected.values):
        return Diagnosis(op, "exception", f"raised {error}; every value of this graph is finite (out = "
                         f"{expected.values[-1]!r}), so a formula overflows where the function does not: compute "
                         "it another way (math.tanh(x); for sigmoid, 1 / (1 + e**-x) when x >= 0, e**x / (1 + e**x) "
                         "otherwise)", None)
    return Diagnosis(op, "exception", f"raised {error}", None)


def _first_wrong(program: Program, slot: int, mine: Run, expected: Expected, reference: list[Value],
                 unit: Callable[[str], Unit], accumulates: Callable[[str], bool]) -> Diagnosis:
    name = program.name(slot)
    n = len(program.leaves)
    shares: list[float] = []
    consumers: list[str] = []
    for consumer in sorted({c for c, _ in program.uses()[slot]}, reverse=True):
        node = reference[consumer]
        for x, local in zip(node.inputs, local_derivatives(node)):
            if x is reference[slot]:
                shares.append(expected.grads[consumer] * float(local or 0.0))
                consumers.append(program.steps[consumer - n].op)
    got = mine.grads[slot] or 0.0  # a leaf without a gradient counts as 0 (see run.grad_close)
    want = expected.grads[slot]
    for op in dict.fromkeys(consumers):
        found = unit(op)
        if not found.ok:
            op, found = _base(op, found, unit)
            return Diagnosis(op, found.kind, found.cause, slot)
    sums = " + ".join(f"{s:.6g}" for s in shares)
    if len(shares) > 1 and any(close(got, sum(part)) for k in range(1, len(shares))
                               for part in combinations(shares, k)):
        lost = [op for op in dict.fromkeys(consumers) if not accumulates(op)]
        if lost:  # an op built on a base op that assigns: the base is at fault (see program.BASES)
            lost = [next((b for b in BASES.get(op, ()) if not accumulates(b)), op) for op in lost]
        blamed = lost[0] if lost else "backward"
        how = (f"{blamed}'s backward assigns its operand's gradient (=) instead of adding to it (+=)" if lost
               else "one use of the node was not counted (children kept in a set? = instead of +=?)")
        return Diagnosis(blamed, "accumulation",
                         f"assignment instead of accumulation: {name} is used {len(shares)} times and should "
                         f"get {sums} = {want:.6g}, but gets {got:.6g}: {how}, so a share is lost", slot)
    users = ", ".join(dict.fromkeys(program.name(c) for c, _ in program.uses()[slot]))
    return Diagnosis("backward", "order",
                     f"no topological order: {name} gets {got:.6g}, but the shares of its uses add up to "
                     f"{sums} = {want:.6g}; the gradients of its consumers ({users}) and their rules are right, "
                     f"so one of them passed its gradient on to {name} before that gradient was complete, or "
                     "more than once: backward() must visit each node once, in reverse topological order", slot)


def _base(op: str, found: Unit, unit: Callable[[str], Unit]) -> tuple[str, Unit]:
    """The base op to blame instead of `op` when one it is usually built on fails alone too."""
    for base in BASES.get(op, ()):
        if not unit(base).ok:
            return base, unit(base)
    return op, found
