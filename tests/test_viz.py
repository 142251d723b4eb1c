"""Tests of `draw`: DOT structure, options, determinism, escaping, grouping, size limits.

DOT is checked by parsing the statements `draw` writes; SVG by rendering with
whatever renderer the machine has (graphviz-pure in CI) and reading the
result with xml.etree.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import Drawing, Value, dot, draw, sum_of
from autograd_mini.engine import local_derivatives
from autograd_mini.graph import reverse_topological_order
from autograd_mini.views.neurons import neuron_groups
from autograd_mini.views.render import find_renderer

SVG_NS = "{http://www.w3.org/2000/svg}"
NODE = re.compile(r"^\s+(n\d+(?:_op)?) \[(.*)\]$")
EDGE = re.compile(r"^\s+(n\d+(?:_op)?) -> (n\d+(?:_op)?)(?: \[(.*)\])?$")

needs_renderer = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer on this machine")


def nodes_of(source: str) -> dict[str, str]:
    """Node name -> its attribute text, for every node statement."""
    return {m[1]: m[2] for line in source.splitlines() if (m := NODE.match(line))}


def edges_of(source: str) -> list[tuple[str, str, str]]:
    """(src, dst, attribute text) for every edge statement, in order."""
    return [(m[1], m[2], m[3] or "") for line in source.splitlines() if (m := EDGE.match(line))]


def edge_label(attrs: str) -> str | None:
    m = re.search(r"label=(\S+)", attrs)
    return m[1].strip('"') if m else None


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


def expression() -> tuple[Value, Value, Value, Value]:
    """e = tanh(a * b + a * a): a shared input, a duplicate input, four ops."""
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    d = a * b + a * a
    d.label = "d"
    e = d.tanh()
    e.label = "e"
    e.backward()
    return a, b, d, e


# --- structure --------------------------------------------------------------------------
def test_structure_of_a_known_expression() -> None:
    a, b, d, e = expression()
    source = draw(e).source
    nodes, edges = nodes_of(source), edges_of(source)
    # 6 Values (a, b, a*b, a*a, d, e) and 4 ops.
    assert len([n for n in nodes if n.endswith("_op")]) == 4
    assert len(nodes) == 10
    # each op: one edge per input (a*a has two) plus one to its result
    assert len(edges) == (2 + 1) * 3 + (1 + 1)
    assert sorted(n for n in nodes if not n.endswith("_op")) == [f"n{i}" for i in range(6)]
    assert "<B>a</B>" in nodes["n0"] and "<B>e</B>" in nodes["n5"]
    assert "label=<tanh>" in nodes["n5_op"]
    for src, dst, _ in edges:
        # edges run value -> op -> its own result, never value -> value
        assert src.endswith("_op") != dst.endswith("_op")
        if src.endswith("_op"):
            assert dst == src[: -len("_op")]


def test_input_used_twice_gets_two_edges() -> None:
    a = Value(3.0, label="a")
    y = a * a
    edges = edges_of(draw(y).source)
    assert edges.count(("n0", "n1_op", "")) == 2
    assert edges.count(("n1_op", "n1", "")) == 1


def test_value_boxes_show_label_data_and_grad_to_four_digits() -> None:
    a, b, d, e = expression()
    nodes = nodes_of(draw(e).source)
    expected_grad = (1 - math.tanh(-2.0) ** 2) * (-3.0 + 2 * 2.0)  # de/da by hand
    assert f"grad {expected_grad:.4g}" in nodes["n0"]
    assert "data 2<" in nodes["n0"] and "data -3<" in nodes["n1"]
    assert f"data {math.tanh(-2.0):.4g}<" in nodes["n5"]
    assert "grad 1<" in nodes["n5"]


def test_unlabelled_value_has_no_labelcell() -> None:
    y = Value(1.0) + Value(2.0)
    nodes = nodes_of(draw(y).source)
    assert "<B>" not in nodes["n2"]
    assert "data 3<" in nodes["n2"]


def test_gradient_values_from_create_graph_show_their_data() -> None:
    x = Value(3.0, label="x")
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert "grad 27<" in nodes_of(draw(y).source)["n0"]


# --- options ----------------------------------------------------------------------------
def test_show_derivatives_labels_edges_with_the_tables_local_derivatives() -> None:
    a, b, d, e = expression()
    source = draw(e, show_derivatives=True).source
    labels = [(s, t, edge_label(attrs)) for s, t, attrs in edges_of(source)]
    # closed forms: d(a*b)/da = b, d(a*b)/db = a, d(a*a)/da = a on each edge, d tanh/dd = 1 - e^2
    assert ("n0", "n2_op", "-3") in labels and ("n1", "n2_op", "2") in labels
    assert labels.count(("n0", "n3_op", "2")) == 2
    assert ("n4", "n5_op", f"{1 - math.tanh(-2.0) ** 2:.4g}") in labels
    # and they are exactly what the engine multiplies by
    assert [t for s, d_, t in labels if d_ == "n5_op"] == [f"{local_derivatives(e)[0]:.4g}"]
    # op -> result edges carry no factor
    assert all(t is None for s, _, t in labels if s.endswith("_op"))


def test_non_differentiable_input_and_undefined_derivative() -> None:
    x = Value(2.0, label="x")
    y = x**3
    labels = [edge_label(attrs) for _, _, attrs in edges_of(draw(y, show_derivatives=True).source)]
    assert labels[:2] == ["12", None]  # 3 x^2, and nothing on the constant exponent
    z = Value(0.0).sqrt()  # d sqrt / dx is infinite at 0
    labels = [edge_label(attrs) for _, _, attrs in edges_of(draw(z, show_derivatives=True).source)]
    assert labels[0] == "undefined"


def test_show_order_numbers_values_in_backward_order() -> None:
    a, b, d, e = expression()
    nodes = nodes_of(draw(e, show_order=True).source)
    order = reverse_topological_order(e)
    steps = {n: int(re.search(r">#(\d+)</TD>", attrs)[1]) for n, attrs in nodes.items() if not n.endswith("_op")}
    assert sorted(steps.values()) == list(range(1, len(order) + 1))
    assert steps["n5"] == 1  # the root is seeded first
    labelled = {v.label: v for v in order if v.label}
    # a value is numbered after every node that consumes it
    assert steps["n4"] < steps["n2"] and steps["n4"] < steps["n3"] and steps["n2"] < steps["n0"]
    assert order.index(labelled["d"]) + 1 == steps["n4"]
    assert ">#" not in "".join(nodes_of(draw(e).source).values())


def test_highlight_colours_exactly_the_paths_to_the_root() -> None:
    a, b, d, e = expression()
    source = draw(e, highlight=b).source
    nodes, edges = nodes_of(source), edges_of(source)
    red = {n for n, attrs in nodes.items() if "#d62728" in attrs}
    # b -> (a*b) -> d -> e; a*a is not on a path from b
    assert red == {"n1", "n2_op", "n2", "n4_op", "n4", "n5_op", "n5"}
    red_edges = {(s, t) for s, t, attrs in edges if "#d62728" in attrs}
    assert red_edges == {("n1", "n2_op"), ("n2_op", "n2"), ("n2", "n4_op"), ("n4_op", "n4"), ("n4", "n5_op"),
                         ("n5_op", "n5")}
    with pytest.raises(ValueError, match="highlight"):
        draw(e, highlight=Value(1.0))
    with pytest.raises(TypeError, match="highlight"):
        draw(e, highlight=1.0)  # type: ignore[arg-type]


def test_rankdir() -> None:
    y = Value(1.0, label="x") * 2
    assert "rankdir=LR" in draw(y).source
    tb = draw(y, rankdir="TB").source
    assert "rankdir=TB" in tb
    # TB: the label across the top row, data and grad side by side below it (two rows, not four)
    assert re.search(r'<TR><TD COLSPAN="2"[^>]*><B>x</B></TD></TR>'
                     r"<TR><TD[^>]*>data 1</TD><TD[^>]*>grad 0</TD></TR>", tb)
    with pytest.raises(ValueError, match="rankdir"):
        draw(y, rankdir="RL")


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="draw needs a Value"):
        draw(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_nodes"):
        draw(Value(1.0), max_nodes=0)


# --- determinism ------------------------------------------------------------------------
def test_same_graph_gives_identical_dot() -> None:
    first = draw(expression()[3], show_derivatives=True, show_order=True).source
    second = draw(expression()[3], show_derivatives=True, show_order=True).source
    assert first == second


def test_identical_dot_across_processes() -> None:
    """No id() or hash order leaks into the output: two interpreters with different hash seeds agree."""
    code = (
        "from autograd_mini import Value, draw\n"
        "xs = [Value(float(i), label=f'x{i}') for i in range(5)]\n"
        "y = sum((x * x for x in xs), Value(0.0)).tanh()\n"
        "y.backward()\n"
        "print(draw(y, show_derivatives=True, show_order=True, highlight=xs[2]).source)\n"
    )
    outputs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1] and "n5_op" in outputs[0]


# --- escaping ---------------------------------------------------------------------------
NASTY = 'x{ } | < > " \\N \\ & é θ ½ 中'


def test_label_escaping_in_dot() -> None:
    y = Value(1.0, label=NASTY) * 2
    box = nodes_of(draw(y).source)["n0"]
    assert "x{ } | &lt; &gt; &quot; \\\\N \\\\ &amp; é θ ½ 中" in box
    line = Value(1.0, label="one\ntwo\x00")
    assert "one<BR/>two\ufffd" in nodes_of(draw(line).source)["n0"]


@needs_renderer
def test_label_escaping_survives_rendering() -> None:
    y = Value(1.0, label=NASTY) * 2
    y.label = "<b>not bold</b>"
    texts = svg_texts(draw(y).svg())
    assert NASTY in texts
    assert "<b>not bold</b>" in texts


@needs_renderer
@settings(max_examples=15)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=12))
def test_any_printable_label_renders_verbatim(label: str) -> None:
    texts = svg_texts(draw(Value(0.5, label=label)).svg())
    assert label in texts


# --- SVG --------------------------------------------------------------------------------
@needs_renderer
def test_svg_is_well_formed_and_shows_the_numbers() -> None:
    a, b, d, e = expression()
    svg = draw(e, show_derivatives=True).svg()
    texts = svg_texts(svg)
    for expected in ("a", "b", "d", "e", "data 2", "data -3", "tanh", "*", "+", "-3"):
        assert expected in texts
    root = ET.fromstring(svg)
    assert len([g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "node"]) == 10
    assert len([g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "edge"]) == 11


@needs_renderer
def test_jupyter_repr_is_the_svg() -> None:
    drawing = draw(Value(2.0, label="x") + 1)
    assert isinstance(drawing, Drawing)
    svg = drawing._repr_svg_()
    assert svg is not None and ET.fromstring(svg).tag == f"{SVG_NS}svg"
    assert "4 nodes (3 Values, 1 op), 3 edges" in repr(drawing)


@needs_renderer
def test_save_picks_the_format_from_the_suffix(tmp_path) -> None:
    drawing = draw(Value(2.0, label="x") * 3)
    assert drawing.save(tmp_path / "g.dot").read_text(encoding="utf-8") == drawing.source
    assert ET.parse(drawing.save(tmp_path / "g.svg")).getroot().tag == f"{SVG_NS}svg"
    assert drawing.save(tmp_path / "g.PNG").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert drawing.png().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="suffix"):
        drawing.save(tmp_path / "g.pdf")


# --- size -------------------------------------------------------------------------------
def test_max_nodes_refuses_with_the_count_and_the_ways_out() -> None:
    y = Value(1.0)
    for _ in range(10):
        y = y * 2  # 1 leaf, 10 constants, 10 products and their 10 ops: 31 nodes
    with pytest.raises(ValueError, match=r"31 nodes.*max_nodes=30.*max_nodes=31.*collapse_neurons"):
        draw(y, max_nodes=30)
    assert len(nodes_of(draw(y, max_nodes=31).source)) == 31


def test_deep_graph_is_drawn_without_recursion() -> None:
    y = Value(0.1)
    for _ in range(5000):  # far deeper than the recursion limit
        y = y.tanh()
    source = draw(y, max_nodes=20_000, show_order=True).source
    assert len(nodes_of(source)) == 10_001


def test_million_node_chain_is_refused_not_recursed() -> None:
    y = Value(0.5)
    for _ in range(1_000_000):
        y = -y
    with pytest.raises(ValueError, match="2000001 nodes"):
        draw(y)


# --- neuron grouping --------------------------------------------------------------------
def hand_built_network() -> tuple[Value, list[Value]]:
    """Two layers labelled as autograd_mini.nn labels them (written out by hand)."""
    x = [Value(1.0, label="x0"), Value(-2.0, label="x1")]
    scale = x[0] * 0.5  # an unlabelled op outside every neuron
    outs = []
    for j in range(2):
        w = [Value(0.1 * (j + 1), label=f"L1.N{j}.w0"), Value(-0.2, label=f"L1.N{j}.w1")]
        b = Value(0.3, label=f"L1.N{j}.b")
        net = dot(w, [scale, x[1]]) + b
        net.label = f"L1.N{j}.net"
        out = net.sigmoid()
        out.label = f"L1.N{j}.out"
        outs.append(out)
    v = [Value(0.7, label="L2.N0.w0"), Value(-0.4, label="L2.N0.w1")]
    net = dot(v, outs)  # bias=False and linear: the dot node is the net
    net.label = "L2.N0.net"
    loss = net * net
    loss.backward()
    return loss, x


def test_neuron_groups_follow_the_nn_labels() -> None:
    loss, x = hand_built_network()
    nodes = reverse_topological_order(loss)[::-1]
    groups = neuron_groups(nodes)
    members: dict[str, list[str]] = {}
    for v, name in groups.items():
        members.setdefault(name, []).append(v.label or v.op.name)
    assert sorted(members) == ["L1.N0", "L1.N1", "L2.N0"]
    assert sorted(members["L1.N0"]) == sorted(["L1.N0.w0", "L1.N0.w1", "L1.N0.b", "dot", "L1.N0.net", "L1.N0.out"])
    assert sorted(members["L2.N0"]) == ["L2.N0.net", "L2.N0.w0", "L2.N0.w1"]
    outside = [v for v in nodes if v not in groups]
    assert {v.label for v in outside if v.label} == {"x0", "x1"}
    assert any(v.op is not None and v.op.name == "mul" for v in outside)  # the shared `scale`, and the loss


def test_group_neurons_draws_one_cluster_per_neuron_inside_its_layer() -> None:
    loss, _ = hand_built_network()
    source = draw(loss, group_neurons=True).source
    assert source.count("subgraph cluster_L1 {") == 1 and source.count("subgraph cluster_L2 {") == 1
    for name in ("L1_N0", "L1_N1", "L2_N0"):
        assert source.count(f"subgraph cluster_{name} {{") == 1
    block = source.split("subgraph cluster_L1_N0 {")[1].split("}")[0]
    assert "L1.N0.w0" in block and "L1.N0.out" in block and "label=<dot>" in block
    assert "x0" not in block and "L1.N1" not in block
    # grouping moves nodes into clusters but draws the same graph
    plain = draw(loss).source
    assert sorted(nodes_of(source)) == sorted(nodes_of(plain)) and len(edges_of(source)) == len(edges_of(plain))


def test_collapse_neurons_draws_one_node_per_neuron() -> None:
    loss, x = hand_built_network()
    drawing = draw(loss, collapse_neurons=True, show_order=True)
    nodes = nodes_of(drawing.source)
    boxes = [attrs for attrs in nodes.values() if "sigmoid" in attrs or "linear" in attrs]
    assert len(boxes) == 3
    assert any("<B>L2.N0</B>" in b and "linear" in b for b in boxes)
    # x0, x1, scale (+ its constant and op), three neurons, loss and its op
    assert drawing.node_count == len(nodes) == 2 + 3 + 3 + 2
    assert not any("w0" in attrs for attrs in nodes.values())


def test_collapse_lets_a_big_network_under_max_nodes() -> None:
    nn = pytest.importorskip("autograd_mini.nn")
    model = nn.MLP(2, [16, 16, 1], seed=0)
    y = model([0.5, -1.0])
    with pytest.raises(ValueError, match="collapse_neurons"):
        draw(y, max_nodes=100)
    assert draw(y, collapse_neurons=True, max_nodes=100).node_count == 2 + 33


def test_mlp_grouped_views() -> None:
    nn = pytest.importorskip("autograd_mini.nn")
    model = nn.MLP(2, [4, 4, 1], seed=1)
    y = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    y.backward()
    source = draw(y, group_neurons=True).source
    neuron_clusters = re.findall(r"subgraph cluster_(L\d_N\d) \{", source)
    assert neuron_clusters == [f"L{layer}_N{j}" for layer, n in ((1, 4), (2, 4), (3, 1)) for j in range(n)]
    # each neuron holds its nin+1 parameters, dot, net, out and their 3 ops
    for cluster, nin in (("L1_N0", 2), ("L2_N3", 4), ("L3_N0", 4)):
        block = source.split(f"subgraph cluster_{cluster} {{")[1].split("}")[0]
        assert len([line for line in block.splitlines() if NODE.match(line)]) == nin + 1 + 3 + 3
    collapsed = draw(y, collapse_neurons=True)
    assert collapsed.node_count == 2 + 9
    assert collapsed.edge_count == 2 * 4 + 4 * 4 + 4
    label_parts = [f"<B>L{layer}.N{j}</B>" for layer, n in ((1, 4), (2, 4), (3, 1)) for j in range(n)]
    assert all(part in collapsed.source for part in label_parts)


# --- the committed figures --------------------------------------------------------------
@needs_renderer
def test_committed_figures_match_what_make_figures_draws() -> None:
    """docs/*.svg are generated, not hand-edited: the texts they show are today's."""
    from pathlib import Path

    from conftest import make_figures

    docs = Path(__file__).resolve().parent.parent / "docs"
    figures = make_figures()
    fresh = {
        "expression.svg": draw(figures.neuron_expression(), show_derivatives=True),
        "mlp.svg": draw(figures.mlp_loss(), collapse_neurons=True),
    }
    for name, drawing in fresh.items():
        committed = (docs / name).read_text(encoding="utf-8")
        assert sorted(svg_texts(committed)) == sorted(svg_texts(drawing.svg())), f"rerun docs/make_figures.py ({name})"


def test_cells_leave_room_for_a_wider_font() -> None:
    from autograd_mini.views.dotgraph import cell

    widths = [int(re.search(r'WIDTH="(\d+)"', cell(text))[1]) for text in ("x", "grad -0.0006013")]
    # 15 characters at 11 pt in DejaVu Sans (about 0.6 em each) need ~100 pt plus padding
    assert widths[1] >= 15 * 11 * 0.6 + 8 and widths[0] < widths[1]
    assert 'WIDTH="' in cell("中文", bold=True) and "<B>中文</B>" in cell("中文", bold=True)


def demo_network() -> tuple[Value, Value]:
    """The demo's network (`autograd_mini.cli.demo`), after backward: its loss and the weight it highlights."""
    from autograd_mini.cli.demo import NETWORK_T, NETWORK_X
    from autograd_mini.nn import MLP
    from autograd_mini.nn.losses import squared_error

    model = MLP(2, [2, 1], bias=False, seed=2)
    x = [Value(v, label=f"x{i}") for i, v in enumerate(NETWORK_X)]
    loss = squared_error(model(x), Value(NETWORK_T, label="t"))
    loss.backward()
    return loss, model.layers[0].neurons[0].w[0]


def _points(d: str) -> list[tuple[float, float]]:
    """Points along a Graphviz edge path "M p0 C p1 p2 p3 p4 p5 p6 ...": each cubic piece sampled."""
    numbers = [float(v) for v in re.findall(r"-?[0-9.]+", d)]
    controls = list(zip(numbers[::2], numbers[1::2]))
    found = [controls[0]]
    for k in range(0, len(controls) - 3, 3):
        p0, p1, p2, p3 = controls[k:k + 4]
        for i in range(1, 21):
            t = i / 20
            a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
            found.append((a * p0[0] + b * p1[0] + c * p2[0] + e * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + e * p3[1]))
    return found


@needs_renderer
def test_the_demo_network_fits_a_window_and_its_labels_sit_on_their_edges() -> None:
    loss, weight = demo_network()
    svg = draw(loss, group_neurons=True, show_derivatives=True, highlight=weight).svg()
    width = float(re.search(r'<svg width="([0-9.]+)px"', svg)[1])
    assert width <= 1400 - 20  # a 1400 px browser window (less its scrollbar) shows it without sideways scrolling
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    labelled = 0
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") != "edge":
            continue
        path = g.find("s:path", ns)
        for text in g.findall("s:text", ns):
            labelled += 1
            x, y = float(text.get("x")), float(text.get("y"))
            nearest = min(math.hypot(x - px, y - py) for px, py in _points(path.get("d")))
            assert nearest < 30, (text.text, nearest)  # beside its own edge (its middle), not floating
    assert labelled >= 10
    # and no two edge labels overlap (11 px apart at least, or on different rows)
    spots = [(float(t.get("x")), float(t.get("y"))) for t in root.iter("{http://www.w3.org/2000/svg}text")
             if t.get("font-size") == "9.00"]
    assert all(abs(a[0] - b[0]) > 30 or abs(a[1] - b[1]) >= 9 for i, a in enumerate(spots) for b in spots[i + 1:])


@needs_renderer
def test_lr_boxes_are_one_cell_wide_and_tb_boxes_two_rows_high() -> None:
    y = Value(1.0, label="x") * 2
    lr, tb = draw(y).source, draw(y, rankdir="TB").source
    assert re.search(r"<TR><TD[^>]*><B>x</B></TD></TR><TR><TD[^>]*>data 1</TD></TR><TR><TD[^>]*>grad 0</TD></TR>",
                     lr)
    assert re.search(r"<TD[^>]*>data 1</TD><TD[^>]*>grad 0</TD></TR>", tb)


@needs_renderer
def test_a_constant_says_it_has_no_gradient_instead_of_grad_0():
    """A constant's box reads "const: no grad", as in the explorer: "grad 0" would read as dL/dc = 0."""
    x = Value(2.0, label="x")
    c = Value(3.0, label="c", requires_grad=False)
    y = x * c
    y.label = "y"
    y.backward()
    source = draw(y).source
    c_box = [line for line in source.splitlines() if ">c<" in line][0]
    x_box = [line for line in source.splitlines() if ">x<" in line][0]
    assert "const: no grad" in c_box and "grad 0" not in c_box
    assert "grad 3" in x_box and "const" not in x_box


def test_the_max_nodes_message_reads_as_one_sentence():
    xs = [Value(1.0) for _ in range(30)]
    with pytest.raises(ValueError) as refused:
        draw(sum_of(xs) * xs[0], max_nodes=5)
    assert "to draw it anyway, or" in str(refused.value) and "anyway, (" not in str(refused.value)
