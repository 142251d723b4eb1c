"""`explore`: watch backpropagation step by step in one self-contained HTML page.

The page shows `draw`'s layout of the graph and steps through the forward pass
node by node, then the backward pass one node's rule per step: g x local =
contribution (1.5) and each running sum (1.8). Every number is computed in
Python (`data`); explorer.js only shows them. The page's DOM contract, for
tests and users who drive it, is in docs/explorer.md.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ...engine import gradients
from ...files import atomic_write
from ...graph import forward_order, reverse_topological_order
from ...nn import MLP
from ...value import Value
from ..dotgraph import Style, displayable
from ..draw import DEFAULT_MAX_NODES, NodeCount, check_max_nodes, count_nodes, draw_styled, refuse_over_max_nodes
from ..mathml import packed
from ..neurons import Box, neuron_boxes, nn_label, node_examples
from ..render import RenderError
from .data import Walkthrough, walkthrough
from .delta_rows import delta_rows
from .forward_mode import add_tangents, check_seed
from .neuron_passes import find_passes
from .neuron_view import NeuronView, neuron_view
from .sharing import shared

_IFRAME_HEIGHT = 640
# The graph area of a 1400 x 900 window beside the details panel, in CSS pixels: `rankdir=None`
# picks the layout that shows the graph largest there.
_NOMINAL_AREA = (960.0, 760.0)
# The graph area of a notebook's 960 x 640 frame (the header in two rows, the side panel folded).
# A small graph gets a layout whole there at 11 px text (screen scale 1) when one is.
_FRAME_AREA = (960.0, 560.0)
# Graphs up to this many drawn nodes also try the layout with ops in line (Style.ops_in_line);
# a bigger one is never whole at 11 px in the frame (17 Values and 5 ops just fit).
_IN_LINE_MAX_NODES = 60
# The page's one script runs by its hash: no other inline script (an injected one) may run.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src '{script_hash}'; img-src data:"


class Explorer:
    """An explorer page for one graph: `.html()`, `.save(path)`, and inline display in Jupyter."""

    def __init__(self, svg: str, data: Walkthrough, title: str, count: NodeCount,
                 neurons: NeuronView | None = None, view: str = "ops") -> None:
        self.svg = svg
        self.data = data
        self.title = title
        self.count = count
        self.neurons = neurons
        self.view = view

    @property
    def steps(self) -> int:
        """The number of steps: forward steps, backward steps and the final one."""
        return len(self.data.steps)

    def html(self, start: int = 0) -> str:
        """The whole page: one HTML document with the SVG, CSS, JavaScript and data inline.

        `start` is the step the page opens at (0; `self.steps` for the end, as the live explorer does)."""
        css = _package_text("explorer.css")
        script = _script()
        payload = shared(_pack_formulas({**self.data.payload(),
                                         "neuronView": self.neurons.payload if self.neurons is not None else None}))
        return _PAGE.format(
            csp=_CSP.format(script_hash=script_hash(script)), title=html.escape(self.title), css=css,
            steps=self.steps, svg=self.svg, data=script_json(payload), script=script,
            backward=self.data.backward_start, view=self.view, start=max(0, min(start, self.steps)),
            neuron_svg=self.neurons.svg if self.neurons is not None else "",
            neuron_controls=_NEURON_CONTROLS if self.neurons is not None else "",
            tangent_of="" if self.data.tangent_of is None else f' data-tangent-of="{self.data.tangent_of}"',
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` atomically (any suffix; .html is usual) and return the path."""
        return atomic_write(path, self.html())

    def _repr_html_(self) -> str:
        """The page in a sandboxed iframe (scripts only: no access to the notebook, no forms, no popups)."""
        doc = html.escape(self.html(), quote=True)
        return (f'<iframe sandbox="allow-scripts" srcdoc="{doc}" '
                f'style="width: 100%; height: {_IFRAME_HEIGHT}px; border: 1px solid #ccc" '
                f'title="{html.escape(self.title)}"></iframe>')

    def __repr__(self) -> str:
        forward = self.data.backward_start
        return (f"<Explorer: {self.count}, {self.steps} steps ({forward} forward, "
                f"{self.steps - forward - 1} backward, 1 final); .save('graph.html') writes the page>")


def explore(
    root: Value,
    *,
    model: MLP | None = None,
    x: Sequence[float] | None = None,
    t: float | Sequence[float] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    rankdir: Literal["LR", "TB"] | None = None,
    view: Literal["neurons", "ops"] | None = None,
    forward_mode: Value | None = None,
) -> Explorer:
    """An interactive page stepping through the forward and backward pass of `root`'s graph.

    Args:
        root:      the output Value (usually the loss). Nothing of its graph is
                   written, not even temporarily: the page shows the gradients
                   a fresh `root.backward()` leaves, computed apart.
        model, x, t: optionally the sigmoid `nn.MLP` whose loss `root` is, its input
                   and target: the details of each neuron's nodes then show its row of
                   `delta_table(model, x, t)` (net_j, O_j, dE/dO_j, delta_j, (1.1)-(1.8)).
        max_nodes: refuse graphs with more drawn nodes (Value boxes plus op
                   nodes, counted as `draw` counts them) than this.
        rankdir:   `draw`'s "LR" or "TB"; None (the default) tries both and keeps the one
                   that fits best (docs/explorer.md, "The op view's layout").
        view:      the view the page opens in: "neurons" (layers as columns, one box
                   per neuron and example) or "ops" (one box per Value). None (the
                   default) opens graphs built from `nn` layers in the neuron view.
                   The other view is one click away ("Neurons" / "Ops").
        forward_mode: a Value of the graph (usually an input) to run forward mode
                   from: each forward step also computes its node's tangent
                   t = d node / d forward_mode, the chain rule read forwards
                   (t_node = sum_i local_i x t_i, seed t = 1), so the root's
                   tangent is the gradient backward() later gives forward_mode.
                   The page then opens in the op view, where tangents are shown.

    Raises TypeError for a root that is not a Value or a model without x and t,
    ValueError for a graph over max_nodes or a forward_mode not in the graph
    (or a constant), and the engine's error if backward (or the tangent pass)
    through the graph would fail.
    """
    count = _check_arguments(root, model, x, t, max_nodes, rankdir, view)
    order = forward_order(root)
    seed = None if forward_mode is None else check_seed(root, forward_mode, order)
    ids = {v: f"n{i}" for i, v in enumerate(order)}
    boxes = neuron_boxes(order)
    neurons = {v: box.neuron for v, box in boxes.items()}
    examples = node_examples(order, boxes)
    labels, names = _labels_and_names(root, order, examples)
    rows = delta_rows(model, x, t, neurons) if model is not None and x is not None and t is not None else {}
    data = walkthrough(root, order, ids, names, neurons, {v: text for v, (text, _) in rows.items()}, examples)
    for v, (_, math_lines) in rows.items():
        data.nodes[ids[v]]["deltaMath"] = math_lines
    if seed is not None:
        add_tangents(data, root, order, ids, seed)
    svg = _layout(root, order, ids, labels, examples, max_nodes, rankdir, _grad_texts(data, order, ids), count)
    network = _network(root, order, boxes, examples, names, data, ids, view)
    opened = view or ("neurons" if network is not None and seed is None else "ops")
    title = names[root] if root.label else f"{names[root]} (the root)"
    return Explorer(svg, data, title, count, network, opened)


def _check_arguments(root: Value, model: MLP | None, x: Sequence[float] | None, t: float | Sequence[float] | None,
                     max_nodes: int, rankdir: str | None, view: str | None) -> NodeCount:
    """`explore`'s argument checks, in the order its docstring gives; the graph's node count."""
    if not isinstance(root, Value):
        raise TypeError(f"explore needs a Value, got {type(root).__name__}")
    check_max_nodes(max_nodes, "explore")
    count = count_nodes(root)
    refuse_over_max_nodes(count, max_nodes, "explore",
                          " (the page may be slow), or explore a smaller graph, e.g. the loss of one example")
    if rankdir not in (None, "LR", "TB"):
        raise ValueError(f"explore: rankdir must be 'LR', 'TB' or None (choose), got {rankdir!r}")
    if view not in (None, "neurons", "ops"):
        raise ValueError(f"explore: view must be 'neurons', 'ops' or None (neurons for nn graphs), got {view!r}")
    if model is not None and (x is None or t is None):
        raise TypeError("explore: model needs x and t too (the input and target its delta table is taken at)")
    return count


def _labels_and_names(root: Value, order: list[Value],
                      examples: dict[Value, int]) -> tuple[dict[Value, str], dict[Value, str]]:
    """Each node's label as its box reads, and its name in the texts (with its example for a neuron's node)."""
    numbers = {v: k for k, v in enumerate(reverse_topological_order(root), 1)}
    labels = {v: displayable(v.label) if v.label else f"#{numbers[v]}" for v in order}  # as the boxes read
    # The texts name a neuron's node with its example: four passes label four nodes "L1.N0.out".
    names = {v: f"{labels[v]}[example {examples[v]}]" if v in examples and nn_label(v.label) else labels[v]
             for v in order}
    return labels, names


def _network(root: Value, order: list[Value], boxes: dict[Value, Box], examples: dict[Value, int],
             names: dict[Value, str], data: Walkthrough, ids: dict[Value, str],
             view: str | None) -> NeuronView | None:
    """The neuron view of a graph built from `nn` layers, else None (an error if view='neurons' asked for it)."""
    passes = find_passes(order, boxes)
    if view == "neurons" and passes is None:
        raise ValueError("explore: view='neurons' needs a graph built from nn layers (nodes labelled "
                         "'L1.N0.net', ... by autograd_mini.nn); this graph has none, use view='ops'")
    if passes is None:
        return None
    grads = dict(zip(order, gradients(root, order), strict=True))
    return neuron_view(root, order, grads, passes, examples, names, data.steps, ids)


def _layout(root: Value, order: list[Value], ids: dict[Value, str], labels: dict[Value, str],
            examples: dict[Value, int], max_nodes: int, rankdir: Literal["LR", "TB"] | None,
            grad_texts: dict[Value, str], count: NodeCount) -> str:
    """The SVG the page shows: of the plain layouts (`rankdir`, or both), the one largest in a window
    among those whole at 11 px in a notebook frame; else, for a small graph, the same among the layouts
    with ops in line (the demo network's only fit); else the plain layout largest in a window."""
    layouts: list[Literal["LR", "TB"]] = [rankdir] if rankdir is not None else ["LR", "TB"]

    def svgs(in_line: bool) -> list[str]:
        return [_svg(root, order, ids, labels, examples, max_nodes, d, grad_texts, in_line) for d in layouts]

    plain = svgs(False)
    whole = [svg for svg in plain if _fit_scale(svg, _FRAME_AREA) >= 1.0]
    if not whole and count.total <= _IN_LINE_MAX_NODES:
        whole = [svg for svg in svgs(True) if _fit_scale(svg, _FRAME_AREA) >= 1.0]
    return max(whole or plain, key=lambda svg: _fit_scale(svg, _NOMINAL_AREA))


def _grad_texts(data: Walkthrough, order: list[Value], ids: dict[Value, str]) -> dict[Value, str]:
    """Each node's widest grad text of the page ("?", a running sum, the final gradient): its box fits them all."""
    widest = {ids[v]: "?" for v in order}
    for step in data.steps:
        for node, (shown, _) in step["grad"].items():
            widest[node] = max(widest[node], shown, key=len)
    return {v: widest[ids[v]] for v in order}


def _svg(root: Value, order: list[Value], ids: dict[Value, str], labels: dict[Value, str],
         examples: dict[Value, int], max_nodes: int, rankdir: Literal["LR", "TB"],
         grad_texts: dict[Value, str], in_line: bool) -> str:
    """`draw`'s SVG of the graph, each node's <g> tagged with the page's data attributes.

    Each grad cell reads the widest text the page will write there, so its box fits every running sum.
    """
    style = Style(rankdir, show_derivatives=True, grad_texts=grad_texts, svg_ids=True, ops_in_line=in_line)
    svg = draw_styled(root, style, max_nodes, show_order=True).svg()
    return _tag_nodes(svg, order, ids, labels, examples)


def _fit_scale(svg: str, area: tuple[float, float]) -> float:
    """Screen pixels per SVG point when `svg` (its viewBox) is fitted into `area` (CSS pixels)."""
    box = re.search(r'viewBox="([^"]*)"', svg)
    if box is None:
        return 0.0
    width, height = (float(v) for v in box[1].split()[2:])
    return min(area[0] / max(width, 1.0), area[1] / max(height, 1.0))


def _tag_nodes(svg: str, order: list[Value], ids: dict[Value, str], labels: dict[Value, str],
               examples: dict[Value, int] | None = None) -> str:
    """Add class, data-node, data-label, data-grad (and data-example) to each node's <g>; drop the prologue."""
    attrs = {}
    for v in order:
        label = html.escape(labels[v], quote=True)
        example = "" if examples is None or v not in examples else f' data-example="{examples[v]}"'
        attrs[ids[v]] = (f'class="node value" data-node="{ids[v]}" data-label="{label}" '
                         f'data-data="{v.data!r}" data-grad=""{example}')
        if v.op is not None:
            attrs[ids[v] + "_op"] = f'class="node op" data-node="{ids[v]}_op" data-of="{ids[v]}"{example}'
    found = set()

    def tag(match: re.Match[str]) -> str:
        found.add(match[1])
        return f'<g id="am_{match[1]}" {attrs[match[1]]}>'

    svg = re.sub(r'<g id="am_(n\d+(?:_op)?)" class="node">', tag, svg)
    if found != set(attrs):
        raise RenderError(f"explore: the renderer's SVG lacks the ids of {len(set(attrs) - found)} nodes; "
                          "it does not keep DOT ids, so the page cannot find its nodes")
    svg = svg[svg.find("<svg"):]
    # The page sizes the drawing itself (zoom and pan through the viewBox).
    return re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg width="100%" height="100%"', svg, count=1)


def _pack_formulas(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with every formula tree ("math" of a typeset line) in `mathml.packed`'s short form.

    A copy: the Walkthrough keeps its trees. Walked with a stack (the payload is JSON: dicts and lists).
    """
    copy: dict[str, Any] = json.loads(json.dumps(payload))
    stack: list[Any] = [copy]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            tree = item.get("math")
            if isinstance(tree, list) and tree and isinstance(tree[0], str):  # a line's formula: pack it
                item["math"] = packed(tree)
                stack.extend(v for k, v in item.items() if k != "math")
            else:  # a step's "math" is its list of lines: walk into it
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return copy


def script_hash(script: str) -> str:
    """The CSP source that lets exactly this inline script run: 'sha256-<base64 of its UTF-8 digest>'."""
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


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


# The page's one script: these files, in this order, in one function scope (they share its names).
SCRIPT_FILES = ("explorer.js", "neuron_view.js", "controls.js")


def _script() -> str:
    """The page's inline script: SCRIPT_FILES inside one strict-mode function, run once."""
    parts = "\n".join(_package_text(name) for name in SCRIPT_FILES)
    return '\n(function () {\n  "use strict";\n' + parts + "}());\n"


def _package_text(name: str) -> str:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    assert "</script" not in text.lower() and "</style" not in text.lower(), name
    return text


_NEURON_CONTROLS = """  <span class="views">
    <button id="view-neurons" type="button" title="One box per neuron and example (n)">Neurons</button>
    <button id="view-ops" type="button" title="One box per Value (o)">Ops</button>
    <label>example <select id="example" title="The example (forward pass) shown"></select></label>
    <label>jump to <select id="jump" title="Jump to a layer or a neuron"><option value="">...</option></select></label>
  </span>"""

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
<body data-step="0" data-steps="{steps}" data-backward="{backward}" data-view="{view}" data-start="{start}"{tangent_of}>
<header>
  <span class="brand">autograd_mini explorer: <b>{title}</b></span>
  <span class="controls">
    <button id="reset" type="button" title="Reset to the start (Home)">|&#x25C0; Reset</button>
    <button id="prev" type="button" title="Previous step (Left arrow)">&#x25C0; Prev</button>
    <button id="next" type="button" title="Next step (Right arrow)">Next &#x25B6;</button>
    <button id="play" type="button" title="Play or pause (space)">Play</button>
    <label>speed <select id="speed" title="Steps per second">
      <option value="2000">0.5/s</option><option value="1000" selected>1/s</option>
      <option value="500">2/s</option><option value="200">5/s</option><option value="100">10/s</option>
      <option value="50">20/s</option><option value="20">50/s</option>
    </select></label>
    <button id="backward" type="button" title="Jump to the start of the backward pass (b)">Backward pass</button>
    <span id="counter">step 0 / {steps}</span>
  </span>
{neuron_controls}
  <span class="zoom">
    <button id="zoom-out" type="button" title="Zoom out">&minus;</button>
    <button id="fit" type="button" title="Show the whole graph (f)">Fit all</button>
    <button id="zoom-in" type="button" title="Zoom in">+</button>
    <button id="panel" type="button" title="Show or hide the side panel (p)" aria-expanded="true">Panel</button>
  </span>
</header>
<main>
  <div id="neuron-view" data-step="0" data-steps="0" data-example="0">{neuron_svg}</div>
  <div id="graph">{svg}</div>
  <aside>
    <p class="legend"><span><span class="swatch current"></span>this step's node</span>
      <span><span class="swatch receiving"></span>its inputs</span>
      <span><span class="swatch pending"></span>not computed yet</span>
      <span><span class="swatch selected"></span>clicked</span></p>
    <p class="legend" id="grad-legend">gradient: <span><span class="swatch gpos"></span>positive</span>
      <span><span class="swatch gneg"></span>negative</span> (darker = larger);
      <span><span class="line-swatch pos"></span>weight &gt; 0</span>
      <span><span class="line-swatch neg"></span>weight &lt; 0</span>
      (thicker = larger; dE/dw in the backward pass)</p>
    <section id="step-panel"><h2 id="step-title">Start</h2><div id="step-text"></div></section>
    <section id="details">
      <p class="hint">Click a node to see its data, gradient, rule and chain-rule paths.</p>
    </section>
  </aside>
</main>
<script type="application/json" id="explorer-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""
