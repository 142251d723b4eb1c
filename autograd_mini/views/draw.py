"""`draw`: a computation graph as DOT text, rendered to SVG or PNG.

Every Value is a box (label, data, grad) and every op its own small node, so an
input used twice (`a * a`) has two edges. Options show the local derivative on
each edge (1.5), the paths from a Value to the root (1.8) and backward's order;
`dotgraph` writes the DOT, `render` runs a `dot` program on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import graphviz  # type: ignore[import-untyped]  # the graphviz package ships no type hints

from ..files import atomic_write
from ..graph import depending_on, forward_order, reverse_topological_order
from ..value import Value
from .dotgraph import DotBuilder, Style, weights_read_elsewhere
from .neurons import Box, neuron_boxes
from .render import HOW_TO_GET_ONE, RendererNotFoundError, find_renderer, render

DEFAULT_MAX_NODES = 500


@dataclass(frozen=True)
class NodeCount:
    """What a drawing draws: Value boxes, op nodes and (collapsed) neuron boxes; `total` is their sum."""

    values: int
    ops: int
    neurons: int = 0

    @property
    def total(self) -> int:
        return self.values + self.ops + self.neurons

    def __str__(self) -> str:
        parts = [_plural(self.neurons, "neuron box", "neuron boxes")] if self.neurons else []
        parts += [_plural(self.values, "Value", "Values"), _plural(self.ops, "op", "ops")]
        return f"{_plural(self.total, 'node', 'nodes')} ({', '.join(parts)})"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


class Drawing:
    """A drawn computation graph: DOT text, rendered on demand.

    `.source` and `.save("g.dot")` never need a renderer; `.svg()`, `.png()`
    and `.save("g.svg" / "g.png")` run one (see `autograd_mini.render`) and
    raise `RendererNotFoundError` with install instructions when there is none.
    In Jupyter the drawing shows inline through `_repr_svg_` (without a
    renderer, the text repr says how to get one). `.digraph` is the
    underlying `graphviz.Digraph`, for further styling.
    """

    def __init__(self, digraph: graphviz.Digraph, count: NodeCount, edge_count: int) -> None:
        self.digraph = digraph
        self.count = count
        self.edge_count = edge_count

    @property
    def node_count(self) -> int:
        """The drawn nodes: Value boxes, op nodes and neuron boxes (`count` has each kind)."""
        return self.count.total

    @property
    def source(self) -> str:
        """The DOT text (deterministic: same graph, same bytes)."""
        return str(self.digraph.source)

    def svg(self) -> str:
        """The graph rendered as SVG text, sized at one unit per CSS pixel (its 11-unit text at 11 px)."""
        return pixel_sized(render(self.source, "svg", node_count=self.node_count).decode("utf-8"))

    def png(self) -> bytes:
        """The graph rendered as PNG bytes (graphviz-pure and Graphviz both write PNG)."""
        return render(self.source, "png", node_count=self.node_count)

    def save(self, path: str | Path) -> Path:
        """Write the graph to `path`; the suffix picks the format: .svg, .png, .dot or .gv.

        The file is replaced atomically (`files.atomic_write`): a render or
        write that fails leaves any previous file as it was.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".dot", ".gv"):
            return atomic_write(path, self.source)
        if suffix == ".svg":
            return atomic_write(path, self.svg())
        if suffix == ".png":
            return atomic_write(path, render(self.source, "png", node_count=self.node_count))
        raise ValueError(f"Drawing.save: unknown suffix {suffix!r} in {str(path)!r}; use .svg, .png, .dot or .gv")

    def _repr_svg_(self) -> str | None:
        """SVG for Jupyter; None without a renderer, so Jupyter falls back to `__repr__`."""
        try:
            return self.svg()
        except RendererNotFoundError:
            return None

    def __repr__(self) -> str:
        try:
            status = "render with .svg(), .save(path)" if find_renderer() else f"no renderer: {HOW_TO_GET_ONE}"
        except RendererNotFoundError as exc:
            status = str(exc)
        return f"<Drawing: {self.count}, {self.edge_count} edges; {status}>"


def draw(
    root: Value,
    *,
    rankdir: Literal["LR", "TB"] = "LR",
    show_derivatives: bool = False,
    highlight: Value | None = None,
    show_order: bool = False,
    group_neurons: bool = False,
    collapse_neurons: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Drawing:
    """Draw the graph that computed `root`.

    Args:
        root:             the output Value; everything it depends on is drawn.
        rankdir:          "LR" (inputs on the left) or "TB" (inputs on top).
        show_derivatives: label each input -> op edge with d result / d input
                          at the current data: the local derivative of (1.5).
        highlight:        a Value in the graph; every path from it to `root`
                          (the terms summed in (1.8)) is drawn in red.
        show_order:       number each Value with its step in backward's order
                          (#1 is the root, whose gradient is seeded first).
        group_neurons:    draw each neuron's nodes (labels "L{l}.N{j}.*", as
                          set by `autograd_mini.nn`) inside one box per neuron.
        collapse_neurons: draw each neuron as a single node (weights hidden):
                          the MLP-level view for networks too big to read;
                          it takes precedence over group_neurons.
        max_nodes:        refuse, with a ValueError giving the count, graphs
                          with more drawn nodes (Value boxes, op nodes and
                          neuron boxes) than this; raise it to draw them anyway.

    A loss summed over several examples runs each neuron once per example:
    each run is its own box, "L1.N0 · example 2" (examples counted from 0 in
    the order the loss sums them), with its own out and grad; the neuron's
    weights, shared by the runs, get a box "L1.N0 · weights" when grouped.

    Returns a `Drawing`: `.source` (DOT), `.svg()`, `.png()`, `.save(path)`.
    Raises ValueError when `highlight` is not in the graph.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"draw: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if highlight is not None and not isinstance(highlight, Value):
        raise TypeError(f"draw: highlight must be a Value, got {type(highlight).__name__}")
    style = Style(rankdir, show_derivatives, clusters=group_neurons or collapse_neurons, collapse=collapse_neurons)
    return draw_styled(root, style, max_nodes, highlight=highlight, show_order=show_order)


def draw_styled(
    root: Value, style: Style, max_nodes: int, *, highlight: Value | None = None, show_order: bool = False
) -> Drawing:
    """`draw` with a `Style` (the explorer's page asks for its own grad text and SVG ids)."""
    check_max_nodes(max_nodes, "draw")
    if not style.collapse:
        # Counted before sorting: a million-node graph is refused in well under a second.
        refuse_over_max_nodes(count_nodes(root), max_nodes, "draw", _DRAW_HINT)
    nodes = forward_order(root)
    boxes = neuron_boxes(nodes)
    if style.collapse:
        refuse_over_max_nodes(_collapsed_count(nodes, boxes), max_nodes, "draw", _DRAW_HINT)
    on_path = _paths_to_root(root, nodes, highlight) if highlight is not None else set()
    steps = {v: k for k, v in enumerate(reverse_topological_order(root), 1)} if show_order else {}
    builder = DotBuilder(nodes, boxes, style, on_path, steps)
    digraph = builder.build()
    if style.collapse:
        count = _collapsed_count(nodes, boxes)
    else:
        count = NodeCount(len(nodes), sum(v.op is not None for v in nodes))
    assert count.total == builder.node_statements, (count, builder.node_statements)
    return Drawing(digraph, count, len(builder.edges))


_DRAW_HINT = ", or, for an MLP, collapse_neurons=True to draw each neuron as one node"


def pixel_sized(svg: str) -> str:
    """The SVG's size in px instead of Graphviz's pt: the same drawing at 3/4 the size, so a network
    that spans 1300 units fits a 1400 px window without sideways scrolling, its text at 11 px."""
    return re.sub(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"', r'<svg width="\1px" height="\2px"', svg, count=1)


def check_max_nodes(max_nodes: int, caller: str) -> None:
    """A ValueError naming `caller` for anything but a positive int."""
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"{caller}: max_nodes must be a positive int, got {max_nodes!r}")


def refuse_over_max_nodes(count: NodeCount, max_nodes: int, caller: str, hint: str) -> None:
    """A ValueError giving the count when a drawing would have more than `max_nodes` nodes (`hint` follows)."""
    if count.total > max_nodes:
        raise ValueError(
            f"{caller}: the graph has {count} to draw, more than max_nodes={max_nodes}; "
            f"pass max_nodes={count.total} to draw it anyway{hint}"
        )


def count_nodes(root: Value) -> NodeCount:
    """The Value boxes and op nodes of the plain view of `root`'s graph (what `explore` draws too)."""
    nodes = reverse_topological_order(root)
    values, ops = len(nodes), sum(v.op is not None for v in nodes)
    return NodeCount(values, ops)


def drawn_node_count(root: Value) -> int:
    """How many nodes `draw(root)` draws without collapsing: a box per Value and a node per op."""
    return count_nodes(root).total


def _collapsed_count(nodes: list[Value], boxes: dict[Value, Box]) -> NodeCount:
    """Loose Value boxes and op nodes, plus one node per collapsed neuron box."""
    loose = [v for v in nodes if v not in boxes]
    drawn = {box for box in boxes.values() if not box.shared} | weights_read_elsewhere(nodes, boxes)
    return NodeCount(len(loose), sum(v.op is not None for v in loose), len(drawn))


def _paths_to_root(root: Value, nodes: list[Value], start: Value) -> set[Value]:
    """The Values on some path from `start` to the root: those that depend on `start`."""
    if start not in set(nodes):
        raise ValueError(f"draw: highlight={start!r} is not part of the graph being drawn")
    return set(depending_on(root, start, nodes[::-1]))
