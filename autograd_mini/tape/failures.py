"""The tape's errors, and where a replay failed in the eager engine's words: the example and the row.

`replay` calls these only when a number is not finite (or a row does not run on arrays):
they find the first failing (node, example) of a group, re-run the row on floats there as
the eager engine would, and raise the error `autograd_mini.errors` builds for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import AutogradMiniError, forward_error, gradient_error, rule_error
from ..ops import Op
from .schedule import Group, Port


class TraceError(AutogradMiniError, ValueError):
    """The traced function cannot be replayed as one tape for every example."""


class ArrayRuleError(TraceError, TypeError):
    """An op's forward or rule does not run on arrays, so the tape cannot batch its rows."""


def array_rule_error(op: Op, part: str, exc: Exception) -> ArrayRuleError:
    """The error for an op whose `part` ("forward", "rule", "domain check") failed on arrays."""
    why = f"{type(exc).__name__}: {exc}"
    if "truth value" in str(exc):
        why += " (a Python `if` or `and` on an operand?)"
    return ArrayRuleError(
        f"op {op.name!r}: its {part} does not run on numpy arrays ({why}). The tape evaluates each row "
        "for the whole batch at once, so a row must be written with arithmetic and the functions of "
        "autograd_mini.primitives (relu, step, sign, ... instead of `if`); or train this function "
        "without the tape (Value.backward, fit(compiled=False))"
    )


def location(group: Group, node: int, example: int) -> str:
    """Where in the batch a failure happened, for messages (examples and rows count from 0)."""
    row = group.row_of(node)
    if group.shared:
        return f" (row {row} of the tape, which does not depend on the example)"
    return f" at example {example} (row {row} of the tape)"


def _first_bad(operands: list[Any], bad: npt.NDArray[Any]) -> tuple[int, int, list[float]]:
    """(node index in the group, example index, scalar operands) of the first bad entry."""
    bad = np.atleast_2d(bad)
    example = int(np.flatnonzero(bad.any(axis=0))[0])
    node = int(np.flatnonzero(bad[:, example])[0])
    datas = [float(x[min(node, x.shape[0] - 1), min(example, x.shape[1] - 1)]) for x in operands]
    return node, example, datas


def raise_forward(group: Group, operands: list[Any], bad: npt.NDArray[Any], offset: int, invalid: bool) -> None:
    """Raise the eager engine's error for the first example where the group failed."""
    node, example, datas = _first_bad(operands, bad)
    op, where = group.op, location(group, node, example + offset)
    if invalid:
        raise forward_error(op, datas, ValueError("outside the domain"), where=where) from None
    try:
        scalar = float(op.forward(*datas))
    except (ArithmeticError, ValueError) as exc:
        raise forward_error(op, datas, exc, where=where) from None
    if np.isfinite(scalar):  # math and numpy disagree at the edge: report numpy's result
        values = np.atleast_2d(op.forward(*operands))
        scalar = float(values[min(node, values.shape[0] - 1), min(example, values.shape[1] - 1)])
    raise forward_error(op, datas, result=scalar, where=where) from None


def checked_grads(group: Group, g: npt.NDArray[Any], out: npt.NDArray[Any], operands: list[Any], grads: list[Any],
                   offset: int) -> list[Any]:
    """The careful path: the eager engine's skip of zero gradients, and its errors."""
    zero = g == 0.0  # the engine skips nodes whose gradient is 0, so 0 * inf never happens there
    checked = []
    for position, gx in enumerate(grads):
        if gx is not None:
            gx = np.where(zero, 0.0, gx)
            if not np.isfinite(gx).all():
                bad = ~np.isfinite(np.broadcast_to(gx, out.shape))
                node, example, datas = _first_bad(operands, bad)
                where = location(group, node, example + offset)
                g_here = float(np.broadcast_to(g, out.shape)[node, example])
                try:
                    local = group.op.vjp(g_here, float(out[node, example]), *datas)
                except (ArithmeticError, ValueError) as exc:
                    raise rule_error(group.op, datas, exc, where=where) from None
                total = local[position] if np.isfinite(local[position]) else float(gx[bad][0])
                raise gradient_error(group.op, datas, position, float(total), where=where)
        checked.append(gx)
    return checked


def check_accumulated(group: Group, port: Port, into: npt.NDArray[Any], grads: list[Any], g: npt.NDArray[Any],
                       operands: list[Any], offset: int) -> None:
    """After adding a port's gradients: the eager engine's check of every running sum.

    A shared target (a parameter) holds a sum over the batch; the example named is the
    first whose own contributions overflow. When only the sum over the batch does, the
    tape reports that once, at the end (`Tape._replay`).
    """
    assert port.scatter is not None
    total = into[port.scatter.targets]
    if np.isfinite(total).all():
        return
    targets = np.atleast_1d(np.arange(into.shape[0])[port.scatter.targets])
    bad_target = int(targets[np.flatnonzero((~np.isfinite(total)).reshape(len(targets), -1).any(axis=1))[0]])
    entries = np.flatnonzero(port.index == bad_target)
    rows = 1 if port.uniform else group.k
    if into.ndim == 2:  # a batched target: its row is per example already
        per_example = into[bad_target]
    else:
        picked = [np.zeros_like(g) if grads[p] is None else np.broadcast_to(grads[p], g.shape)
                  for p in port.positions]
        block = np.stack(picked)
        block = block.sum(axis=1, keepdims=True) if port.uniform else block
        per_example = np.cumsum(block.reshape(len(port.positions) * rows, -1)[entries], axis=0)[-1]
    bad = np.flatnonzero(~np.isfinite(per_example))
    if not len(bad):
        return
    example = int(bad[0])
    i = int(entries[0])
    position, node = port.positions[i // rows], i % rows
    datas = [float(x[min(node, x.shape[0] - 1), min(example, x.shape[1] - 1)]) for x in operands]
    raise gradient_error(group.op, datas, position, float(per_example[example]),
                         where=location(group, node, example + offset))
