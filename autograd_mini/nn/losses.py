"""Loss functions, each built from rows of the derivative table.

`squared_error` is equation (1.4) recorded as a single node, so graphs show the
loss as one op and its rule gives dE/dy = y - t of (1.6) directly. `mse`,
`hinge` and `binary_cross_entropy` average over several outputs or examples
and are compositions of table ops, so they need no derivative code of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import ops
from ..value import Operand, Value, apply, lift, lift_all, sum_of


def squared_error(y: Operand, t: Operand) -> Value:
    """E = 1/2 (t - y)^2, equation (1.4), as one node (op `squared_error`)."""
    return apply(ops.SQUARED_ERROR, _operand(y, "y"), _operand(t, "t"))


def _operand(x: Operand, name: str) -> Value:
    lifted = lift(x)
    if lifted is None:
        raise TypeError(f"squared_error: {name} must be a Value, int or float, got {type(x).__name__}")
    return lifted


# --- losses over several outputs or examples: compositions of table ops ------------------
def mse(ys: Operand | Sequence[Operand], ts: Operand | Sequence[Operand]) -> Value:
    """Mean squared error: (1/n) sum_i (y_i - t_i)^2, built from sub, mul and sum."""
    y, t = _paired(ys, ts, "mse", "ys", "ts")
    diffs = [yi - ti for yi, ti in zip(y, t, strict=True)]
    return sum_of([d * d for d in diffs]) / len(diffs)


def hinge(scores: Operand | Sequence[Operand], labels: Operand | Sequence[Operand]) -> Value:
    """Max-margin loss: (1/n) sum_i relu(1 - label_i * score_i), labels in {-1, +1}."""
    s, y = _paired(scores, labels, "hinge", "scores", "labels")
    for i, label in enumerate(y):
        if label.data not in (-1.0, 1.0):
            raise ValueError(f"hinge: labels must be -1 or +1, got {label.data!r} at position {i}")
    return sum_of([(1.0 - yi * si).relu() for si, yi in zip(s, y, strict=True)]) / len(s)


def binary_cross_entropy(
    logits: Operand | Sequence[Operand], targets: Operand | Sequence[Operand]
) -> Value:
    """Mean binary cross-entropy of sigmoid(logit) against targets in [0, 1].

    Per example -t log(sigmoid(z)) - (1 - t) log(1 - sigmoid(z)), rewritten so
    that exp never sees a positive argument (no overflow, no log(0)):

        z >= 0:  z - z t + log(1 + exp(-z))
        z <  0:     -z t + log(1 + exp(z))

    The branch is chosen from z's value when the graph is built; both forms
    are smooth, so the gradient is sigmoid(z) - t everywhere, including z = 0,
    where the one-line form relu(z) - z t + log(1 + exp(-|z|)) would give -t
    (relu and abs have derivative 0 at 0 in the table).
    """
    z, t = _paired(logits, targets, "binary_cross_entropy", "logits", "targets")
    for i, ti in enumerate(t):
        if not 0.0 <= ti.data <= 1.0:
            raise ValueError(f"binary_cross_entropy: targets must lie in [0, 1], got {ti.data!r} at position {i}")
    terms = []
    for zi, ti in zip(z, t, strict=True):
        if zi.data >= 0.0:
            terms.append(zi - zi * ti + (1.0 + (-zi).exp()).log())
        else:
            terms.append((1.0 + zi.exp()).log() - zi * ti)
    return sum_of(terms) / len(terms)


def _paired(a: Any, b: Any, name: str, a_name: str, b_name: str) -> tuple[list[Value], list[Value]]:
    """Two equally long, non-empty lists of Values (a single number or Value counts as one item)."""
    xs, ys = _as_values(a, name, a_name), _as_values(b, name, b_name)
    if len(xs) != len(ys):
        raise ValueError(f"{name}: {a_name} and {b_name} must have the same length, got {len(xs)} and {len(ys)}")
    if not xs:
        raise ValueError(f"{name}: needs at least one item, got empty {a_name}")
    return xs, ys


def _as_values(items: Any, name: str, what: str) -> list[Value]:
    if isinstance(items, (Value, int, float)) and not isinstance(items, bool):
        items = [items]
    elif not isinstance(items, Sequence) or isinstance(items, str):
        raise TypeError(f"{name}: {what} must be a Value, a number or a sequence of them, got {type(items).__name__}")
    return lift_all(items, name, f"{what}[{{}}]")
