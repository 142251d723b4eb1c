"""`draw`: a computation graph as DOT text, rendered to SVG or PNG.

Every Value is a box (label, data, grad) and every op is its own small node,
so edges run input -> op -> result and an input used twice (`a * a`) has two
edges. Options add what backpropagation needs to be seen: the local
derivative on each edge (the factor backward multiplies by, read from the
derivative table through `engine.local_derivatives`, never computed here),
the paths from one Value to the root, and each node's step in the backward
order (`graph.reverse_topological_order`, the order of (1.5) and (1.8)).

Node names come from the traversal order (n0, n1, ... inputs first), never
from id(), so the same graph gives byte-identical DOT on every run. Nothing
here recurses: every walk over the graph keeps its own stack.

The DOT is built with the `graphviz` package; rendering runs a `dot`
program found by `render.find_renderer` (a system Graphviz or the
`graphviz-pure` wheel).
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import graphviz

from ..engine import local_derivatives
from ..errors import AutogradMiniError
from ..files import atomic_write
from ..graph import depending_on, forward_order, reverse_topological_order
from ..nn.labels import layer_label, neuron_key, parse_label
from ..value import Value
from .neurons import neuron_groups
from .render import HOW_TO_GET_ONE, RendererNotFoundError, find_renderer, render

DEFAULT_MAX_NODES = 500
HIGHLIGHT = "#d62728"
_FONT_SIZE = 11
_CELL_PADDING = 4
_TABLE = f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="{_CELL_PADDING}"{{attrs}}>{{rows}}</TABLE>'


class Drawing:
    """A drawn computation graph: DOT text, rendered on demand.

    `.source` and `.save("g.dot")` never need a renderer; `.svg()`, `.png()`
    and `.save("g.svg" / "g.png")` run one (see `autograd_mini.render`) and
    raise `RendererNotFoundError` with install instructions when there is none.
    In Jupyter the drawing shows inline through `_repr_svg_`; without a
    renderer Jupyter shows the text repr instead, which says how to get one
    (a renderer that runs but fails still raises, so the error is seen).
    `.digraph` is the underlying `graphviz.Digraph`, for further styling.
    """

    def __init__(self, digraph: graphviz.Digraph, node_count: int, edge_count: int) -> None:
        self.digraph = digraph
        self.node_count = node_count
        self.edge_count = edge_count

    @property
    def source(self) -> str:
        """The DOT text (deterministic: same graph, same bytes)."""
        return self.digraph.source

    def svg(self) -> str:
        """The graph rendered as SVG text."""
        return render(self.source, "svg", node_count=self.node_count).decode("utf-8")

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
        if suffix in (".svg", ".png"):
            return atomic_write(path, render(self.source, suffix[1:], node_count=self.node_count))
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
        return f"<Drawing: {self.node_count} nodes, {self.edge_count} edges; {status}>"


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
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
                          with more drawn nodes (Value boxes plus op nodes)
                          than this; raise it to draw them anyway.

    Returns a `Drawing`: `.source` (DOT), `.svg()`, `.png()`, `.save(path)`.
    Raises ValueError when `highlight` is not in the graph.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"draw: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if highlight is not None and not isinstance(highlight, Value):
        raise TypeError(f"draw: highlight must be a Value, got {type(highlight).__name__}")
    _check_max_nodes(max_nodes)
    if not collapse_neurons:
        # Counted before sorting: a million-node graph is refused in well under a second.
        _check_size(_values_and_ops(root), max_nodes)
    nodes = forward_order(root)
    groups = neuron_groups(nodes) if (group_neurons or collapse_neurons) else {}
    if collapse_neurons:
        _check_size(_drawn_node_count(nodes, groups), max_nodes)
    on_path = _paths_to_root(root, nodes, highlight) if highlight is not None else set()
    steps = {v: k for k, v in enumerate(reverse_topological_order(root), 1)} if show_order else {}
    builder = _Builder(nodes, groups, collapse_neurons, on_path, rankdir, steps, show_derivatives)
    return builder.build()


def _check_max_nodes(max_nodes: int) -> None:
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be a positive int, got {max_nodes!r}")


_forward_order = forward_order  # the name `explore` imported first


def drawn_node_count(root: Value) -> int:
    """How many nodes `draw(root)` draws without collapsing: a box per Value and a node per op."""
    return _values_and_ops(root)


def _values_and_ops(root: Value) -> int:
    """How many Value boxes and op nodes the plain view of `root`'s graph has."""
    seen = {root}
    stack = [root]
    count = 0
    while stack:
        v = stack.pop()
        count += 1 if v.op is None else 2
        for x in v.inputs:
            if x not in seen:
                seen.add(x)
                stack.append(x)
    return count


def _drawn_node_count(nodes: list[Value], collapsed: dict[Value, str]) -> int:
    """Value boxes plus op nodes, with each collapsed neuron counting as one."""
    loose = sum(1 + (v.op is not None) for v in nodes if v not in collapsed)
    return loose + len(set(collapsed.values()))


def _check_size(count: int, max_nodes: int) -> None:
    if count > max_nodes:
        raise ValueError(
            f"draw: the graph has {count} nodes to draw (Values and ops), more than max_nodes={max_nodes}; "
            f"pass max_nodes={count} to draw it anyway, or, for an MLP, collapse_neurons=True to draw "
            "each neuron as one node"
        )


def _paths_to_root(root: Value, nodes: list[Value], start: Value) -> set[Value]:
    """The Values on some path from `start` to the root: those that depend on `start`."""
    if start not in set(nodes):
        raise ValueError(f"draw: highlight={start!r} is not part of the graph being drawn")
    return set(depending_on(root, start, nodes[::-1]))


class _Builder:
    """Collects node and edge statements, then writes them as one Digraph."""

    def __init__(
        self,
        nodes: list[Value],
        groups: dict[Value, str],
        collapse: bool,
        on_path: set[Value],
        rankdir: str,
        steps: dict[Value, int],
        show_derivatives: bool,
    ) -> None:
        self.nodes = nodes
        self.index = {v: i for i, v in enumerate(nodes)}
        self.groups = groups
        self.collapse = collapse
        self.on_path = on_path
        self.rankdir = rankdir
        self.steps = steps
        self.show_derivatives = show_derivatives
        self.last_member: dict[str, Value] = {}
        for v in nodes:
            if v in groups:
                self.last_member[groups[v]] = v
        self.statements: dict[str | None, list[tuple[str, dict[str, str]]]] = {None: []}
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        self.seen_edges: set[tuple[str, str]] = set()

    def name(self, v: Value) -> str:
        """n{i}, i = position in the traversal; a collapsed neuron takes its output's name."""
        if self.collapse and v in self.groups:
            v = self.last_member[self.groups[v]]
        return f"n{self.index[v]}"

    def build(self) -> Drawing:
        for v in self.nodes:
            group = self.groups.get(v)
            if self.collapse and group is not None:
                if v is self.last_member[group]:
                    self.add_node(group, self.name(v), {"label": self.neuron_label(group, v), "shape": "plaintext"})
                if v.op is not None:
                    self.neuron_edges(v, group)
                continue
            self.add_node(group, self.name(v), {"label": self.value_label(v), "shape": "plaintext"})
            if v.op is not None:
                self.op_node(v, group)
        return Drawing(self.digraph(), sum(map(len, self.statements.values())), len(self.edges))

    def add_node(self, group: str | None, name: str, attrs: dict[str, str]) -> None:
        self.statements.setdefault(group, []).append((name, attrs))

    def add_edge(self, src: str, dst: str, highlighted: bool, label: str | None = None) -> None:
        attrs = {"color": HIGHLIGHT, "penwidth": "2"} if highlighted else {}
        if label is not None:
            attrs["label"] = label
        self.edges.append((src, dst, attrs))

    def value_label(self, v: Value) -> str:
        cells = [_cell(f"#{self.steps[v]}")] if self.steps else []
        if v.label is not None:
            cells.append(_cell(v.label, bold=True))
        cells += [_cell(f"data {_fmt(v.data)}"), _cell(f"grad {_fmt(v.grad)}")]
        background = "#e8f0fa" if v.op is None else "white"
        return self.table(cells, background, v in self.on_path)

    def neuron_label(self, name: str, out: Value) -> str:
        parsed = parse_label(out.label)
        activation = out.op.name if parsed is not None and parsed.part == "out" and out.op is not None else "linear"
        cells = [_cell(f"#{self.steps[out]}")] if self.steps else []
        cells += [_cell(name, bold=True), _cell(activation), _cell(f"out {_fmt(out.data)}"),
                  _cell(f"grad {_fmt(out.grad)}")]
        return self.table(cells, "#fff7e0", out in self.on_path)

    def table(self, cells: list[str], background: str, highlighted: bool) -> str:
        """An HTML-like table label: cells side by side for LR, stacked for TB."""
        attrs = f' BGCOLOR="{background}"' + (f' COLOR="{HIGHLIGHT}"' if highlighted else "")
        if self.rankdir == "LR":
            rows = "<TR>" + "".join(cells) + "</TR>"
        else:
            rows = "".join(f"<TR>{c}</TR>" for c in cells)
        return "<" + _TABLE.format(attrs=attrs, rows=rows) + ">"

    def op_node(self, v: Value, group: str | None) -> None:
        assert v.op is not None
        op_name = self.name(v) + "_op"
        highlighted = any(x in self.on_path for x in v.inputs)
        attrs = {"label": f"<{_escape(v.op.symbol)}>", "shape": "ellipse", "width": "0.4",
                 "style": "filled", "fillcolor": "#eeeeee"}
        if highlighted:
            attrs.update(color=HIGHLIGHT, penwidth="2")
        self.add_node(group, op_name, attrs)
        derivatives = self.local_derivative_labels(v)
        for x, label in zip(v.inputs, derivatives, strict=True):
            # In the collapsed view only a neuron's output has the factor drawn on its edge.
            if self.collapse and x in self.groups and x is not self.last_member[self.groups[x]]:
                label = None
            self.add_edge(self.name(x), op_name, x in self.on_path, label)
            if label is not None and group is not None and x not in self.groups:
                # An input from outside the neuron's box: a longer edge puts its label in the open
                # beside the input, not piled up with the others where the edges bend into the box.
                self.edges[-1][2]["minlen"] = "2"
        self.add_edge(op_name, self.name(v), highlighted)

    def neuron_edges(self, v: Value, group: str) -> None:
        """Edges into a collapsed neuron from whatever its ops read outside it (once each)."""
        for x in v.inputs:
            if self.groups.get(x) != group:
                src, dst = self.name(x), self.name(v)
                if (src, dst) not in self.seen_edges:
                    self.seen_edges.add((src, dst))
                    self.add_edge(src, dst, x in self.on_path)

    def local_derivative_labels(self, v: Value) -> list[str | None]:
        """The factor backward multiplies by on each input edge, from the derivative table."""
        if not self.show_derivatives:
            return [None] * len(v.inputs)
        try:
            factors = local_derivatives(v)
        except AutogradMiniError:
            return ["undefined"] * len(v.inputs)
        return [None if d is None else _fmt(d) for d in factors]

    def digraph(self) -> graphviz.Digraph:
        g = graphviz.Digraph(
            "autograd_mini",
            # The collapsed view's layer-to-layer edges (every neuron to every neuron) need room to fan out.
            graph_attr={"rankdir": self.rankdir, "fontname": "Helvetica", "fontsize": "11",
                        "nodesep": "0.2", "ranksep": "1.2" if self.collapse else "0.3"},
            node_attr={"fontname": "Helvetica", "fontsize": str(_FONT_SIZE), "margin": "0.04,0.02", "height": "0.3"},
            edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6", "color": "#555555"},
        )
        for layer, neurons in _layers(k for k in self.statements if k is not None):
            with g.subgraph(name=f"cluster_{layer}") as layer_graph:
                layer_graph.attr(label=f"layer {layer[1:]}", style="dashed", color="#aaaaaa", fontcolor="#555555")
                if self.collapse:
                    _keep_neuron_order(layer_graph, [self.statements[n][0][0] for n in neurons], self.rankdir)
                for neuron in neurons:
                    if self.collapse:
                        _emit_nodes(layer_graph, self.statements[neuron])
                        continue
                    with layer_graph.subgraph(name="cluster_" + neuron.replace(".", "_")) as neuron_graph:
                        neuron_graph.attr(label=_escape(neuron), style="rounded,filled",
                                          fillcolor="#f7f7f7", color="#bbbbbb")
                        _emit_nodes(neuron_graph, self.statements[neuron])
        _emit_nodes(g, self.statements[None])
        for src, dst, attrs in self.edges:
            g.edge(src, dst, **attrs)
        return g


def _layers(neurons: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Neuron names ("L1.N0") grouped by layer ("L1"), both in numeric order."""
    layers: dict[int, list[tuple[int, str]]] = {}
    for neuron in neurons:
        layer, index = neuron_key(neuron)
        layers.setdefault(layer, []).append((index, neuron))
    return [(layer_label(layer), [name for _, name in sorted(layers[layer])]) for layer in sorted(layers)]


def _keep_neuron_order(g: graphviz.Digraph, names: list[str], rankdir: str) -> None:
    """Keep a layer's collapsed neurons in index order, N0 first: on top for LR, on the left for TB.

    An invisible chain in one rank fixes their order; dot puts a rank's first node at the bottom
    once it turns the layout for LR, hence the reversed chain there.
    """
    if len(names) < 2:
        return
    chain = names[::-1] if rankdir == "LR" else names
    with g.subgraph() as same:
        same.attr(rank="same")
        same.body.append(f"\t{' -> '.join(chain)} [style=invis]\n")


def _emit_nodes(g: graphviz.Digraph, statements: list[tuple[str, dict[str, str]]]) -> None:
    for name, attrs in statements:
        g.node(name, **attrs)


def _fmt(x: Any) -> str:
    """A number in at most 4 significant digits; a Value gradient shows its data."""
    if isinstance(x, Value):
        x = x.data
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):
        return str(x)


def _cell(text: str, bold: bool = False) -> str:
    """One table cell holding `text`, escaped, with room for a wide fallback font.

    Graphviz sizes cells with Helvetica/Arial metrics, but a viewer without
    those fonts draws the SVG text in a wider one (DejaVu Sans is about 15%
    wider), which would spill out of the box. A minimum WIDTH sized for the
    wide font keeps the text inside either way.
    """
    ems = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text) * (0.7 if bold else 0.64)
    width = round(ems * _FONT_SIZE) + 2 * _CELL_PADDING + 2
    body = f"<B>{_escape(text)}</B>" if bold else _escape(text)
    return f'<TD WIDTH="{width}">{body}</TD>'


_CONTROL = {c: "\ufffd" for c in [*range(0, 9), 11, 12, *range(14, 32), 127]}
_CONTROL[9] = " "


def _escape(text: str) -> str:
    """`text` for a Graphviz HTML-like label.

    XML escapes for < > & and quotes; control characters (invalid in the SVG)
    become U+FFFD; backslashes are doubled because Graphviz expands escapes
    such as \\N (the node name) even inside HTML labels; newlines break lines.
    """
    text = html.escape(text.translate(_CONTROL), quote=True)
    text = text.replace("\\", "\\\\").replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "<BR/>")
