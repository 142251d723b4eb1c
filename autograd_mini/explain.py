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

For a weight or bias of an `nn` MLP with sigmoid neurons and squared error,
the report also shows the delta form: delta_j = dE/dnet_j and dE/dw_ij =
delta_j * O_i.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .engine import local_derivatives, reverse_topological_order
from .value import Value

DEFAULT_LIMIT = 64
_PARAMETER = re.compile(r"L(\d+)\.N(\d+)\.(?:w(\d+)|b)\Z")


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
class DeltaForm:
    """The delta-rule view of a gradient for an nn weight or bias (1.5)-(1.8)."""

    neuron: str
    kind: str  # "output" or "hidden"
    delta: float
    gradient: float
    lines: list[str]


@dataclass
class Explanation:
    """The result of `explain`: paths and their products, or the accumulation summary.

    method is "paths" when every path is listed, "accumulation" when there
    were more than `limit` (then `paths` is empty and `contributions` holds the
    last step of (1.8) at wrt: one (edge, d output / d consumer, product) per
    edge leaving wrt). `total` is d output / d wrt.
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
    names: dict[Value, str] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        return _report(self)


def explain(output: Value, wrt: Value, limit: int = DEFAULT_LIMIT) -> Explanation:
    """Explain d output / d wrt by the paths from wrt to output (see the module docstring).

    `wrt` may be any node of output's graph (a leaf or an intermediate
    result); if output does not depend on it the total is 0. `total` equals
    `wrt.grad` after a fresh `output.backward()` (up to rounding in the order
    of the sum).
    """
    if not isinstance(output, Value) or not isinstance(wrt, Value):
        raise TypeError(f"explain needs two Values, got {type(output).__name__} and {type(wrt).__name__}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"explain: limit must be a positive int, got {limit!r}")
    order = _depending_on(reverse_topological_order(output), wrt)
    names = _names(order, output, wrt)
    if not order:
        return Explanation(output, wrt, 0.0, 0, "paths", limit, names=names)
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
    result.names = names
    result.delta = _delta_form(output, wrt, order, edges, grads, names)
    return result


# --- the graph between wrt and output --------------------------------------------------
def _depending_on(order: list[Value], wrt: Value) -> list[Value]:
    """The nodes of `order` (output first) that depend on wrt, in the same order."""
    depends = {wrt}
    for node in reversed(order):
        if node is not wrt and any(x in depends for x in node.inputs):
            depends.add(node)
    if order[0] not in depends:
        return []
    return [node for node in order if node in depends]


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
    """Number of paths from wrt to each node (exact ints, however large)."""
    count = {wrt: 1}
    for node in reversed(order):
        if node is not wrt:
            count[node] = sum(count[e.input] for e in edges[node])
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
def _names(order: list[Value], output: Value, wrt: Value) -> dict[Value, str]:
    """Labels where nodes have them; else "out", "wrt", or op name#index."""
    names = {}
    for k, node in enumerate(reversed(order)):
        if node.label:
            names[node] = node.label
        elif node is output:
            names[node] = "out"
        elif node is wrt:
            names[node] = "wrt"
        else:
            names[node] = f"{node.op.name if node.op else 'leaf'}#{k}"
    for node in (output, wrt):
        names.setdefault(node, node.label or ("out" if node is output else "wrt"))
    return names


def _factor(e: Edge, names: dict[Value, str]) -> str:
    text = f"d {names[e.consumer]}/d {names[e.input]}"
    if e.consumer.inputs.count(e.input) > 1:
        text += f" (input {e.position})"
    return text


# --- the delta form for nn parameters ------------------------------------------------------
def _delta_form(
    output: Value,
    wrt: Value,
    order: list[Value],
    edges: dict[Value, list[Edge]],
    grads: dict[Value, float],
    names: dict[Value, str],
) -> DeltaForm | None:
    """delta_j and dE/dw_ij = delta_j O_i, when the graph is the derivation's setting."""
    match = _PARAMETER.match(wrt.label or "")
    if match is None or not _is_squared_error_loss(output):
        return None
    neuron = f"L{match[1]}.N{match[2]}"
    net = _unique(order, neuron + ".net")
    out = _unique(order, neuron + ".out")
    if net is None or out is None or out.op is None or out.op.name != "sigmoid":
        return None
    delta = grads.get(net, 0.0)
    lines = _delta_lines(neuron, out, order, edges, grads, names)
    if lines is None:
        return None
    if match[3] is None:
        gradient = delta
        lines.append(f"dE/db = delta_{neuron} = {delta:.6g}")
        return DeltaForm(neuron, _kind(out, order, edges), delta, gradient, lines)
    into_dot = [e for node in order for e in edges[node] if e.input is wrt]
    if len(into_dot) != 1:
        return None
    o_i = into_dot[0].local  # d dot/d w_ij = O_i, from the table
    n = len(into_dot[0].consumer.inputs) // 2
    source = into_dot[0].consumer.inputs[n + into_dot[0].position]
    gradient = delta * o_i
    o_name = source.label or f"network input {into_dot[0].position}"
    lines.append(f"dE/d{wrt.label} = delta_{neuron} * O_i = {delta:.6g} * {o_i:.6g} = {gradient:.6g}"
                 f"   (1.5), O_i = {o_name}")
    return DeltaForm(neuron, _kind(out, order, edges), delta, gradient, lines)


def _delta_lines(
    neuron: str,
    out: Value,
    order: list[Value],
    edges: dict[Value, list[Edge]],
    grads: dict[Value, float],
    names: dict[Value, str],
) -> list[str] | None:
    consumers = [e for node in order for e in edges[node] if e.input is out]
    sigmoid_local = edges[out][0].local if edges[out] else None  # d O_j/d net_j = O_j (1 - O_j) (1.3)
    if sigmoid_local is None or not consumers:
        return None
    head = f"delta form (derivation, 1.5-1.8): delta_{neuron} = dE/dnet_{neuron}"
    if all(e.consumer.op is not None and e.consumer.op.name == "squared_error" for e in consumers):
        de_dy = sum(grads.get(e.consumer, 0.0) * e.local for e in consumers)
        delta = de_dy * sigmoid_local
        return [head,
                f"output neuron: delta = (y - t) * y (1 - y) = {de_dy:.6g} * {sigmoid_local:.6g} = {delta:.6g}"
                f"   (1.6), (1.3), y = {out.data:.6g}"]
    terms = []
    for e in consumers:
        net_l = _net_of(e.consumer, order, edges)
        if net_l is None:
            return None
        weight = e.consumer.inputs[e.position - len(e.consumer.inputs) // 2]  # d dot/d O_j = w_jl
        terms.append((names[net_l][: -len(".net")], weight.label or "w", grads.get(e.consumer, 0.0), e.local))
    terms.sort(key=lambda term: _neuron_key(term[0]))
    de_do = sum(d * w for _, _, d, w in terms)
    shown = " + ".join(f"{d:.6g} * {w:.6g}" for _, _, d, w in terms)
    who = " + ".join(f"delta_{name} * {w_name}" for name, w_name, _, _ in terms)
    return [head,
            "hidden neuron: delta = (sum_l delta_l * w_jl) * O_j (1 - O_j)   (1.8)",
            f"  = ({who}) * O_j (1 - O_j)",
            f"  = ({shown}) * {sigmoid_local:.6g} = {de_do:.6g} * {sigmoid_local:.6g}"
            f" = {de_do * sigmoid_local:.6g}"]


def _neuron_key(name: str) -> tuple[int, ...]:
    """("L2.N10") -> (2, 10): neurons in numeric, not string, order."""
    return tuple(int(n) for n in re.findall(r"\d+", name))


def _net_of(dot_node: Value, order: list[Value], edges: dict[Value, list[Edge]]) -> Value | None:
    """The ".net" node a next-layer dot node feeds (itself when the neuron has no bias)."""
    if dot_node.label and dot_node.label.endswith(".net"):
        return dot_node
    for node in order:
        for e in edges[node]:
            if e.input is dot_node and node.label and node.label.endswith(".net"):
                return node
    return None


def _kind(out: Value, order: list[Value], edges: dict[Value, list[Edge]]) -> str:
    consumers = [e.consumer for node in order for e in edges[node] if e.input is out]
    return "output" if all(c.op is not None and c.op.name == "squared_error" for c in consumers) else "hidden"


def _is_squared_error_loss(output: Value) -> bool:
    """E = 1/2 (t - y)^2 (1.4), or a sum of such terms over several outputs."""
    op = output.op
    if op is None:
        return False
    if op.name == "squared_error":
        return True
    return op.name in ("sum", "add") and all(x.op is not None and x.op.name == "squared_error" for x in output.inputs)


def _unique(order: list[Value], label: str) -> Value | None:
    found = [node for node in order if node.label == label]
    return found[0] if len(found) == 1 else None


# --- the report -----------------------------------------------------------------------------
def _report(ex: Explanation) -> str:
    names = ex.names
    out, wrt = names.get(ex.output, "out"), names.get(ex.wrt, "wrt")
    lines = [f"d {out}/d {wrt} = {ex.total:.6g}"]
    if ex.path_count == 0:
        lines.append(f"{out} does not depend on {wrt} through any differentiable path, so the gradient is 0.")
    elif ex.method == "paths":
        lines += _paths_report(ex, out, wrt)
    else:
        lines += _accumulation_report(ex, out, wrt)
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


def _accumulation_report(ex: Explanation, out: str, wrt: str) -> list[str]:
    lines = [f"{ex.path_count} paths lead from {wrt} to {out}, more than the limit of {ex.limit}, so they are not",
             "listed. Node-level accumulation instead, the recursion (1.8): in reverse topological order,",
             f"d {out}/d node = sum over the node's consumers c of d {out}/d c * d c/d node. At {wrt}:"]
    for e, upstream, contribution in ex.contributions:
        lines.append(f"    d {out}/d {ex.names[e.consumer]} * {_factor(e, ex.names)}"
                     f" = {upstream:.6g} * {e.local:.6g} = {contribution:.6g}")
    lines.append(f"total = {ex.total:.6g}")
    return lines
