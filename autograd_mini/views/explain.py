"""`explain(output, wrt)`: a gradient taken apart into the chain rule's paths.

Lists every path from `wrt` to `output` with the product of its local
derivatives, (1.5), (1.10), summed as (1.8) says (the paths come from `paths`).
Over `limit` paths it shows the node-level accumulation (1.8) instead; for an
`nn` parameter it adds the derivation's reading and delta form (`derivation`).
Beside it, forward mode: the same products read inputs first, as a tangent
seeded t_wrt = 1 meets them, and t_out from one tangent pass (`paths.tangents`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..errors import AutogradMiniError
from ..graph import depending_on, forward_order, reverse_topological_order
from ..value import Value
from . import derivation, typeset
from .derivation import DeltaForm, Derivation, DerivationPath
from .neurons import neuron_boxes, nn_label
from .paths import (
    PATH_COUNT_CAP,
    Edge,
    Path,
    accumulate,
    edges_between,
    edges_from,
    enumerate_paths,
    path_counts,
    tangents,
)

DEFAULT_LIMIT = 64


@dataclass
class Explanation:
    """The result of `explain`: paths and their products, or the accumulation summary.

    method is "paths" when every path is listed, "accumulation" when there
    were more than `limit` (then `paths` is empty and `contributions` holds the
    last step of (1.8) at wrt: one (edge, d output / d consumer, product) per
    edge leaving wrt). `total` is d output / d wrt. `path_count` saturates at
    PATH_COUNT_CAP. For nn parameters, `derivation` holds the paths in the
    derivation's factors and `delta` the delta form (see `derivation.py`).

    Forward mode: `forward_total` is t_out, the tangent of output after one
    tangent pass seeded t_wrt = 1 (equal to `total` up to rounding); each
    path's `forward_product` is its product taken inputs first. With
    "accumulation", `forward_contributions` holds the pass's last step at
    output: one (edge, t_input, local x t_input) per input edge of output.
    """

    output: Value
    wrt: Value
    total: float
    path_count: int
    method: Literal["paths", "accumulation"]
    limit: int
    paths: list[Path] = field(default_factory=list)
    contributions: list[tuple[Edge, float, float]] = field(default_factory=list)
    delta: DeltaForm | None = None
    derivation: Derivation | None = None
    names: dict[Value, str] = field(default_factory=dict, repr=False)
    forward_total: float = 0.0
    forward_contributions: list[tuple[Edge, float, float]] = field(default_factory=list)
    forward_error: str | None = None

    @property
    def path_count_exact(self) -> bool:
        """False when `path_count` reached PATH_COUNT_CAP (there are at least that many paths)."""
        return self.path_count < PATH_COUNT_CAP

    def __str__(self) -> str:
        return _report(self)

    def latex(self, *, standalone: bool = False) -> str:
        r"""The same report as LaTeX (an amsmath align*, each formula \tag'ed with its equation number).

        standalone=True gives a whole document that pdflatex compiles as is.
        """
        return typeset.to_latex(self, standalone=standalone)

    def formulas(self) -> list[typeset.Line]:
        """The report as typeset lines (formula trees, their text and equation numbers), as the explorer shows it."""
        return typeset.lines(self)


def explain(
    output: Value, wrt: Value, limit: int = DEFAULT_LIMIT, *, names: Mapping[Value, str] | None = None
) -> Explanation:
    """Explain d output / d wrt by the paths from wrt to output (see the module docstring).

    `wrt` may be any node of output's graph (a leaf or an intermediate
    result); if output does not depend on it the total is 0. `total` equals
    `wrt.grad` after a fresh `output.backward()` (up to rounding in the order
    of the sum). `names` overrides how the report names nodes (e.g. the names
    a page shows); nodes not in it are named by their labels.
    """
    if not isinstance(output, Value) or not isinstance(wrt, Value):
        raise TypeError(f"explain needs two Values, got {type(output).__name__} and {type(wrt).__name__}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"explain: limit must be a positive int, got {limit!r}")
    order = depending_on(output, wrt, reverse_topological_order(output))
    shown = _names(order, output, wrt, names or {})
    if not order:
        return Explanation(output, wrt, 0.0, 0, "paths", limit, names=shown)
    edges = edges_between(order, wrt)
    count = path_counts(order, edges, wrt)
    grads = accumulate(order, edges)
    if count[output] <= limit:
        paths = enumerate_paths(output, wrt, edges, count)
        result = Explanation(output, wrt, math.fsum(p.product for p in paths), count[output], "paths", limit, paths)
    else:
        result = Explanation(output, wrt, grads.get(wrt, 0.0), count[output], "accumulation", limit)
        for e in edges_from(wrt, order, edges):
            upstream = grads.get(e.consumer, 0.0)
            result.contributions.append((e, upstream, upstream * e.local))
    result.names = shown
    try:
        tangent = tangents(order, wrt)
    except AutogradMiniError as exc:  # the report still gives the reverse total, and says why forward mode cannot
        result.forward_total, result.forward_error = math.nan, str(exc)
    else:
        result.forward_total = tangent[output]
        if result.method == "accumulation":
            result.forward_contributions = [(e, tangent[e.input], e.local * tangent[e.input]) for e in edges[output]]
    if derivation.applies(output, wrt, order):
        result.derivation = derivation.read(output, wrt, order, edges, grads, result.paths)
        result.delta = result.derivation.delta
    return result


# --- names --------------------------------------------------------------------------------
def _names(order: list[Value], output: Value, wrt: Value, given: Mapping[Value, str]) -> dict[Value, str]:
    """`given` names first, then labels where nodes have them; else "out", "wrt", or op name#index.

    In a loss over several examples a neuron's node is named with its example, "L1.N0.out[example 2]",
    as `draw` and `explore` number them: four passes label four nodes "L1.N0.out".
    """
    examples = _pass_examples(output, order)
    names: dict[Value, str] = {}
    for k, node in enumerate(reversed(order)):
        if node in given:
            names[node] = str(given[node])
        elif node.label:
            names[node] = node.label + (f"[example {examples[node]}]" if node in examples else "")
        elif node is output:
            names[node] = "out"
        elif node is wrt:
            names[node] = "wrt"
        else:
            names[node] = f"{node.op.name if node.op else 'leaf'}#{k}"
    for node in (output, wrt):
        names.setdefault(node, given.get(node) or node.label or ("out" if node is output else "wrt"))
    return names


def _pass_examples(output: Value, order: list[Value]) -> dict[Value, int]:
    """The example of each labelled node of a neuron that runs more than once (none in most graphs)."""
    if not any(nn_label(node.label) for node in order):
        return {}
    boxes = neuron_boxes(forward_order(output))  # numbered over the whole graph, as draw does
    return {v: box.example for v, box in boxes.items() if box.example is not None and nn_label(v.label)}


def _factor(e: Edge, names: dict[Value, str]) -> str:
    text = f"d {names[e.consumer]}/d {names[e.input]}"
    if e.consumer.inputs.count(e.input) > 1:
        text += f" (input {e.position})"
    return text


# --- the report -----------------------------------------------------------------------------
def _report(ex: Explanation) -> str:
    names = ex.names
    out, wrt = names.get(ex.output, "out"), names.get(ex.wrt, "wrt")
    lines = [f"d {out}/d {wrt} = {ex.total:.6g}"]
    reading = ex.derivation
    if ex.path_count == 0:
        lines.append(f"{out} does not depend on {wrt} through any differentiable path, so the gradient is 0.")
    elif ex.method == "paths" and reading is not None and reading.paths:
        lines += _derivation_report(ex, reading.paths, out, wrt)
    elif ex.method == "paths":
        lines += _paths_report(ex, out, wrt)
    else:
        lines += _accumulation_report(ex, out, wrt)
    if ex.path_count:
        lines += ["", *_forward_report(ex, out, wrt)]
    if reading is not None and reading.reason is not None and ex.path_count:
        lines += ["", reading.reason]
    if ex.delta is not None:
        lines.append("")
        lines += ex.delta.lines
    return "\n".join(lines)


def _paths_report(ex: Explanation, out: str, wrt: str) -> list[str]:
    plural = "path" if ex.path_count == 1 else "paths"
    lines = [f"chain rule: {ex.path_count} {plural} from {wrt} to {out}; each path contributes the product of",
             "the local derivatives on its edges (1.5), (1.10), and the paths add up (1.8).", ""]
    width = max((len(_factor(e, ex.names)) for p in ex.paths for e in p.edges), default=0)
    for i, p in enumerate(ex.paths, start=1):
        lines.append(f"path {i}: " + " <- ".join([out] + [ex.names[e.input] for e in p.edges]))
        for e in p.edges:
            op = e.consumer.op.name if e.consumer.op else "leaf"
            lines.append(f"    {_factor(e, ex.names):<{width}} = {e.local:>12.6g}   [{op}]")
        if not p.edges:
            lines.append(f"    ({wrt} is {out} itself: the empty product is 1)")
        lines.append(f"    {'product':<{width}} = {p.product:>12.6g}")
    if len(ex.paths) > 1:
        terms = " + ".join(f"{p.product:.6g}" for p in ex.paths)
        lines.append(f"total = {terms} = {ex.total:.6g}")
    else:
        lines.append(f"total = {ex.total:.6g}")
    return lines


def _derivation_report(ex: Explanation, paths: list[DerivationPath], out: str, wrt: str) -> list[str]:
    plural = "path" if ex.path_count == 1 else "paths"
    lines = [f"chain rule in the derivation's terms: {ex.path_count} {plural} from {wrt} to {out}; each path is",
             "a product of the derivation's factors (each neuron's bias add and dot fold into net_j (1.1)),",
             "and the paths add up (1.8).", ""]
    factors = [f for p in paths for f in p.factors]
    ws = max(len(f.symbol) for f in factors)
    wf = max(len(f.formula) for f in factors)
    for i, (p, raw) in enumerate(zip(paths, ex.paths, strict=True), start=1):
        symbols = [f.symbol for f in p.factors]
        lines.append(f"path {i}, {p.equation}: dE/d{symbols[-1].split('/d', 1)[1]} = {' * '.join(symbols)}")
        lines.append("    " + " <- ".join(ex.names.get(v, "?") for v in p.points))
        lines.append(f"    {p.legend}")
        for f in p.factors:
            lines.append(f"    {f.symbol:<{ws}} = {f.formula:<{wf}} = {f.value:>12.6g}   {f.equation}")
            if f.recursion is not None:
                lines.append(f"      {f.recursion}")
        lines.append(f"    {'product':<{ws + 3 + wf}} = {raw.product:>12.6g}")
    if len(paths) > 1:
        terms = " + ".join(f"{p.product:.6g}" for p in ex.paths)
        lines.append(f"total = {terms} = {ex.total:.6g}   (1.8): the paths add up")
    else:
        lines.append(f"total = {ex.total:.6g}")
    return lines


def _accumulation_report(ex: Explanation, out: str, wrt: str) -> list[str]:
    count = f"{ex.path_count}" if ex.path_count_exact else f"at least {PATH_COUNT_CAP:,}"
    lines = [f"{count} paths lead from {wrt} to {out}, more than the limit of {ex.limit}, so they are not",
             "listed. Node-level accumulation instead, the recursion (1.8): in reverse topological order,",
             f"d {out}/d node = sum over the node's consumers c of d {out}/d c * d c/d node. At {wrt}:"]
    for e, upstream, contribution in ex.contributions:
        lines.append(f"    d {out}/d {ex.names[e.consumer]} * {_factor(e, ex.names)}"
                     f" = {upstream:.6g} * {e.local:.6g} = {contribution:.6g}")
    lines.append(f"total = {ex.total:.6g}")
    return lines


def _forward_report(ex: Explanation, out: str, wrt: str) -> list[str]:
    """Forward mode beside the reverse report: the tangent t = d node/d wrt pushed inputs first."""
    lines = [f"forward mode (seed t_{wrt} = 1, pushed inputs first: t_node = sum_i d node/d input_i * t_i):"]
    if ex.forward_error is not None:
        return [*lines, f"forward mode: the tangent pass fails: {ex.forward_error}"]
    if ex.method == "paths":
        for i, p in enumerate(ex.paths, start=1):
            factors = " * ".join(["1"] + [f"{e.local:.6g}" for e in reversed(p.edges)])
            lines.append(f"forward mode, path {i}: t_{out} = {factors} = {p.forward_product:.6g}")
        terms = " + ".join(f"{p.forward_product:.6g}" for p in ex.paths)
        sums = f"{terms} = " if len(ex.paths) > 1 else ""
    else:
        for e, t, contribution in ex.forward_contributions:
            lines.append(f"forward mode: d {out}/d {ex.names.get(e.input, '?')} * t_{ex.names.get(e.input, '?')}"
                         f" = {e.local:.6g} * {t:.6g} = {contribution:.6g}")
        terms = " + ".join(f"{c:.6g}" for _, _, c in ex.forward_contributions)
        sums = f"{terms} = " if len(ex.forward_contributions) > 1 else ""
    lines.append(f"forward mode: t_{out} = {sums}{ex.forward_total:.6g} = d {out}/d {wrt}")
    return lines
