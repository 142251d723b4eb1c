"""Loss functions, each built from rows of the derivative table.

`squared_error` is equation (1.4) recorded as a single node, so graphs show the
loss as one op and its rule gives dE/dy = y - t of (1.6) directly. `mse`,
`hinge` and `binary_cross_entropy` average over several outputs or examples
and are compositions of table ops, so they need no derivative code of their own.
`softmax` and `cross_entropy` (multi-class, one row) are compositions too, shifted
by the row's maximum so that exp never overflows (log-sum-exp).
"""

from __future__ import annotations

import numbers
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


def softmax(values: Sequence[Operand]) -> list[Value]:
    """y_k = exp(z_k) / sum_i exp(z_i) over a list of Values (or numbers), as one list.

    Computed as exp(z_k - m) / sum_i exp(z_i - m) with m = max_i z_i, which is
    the same function (softmax ignores a common shift) with every exp <= 1:
    logits of +-1000 give finite probabilities. See `_shift`.
    """
    z = _as_values(values, "softmax", "values")
    if not z:
        raise ValueError("softmax: needs at least one value, got an empty list")
    m = _shift(z)
    exps = [_minus(zk, m).exp() for zk in z]
    total = sum_of(exps)
    return [apply(ops.DIV, e, total) for e in exps]


def cross_entropy(logits: Sequence[Operand], target: int) -> Value:
    """-log softmax(logits)[target] for one row of logits and an int class index.

    Computed by log-sum-exp, log sum_i exp(z_i) = m + log sum_i exp(z_i - m)
    with m = max_i z_i, so it is finite for any finite logits (+-1000 included):

        E = m + log(sum_i exp(z_i - m)) - z_target

    Its gradient with respect to the logits is softmax(z) - onehot(target),
    the output delta y - t. Raises TypeError for a target that is not an int
    (bool included) and ValueError for one out of range.
    """
    z = _as_values(logits, "cross_entropy", "logits")
    if not z:
        raise ValueError("cross_entropy: needs at least one logit, got an empty list")
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise TypeError(
            f"cross_entropy: target must be an int class index, got {type(target).__name__}: {target!r:.40}"
        )
    if not 0 <= target < len(z):
        raise ValueError(
            f"cross_entropy: target {target} is out of range for {len(z)} logits (classes 0..{len(z) - 1})"
        )
    m = _shift(z)
    return sum_of([_minus(zk, m).exp() for zk in z]).log() + m - z[int(target)]


def _shift(z: list[Value]) -> Value:
    """max_i z_i as a Value, folded as max(a, b) = a + relu(b - a).

    An op of the graph rather than a number read from `.data`, so the tape
    (`autograd_mini.tape.trace`) replays it for every example. Gradients do not
    depend on it: softmax and log-sum-exp minus the shift are invariant to a
    common shift, so what flows through it sums to zero (up to rounding).
    """
    m = z[0]
    for zk in z[1:]:
        m = apply(ops.ADD, m, _minus(zk, m).relu())
    return m


def _minus(a: Value, b: Value) -> Value:
    """a - b, written with `apply` because mypy does not see the operators value.py attaches to Value."""
    return apply(ops.SUB, a, b)


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
