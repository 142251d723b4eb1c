"""The DOT statements of a drawing: a box per Value, a node per op, a box per neuron pass.

`draw` decides what to show; this module writes it as a `graphviz.Digraph`.
Node names come from the forward order (n0, n1, ... inputs first), so the same
graph gives byte-identical DOT on every run. Nothing here recurses.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import graphviz  # type: ignore[import-untyped]  # the graphviz package ships no type hints

from ..engine import local_derivatives
from ..errors import AutogradMiniError
from ..value import Value
from .neurons import Box, nn_label

HIGHLIGHT = "#d62728"
FONT_SIZE = 11
_CELL_PADDING = 4
_TABLE = f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="{_CELL_PADDING}"{{attrs}}>{{rows}}</TABLE>'

Attrs = dict[str, str]


@dataclass(frozen=True)
class Style:
    """What a drawing shows (see `draw`'s arguments); the last three serve `explore`'s page.

    grad_texts: a node's grad cell shows its text here instead of its gradient
    (the page sizes each box for the widest number it will write there, without
    touching any `.grad`). svg_ids: each node's SVG group gets the id "am_<name>".
    ops_in_line: each op node shares its result's rank (LR: just above its box, in
    its column), and a rank's nodes sit closer: a rank fewer per op, which lets
    a small network fit a notebook frame at 11 px (the explorer tries it).
    Ignored with clusters (a rank cannot span a neuron's box).
    """

    rankdir: str = "LR"
    show_derivatives: bool = False
    clusters: bool = False
    collapse: bool = False
    grad_texts: Mapping[Value, str] = field(default_factory=dict)
    svg_ids: bool = False
    ops_in_line: bool = False


class DotBuilder:
    """Collects node and edge statements, then writes them as one Digraph."""

    def __init__(self, nodes: list[Value], boxes: dict[Value, Box], style: Style,
                 on_path: set[Value], steps: dict[Value, int]) -> None:
        self.nodes = nodes
        self.index = {v: i for i, v in enumerate(nodes)}
        self.boxes = boxes if (style.clusters or style.collapse) else {}
        self.examples = {v: box.example for v, box in boxes.items() if box.example is not None}
        self.style = style
        self.on_path = on_path
        self.steps = steps
        self.last_member: dict[Box, Value] = {boxes[v]: v for v in nodes if v in self.boxes}
        self.statements: Statements = {None: []}
        self.edges: list[tuple[str, str, Attrs]] = []
        self.in_line: list[tuple[str, str]] = []  # (op node, its result's box) in one rank: Style.ops_in_line
        self.seen_edges: set[tuple[str, str]] = set()
        self.shown_weights = weights_read_elsewhere(nodes, self.boxes) if style.collapse else set()

    def name(self, v: Value) -> str:
        """n{i}, i = position in the traversal; a collapsed box takes its last member's name."""
        if self.style.collapse and v in self.boxes:
            v = self.last_member[self.boxes[v]]
        return f"n{self.index[v]}"

    def build(self) -> graphviz.Digraph:
        for v in self.nodes:
            box = self.boxes.get(v)
            if self.style.collapse and box is not None:
                self.collapsed_member(v, box)
                continue
            self.add_node(box, self.name(v), {"label": self.value_label(v), "shape": "plaintext"})
            if v.op is not None:
                self.op_node(v, box)
        return self.digraph()

    @property
    def node_statements(self) -> int:
        return sum(map(len, self.statements.values()))

    def collapsed_member(self, v: Value, box: Box) -> None:
        """One node per box (its last member's name); edges only from outside the neuron's pass."""
        if box.shared and box not in self.shown_weights:
            return  # a neuron's weights: inside each of its passes' boxes
        if v is self.last_member[box]:
            self.add_node(box, self.name(v), {"label": self.neuron_label(box, v), "shape": "plaintext"})
        if v.op is None:
            return
        for x in v.inputs:
            source = self.boxes.get(x)
            if source == box or (source is not None and source.shared and source.neuron == box.neuron):
                continue
            edge = self.name(x), self.name(v)
            if edge not in self.seen_edges:
                self.seen_edges.add(edge)
                self.add_edge(*edge, x in self.on_path)

    def add_node(self, box: Box | None, name: str, attrs: Attrs) -> None:
        if self.style.svg_ids:
            attrs["id"] = f"am_{name}"
        self.statements.setdefault(box, []).append((name, attrs))

    def add_edge(self, src: str, dst: str, highlighted: bool, label: str | None = None) -> None:
        attrs = {"color": HIGHLIGHT, "penwidth": "2"} if highlighted else {}
        if label is not None:
            # At the edge's head, beside the op it is the derivative of: attached to its own edge, and
            # (unlike a mid-edge label, which dot lays out as a node of its own rank) taking no room.
            attrs["label"] = label
        self.edges.append((src, dst, attrs))

    def value_label(self, v: Value) -> str:
        cells = [cell(f"#{self.steps[v]}")] if self.steps else []
        if v.label is not None:
            example = self.examples.get(v) if nn_label(v.label) is not None else None
            cells.append(cell(v.label + ("" if example is None else f" · example {example}"), bold=True))
        if not v.requires_grad:  # a constant has no gradient: "grad 0" would read as dL/dx = 0
            grad_cell = "const: no grad"
        else:
            grad_cell = f"grad {self.style.grad_texts.get(v, number(v.grad))}"
        cells += [cell(f"data {number(v.data)}"), cell(grad_cell)]
        return table(cells, "#e8f0fa" if v.op is None else "white", v in self.on_path, self.style.rankdir)

    def neuron_label(self, box: Box, out: Value) -> str:
        cells = [cell(f"#{self.steps[out]}")] if self.steps else []
        if box.shared:
            cells += [cell(box.title, bold=True), cell("shared by every example")]
            return table(cells, "#e8f0fa", out in self.on_path, self.style.rankdir)
        parsed = nn_label(out.label)
        activation = out.op.name if parsed is not None and parsed.part == "out" and out.op is not None else "linear"
        cells += [cell(box.title, bold=True), cell(activation), cell(f"out {number(out.data)}"),
                  cell(f"grad {number(out.grad)}")]
        return table(cells, "#fff7e0", out in self.on_path, self.style.rankdir)

    def op_node(self, v: Value, box: Box | None) -> None:
        assert v.op is not None
        op_name = self.name(v) + "_op"
        highlighted = any(x in self.on_path for x in v.inputs)
        attrs = {"label": f"<{escape(v.op.symbol)}>", "shape": "ellipse", "width": "0.4",
                 "style": "filled", "fillcolor": "#eeeeee"}
        if highlighted:
            attrs.update(color=HIGHLIGHT, penwidth="2")
        self.add_node(box, op_name, attrs)
        for x, label in zip(v.inputs, self.local_derivative_labels(v), strict=True):
            # In the collapsed view only a box's output has the factor drawn on its edge.
            if self.style.collapse and x in self.boxes and x is not self.last_member[self.boxes[x]]:
                label = None
            self.add_edge(self.name(x), op_name, x in self.on_path, label)
            if label is not None and box is not None and x not in self.boxes:
                # An input from outside the neuron's box: a longer edge puts its label in the open
                # beside the input, not piled up with the others where the edges bend into the box.
                self.edges[-1][2]["minlen"] = "2"
        self.add_edge(op_name, self.name(v), highlighted)
        if self.style.ops_in_line and box is None:
            self.in_line.append((op_name, self.name(v)))

    def local_derivative_labels(self, v: Value) -> list[str | None]:
        """The factor backward multiplies by on each input edge, from the derivative table."""
        if not self.style.show_derivatives:
            return [None] * len(v.inputs)
        try:
            factors = local_derivatives(v)
        except AutogradMiniError:
            return ["undefined"] * len(v.inputs)
        return [None if d is None else number(d) for d in factors]

    def digraph(self) -> graphviz.Digraph:
        return write_digraph(self.statements, self.edges, self.style, self.in_line)


Statements = dict[Box | None, list[tuple[str, Attrs]]]  # each box's node statements; None: outside every box


def write_digraph(statements: Statements, edges: list[tuple[str, str, Attrs]], style: Style,
                  in_line: Iterable[tuple[str, str]] = ()) -> graphviz.Digraph:
    """The Digraph: dashed bands (layers, or examples), the boxes in them, loose nodes, edges;
    `in_line` pairs (an op node, its result's box) kept in one rank."""
    g = graphviz.Digraph(
        "autograd_mini",
        # The collapsed view's layer-to-layer edges (every neuron to every neuron) need room to fan out.
        # Ops in line sit in their box's rank, 0.12 in above it: closer than two boxes need, 0.2 in.
        graph_attr={"rankdir": style.rankdir, "fontname": "Helvetica", "fontsize": "11",
                    "nodesep": "0.12" if style.ops_in_line else "0.2",
                    "ranksep": "1.2" if style.collapse else "0.25"},
        node_attr={"fontname": "Helvetica", "fontsize": str(FONT_SIZE), "margin": "0.04,0.02", "height": "0.3"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6", "color": "#555555"},
    )
    boxes = [box for box in statements if box is not None]
    for band, name, in_band in _bands(boxes):
        with g.subgraph(name=name) as band_graph:
            band_graph.attr(label=band, style="dashed", color="#aaaaaa", fontcolor="#555555")
            _emit_boxes(band_graph, in_band, statements, style)
    if style.collapse:
        _align_layers(g, boxes, statements)
    _emit_nodes(g, statements[None])
    for src, dst, attrs in edges:
        g.edge(src, dst, **attrs)
    for op_name, result in in_line:
        g.body.append(f"\t{{rank=same; {op_name}; {result}}}\n")
    return g


def _emit_boxes(g: graphviz.Digraph, boxes: list[Box], statements: Statements, style: Style) -> None:
    """A band's boxes: collapsed nodes kept in order layer by layer, or one cluster per box."""
    if style.collapse:
        for layer in sorted({box.layer for box in boxes}):
            _keep_order(g, [statements[box][0][0] for box in boxes if box.layer == layer], style.rankdir)
    for box in boxes:
        if style.collapse:
            _emit_nodes(g, statements[box])
            continue
        with g.subgraph(name=_cluster_name(box)) as box_graph:
            box_graph.attr(label=escape(box.title), style="rounded,filled", fillcolor="#f7f7f7", color="#bbbbbb")
            _emit_nodes(box_graph, statements[box])


def _align_layers(g: graphviz.Digraph, boxes: list[Box], statements: Statements) -> None:
    """Each layer's passes in one rank across the example bands (newrank lets a rank span clusters)."""
    passes = [box for box in boxes if box.example is not None]
    if not passes:
        return
    g.attr(newrank="true")
    for layer in sorted({box.layer for box in passes}):
        names = [statements[box][0][0] for box in passes if box.layer == layer]
        g.body.append(f"\t{{rank=same; {'; '.join(names)}}}\n")


def _cluster_name(box: Box) -> str:
    """ "cluster_L1_N0", and "_e2" for example 2's pass or "_w" for the shared weights."""
    suffix = "_w" if box.shared else "" if box.example is None else f"_e{box.example}"
    return "cluster_" + box.neuron.replace(".", "_") + suffix


def weights_read_elsewhere(nodes: list[Value], boxes: dict[Value, Box]) -> set[Box]:
    """Shared weight boxes that something outside their neuron reads (a regularisation term): drawn."""
    shown = set()
    for v in nodes:
        reader = boxes.get(v)
        for x in v.inputs:
            box = boxes.get(x)
            if box is not None and box.shared and (reader is None or reader.neuron != box.neuron):
                shown.add(box)
    return shown


def _bands(boxes: Iterable[Box]) -> list[tuple[str, str, list[Box]]]:
    """(title, cluster name, boxes) of the dashed bands: one per layer, or one per example when
    neurons run once per example (a neuron's shared weights then get a band per layer)."""
    by_example = any(box.example is not None for box in boxes)
    bands: dict[tuple[int, int, str, str], list[Box]] = {}
    for box in sorted(boxes, key=Box.sort_key):
        if by_example and box.example is not None:
            key = (0, box.example, f"example {box.example}", f"cluster_example{box.example}")
        else:
            title = f"layer {box.layer}" + (" weights" if box.shared else "")
            key = (1 if by_example else 0, box.layer, title, f"cluster_L{box.layer}")
        bands.setdefault(key, []).append(box)
    return [(title, name, bands[key]) for key in sorted(bands) for _, _, title, name in [key]]


def _keep_order(g: graphviz.Digraph, names: list[str], rankdir: str) -> None:
    """Keep a layer's collapsed boxes in order, the first on top for LR, on the left for TB.

    An invisible chain in one rank fixes their order; dot puts a rank's first node at the bottom
    once it turns the layout for LR, hence the reversed chain there.
    """
    if len(names) < 2:
        return
    chain = names[::-1] if rankdir == "LR" else names
    with g.subgraph() as same:
        same.attr(rank="same")
        same.body.append(f"\t{' -> '.join(chain)} [style=invis]\n")


def _emit_nodes(g: graphviz.Digraph, statements: list[tuple[str, Attrs]]) -> None:
    for name, attrs in statements:
        g.node(name, **attrs)


def table(cells: list[str], background: str, highlighted: bool, rankdir: str) -> str:
    """An HTML-like table label, narrow so wide graphs fit a window: the label cells in pairs on top,
    then data and grad side by side for TB (a box two rows high), one above the other for LR (a
    box one cell wide, as the columns of an LR layout add up across the page)."""
    attrs = f' BGCOLOR="{background}"' + (f' COLOR="{HIGHLIGHT}"' if highlighted else "")
    head, tail = (cells[:-2], cells[-2:]) if len(cells) > 2 else ([], cells)
    pairs = [head[k:k + 2] for k in range(0, len(head), 2)]
    pairs += [tail] if rankdir != "LR" else [[c] for c in tail]
    wide = any(len(pair) == 2 for pair in pairs)
    rows = "".join("<TR>" + ("".join(pair) if len(pair) == 2 or not wide else _span(pair[0])) + "</TR>"
                   for pair in pairs)
    return "<" + _TABLE.format(attrs=attrs, rows=rows) + ">"


def _span(td: str) -> str:
    """A cell across both columns."""
    return td.replace("<TD", '<TD COLSPAN="2"', 1)


def number(x: float | Value) -> str:
    """A number in at most 4 significant digits; a Value gradient shows its data."""
    return f"{float(x.data if isinstance(x, Value) else x):.4g}"


def cell(text: str, bold: bool = False) -> str:
    """One table cell holding `text`, escaped, with room for a wide fallback font.

    Graphviz sizes cells with Helvetica/Arial metrics, but a viewer without
    those fonts draws the SVG text in a wider one (DejaVu Sans is about 15%
    wider): a minimum WIDTH sized for the wide font keeps the text inside.
    """
    ems = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text) * (0.7 if bold else 0.64)
    width = round(ems * FONT_SIZE) + 2 * _CELL_PADDING + 2
    body = f"<B>{escape(text)}</B>" if bold else escape(text)
    return f'<TD WIDTH="{width}">{body}</TD>'


# Characters no SVG (XML 1.0) document may hold: C0 controls but tab and newlines, and the
# noncharacters U+FFFE/U+FFFF; lone surrogates cannot even be encoded as UTF-8. Each becomes U+FFFD.
_CONTROL = {c: "\ufffd" for c in [*range(0, 9), 11, 12, *range(14, 32), 127, 0xFFFE, 0xFFFF]}
_CONTROL[9] = " "


def displayable(text: str) -> str:
    """`text` with every character an SVG or a UTF-8 page cannot hold replaced by U+FFFD."""
    text = text.translate(_CONTROL)
    if text.isascii():
        return text
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


def escape(text: str) -> str:
    """`text` for a Graphviz HTML-like label.

    XML escapes for < > & and quotes; characters an SVG cannot hold become
    U+FFFD (`displayable`); backslashes are doubled because Graphviz expands
    escapes such as \\N (the node name) even inside HTML labels; newlines break lines.
    """
    text = html.escape(displayable(text), quote=True)
    text = text.replace("\\", "\\\\").replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "<BR/>")
