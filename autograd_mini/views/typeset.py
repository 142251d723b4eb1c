"""`explain`'s report typeset: formula trees for the explorer's MathML and LaTeX for slides.

The same content as `str(explain(...))`: the total d out/d wrt, each path's
local derivatives and their product (1.5), (1.10), the paths' sum (1.8), or
the accumulation (1.8) when there are too many paths to list, and the
derivation's delta form for an `nn` parameter. Each formula carries its
equation number, shown beside it (MathML) or as a \\tag (LaTeX).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ..value import Value
from .derivation import DeltaForm
from .mathml import Formula, equation, frac, latex, mn, mo, mtext, plain, row, sub
from .paths import Edge, Path


class Report(Protocol):
    """What this module reads of `explain.Explanation` (explain imports this module, not the reverse)."""

    output: Value
    wrt: Value
    total: float
    path_count: int
    method: Literal["paths", "accumulation"]
    paths: list[Path]
    contributions: list[tuple[Edge, float, float]]
    delta: DeltaForm | None
    names: dict[Value, str]
    forward_total: float
    forward_contributions: list[tuple[Edge, float, float]]
    forward_error: str | None

SHOWN_PATHS = 8


@dataclass(frozen=True)
class Line:
    """One line of a typeset report: a formula (or None for words only), its text, its equation number."""

    math: Formula | None
    text: str
    eq: str = ""

    def payload(self) -> dict[str, object]:
        """As the explorer page embeds it."""
        return {"math": self.math, "text": self.text, "eq": self.eq}


def name(text: str) -> Formula:
    """A node's name in a formula: one letter italic, longer names upright."""
    return ["mi", text]


def d(out: str, of: str) -> Formula:
    """∂out/∂of."""
    return frac(row(mo("∂"), name(out)), row(mo("∂"), name(of)))


def lines(ex: Report, limit: int = SHOWN_PATHS) -> list[Line]:
    """The report as typeset lines (at most `limit` paths; the page's panel and `latex` both read these)."""
    names = ex.names
    out, wrt = names.get(ex.output, "out"), names.get(ex.wrt, "wrt")
    total = equation(d(out, wrt), mn(ex.total))
    found = [_line(total, "(1.8)" if ex.path_count > 1 else "")]
    if ex.path_count == 0:
        found.append(Line(None, f"{out} does not depend on {wrt} through any differentiable path, "
                                "so the gradient is 0."))
    elif ex.method == "paths":
        for i, p in enumerate(ex.paths[:limit], start=1):
            points = [out] + [names.get(e.input, "?") for e in p.edges]
            found.append(Line(None, f"path {i}: " + " ← ".join(points)))
            if not p.edges:
                found.append(Line(None, f"({wrt} is {out} itself: the empty product is 1)"))
                continue
            symbols: list[Formula] = []
            numbers: list[Formula] = []
            for k, e in enumerate(p.edges):
                if k:
                    symbols.append(mo("·"))
                    numbers.append(mo("×"))
                symbols.append(d(names.get(e.consumer, "?"), names.get(e.input, "?")))
                numbers.append(mn(e.local))
            if len(p.edges) == 1:  # one factor: it is the product
                found.append(_line(equation(row(*symbols), mn(p.product)), "(1.5)"))
            else:
                found.append(_line(equation(row(*symbols), row(*numbers), mn(p.product)), "(1.10)"))
        if len(ex.paths) > limit:
            found.append(Line(None, f"... {len(ex.paths) - limit} more paths (the text report lists them all)"))
        if len(ex.paths) > 1:
            terms: list[Formula] = []
            for k, p in enumerate(ex.paths):
                if k:
                    terms.append(mo("+"))
                terms.append(mn(p.product))
            found.append(_line(equation(mtext("total"), row(*terms), mn(ex.total)), "(1.8)"))
    else:
        found.append(Line(None, f"{ex.path_count} paths or more: node-level accumulation (1.8) at {wrt}"))
        for e, upstream, contribution in ex.contributions:
            consumer = names.get(e.consumer, "?")
            found.append(_line(equation(row(d(out, consumer), mo("·"), d(consumer, wrt)),
                                        row(mn(upstream), mo("×"), mn(e.local)), mn(contribution)), "(1.8)"))
    if ex.path_count:
        found += _forward_lines(ex, out, wrt, limit)
    if ex.delta is not None:
        found += [Line(None, text) for text in ex.delta.lines if text.strip()]
    return found


def _forward_lines(ex: Report, out: str, wrt: str, limit: int) -> list[Line]:
    """Forward mode: each path's product inputs first (1 x local x ...), and t_out from one tangent pass."""
    names = ex.names
    t_out = sub("t", name(out))
    found = [Line(None, f"forward mode: seed t_{wrt} = 1, tangents pushed inputs first")]
    if ex.forward_error is not None:
        return [*found, Line(None, f"the tangent pass fails: {ex.forward_error}")]
    terms: list[Formula] = []
    if ex.method == "paths":
        for i, p in enumerate(ex.paths, start=1):
            if i <= limit:
                factors: list[Formula] = [mn(1.0)]
                for e in reversed(p.edges):
                    factors += [mo("×"), mn(e.local)]
                found.append(_line(equation(t_out, row(*factors), mn(p.forward_product)),
                                   f"path {i}, inputs first"))
            terms += [mo("+"), mn(p.forward_product)] if terms else [mn(p.forward_product)]
    else:
        for e, t, contribution in ex.forward_contributions:
            of = names.get(e.input, "?")
            found.append(_line(equation(row(d(out, of), mo("·"), sub("t", name(of))),
                                        row(mn(e.local), mo("×"), mn(t)), mn(contribution)), "forward"))
            terms += [mo("+"), mn(contribution)] if terms else [mn(contribution)]
    sums = [row(*terms)] if len(terms) > 1 else []
    found.append(_line(equation(t_out, *sums, mn(ex.forward_total), d(out, wrt)), "forward mode"))
    return found


def _line(f: Formula, eq: str) -> Line:
    return Line(f, plain(f), eq)


def to_latex(ex: Report, *, standalone: bool = False) -> str:
    r"""The report as LaTeX: an align* of the formulas, \tag'ed with their equation numbers.

    Needs amsmath (\usepackage{amsmath}); standalone=True wraps it in a whole
    article document that compiles as is.
    """
    body = [r"\begin{align*}"]
    shown = lines(ex, limit=len(ex.paths) or 1)
    for k, line in enumerate(shown):
        end = r" \\" if k < len(shown) - 1 else ""
        if line.math is None:
            body.append(r"&\text{" + _text(line.text) + "}" + end)
        else:
            tag = r" \tag*{" + _text(line.eq) + "}" if line.eq else r" \notag"
            body.append("&" + latex(line.math) + tag + end)
    body.append(r"\end{align*}")
    text = "\n".join(body) + "\n"
    if standalone:
        text = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage[T1]{fontenc}\n"
                "\\begin{document}\n" + text + "\\end{document}\n")
    return text


def _text(s: str) -> str:
    """Words for \\text{...}: LaTeX's special characters escaped, arrows and Greek as math."""
    return latex(["mtext", s])[len(r"\text{"):-1]
