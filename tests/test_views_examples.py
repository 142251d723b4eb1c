"""A loss summed over several examples: each forward pass of a neuron is its own box.

The micrograd lecture's loss: `MLP(3, [4, 4, 1])` on four examples, the squared
errors summed. Every neuron runs four times; `draw(collapse_neurons=True)` must
draw four boxes per neuron, each with that pass's own out and grad and only its
own example's inputs, and `explore` must say which example a node belongs to.
Also here: `draw` and `explore` count nodes the same way, and a bias-free network
shows no `+ b_j`.
"""

import html
import json
import re

import pytest

from autograd_mini import Value, draw, explore
from autograd_mini.graph import forward_order
from autograd_mini.nn import MLP, parse_label
from autograd_mini.nn.losses import squared_error
from autograd_mini.views.derivation import describe_node
from autograd_mini.views.explorer.sharing import unshared
from autograd_mini.views.neurons import Box, neuron_boxes, node_examples
from autograd_mini.views.render import find_renderer

needs_renderer = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer on this machine")

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]
NEURONS = [f"L1.N{j}" for j in range(4)] + [f"L2.N{j}" for j in range(4)] + ["L3.N0"]


def lecture_loss():
    """The lecture's loss, backpropagated, and for each example its own pass's output Values by neuron."""
    model = MLP(3, [4, 4, 1], seed=0)
    outs = [model(x) for x in XS]
    loss = sum((out - y) ** 2 for out, y in zip(outs, YS))
    assert isinstance(loss, Value)
    loss.backward()
    passes = []
    for out in outs:  # the graph of one example's output holds exactly one pass of each neuron
        found = {v.label[: -len(".out")]: v for v in forward_order(out) if v.label and v.label.endswith(".out")}
        assert sorted(found) == sorted(NEURONS)
        passes.append(found)
    return loss, passes


def box_nodes(source):
    """DOT node name -> the texts of its label's cells, for the collapsed neuron boxes."""
    boxes = {}
    for name, label in re.findall(r"^\s*(n\d+) \[label=<(.*?)> shape=plaintext", source, re.M):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<TD[^>]*>(.*?)</TD>", label)]
        if cells and "·" in cells[0]:
            boxes[name] = cells
    return boxes


def test_collapse_draws_one_box_per_neuron_per_example_with_that_pass_s_numbers():
    loss, passes = lecture_loss()
    drawing = draw(loss, collapse_neurons=True)
    boxes = box_nodes(drawing.source)
    by_title = {cells[0]: cells for cells in boxes.values()}
    assert len(boxes) == len(by_title) == 9 * 4 == drawing.count.neurons
    for k, found in enumerate(passes):
        for neuron, out in found.items():
            title, activation, out_text, grad_text = by_title[f"{neuron} · example {k}"]
            assert activation == "sigmoid"
            assert out_text == f"out {out.data:.4g}" and grad_text == f"grad {out.grad:.4g}"
    # the four passes differ: the bug drew one box with the last pass's numbers
    assert len({by_title[f"L1.N0 · example {k}"][2] for k in range(4)}) == 4


def test_each_pass_box_reads_only_its_own_example():
    loss, _ = lecture_loss()
    source = draw(loss, collapse_neurons=True).source
    boxes = box_nodes(source)
    titles = {name: cells[0] for name, cells in boxes.items()}
    data = {name: float(d) for name, d in re.findall(r"^\s*(n\d+) \[label=<.*?data ([-\d.e]+)<", source, re.M)}
    lines = [line for line in source.splitlines() if "invis" not in line]  # not the chains that order a rank
    edges = [(m[1], m[2]) for line in lines if (m := re.match(r"\s*(n\d+) -> (n\d+)", line))]
    for name, title in titles.items():
        neuron, example = title.split(" · example ")
        sources = [src for src, dst in edges if dst == name]
        if neuron.startswith("L1."):  # the three inputs of its own example, nothing else
            assert sorted(data[src] for src in sources) == sorted(XS[int(example)])
        else:  # every neuron of the layer below, in the same example
            layer = int(neuron[1]) - 1
            assert sorted(titles[src] for src in sources) == [f"L{layer}.N{j} · example {example}"
                                                               for j in range(4 if layer < 3 else 1)]


def test_grouped_clusters_are_passes_and_shared_weights():
    loss, _ = lecture_loss()
    source = draw(loss, group_neurons=True, max_nodes=1000).source
    titles = set(re.findall(r'label="(L\d\.N\d · [^"]+)"', source))
    assert titles == {f"{n} · example {k}" for n in NEURONS for k in range(4)} | {f"{n} · weights" for n in NEURONS}


def test_a_single_pass_keeps_plain_neuron_boxes():
    model = MLP(2, [2, 1], seed=0)
    loss = squared_error(model([0.5, -1.0]), 0.25)
    boxes = neuron_boxes(forward_order(loss))
    assert set(boxes.values()) == {Box(n) for n in ("L1.N0", "L1.N1", "L2.N0")}
    assert node_examples(forward_order(loss), boxes) == {}
    assert "example" not in draw(loss, collapse_neurons=True).source


def test_every_node_of_an_example_is_found_and_shared_ones_are_not():
    model = MLP(3, [2, 1], seed=0)
    xs = [[Value(v, label=f"x{k}{i}") for i, v in enumerate(x)] for k, x in enumerate(XS[:3])]
    ys = [Value(y, label=f"y{k}") for k, y in enumerate(YS[:3])]
    loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
    order = forward_order(loss)
    examples = node_examples(order, neuron_boxes(order))
    for k in range(3):
        assert all(examples[v] == k for v in xs[k]) and examples[ys[k]] == k
    assert all(p not in examples for p in model.parameters()) and loss not in examples
    for v in order:  # each pass node belongs to the example whose inputs it reads
        parsed = parse_label(v.label)
        if parsed is not None and parsed.part in ("net", "out"):
            reads = {x for x in forward_order(v) if x.label and x.label[0] == "x"}
            assert reads == set(xs[examples[v]])


@needs_renderer
def test_the_explorer_says_which_example_a_node_belongs_to():
    loss, passes = lecture_loss()
    page = explore(loss, max_nodes=400)
    doc = page.html()
    data = unshared(json.loads(re.search(r'id="explorer-data">(.*?)</script>', doc, re.S)[1]))
    tagged = re.findall(r'<g id="am_(n\d+)" class="node value" data-node="n\d+" data-label="([^"]*)" '
                        r'data-data="[^"]*" data-grad="" data-example="(\d+)"', page.svg)
    outs = {(label, int(k)): node for node, label, k in tagged if label.endswith(".out")}
    for k, found in enumerate(passes):
        for neuron, out in found.items():
            node = outs[(f"{neuron}.out", k)]
            info = data["nodes"][node]
            assert info["example"] == k and info["data"] == f"{out.data:.6g}"
            assert info["name"] == f"{neuron}.out[example {k}]"  # the texts say which pass they mean
    titles = [s["title"] for s in data["steps"] if s["node"] == outs[("L1.N0.out", 2)]]
    assert titles and all("(example 2)" in t for t in titles)
    assert 'data-example="' not in page.svg.split('data-label="L1.N0.w0"', 1)[1].split(">", 1)[0]
    assert "· example 2" in page.svg  # the box itself says it


@needs_renderer
def test_draw_and_explore_count_the_same_nodes_and_say_what_they_count():
    loss, _ = lecture_loss()
    drawing, page = draw(loss, max_nodes=400), explore(loss, max_nodes=400)
    assert drawing.count == page.count and drawing.node_count == 302
    assert "302 nodes (182 Values, 120 ops)" in repr(drawing) and "302 nodes (182 Values, 120 ops)" in repr(page)
    collapsed = draw(loss, collapse_neurons=True)
    assert f"{collapsed.node_count} nodes (36 neuron boxes, " in repr(collapsed)
    with pytest.raises(ValueError, match=r"302 nodes \(182 Values, 120 ops\).*max_nodes=300"):
        explore(loss, max_nodes=300)
    with pytest.raises(ValueError, match=r"302 nodes \(182 Values, 120 ops\).*max_nodes=300"):
        draw(loss, max_nodes=300)


@needs_renderer
@pytest.mark.parametrize("bias", [True, False])
def test_the_delta_row_shows_the_bias_only_when_the_neuron_has_one(bias):
    model = MLP(2, [2, 1], bias=bias, seed=3)
    x, t = [0.5, -0.25], 0.75
    loss = squared_error(model(x), t)
    loss.backward()
    page = explore(loss, model=model, x=x, t=t)
    rows = [info["delta"] for info in page.data.nodes.values() if info["delta"]]
    symbols = [info["symbol"] for info in page.data.nodes.values() if info["symbol"] and "net_j =" in info["symbol"]]
    assert rows and symbols
    assert all(("+ b_j" in text) == bias for text in rows + symbols)
    net = next(v for v in forward_order(loss) if v.label == "L2.N0.net")
    assert ("+ b_j" in (describe_node(net) or "")) == bias


def test_explain_names_each_pass_with_its_example():
    loss, passes = lecture_loss()
    from autograd_mini import explain

    w = next(v for v in forward_order(loss) if v.label == "L3.N0.w0")
    report = explain(loss, w)
    assert report.path_count == 4
    for k, found in enumerate(passes):  # path through example k's output: its factor is 2 (y_k - t_k)
        path = next(p for p in report.paths if any(e.input is found["L3.N0"] for e in p.edges))
        assert f"L3.N0.out[example {k}]" in str(report)
        assert path.factors[-1] == pytest.approx(found["L2.N0"].data)  # d dot/d w0 = that pass's O_i
    assert "L3.N0.out <-" not in str(report)  # never a bare, ambiguous name
