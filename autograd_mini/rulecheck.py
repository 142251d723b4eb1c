"""One row of the derivative table checked on its own, at one point: how `gradcheck` names the rule at fault.

First order: the rule against central finite differences of the op's forward (a kink
within eps is told apart from a wrong rule). Second order: the rule run on Values and
differentiated by the engine, against finite differences of the rule itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from . import ops
from .engine import gradients
from .errors import describe_call
from .value import Value, apply


def central_difference(fn: Callable[[list[float]], float], point: list[float], i: int, h: float) -> float:
    """(fn(x + h e_i) - fn(x - h e_i)) / 2h, the divisor being the step as floats represent it."""
    up, down = list(point), list(point)
    up[i] += h
    down[i] -= h
    return (fn(up) - fn(down)) / (up[i] - down[i])


def op_label(op: ops.Op) -> str:
    """The op's name as reports show it, "(custom)" after an op added with `defop`."""
    from .extend import is_custom

    return f"{op.name} (custom)" if is_custom(op.name) else op.name


def check_rule(
    node: Value, eps: float, atol: float, rtol: float, second_order: bool
) -> tuple[list[str], list[str]]:
    """The node's rule against finite differences of its op's forward, at its inputs: (suspects, kinks).

    First order: rule(1, out, *inputs)[k] vs d forward / d input k. Where the
    two disagree and the forward's one-sided slopes differ (a kink within
    eps), the op goes to kinks, not suspects. Second order (if asked): the
    rule run on Values, differentiated by the engine, vs finite differences
    of the rule itself on floats.
    """
    op = node.op
    assert op is not None
    datas = [x.data for x in node.inputs]
    found: list[str] = []
    kinks: list[str] = []
    try:
        local = op.vjp(1.0, node.data, *datas)
    except (ArithmeticError, ValueError) as exc:
        return [f"{describe_call(op, datas)}: the rule raised {exc!r}"], []
    for k, rule_value in enumerate(local):
        if rule_value is None or k in op.nondiff:
            continue
        h = eps * max(1.0, abs(datas[k]))
        try:
            numeric = central_difference(lambda p: float(op.forward(*p)), datas, k, h)
        except (ArithmeticError, ValueError):
            continue  # too close to the edge of the op's domain to tell
        if abs(rule_value - numeric) <= atol + rtol * abs(numeric):
            continue
        slopes = _one_sided_slopes(op, datas, k, h)
        if slopes is not None and _kink_explains(rule_value, slopes, atol, rtol):
            kinks.append(
                f"{op_label(op)} at {describe_call(op, datas)}: its forward bends within h = {h:.3g} of input{k} "
                f"(slope {slopes[0]:.6g} on the left, {slopes[1]:.6g} on the right; the rule gives {rule_value:.6g})"
            )
            continue
        found.append(
            f"{op_label(op)} at {describe_call(op, datas)}: its rule gives d/dinput{k} = {rule_value:.8g}, "
            f"finite differences of its forward give {numeric:.8g}"
        )
    if second_order and not found and not kinks:
        found.extend(_check_rule_second_order(node, eps, atol, rtol))
    return found, kinks


def _kink_explains(rule_value: float, slopes: tuple[float, float], atol: float, rtol: float) -> bool:
    """The slopes on the two sides differ (a kink), and the rule gives one of the slopes between them.

    A rule outside [left, right] is wrong whatever the kink, and stays accused.
    """
    low, high = min(slopes), max(slopes)
    tol = atol + rtol * max(abs(low), abs(high))
    return high - low > tol and low - tol <= rule_value <= high + tol


def _one_sided_slopes(op: ops.Op, datas: list[float], k: int, h: float) -> tuple[float, float] | None:
    """(f(x) - f(x - h)) / h and (f(x + h) - f(x)) / h in input k; None near the edge of the domain.

    For a smooth forward they agree to O(h); a kink between x - h and x + h
    makes them differ by the jump in slope.
    """
    up, down = list(datas), list(datas)
    up[k] += h
    down[k] -= h
    try:
        here, right, left = float(op.forward(*datas)), float(op.forward(*up)), float(op.forward(*down))
    except (ArithmeticError, ValueError):
        return None
    return (here - left) / (datas[k] - down[k]), (right - here) / (up[k] - datas[k])


def _check_rule_second_order(node: Value, eps: float, atol: float, rtol: float) -> list[str]:
    """The rule differentiated by the engine (rule run on Values) vs finite differences of the rule."""
    op = node.op
    assert op is not None
    datas = [x.data for x in node.inputs]
    leaves = [Value(x) for x in datas]
    try:
        out = apply(op, *leaves)
        operands = [x.data if i in op.nondiff else x for i, x in enumerate(leaves)]
        local = op.vjp(Value(1.0), out, *operands)
    except (ArithmeticError, ValueError):
        return []
    found = []
    for k, lk in enumerate(local):
        if lk is None:
            continue
        engine = gradients(lk, leaves) if isinstance(lk, Value) else [0.0] * len(leaves)
        for m in range(len(datas)):
            if m in op.nondiff:
                continue
            h = eps * max(1.0, abs(datas[m]))
            try:
                numeric = central_difference(functools.partial(_local, op, k=k), datas, m, h)
            except (ArithmeticError, ValueError):
                continue
            if abs(engine[m] - numeric) > atol + rtol * abs(numeric):
                found.append(
                    f"{op_label(op)} at {describe_call(op, datas)}: its rule run on Values gives "
                    f"d/dinput{m} of d/dinput{k} = {engine[m]:.8g}, finite differences of the rule give {numeric:.8g} "
                    "(does the rule use math.* or float() instead of autograd_mini.primitives?)"
                )
    return found


def _local(op: ops.Op, datas: list[float], k: int) -> float:
    """The rule's d out / d input k at `datas`, on floats: what the second-order differences differentiate."""
    out = op.forward(*datas)
    return float(op.vjp(1.0, out, *datas)[k])
