"""`explore`: watch backpropagation step by step in one self-contained HTML page.

`explore(root)` lays the graph out exactly as `draw` does (the same DOT,
rendered to SVG by the same renderer) and adds a step control through both
passes: the forward pass node by node in topological order, then the backward
pass one node's rule per step in the engine's backward order, showing
g x local = contribution (1.5) and each running sum (1.8). Clicking a node
shows its data and gradient, its op's rule in words, its chain-rule paths to
the root (the `explain` report) and, given `model`, `x` and `t` of a sigmoid
MLP with squared error, its neuron's row of `delta_table`. Every number is
computed in Python (explore_data.py) and embedded as JSON; the page's
JavaScript (explorer.js, package data) only shows them.

The layout is `draw`'s, "LR" or "TB", whichever shows the graph larger in a
usual window. A graph that fits the window whole with its text about as large
as drawn (9px or more) is shown whole, centred, at the start and at the end; a
bigger one starts at a readable scale at the first node computed, and each
step brings its node into sight. The Fit button always shows the whole graph.

The page makes no network request (a Content-Security-Policy forbids any), so
it works offline, from a file or an e-mail attachment.

While it draws the page, `explore` briefly sets every `.grad` of the graph to
a wide placeholder (so each box has room for any gradient the page writes into
it) and puts them back before it returns: do not run it on a graph another
thread is differentiating at the same time.

The page's contract, for tests and users who drive it:
- `<body data-step="k" data-steps="n">`: k steps of n taken (0 = the start,
  where only the leaves have values; `n` = the end, where every gradient is
  the one `backward()` leaves);
- buttons `#prev`, `#next`, `#reset`, `#play` (with a `#speed` select) and
  `#backward` (jump to the start of the backward pass); keys ArrowRight,
  ArrowLeft, Home, End, `b` and space do the same;
- every Value's SVG element (`g.node.value`) carries `data-node` (its stable
  DOT name n0, n1, ... inputs first), `data-label` (its label, or "#k", its
  number in backward's order shown in its box) and `data-grad` (the gradient
  shown at the current step, as Python's repr of the float; empty until the
  backward pass reaches the node, and always empty for a constant,
  requires_grad=False, which backward() never gives a gradient: its box reads
  "const: no grad" and carries the class `constant`);
- `#details` is the panel filled when a node is clicked; `#step-text` says
  what the current step does.
"""

from __future__ import annotations

import html
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

from ...files import atomic_write
from ...graph import forward_order, reverse_topological_order
from ...value import Value
from .data import Walkthrough, num, walkthrough

# As `draw`'s (viz.DEFAULT_MAX_NODES, checked equal by the tests): viz is not imported
# here, so `import autograd_mini` stays free of graphviz until a graph is drawn.
DEFAULT_MAX_NODES = 500

# Wide enough for any gradient text ("-8.888e-308"), so a box fits every running sum.
_WIDEST_GRAD = -8.888e-308
_IFRAME_HEIGHT = 640
# The graph area of a 1400 x 900 window beside the details panel, in CSS pixels: `rankdir=None`
# picks the layout that shows the graph largest there.
_NOMINAL_AREA = (960.0, 760.0)
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


class Explorer:
    """An explorer page for one graph: `.html()`, `.save(path)`, and inline display in Jupyter."""

    def __init__(self, svg: str, data: Walkthrough, title: str) -> None:
        self.svg = svg
        self.data = data
        self.title = title

    @property
    def steps(self) -> int:
        """The number of steps: forward steps, backward steps and the final one."""
        return len(self.data.steps)

    def html(self, start: int = 0) -> str:
        """The whole page: one HTML document with the SVG, CSS, JavaScript and data inline.

        `start` is the step the page opens at (0; `self.steps` for the end, as the live explorer does)."""
        css = _package_text("explorer.css")
        js = _package_text("explorer.js")
        title = html.escape(self.title)
        return _PAGE.format(
            csp=_CSP, title=title, css=css, steps=self.steps, svg=self.svg, data=script_json(self.data.payload()),
            js=js, backward=self.data.backward_start, start=max(0, min(start, self.steps)),
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` atomically (any suffix; .html is usual) and return the path."""
        return atomic_write(path, self.html())

    def _repr_html_(self) -> str:
        """The page in an iframe, so its ids, styles and script stay apart from the notebook's."""
        doc = html.escape(self.html(), quote=True)
        return (f'<iframe srcdoc="{doc}" style="width: 100%; height: {_IFRAME_HEIGHT}px; border: 1px solid #ccc" '
                f'title="{html.escape(self.title)}"></iframe>')

    def __repr__(self) -> str:
        nodes = len(self.data.nodes)
        forward = self.data.backward_start
        return (f"<Explorer: {nodes} nodes, {self.steps} steps ({forward} forward, "
                f"{self.steps - forward - 1} backward, 1 final); .save('graph.html') writes the page>")


def explore(
    root: Value,
    *,
    model: Any = None,
    x: Any = None,
    t: Any = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    rankdir: str | None = None,
) -> Explorer:
    """An interactive page stepping through the forward and backward pass of `root`'s graph.

    Args:
        root:      the output Value (usually the loss); `root`'s graph is not changed
                   and its `.grad`s are not touched: the page shows the gradients a
                   fresh `root.backward()` leaves.
        model, x, t: optionally the sigmoid `nn.MLP` whose loss `root` is, its input
                   and target: the details of each neuron's nodes then show its row of
                   `delta_table(model, x, t)` (net_j, O_j, dE/dO_j, delta_j, (1.1)-(1.8)).
        max_nodes: refuse graphs with more drawn nodes (Values plus ops) than this,
                   as `draw` does.
        rankdir:   `draw`'s "LR" or "TB"; None (the default) lays the graph out both
                   ways and keeps the one that shows it largest in a usual window
                   (a small graph then fits whole at a readable size).

    Raises TypeError for a root that is not a Value or a model without x and t,
    ValueError for a graph over max_nodes, and the engine's error if backward
    through the graph would fail.
    """
    if not isinstance(root, Value):
        raise TypeError(f"explore needs a Value, got {type(root).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"explore: max_nodes must be a positive int, got {max_nodes!r}")
    from ..draw import drawn_node_count
    from ..neurons import neuron_groups

    count = drawn_node_count(root)
    if count > max_nodes:
        raise ValueError(
            f"explore: the graph has {count} nodes to draw (Values and ops), more than max_nodes={max_nodes}; "
            f"pass max_nodes={count} to explore it anyway (the page may be slow), or explore a smaller graph, "
            "e.g. the loss of one example"
        )
    if rankdir not in (None, "LR", "TB"):
        raise ValueError(f"explore: rankdir must be 'LR', 'TB' or None (choose), got {rankdir!r}")
    if model is not None and (x is None or t is None):
        raise TypeError("explore: model needs x and t too (the input and target its delta table is taken at)")
    order = forward_order(root)
    ids = {v: f"n{i}" for i, v in enumerate(order)}
    numbers = {v: k for k, v in enumerate(reverse_topological_order(root), 1)}
    names = {v: v.label or f"#{numbers[v]}" for v in order}
    neurons = neuron_groups(order)
    delta_rows = _delta_rows(model, x, t, neurons) if model is not None else {}
    data = walkthrough(root, order, ids, names, neurons, delta_rows)
    layouts = [rankdir] if rankdir is not None else ["LR", "TB"]
    svg = max((_svg(root, order, ids, names, max_nodes, d) for d in layouts), key=_fit_scale)
    return Explorer(svg, data, root.label or f"{names[root]} (the root)")


def _svg(root: Value, order: list[Value], ids: dict[Value, str], names: dict[Value, str], max_nodes: int,
         rankdir: str) -> str:
    """`draw`'s SVG of the graph, each node's <g> tagged with the page's data attributes."""
    from ..draw import draw

    saved = [v.grad for v in order]
    try:
        for v in order:  # every grad cell sized for the widest number the page will write there
            v.grad = _WIDEST_GRAD
        drawing = draw(root, rankdir=rankdir, show_derivatives=True, show_order=True, max_nodes=max_nodes)
    finally:
        for v, g in zip(order, saved):
            v.grad = g
    for v in order:  # a DOT id per node, so the SVG's <g> elements can be found exactly
        drawing.digraph.body.append(f"\t{ids[v]} [id=am_{ids[v]}]\n")
        if v.op is not None:
            drawing.digraph.body.append(f"\t{ids[v]}_op [id=am_{ids[v]}_op]\n")
    svg = drawing.svg()
    return _tag_nodes(svg, order, ids, names)


def _fit_scale(svg: str) -> float:
    """Screen pixels per SVG point when `svg` (its viewBox) is fitted into `_NOMINAL_AREA`."""
    box = re.search(r'viewBox="([^"]*)"', svg)
    if box is None:
        return 0.0
    width, height = (float(v) for v in box[1].split()[2:])
    return min(_NOMINAL_AREA[0] / max(width, 1.0), _NOMINAL_AREA[1] / max(height, 1.0))


def _tag_nodes(svg: str, order: list[Value], ids: dict[Value, str], names: dict[Value, str]) -> str:
    """Add class, data-node, data-label and data-grad to each node's <g>; drop the XML prologue."""
    attrs = {}
    for v in order:
        label = html.escape(names[v], quote=True)
        attrs[ids[v]] = (f'class="node value" data-node="{ids[v]}" data-label="{label}" '
                       f'data-data="{v.data!r}" data-grad=""')
        if v.op is not None:
            attrs[ids[v] + "_op"] = f'class="node op" data-node="{ids[v]}_op" data-of="{ids[v]}"'
    found = set()

    def tag(match: re.Match[str]) -> str:
        found.add(match[1])
        return f'<g id="am_{match[1]}" {attrs[match[1]]}>'

    svg = re.sub(r'<g id="am_(n\d+(?:_op)?)" class="node">', tag, svg)
    if found != set(attrs):
        from ..render import RenderError  # here, not at the top: `import autograd_mini` skips subprocess & co.

        raise RenderError(f"explore: the renderer's SVG lacks the ids of {len(set(attrs) - found)} nodes; "
                          "it does not keep DOT ids, so the page cannot find its nodes")
    start = svg.find("<svg")
    svg = svg[start:]
    # The page sizes the drawing itself (zoom and pan through the viewBox).
    return re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg width="100%" height="100%"', svg, count=1)


def _delta_rows(model: Any, x: Any, t: Any, neurons: dict[Value, str]) -> dict[Value, str]:
    """Each neuron node's delta-table row as text, where the node's numbers are the table's."""
    from ...nn.delta import delta_table  # the derivation's table needs nn; load it only when asked
    from ...nn.labels import parse_label

    try:
        table = delta_table(model, x, t)
    except ValueError as exc:  # e.g. not a sigmoid network: say why instead of a row
        return {v: f"no delta-table row: {exc}" for v in neurons}
    output_layer = table.rows[-1].layer
    rows = {}
    for v, neuron in neurons.items():
        try:
            row = table.row(neuron)
        except KeyError:
            continue
        text = _row_text(row, output_layer)
        parsed = parse_label(v.label)
        expected = {"net": row.net, "out": row.out}.get(parsed.part) if parsed is not None else None
        if expected is not None and not math.isclose(v.data, expected, rel_tol=1e-9, abs_tol=1e-12):
            text = (f"{neuron}: this node is {num(v.data)}, not the table's {num(expected)}: it belongs to a "
                    "forward pass at another input than the x given to explore, so the row is not shown")
        rows[v] = text
    return rows


def _row_text(row: Any, output_layer: int) -> str:
    """One NeuronDelta as lines citing the derivation's equations."""
    if row.layer == output_layer:
        de_dout = f"dE/dO_j  = y_j - t_j = {num(row.dE_dout)}   (1.6)"
    else:
        de_dout = f"dE/dO_j  = sum_l delta_l w_jl = {num(row.dE_dout)}   (1.7), (1.8)"
    lines = [
        f"neuron {row.neuron} ({'output' if row.layer == output_layer else 'hidden'} layer {row.layer})",
        f"net_j    = sum_i w_ij O_i + b_j = {num(row.net)}   (1.1)",
        f"O_j      = phi(net_j) = {num(row.out)}   (1.2)",
        de_dout,
        f"delta_j  = dE/dO_j * O_j (1 - O_j) = {num(row.delta)}   (1.3)",
    ]
    lines += [f"dE/dw{i}   = delta_j * O_{i} = {num(g)}   (1.5)" for i, g in enumerate(row.weight_grads)]
    if row.bias_grad is not None:
        lines.append(f"dE/db    = delta_j = {num(row.bias_grad)}")
    return "\n".join(lines)


def script_json(data: Any) -> str:
    """`data` as JSON safe inside a <script> element.

    `<`, `>` and `&` are escaped as \\u003c etc. (so no `</script>` or `<!--` can
    appear), and U+2028/U+2029, which old JavaScript parsers reject in strings.
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _package_text(name: str) -> str:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    assert "</script" not in text.lower() and "</style" not in text.lower(), name
    return text


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autograd_mini explorer: {title}</title>
<style>
{css}
</style>
</head>
<body data-step="0" data-steps="{steps}" data-backward="{backward}" data-start="{start}">
<header>
  <span class="brand">autograd_mini explorer: <b>{title}</b></span>
  <span class="controls">
    <button id="reset" type="button" title="Reset to the start (Home)">|&#x25C0; Reset</button>
    <button id="prev" type="button" title="Previous step (Left arrow)">&#x25C0; Prev</button>
    <button id="next" type="button" title="Next step (Right arrow)">Next &#x25B6;</button>
    <button id="play" type="button" title="Play or pause (space)">Play</button>
    <label>speed <select id="speed" title="Steps per second">
      <option value="2000">0.5/s</option><option value="1000" selected>1/s</option>
      <option value="500">2/s</option><option value="200">5/s</option><option value="50">20/s</option>
    </select></label>
    <button id="backward" type="button" title="Jump to the start of the backward pass (b)">Backward pass</button>
    <span id="counter">step 0 / {steps}</span>
  </span>
  <span class="zoom">
    <button id="zoom-out" type="button" title="Zoom out">&minus;</button>
    <button id="fit" type="button" title="Fit the graph">Fit</button>
    <button id="zoom-in" type="button" title="Zoom in">+</button>
  </span>
</header>
<main>
  <div id="graph">{svg}</div>
  <aside>
    <p class="legend"><span class="swatch current"></span>this step's node
      <span class="swatch receiving"></span>its inputs <span class="swatch pending"></span>not computed yet
      <span class="swatch selected"></span>clicked</p>
    <section id="step-panel"><h2 id="step-title">Start</h2><div id="step-text"></div></section>
    <section id="details">
      <p class="hint">Click a node to see its data, gradient, rule and chain-rule paths.</p>
    </section>
  </aside>
</main>
<script type="application/json" id="explorer-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""
