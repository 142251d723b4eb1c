"""Random expression DAGs over the engine's ops, shrunk by hypothesis to the smallest that fails.

Programs are drawn as `autograd_mini.testing` draws its expressions (each op
reads any earlier result, half the time the newest, so `a * a`, diamonds and
reuse across levels occur; the output adds every result nothing else read),
numbers from the ops' sample domains (`testing.points`), and only programs
whose every op stays inside its row's sample domain count (`program.in_sample`).
`hypothesis.find` with a seeded random and no database makes the search, and
the shrunk example, the same for the same seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from random import Random
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from .. import ops
from ..errors import AutogradMiniError
from ..testing import points
from ..value import Value, no_grad
from .program import SPECS, Program, Step, in_sample, reference_apply

MAX_LEAVES = 3
MAX_STEPS = 6


def programs(names: Sequence[str], max_leaves: int = MAX_LEAVES,
             max_steps: int = MAX_STEPS) -> st.SearchStrategy[Program]:
    """Random programs over the ops `names` (names of `program.SPECS`; "add" must be among them)."""
    return _programs(tuple(names), max_leaves, max_steps)


@st.composite
def _programs(draw: Callable[..., Any], names: tuple[str, ...], max_leaves: int, max_steps: int) -> Program:
    leaves = tuple(draw(st.floats(-2.0, 2.0, allow_nan=False)) for _ in range(draw(st.integers(1, max_leaves))))
    steps: list[Step] = []
    for _ in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(names))
        last = len(leaves) + len(steps) - 1
        slot = st.one_of(st.just(last), st.integers(0, last))
        args = tuple(draw(slot) for _ in range(SPECS[op].operands))
        steps.append(Step(op, args, draw(_number(op)) if SPECS[op].number else 0.0))
    read = {a for s in steps for a in s.args}
    loose = [len(leaves) + k for k in range(len(steps)) if len(leaves) + k not in read]
    total = loose[0]
    for other in loose[1:]:
        steps.append(Step("add", (total, other)))
        total = len(leaves) + len(steps) - 1
    return Program(leaves, tuple(steps))


def _number(op: str) -> st.SearchStrategy[float]:
    """The op's number, from its row's sample (the exponent of pow: integers, or fractions)."""
    row = ops.OPS[SPECS[op].row]
    assert row.sample is not None
    position = 0 if op in ("radd", "rmul", "rsub", "rdiv") else 1
    return st.sampled_from(row.sample).flatmap(lambda case: points(case[position]))


def well_posed(program: Program) -> bool:
    """Every op inside its sample domain (so autograd_mini's numbers are the right ones to expect)."""
    try:
        with no_grad():
            values = [Value(x) for x in program.leaves]
            for step in program.steps:
                operands = [values[a] for a in step.args]
                if not in_sample(step.op, [v.data for v in operands], step.c):
                    return False
                values.append(reference_apply(step.op, operands, step.c))
    except (AutogradMiniError, ArithmeticError):
        return False
    return True


def smallest_failure(names: Sequence[str], fails: Callable[[Program], bool], *, seed: int,
                     examples: int) -> Program | None:
    """The smallest well-posed program over `names` for which `fails` holds, or None if none is found."""
    quiet = settings(max_examples=examples, database=None, deadline=None, verbosity=Verbosity.quiet,
                     derandomize=False, phases=[Phase.generate, Phase.shrink],
                     suppress_health_check=list(HealthCheck))
    try:
        found = find(programs(names), lambda p: well_posed(p) and fails(p), settings=quiet, random=Random(seed))
    except NoSuchExample:
        return None
    pruned = without_unused_leaves(found)
    return pruned if pruned != found and fails(pruned) else found


def without_unused_leaves(program: Program) -> Program:
    """The program without the leaves no step reads (the shrinker keeps the number of leaves drawn)."""
    read = sorted({a for s in program.steps for a in s.args if a < len(program.leaves)})
    if len(read) == len(program.leaves) or not read:
        return program
    n = len(program.leaves)
    new = {old: i for i, old in enumerate(read)}
    new.update({n + k: len(read) + k for k in range(len(program.steps))})
    steps = tuple(Step(s.op, tuple(new[a] for a in s.args), s.c) for s in program.steps)
    return Program(tuple(program.leaves[i] for i in read), steps)

