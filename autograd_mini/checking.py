"""`gradcheck`: the engine's derivatives against central finite differences.

>>> from autograd_mini import gradcheck
>>> report = gradcheck(lambda x, y: x * y + x.exp(), 0.5, 2.0)
>>> bool(report)
True

A failing derivative names the rule at fault: each op on the input's paths is
re-checked on its own against finite differences of its forward (`rulecheck`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from .engine import gradients
from .errors import AutogradMiniError
from .graph import depending_on, reverse_topological_order
from .rulecheck import central_difference, check_rule, op_label
from .value import Value, no_grad


class GradcheckError(AutogradMiniError, AssertionError):
    """gradcheck(..., raise_on_failure=True) found a derivative that disagrees."""


class GradcheckEntry:
    """One compared derivative: its name, both values, the errors and the verdict."""

    __slots__ = ("name", "inputs", "analytic", "numeric", "abs_error", "rel_error", "ok")

    def __init__(
        self, name: str, inputs: tuple[int, ...], analytic: float, numeric: float, atol: float, rtol: float
    ) -> None:
        self.name = name
        self.inputs = inputs  # positions of the inputs differentiated: (i,) or (i, j)
        self.analytic = analytic
        self.numeric = numeric
        self.abs_error = abs(analytic - numeric)
        self.rel_error = self.abs_error / max(abs(numeric), abs(analytic), 1e-300) if self.abs_error else 0.0
        self.ok = self.abs_error <= atol + rtol * abs(numeric)

    @property
    def order(self) -> int:
        """1 for a first derivative, 2 for a second one."""
        return len(self.inputs)

    def __repr__(self) -> str:
        return f"GradcheckEntry({self.name!r}, analytic={self.analytic!r}, numeric={self.numeric!r}, ok={self.ok})"


class GradcheckReport:
    """The result of `gradcheck`: true iff every derivative agrees.

    entries:   every compared derivative (GradcheckEntry), first order first.
    failures:  the entries that disagree.
    culprits:  for each failing input name, the ops on its paths to the
               output and the rules found wrong there (see `suspects`).
    suspects:  descriptions of op rules that disagree with finite differences
               of their own forward at the point the graph evaluated them.
    kinks:     ops whose forward bends within eps of the point the graph gave
               them (relu, abs near 0): there central differences straddle the
               kink and measure an average of two slopes, so a mismatch says
               nothing about the rule, which is then not accused.
    """

    def __init__(self, names: list[str], point: list[float], value: float, settings: dict[str, Any]) -> None:
        self.names = names
        self.point = point
        self.value = value
        self.settings = settings
        self.entries: list[GradcheckEntry] = []
        self.ops_on_paths: dict[str, list[str]] = {}
        self.suspects: list[str] = []
        self.kinks: list[str] = []

    @property
    def failures(self) -> list[GradcheckEntry]:
        """The entries whose analytic and numeric derivatives disagree."""
        return [e for e in self.entries if not e.ok]

    @property
    def failing_inputs(self) -> list[str]:
        """Names of the inputs involved in a failing derivative."""
        names = []
        for entry in self.failures:
            for i in entry.inputs:
                name = self.names[i]
                if name not in names:
                    names.append(name)
        return names

    def __bool__(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        return "\n".join(self._lines())

    def __repr__(self) -> str:
        return f"<GradcheckReport {'ok' if self else 'FAIL'}: {len(self.failures)} of {len(self.entries)} disagree>"

    def _lines(self) -> list[str]:
        s = self.settings
        point = ", ".join(f"{n}={x:.6g}" for n, x in zip(self.names, self.point, strict=True))
        verdict = "ok" if self else f"FAIL ({len(self.failures)} of {len(self.entries)} derivatives disagree)"
        lines = [
            f"gradcheck {verdict}",
            f"  at {point}: f = {self.value:.10g}  (eps={s['eps']:g}, atol={s['atol']:g}, rtol={s['rtol']:g})",
        ]
        width = max([len("derivative")] + [len(e.name) for e in self.entries])
        lines.append(
            f"  {'derivative':<{width}}  {'analytic':>14}  {'numeric':>14}  {'abs error':>9}  {'rel error':>9}"
        )
        for e in self.entries:
            lines.append(
                f"  {e.name:<{width}}  {e.analytic:>14.8g}  {e.numeric:>14.8g}  "
                f"{e.abs_error:>9.2e}  {e.rel_error:>9.2e}  {'ok' if e.ok else 'FAIL'}"
            )
        for name in self.failing_inputs:
            listed = ", ".join(self.ops_on_paths.get(name, [])) or "none (the output does not depend on it)"
            lines.append(f"  ops on the paths from {name} to the output: {listed}")
        for suspect in self.suspects:
            lines.append(f"  suspect rule: {suspect}")
        for kink in self.kinks:
            lines.append(f"  kink within eps: {kink}")
        if self.kinks:
            lines.append(
                "  finite differences cannot check a derivative this close to a kink: check at a point farther "
                "than eps from it (the op's rule is not at fault)"
            )
        if not self and not self.suspects and not self.kinks:
            lines.append(
                "  every rule on these paths agrees with its forward here: f may not be differentiable at "
                "this point, or may leave the graph (float(), .data, math.*)"
            )
        return lines


def gradcheck(
    f: Callable[..., Any],
    *args: float,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    order: int = 1,
    raise_on_failure: bool = False,
) -> GradcheckReport:
    """Compare the engine's derivatives of f at `args` with finite differences.

    f takes one Value per argument and returns a scalar Value. With order=2
    the second derivatives (every pair of inputs) are checked too. A
    derivative agrees when |analytic - numeric| <= atol + rtol * |numeric|.
    Returns a GradcheckReport (true iff all agree); with raise_on_failure=True
    a disagreement raises GradcheckError (an AssertionError) carrying the report.

    The report's `str` is a table with one row per input (and, with order=2, per
    pair of inputs): analytic, numeric, absolute and relative error, ok/FAIL. For
    a failing input it lists the ops on the input's paths to the output and
    re-checks each rule on its own (against finite differences of the op's
    forward, at the inputs the graph gave it), so a wrong rule is named.
    First derivatives are compared with (f(x + h) - f(x - h)) / 2h, h = eps *
    max(1, |x|). Second derivatives come from the engine with create_graph=True
    (the table's rules run on Values) and are compared with central differences
    of the engine's own first derivatives: that checks the rules differentiate
    correctly a second time, independently of order 1.
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    if not args:
        raise ValueError("gradcheck: give at least one point coordinate after f")
    point = [_as_float(a, i) for i, a in enumerate(args)]
    names = _input_names(f, len(point))
    leaves = [Value(x, label=n) for x, n in zip(point, names, strict=True)]
    out = _call(f, leaves)
    report = GradcheckReport(names, point, out.data, {"eps": eps, "atol": atol, "rtol": rtol, "order": order})
    steps = [eps * max(1.0, abs(x)) for x in point]
    analytic = gradients(out, leaves)
    for i, name in enumerate(names):
        numeric = central_difference(lambda p: _value_at(f, p), point, i, steps[i])
        report.entries.append(GradcheckEntry(f"d/d{name}", (i,), analytic[i], numeric, atol, rtol))
    if order == 2:
        _check_second_order(f, point, names, steps, report, atol, rtol)
    if not report:
        _explain_failures(out, leaves, report, eps, atol, rtol)
    if raise_on_failure and not report:
        raise GradcheckError(str(report))
    return report


def _check_second_order(
    f: Callable[..., Any],
    point: list[float],
    names: list[str],
    steps: list[float],
    report: GradcheckReport,
    atol: float,
    rtol: float,
) -> None:
    leaves = [Value(x) for x in point]
    first = gradients(_call(f, leaves), leaves, create_graph=True)
    rows = [gradients(g, leaves) for g in first]
    n = len(point)
    for j in range(n):
        numeric_column = _central_difference_vector(lambda p: _engine_gradient(f, p), point, j, steps[j])
        for i in range(j, n):
            label = f"d2/d{names[i]}2" if i == j else f"d2/d{names[j]}d{names[i]}"
            report.entries.append(GradcheckEntry(label, (i, j), rows[i][j], numeric_column[i], atol, rtol))


# --- finite differences -------------------------------------------------------------------
def _value_at(f: Callable[..., Any], point: list[float]) -> float:
    with no_grad():
        return _call(f, [Value(x) for x in point]).data


def _engine_gradient(f: Callable[..., Any], point: list[float]) -> list[float]:
    leaves = [Value(x) for x in point]
    return gradients(_call(f, leaves), leaves)


def _central_difference_vector(
    fn: Callable[[list[float]], list[float]], point: list[float], i: int, h: float
) -> list[float]:
    up, down = list(point), list(point)
    up[i] += h
    down[i] -= h
    width = up[i] - down[i]
    return [(a - b) / width for a, b in zip(fn(up), fn(down), strict=True)]


# --- naming the culprit -------------------------------------------------------------------
def _explain_failures(
    out: Value, leaves: list[Value], report: GradcheckReport, eps: float, atol: float, rtol: float
) -> None:
    """Fill in the ops on each failing input's paths and re-check their rules."""
    order = reverse_topological_order(out)
    failing = report.failing_inputs
    second_order_failed = any(e.order == 2 for e in report.failures)
    checked: set[tuple[str, tuple[float, ...]]] = set()
    for name in failing:
        leaf = leaves[report.names.index(name)]
        nodes = [node for node in depending_on(out, leaf, order) if node.op is not None]
        report.ops_on_paths[name] = sorted({op_label(node.op) for node in nodes})
        for node in reversed(nodes):  # inputs first: report the earliest wrong rule first
            key = (node.op.name, tuple(x.data for x in node.inputs))
            if key in checked:
                continue
            checked.add(key)
            suspects, kinks = check_rule(node, eps, atol, rtol, second_order_failed)
            report.suspects.extend(suspects)
            report.kinks.extend(kinks)


# --- helpers -----------------------------------------------------------------------------
def _call(f: Callable[..., Any], leaves: list[Value]) -> Value:
    out = f(*leaves)
    if isinstance(out, Value):
        return out
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return Value(out)
    raise TypeError(f"gradcheck: f must return a scalar Value (or a number), got {type(out).__name__}")


def _as_float(a: Any, i: int) -> float:
    if isinstance(a, Value):
        return a.data
    if isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a):
        raise TypeError(f"gradcheck: argument {i} must be a finite int or float (or a Value), got {a!r:.60}")
    return float(a)


def _input_names(f: Callable[..., Any], n: int) -> list[str]:
    """f's positional parameter names where Python can tell, else x0, x1, ..."""
    try:
        params = [
            p.name
            for p in inspect.signature(f).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    names = params[:n] + [f"x{i}" for i in range(len(params), n)]
    if len(set(names)) != n:  # e.g. a parameter named x1 next to a generated x1
        names = [f"x{i}" for i in range(n)]
    return names

