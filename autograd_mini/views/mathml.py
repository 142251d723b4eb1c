"""Formulas as small trees that become MathML in the page and LaTeX in reports.

A formula is a nested list: ["mi", "x"], ["mn", "2"], ["mo", "="] are leaves;
["mrow", f, g, ...], ["msub", base, sub], ["mfrac", top, bottom] and
["msup", base, sup] combine them. The explorer's script builds <math> elements
from these trees with createElementNS (text only, never markup), and `latex`
writes the same tree as LaTeX, so a page and a slide show the same formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Union

Formula = list[Union[str, "Formula"]]

_LEAVES = ("mi", "mn", "mo", "mtext")
_LATEX_SYMBOLS = {"δ": r"\delta", "∂": r"\partial", "φ": r"\varphi", "Σ": r"\sum", "×": r"\times",
                  "·": r"\cdot", "−": "-", "…": r"\ldots", "′": "'",
                  "←": r"\leftarrow"}


def mi(name: str) -> Formula:
    """An identifier (italic): a variable name such as "x" or "δ"."""
    return ["mi", name]


def mn(x: float | str) -> Formula:
    """A number, 6 significant digits (as the step texts show numbers)."""
    return ["mn", x if isinstance(x, str) else f"{x:.6g}"]


def mo(op: str) -> Formula:
    """An operator or punctuation: "=", "+", "×", "(", ...."""
    return ["mo", op]


def mtext(text: str) -> Formula:
    """Plain words inside a formula."""
    return ["mtext", text]


def row(*parts: Formula) -> Formula:
    """Parts side by side."""
    return ["mrow", *parts]


def sub(base: str | Formula, index: str | Formula) -> Formula:
    """base with a subscript: sub("w", "ij") is w_ij."""
    return ["msub", mi(base) if isinstance(base, str) else base, mi(index) if isinstance(index, str) else index]


def frac(top: Formula, bottom: Formula) -> Formula:
    """top over bottom."""
    return ["mfrac", top, bottom]


def partial(of: Formula, by: Formula) -> Formula:
    """∂of / ∂by, as a fraction."""
    return frac(row(mo("∂"), of), row(mo("∂"), by))


def equation(*parts: Formula) -> Formula:
    """Parts joined by "=" signs: equation(a, b, c) reads a = b = c."""
    joined: list[Formula] = []
    for k, part in enumerate(parts):
        if k:
            joined.append(mo("="))
        joined.append(part)
    return row(*joined)


def plain(f: Formula) -> str:
    """The formula as plain text (the page's copyable fallback and the tests' reading of it)."""
    tag, *rest = f
    if tag in _LEAVES:
        return str(rest[0])
    parts = [plain(x) for x in rest if isinstance(x, list)]
    if tag == "msub":
        return f"{parts[0]}_{parts[1]}"
    if tag == "msup":
        return f"{parts[0]}^{parts[1]}"
    if tag == "mfrac":
        return f"{parts[0]}/{parts[1]}"
    return " ".join(parts)


def latex(f: Formula) -> str:
    """The formula as LaTeX math (without the surrounding $...$)."""
    tag, *rest = f
    if tag in _LEAVES:
        text = str(rest[0])
        if tag == "mtext" or (tag == "mi" and len(text) > 1):
            return r"\text{" + _escape_text(text) + "}"
        return _LATEX_SYMBOLS.get(text, _escape_math(text))
    parts = [latex(x) for x in rest if isinstance(x, list)]
    if tag == "msub":
        return "{" + parts[0] + "}_{" + parts[1] + "}"
    if tag == "msup":
        return "{" + parts[0] + "}^{" + parts[1] + "}"
    if tag == "mfrac":
        return r"\frac{" + parts[0] + "}{" + parts[1] + "}"
    return " ".join(parts)


# How LaTeX spells the characters it reserves, in math mode and in text mode.
_MATH_ESCAPES = {"\\": r"\backslash ", "^": r"\text{\textasciicircum}", "~": r"\text{\textasciitilde}"}
_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}


def _escape_math(text: str) -> str:
    return _escape(text, _MATH_ESCAPES, lambda symbol: symbol + " ")


def _escape_text(text: str) -> str:
    return _escape(text, _TEXT_ESCAPES, lambda symbol: "$" + symbol + "$")


def _escape(text: str, escapes: dict[str, str], symbol: Callable[[str], str]) -> str:
    """`text` for LaTeX: reserved characters escaped, the symbols of _LATEX_SYMBOLS spelled by `symbol`."""
    out = []
    for c in text:
        if c in "#$%&_{}":
            out.append("\\" + c)
        elif c in escapes:
            out.append(escapes[c])
        elif c in _LATEX_SYMBOLS:
            out.append(symbol(_LATEX_SYMBOLS[c]))
        else:
            out.append(c)
    return "".join(out)


_PACKED = {"mi": "i", "mn": "n", "mo": "o", "mtext": "t", "mrow": "r", "msub": "s", "mfrac": "f", "msup": "p"}


def packed(f: Formula) -> str | list[object]:
    """The tree in the page's short form: a leaf is one string, its kind's letter then its text
    ("ix", "n2", "o="); a node a list led by its letter (["r", ...], ["s", base, sub], ["f", top, bottom])."""
    tag, *rest = f
    assert isinstance(tag, str)
    if tag in _LEAVES:
        return _PACKED[tag] + str(rest[0])
    return [_PACKED[tag], *(packed(x) for x in rest if isinstance(x, list))]
