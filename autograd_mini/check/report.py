"""The report of `check_engine`: what was tested, each trap's result, each failure diagnosed.

`str(report)` is the whole report, `str(failure)` one failure's section:
the cause, the smallest failing expression as code in the learner's API,
and a table of every node of that graph with the expected and the learner's
value and gradient, the first wrong one in backward order marked.
`report.table()` is the per-trap table in Markdown (for a teacher to paste),
`report.to_dict()` the JSON form and `report.junit()` JUnit XML for CI.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from .program import Program

if TYPE_CHECKING:  # drawing needs graphviz: loaded only when a drawing is asked for
    from ..views.draw import Drawing
    from ..views.explorer.page import Explorer

MAX_ROWS = 16


@dataclass(frozen=True)
class NodeRow:
    """One node of a failing graph: expected and the learner's value and gradient."""

    name: str
    code: str
    expected_data: float
    data: float | None
    expected_grad: float
    grad: float | None
    wrong: bool


@dataclass
class Failure:
    """One finding: the check that found it, what is blamed and why, and the smallest graph that shows it.

    op:          what is blamed: an op ("tanh", "rsub"...), "backward", or "engine".
    kind:        "local derivative", "accumulation", "order", "seed", "forward", "recursion",
                 "exception", "compounding", "missing op" or "engine".
    expression:  the failing program as code in the learner's own API.
    first_wrong: the first node whose value (forward) or gradient (backward order) differs.
    """

    check: str
    op: str
    kind: str
    cause: str
    expression: str
    expected_value: float | None = None
    actual_value: float | None = None
    expected_grads: dict[str, float] = field(default_factory=dict)
    actual_grads: dict[str, float | None] = field(default_factory=dict)
    rows: list[NodeRow] = field(default_factory=list)
    first_wrong: str | None = None
    program: Program | None = field(default=None, repr=False)

    def __str__(self) -> str:
        lines = [f"FAIL [{self.check}] blamed: {self.op} ({self.kind})", f"  {self.cause}",
                 "  smallest failing expression:"]
        lines += [f"      {line}" for line in self.expression.splitlines()]
        if self.rows:
            lines.append("  node  code                 value: expected | yours      grad: expected | yours")
            shown = self.rows if len(self.rows) <= MAX_ROWS else self.rows[: MAX_ROWS - 1]
            for row in shown:
                mark = "   <- first wrong" if row.name == self.first_wrong else ("   <- differs" if row.wrong else "")
                lines.append(f"  {row.name:<5} {row.code[:20]:<20} {_num(row.expected_data):>12} | "
                             f"{_num(row.data):<12} {_num(row.expected_grad):>12} | {_num(row.grad)}{mark}")
            if len(shown) < len(self.rows):
                lines.append(f"  ... {len(self.rows) - len(shown)} more nodes")
        return "\n".join(lines)

    def drawing(self) -> Drawing:
        """The failing graph drawn by `autograd_mini.draw`, each node showing both numbers."""
        from .picture import failure_drawing

        if self.program is None:
            raise ValueError(f"failure {self.check!r} has no graph to draw")
        yours = {row.name: (row.data, row.grad, row.wrong) for row in self.rows}
        return failure_drawing(self.program, yours, self.first_wrong, self.expression.count(".backward()"))

    def page(self) -> Explorer:
        """The failing graph as an `autograd_mini.explore` page (the same labels as `drawing`; the page
        steps through one backward pass, so after a second call its gradients are one pass's)."""
        from .picture import failure_page

        if self.program is None:
            raise ValueError(f"failure {self.check!r} has no graph to show")
        yours = {row.name: (row.data, row.grad, row.wrong) for row in self.rows}
        return failure_page(self.program, yours, self.first_wrong, self.expression.count(".backward()"))

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "op": self.op, "kind": self.kind, "cause": self.cause,
                "expression": self.expression, "expected_value": self.expected_value,
                "actual_value": self.actual_value, "expected_grads": self.expected_grads,
                "actual_grads": self.actual_grads, "first_wrong": self.first_wrong,
                "nodes": [row.__dict__ for row in self.rows[:MAX_ROWS]]}


@dataclass(frozen=True)
class CheckRow:
    """One line of the per-trap table: a trap, an op alone, or the random search."""

    name: str
    catches: str
    status: str  # "ok", "FAIL", "note", "skipped"
    detail: str = ""


@dataclass
class Report:
    """What `check_engine` found. `ok` is True when every check agrees with autograd_mini."""

    engine: str
    seed: int
    tested: list[str]
    untested: dict[str, str]
    checks: list[CheckRow]
    failures: list[Failure]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        verdict = "all checks agree with autograd_mini" if self.ok else f"{len(self.failures)} problem(s) found"
        lines = [f"check_engine: {self.engine} (seed {self.seed}): {verdict}",
                 f"tested:     {', '.join(self.tested) or 'nothing'}"]
        if self.untested:
            lines.append(f"not tested: {', '.join(f'{op} ({why})' for op, why in self.untested.items())}")
        lines.append("")
        width = max(len(c.name) for c in self.checks) if self.checks else 10
        for check in self.checks:
            detail = f"  {check.detail}" if check.detail else ""
            lines.append(f"  {check.status:<7} {check.name:<{width}}  {check.catches}{detail}")
        lines += [f"note: {note}" for note in self.notes]
        for number, failure in enumerate(self.failures, 1):
            lines += ["", f"{number}. {failure}"]
        return "\n".join(lines)

    def table(self) -> str:
        """The per-check table in Markdown: check, what it catches, result."""
        lines = [f"Engine `{self.engine}` (seed {self.seed})", "", "| check | catches | result |",
                 "| --- | --- | --- |"]
        for c in self.checks:
            result = c.status + (f": {c.detail}" if c.detail else "")
            lines.append(f"| {c.name} | {c.catches} | {result.replace('|', '/')} |")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "seed": self.seed, "ok": self.ok, "tested": self.tested,
                "untested": self.untested, "notes": self.notes,
                "checks": [c.__dict__ for c in self.checks], "failures": [f.to_dict() for f in self.failures]}

    def to_json(self) -> str:
        """The report as strict JSON (a non-finite number of the learner's becomes the string "inf", "nan")."""
        return json.dumps(_finite(self.to_dict()), indent=2, allow_nan=False)

    def junit(self) -> str:
        """JUnit XML: one test case per check, the failure's section as its message."""
        failed = sum(c.status == "FAIL" for c in self.checks)
        cases = []
        for c in self.checks:
            body = ""
            if c.status == "FAIL":
                text = "\n\n".join(str(f) for f in self.failures if f.check == c.name) or c.detail
                body = f"<failure message={quoteattr(c.detail or 'failed')}>{escape(text)}</failure>"
            elif c.status == "skipped":
                body = "<skipped/>"
            cases.append(f"  <testcase classname={quoteattr(self.engine)} name={quoteattr(c.name)}>{body}</testcase>")
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="autograd-mini check" '
                f'tests="{len(self.checks)}" failures="{failed}">\n' + "\n".join(cases) + "\n</testsuite>\n")


def _finite(data: Any) -> Any:
    """`data` with every float that JSON cannot hold (inf, nan) as its string."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"
