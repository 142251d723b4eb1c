"""The chain rule's paths between two nodes of a graph: edges, path counts, enumeration.

d output / d wrt is the sum over every path from `wrt` up to `output` of the
product of the local derivatives on its edges, (1.5), (1.8), (1.10). `explain`
lists the paths and `derivation` regroups them; both read them from here.
Local derivatives come only from `engine.local_derivatives` (the table's rows).
Forward mode reads the same products the other way: `Path.forward_product`
multiplies them inputs first, and `tangents` runs `forward.node_tangents` (one
tangent pass from wrt) over the same nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import local_derivatives
from ..forward import Recording, node_tangents
from ..value import Value

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

    @property
    def forward_product(self) -> float:
        """The same product taken inputs first, as a tangent pushed from wrt meets the edges: 1 x local_1 x ...."""
        product = 1.0
        for e in reversed(self.edges):
            product *= e.local
        return product


Edges = dict[Value, list[Edge]]  # node -> its differentiable input edges that lie between wrt and output


def edges_between(order: list[Value], wrt: Value) -> Edges:
    """For each node of `order` (those between wrt and output), its input edges inside `order`."""
    members = set(order)
    return {node: _edges_into(node, wrt, members) for node in order}


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


def edges_from(wrt: Value, order: list[Value], edges: Edges) -> list[Edge]:
    """The edges leaving `wrt`, consumers inputs-first."""
    return [e for node in reversed(order) for e in edges[node] if e.input is wrt]


def path_counts(order: list[Value], edges: Edges, wrt: Value) -> dict[Value, int]:
    """Number of paths from wrt to each node, saturated at PATH_COUNT_CAP (ints stay small)."""
    count = {wrt: 1}
    for node in reversed(order):
        if node is not wrt:
            count[node] = min(PATH_COUNT_CAP, sum(count[e.input] for e in edges[node]))
    return count


def accumulate(order: list[Value], edges: Edges) -> dict[Value, float]:
    """d output / d node for every node, by the recursion (1.8) in reverse topological order."""
    grads = {order[0]: 1.0}
    for node in order:
        g = grads.get(node)
        if g is None:
            continue
        for e in edges[node]:
            grads[e.input] = grads.get(e.input, 0.0) + g * e.local
    return grads


def tangents(order: list[Value], wrt: Value) -> dict[Value, float]:
    """d node / d wrt for every node of `order`, by one forward-mode pass seeded t_wrt = 1.

    `order` lists the nodes between wrt and an output, output first (as
    `graph.depending_on` gives them); the pass visits them inputs first,
    t_node = sum_i (d node / d input_i) t_i, with `forward.node_tangents` (it
    writes nothing to any Value). Nodes the tangent does not reach get 0.0.
    """
    interior = [v for v in reversed(order) if v is not wrt and v.inputs]
    found, _ = node_tangents(Recording([wrt], interior[-1:] or [wrt], "scalar", False, interior), [1.0])
    return {v: float(found.get(v, 0.0)) for v in order}


# A partial path as a linked list (edge, rest), so extending it costs O(1) however deep the graph is.
_Link = tuple[Edge, "_Link"] | None


def enumerate_paths(output: Value, wrt: Value, edges: Edges, count: dict[Value, int]) -> list[Path]:
    """Every path from output down to wrt, by an explicit stack (no recursion)."""
    paths = []
    stack: list[tuple[Value, _Link]] = [(output, None)]
    while stack:
        node, link = stack.pop()
        if node is wrt:
            paths.append(_materialize(link))
            continue
        for e in reversed(edges[node]):
            if count[e.input]:
                stack.append((e.input, (e, link)))
    return paths


def _materialize(link: _Link) -> Path:
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
