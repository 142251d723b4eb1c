"""`explain(output, wrt)`: a gradient taken apart into the chain rule's paths.

d output / d wrt is a sum over every path from `wrt` up to `output` of the
product of the local derivatives on the path's edges: the chain rule of (1.5)
and (1.10), summed over paths as the total derivative (1.8) says. `explain`
lists those paths with their numbers. Local derivatives come only from
`engine.local_derivatives(node)`, i.e. from the op's row of the derivative
table with upstream gradient 1: there is no derivative formula in this file.

Graphs with more than `limit` paths (their number can grow exponentially with
depth) are summarised instead by node-level accumulation, the recursion (1.8)
run over the nodes in reverse topological order, as backward does.

Path counts saturate at PATH_COUNT_CAP, so a graph with astronomically many
paths (`y = y * y` repeated) costs time linear in its size.

For a weight or bias of an `nn` MLP with sigmoid neurons and squared error,
each path is shown in the derivation's own factors (dE/dy = y - t (1.6),
dO_j/dnet_j = O_j (1 - O_j) (1.3), ...; see `derivation.py`), with the delta
form delta_j = dE/dnet_j and dE/dw_ij = delta_j * O_i. When that reading does
not apply, one line says why and the op-by-op report stays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine import local_derivatives
from ..graph import depending_on, reverse_topological_order
from ..value import Value
from . import derivation
from .derivation import DeltaForm, Derivation, DerivationPath

DEFAULT_LIMIT = 64
PATH_COUNT_CAP = 10**15  # path counts saturate here: exact counts can have thousands of digits


@dataclass(frozen=True)
class Edge:
    """One edge of the graph: `input` is input number `position` of `consumer`.

    `local` is d consumer / d input at the current values, read from the op's
    row of the table with g = 1 (`engine.local_derivatives`).
    """

    consumer: Value
    position: int
    input: Value
    local: float


@dataclass(frozen=True)
class Path:
    """A path from `wrt` to `output`, its edges listed from `output` down to `wrt`
    (the order the chain rule (1.10) is written in), and their product."""

    edges: tuple[Edge, ...]
    product: float

    @property
    def factors(self) -> list[float]:
        """The local derivative on each edge, output end first."""
        return [e.local for e in self.edges]


@dataclass
class Explanation:
    """The result of `explain`: paths and their products, or the accumulation summary.

    method is "paths" when every path is listed, "accumulation" when there
    were more than `limit` (then `paths` is empty and `contributions` holds the
    last step of (1.8) at wrt: one (edge, d output / d consumer, product) per
    edge leaving wrt). `total` is d output / d wrt. `path_count` saturates at
    PATH_COUNT_CAP. For nn parameters, `derivation` holds the paths in the
    derivation's factors and `delta` the delta form (see `derivation.py`).
    """

    output: Value
    wrt: Value
    total: float
    path_count: int
    method: str
    limit: int
    paths: list[Path] = field(default_factory=list)
    contributions: list[tuple[Edge, float, float]] = field(default_factory=list)
    delta: DeltaForm | None = None
    derivation: Derivation | None = None
    names: dict[Value, str] = field(default_factory=dict, repr=False)

    @property
    def path_count_exact(self) -> bool:
        """False when `path_count` reached PATH_COUNT_CAP (there are at least that many paths)."""
        return self.path_count < PATH_COUNT_CAP

    def __str__(self) -> str:
        return _report(self)


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
    members = set(order)
    edges = {node: _edges_into(node, wrt, members) for node in order}
    count = _path_counts(order, edges, wrt)
    grads = _accumulate(order, edges)
    if count[output] <= limit:
        paths = _enumerate_paths(output, wrt, edges, count)
        result = Explanation(output, wrt, math.fsum(p.product for p in paths), count[output], "paths", limit, paths)
    else:
        result = Explanation(output, wrt, grads.get(wrt, 0.0), count[output], "accumulation", limit)
        for e in _edges_from(wrt, order, edges):
            upstream = grads.get(e.consumer, 0.0)
            result.contributions.append((e, upstream, upstream * e.local))
    result.names = shown
    if derivation.applies(output, wrt, order):
        result.derivation = derivation.read(output, wrt, order, edges, grads, result.paths)
        result.delta = result.derivation.delta
    return result


# --- the graph between wrt and output --------------------------------------------------
def _edges_into(node: Value, wrt: Value, members: set[Value]) -> list[Edge]:
    """The differentiable edges from node's inputs that lie between wrt and output."""
    if node is wrt:  # paths start here
        return []
    locals_ = local_derivatives(node)
    return [
        Edge(node, p, x, float(d))
        for p, (x, d) in enumerate(zip(node.inputs, locals_, strict=True))
        if d is not None and x in members
    ]


def _edges_from(wrt: Value, order: list[Value], edges: dict[Value, list[Edge]]) -> list[Edge]:
    return [e for node in reversed(order) for e in edges[node] if e.input is wrt]


def _path_counts(order: list[Value], edges: dict[Value, list[Edge]], wrt: Value) -> dict[Value, int]:
    """Number of paths from wrt to each node, saturated at PATH_COUNT_CAP (ints stay small)."""
    count = {wrt: 1}
    for node in reversed(order):
        if node is not wrt:
            count[node] = min(PATH_COUNT_CAP, sum(count[e.input] for e in edges[node]))
    return count


def _accumulate(order: list[Value], edges: dict[Value, list[Edge]]) -> dict[Value, float]:
    """d output / d node for every node, by the recursion (1.8) in reverse topological order."""
    grads = {order[0]: 1.0}
    for node in order:
        g = grads.get(node)
        if g is None:
            continue
        for e in edges[node]:
            grads[e.input] = grads.get(e.input, 0.0) + g * e.local
    return grads


def _enumerate_paths(output: Value, wrt: Value, edges: dict[Value, list[Edge]], count: dict[Value, int]) -> list[Path]:
    """Every path from output down to wrt, by an explicit stack (no recursion).

    A partial path is a linked list (edge, rest) so extending it costs O(1)
    however deep the graph is.
    """
    paths = []
    stack: list[tuple[Value, Any]] = [(output, None)]
    while stack:
        node, link = stack.pop()
        if node is wrt:
            paths.append(_materialize(link))
            continue
        for e in reversed(edges[node]):
            if count[e.input]:
                stack.append((e.input, (e, link)))
    return paths


def _materialize(link: Any) -> Path:
    """A Path from a linked list whose head is the edge nearest wrt."""
    reversed_edges = []
    while link is not None:
        edge, link = link
        reversed_edges.append(edge)
    reversed_edges.reverse()
    product = 1.0
    for e in reversed_edges:
        product *= e.local
    return Path(tuple(reversed_edges), product)


# --- names --------------------------------------------------------------------------------
def _names(order: list[Value], output: Value, wrt: Value, given: Mapping[Value, str]) -> dict[Value, str]:
    """`given` names first, then labels where nodes have them; else "out", "wrt", or op name#index."""
    names = {}
    for k, node in enumerate(reversed(order)):
        if node in given:
            names[node] = str(given[node])
        elif node.label:
            names[node] = node.label
        elif node is output:
            names[node] = "out"
        elif node is wrt:
            names[node] = "wrt"
        else:
            names[node] = f"{node.op.name if node.op else 'leaf'}#{k}"
    for node in (output, wrt):
        names.setdefault(node, given.get(node) or node.label or ("out" if node is output else "wrt"))
    return names


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
