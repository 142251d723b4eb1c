"""The explorer's neuron view and the typeset chain rule, checked in Python (no browser).

Oracles: the lecture's 4-example loss recomputed by hand from the model's
weights (net_j = sum_i w_ij O_i + b_j, O_j = tanh(net_j)), the engine's own
gradients after a fresh backward(), and the delta recursion (1.8) summed
from the payload's own numbers.
"""

import math
import re
import shutil
import subprocess

import pytest

from autograd_mini import Value, explain, explore, sum_of
from autograd_mini.graph import forward_order
from autograd_mini.nn import MLP
from autograd_mini.views.explorer.data import tone
from autograd_mini.views.explorer.sharing import unshared
from autograd_mini.views.mathml import latex, mi, plain, sub

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def lecture_loss(**activations):
    """micrograd's lecture: MLP(3, [4, 4, 1]) (tanh, linear output there; sigmoid by default here)."""
    model = MLP(3, [4, 4, 1], seed=0, **activations)
    outs = [model(x) for x in XS]
    loss = sum_of([(out - y) ** 2 for out, y in zip(outs, YS)])
    return loss, model, outs


def lecture_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, w1


def by_hand(model, x):
    """Each neuron's (net, O) for input x, from the weights alone."""
    found, inputs = {}, list(x)
    for layer_index, layer in enumerate(model.layers, 1):
        outs = []
        for j, neuron in enumerate(layer.neurons):
            net = math.fsum(w.data * xi for w, xi in zip(neuron.w, inputs)) + (neuron.b.data if neuron.b else 0.0)
            out = {"tanh": math.tanh(net), "sigmoid": 1 / (1 + math.exp(-net))}.get(neuron.activation, net)
            found[f"L{layer_index}.N{j}"] = (net, out)
            outs.append(out)
        inputs = outs
    return found


@pytest.mark.parametrize("activations", [{}, {"activation": "tanh", "output_activation": "linear"}])
def test_one_box_per_neuron_per_example_with_its_own_numbers(activations):
    loss, model, outs = lecture_loss(**activations)
    page = explore(loss, max_nodes=400)
    assert page.view == "neurons" and page.neurons is not None
    nodes = page.neurons.payload["nodes"]
    neurons = [k for k, n in nodes.items() if n["kind"] == "neuron"]
    assert len(neurons) == 9 * 4
    for e, x in enumerate(XS):
        for name, (net, out) in by_hand(model, x).items():
            info = nodes[f"{name}@{e}"]
            assert info["neuron"] == name and info["example"] == e
            assert math.isclose(float(info["netExact"]), net, rel_tol=1e-12, abs_tol=1e-12)
            assert math.isclose(float(info["outExact"]), out, rel_tol=1e-12, abs_tol=1e-12)
    # every box's data-neuron and data-example are in the SVG, once each
    svg = page.neurons.svg
    for info in nodes.values():
        if info["kind"] == "neuron":
            assert len(re.findall(rf'data-neuron="{info["neuron"]}" data-example="{info["example"]}"', svg)) == 1


def test_backward_numbers_are_the_engines_and_follow_the_delta_recursion():
    loss, model, outs = lecture_loss()
    nodes = explore(loss, max_nodes=400).neurons.payload["nodes"]
    edges = explore(loss, max_nodes=400).neurons.payload["edges"]
    loss.backward()
    for e, out in enumerate(outs):
        for v in forward_order(out):
            if v.label and v.label.endswith(".out"):
                assert nodes[f"{v.label[:-4]}@{e}"]["doutExact"] == repr(v.grad)
            if v.label and v.label.endswith(".net"):
                assert nodes[f"{v.label[:-4]}@{e}"]["deltaExact"] == repr(v.grad)
    # (1.8): a hidden neuron's dE/dO_j is the sum over the next layer of w_jl delta_l
    for e in range(4):
        for j in range(4):
            total = sum(model.layers[1].neurons[k].w[j].data * float(nodes[f"L2.N{k}@{e}"]["deltaExact"])
                        for k in range(4))
            assert math.isclose(total, float(nodes[f"L1.N{j}@{e}"]["doutExact"]), rel_tol=1e-9, abs_tol=1e-15)
    # (1.5): each example's dE/dw_ij = delta_j O_i, and the weights' grads are their sums over the examples
    w = model.layers[2].neurons[0].w[1]
    per_example = [float(nodes[f"L3.N0@{e}"]["deltaExact"]) * float(nodes[f"L2.N1@{e}"]["outExact"])
                   for e in range(4)]
    assert math.isclose(sum(per_example), w.grad, rel_tol=1e-9)
    for e in range(4):
        edge = edges[f"L2.N1@{e}>L3.N0@{e}"]
        assert math.isclose(float(edge["g"]), per_example[e], rel_tol=1e-3)
        assert edge["gSign"] == ("pos" if per_example[e] > 0 else "neg")
        assert edge["wSign"] == ("pos" if w.data > 0 else "neg")


def test_edge_widths_grow_with_the_weight_and_tones_with_the_gradient():
    loss, model, _ = lecture_loss()
    edges = [e for e in explore(loss, max_nodes=400).neurons.payload["edges"].values() if e["weight"]]
    by_size = sorted(edges, key=lambda e: abs(float(e["wExact"])))
    assert [e["wWidth"] for e in by_size] == sorted(e["wWidth"] for e in by_size)
    assert by_size[0]["wWidth"] < by_size[-1]["wWidth"]
    assert tone(0.0, 1.0) == "zero" and tone(1.0, 1.0) == "pos4" and tone(-0.1, 1.0) == "neg1"
    assert tone(-0.6, 1.0) == "neg3" and tone(float("inf"), 1.0) == "pos4"


def test_steps_go_neuron_by_neuron_forward_then_delta_by_delta():
    loss, *_ = lecture_loss()
    page = explore(loss, max_nodes=400)
    steps = page.neurons.payload["steps"]
    assert sorted(steps) == ["0", "1", "2", "3"]
    mine = steps["2"]
    forward = [s["key"] for s in mine if s["phase"] == "forward"]
    backward = [s["key"] for s in mine if s["phase"] == "backward"]
    assert forward == [f"L{la}.N{j}@2" for la, n in ((1, 4), (2, 4), (3, 1)) for j in range(n)] + ["loss@2"]
    assert backward == ["L3.N0@2"] + [f"L{la}.N{j}@2" for la in (2, 1) for j in range(4)]
    assert mine[-1]["phase"] == "done" and mine[-1]["opStep"] == page.steps
    # each step cites the derivation's equations
    eqs = {(s["key"], s["phase"]): " ".join(line["eq"] for line in s["lines"]) for s in mine if s["key"]}
    assert "(1.1)" in eqs["L1.N0@2", "forward"] and "(1.2)" in eqs["L1.N0@2", "forward"]
    assert all(f"({n})" in eqs["L3.N0@2", "backward"] for n in ("1.6", "1.3", "1.5"))
    assert all(f"({n})" in eqs["L1.N0@2", "backward"] or f"{n})" in eqs["L1.N0@2", "backward"]
               for n in ("1.7", "1.8", "1.3", "1.5"))
    # the op steps the view keeps in step are in range and end at the end
    assert all(0 <= s["opStep"] <= page.steps for s in mine)


def test_a_graph_without_nn_labels_opens_in_the_op_view():
    o, _ = lecture_neuron()
    page = explore(o)
    assert page.view == "ops" and page.neurons is None
    assert 'data-view="ops"' in page.html() and 'id="view-neurons"' not in page.html()
    with pytest.raises(ValueError, match="view='neurons' needs a graph built from nn layers"):
        explore(o, view="neurons")
    with pytest.raises(ValueError, match="view must be 'neurons', 'ops' or None"):
        explore(o, view="layers")


def test_the_views_write_nothing():
    loss, model, _ = lecture_loss()
    before = [(p.data, p.grad, p.label) for p in model.parameters()]
    explore(loss, max_nodes=400).html()
    assert [(p.data, p.grad, p.label) for p in model.parameters()] == before


# --- the chain rule typeset -------------------------------------------------------------------
KNOWN = {"begin", "end", "frac", "partial", "text", "tag", "notag", "times", "cdot", "delta", "varphi", "sum",
         "leftarrow", "ldots", "documentclass", "usepackage", "textbackslash", "textasciicircum",
         "textasciitilde", "#", "$", "%", "&", "_", "{", "}", "\\"}


def check_latex(text):
    """Balanced braces, matched environments, only known commands."""
    depth = 0
    for k, c in enumerate(text):
        if c == "{" and (k == 0 or text[k - 1] != "\\"):
            depth += 1
        elif c == "}" and (k == 0 or text[k - 1] != "\\"):
            depth -= 1
        assert depth >= 0, text[:k]
    assert depth == 0
    commands = set(re.findall(r"\\([A-Za-z]+|.)", text))
    assert commands <= KNOWN, commands - KNOWN
    assert re.findall(r"\\begin\{(\w+\*?)\}", text) == re.findall(r"\\end\{(\w+\*?)\}", text)[::-1] or \
        sorted(re.findall(r"\\begin\{(\w+\*?)\}", text)) == sorted(re.findall(r"\\end\{(\w+\*?)\}", text))


def test_latex_gives_the_same_report_and_parses():
    o, w1 = lecture_neuron()
    ex = explain(o, w1)
    text = ex.latex()
    check_latex(text)
    assert text.startswith(r"\begin{align*}") and text.rstrip().endswith(r"\end{align*}")
    assert r"\frac{\partial o}{\partial n}" in text  # the path's first factor, d o/d n
    assert r"\tag*{(1.10)}" in text  # a path of several edges
    # the same numbers as the text report: 0.5 (tanh), 2 (x1), product and total 1
    assert "0.5 \\times 1 \\times 1 \\times 2 = 1" in text
    assert f"= {ex.total:.6g}" in text
    doc = ex.latex(standalone=True)
    check_latex(doc)
    assert doc.startswith("\\documentclass{article}") and "\\usepackage{amsmath}" in doc


def test_latex_escapes_labels_and_sums_two_paths():
    a = Value(3.0, label="a_b#1 & 50%")
    y = a * a
    text = explain(y, a).latex()
    check_latex(text)
    assert r"a\_b\#1 \& 50\%" in text
    assert r"\text{total} = 3 + 3 = 6 \tag*{(1.8)}" in text


def test_latex_of_an_accumulation_and_an_nn_parameter_parse():
    loss, model, _ = lecture_loss()
    for p in (model.layers[0].neurons[0].w[0], model.layers[2].neurons[0].b):
        ex = explain(loss, p, limit=4)
        check_latex(ex.latex())
        assert ex.formulas()[0].eq  # the total, numbered


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX installed: the LaTeX is parsed, not compiled")
def test_latex_compiles(tmp_path):
    o, w1 = lecture_neuron()
    loss, model, _ = lecture_loss()
    reports = [explain(o, w1)] + [explain(loss, p, limit=4) for p in (model.layers[0].neurons[0].w[0],
                                                                      model.layers[2].neurons[0].b)]
    for k, ex in enumerate(reports):
        (tmp_path / f"r{k}.tex").write_text(ex.latex(standalone=True))
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"r{k}.tex"], cwd=tmp_path,
                       check=True, capture_output=True, timeout=120)
        assert (tmp_path / f"r{k}.pdf").stat().st_size > 1000


def test_formula_trees_read_as_text_and_latex():
    f = sub("δ", "j")
    assert plain(f) == "δ_j" and latex(f) == r"{\delta}_{j}"
    assert latex(mi("net")) == r"\text{net}"


def test_a_softmax_layer_is_left_to_the_op_view():
    model = MLP(2, [3, 2], output_activation="softmax", seed=1)
    outs = model.outputs([0.5, -0.2])
    loss = -(outs[1].log())
    page = explore(loss)
    assert page.neurons is None and page.view == "ops"


def test_the_page_embeds_formulas_in_their_short_form():
    import json
    import re as regex

    from autograd_mini.views.mathml import frac, mn, mo, packed, row

    tree = row(sub("δ", "j"), mo("="), frac(mn(1.5), mi("x")))
    assert packed(tree) == ["r", ["s", "iδ", "ij"], "o=", ["f", "n1.5", "ix"]]
    loss, *_ = lecture_loss()
    page = explore(loss, max_nodes=400)
    data = unshared(json.loads(regex.search(r'id="explorer-data">(.*?)</script>', page.html(), regex.S)[1]))
    line = data["neuronView"]["steps"]["0"][0]["lines"][0]
    assert line["math"][0] == "r" and line["eq"] == "(1.1)"
    # the Walkthrough keeps its trees: packing is a copy
    assert page.neurons.payload["steps"]["0"][0]["lines"][0]["math"][0] == "mrow"


def test_other_nn_graphs_get_a_neuron_view_or_fall_back_to_ops():
    from autograd_mini.nn.losses import squared_error

    relu = MLP(2, [3, 1], activation="relu", seed=1)
    page = explore(relu([0.5, -1.0]))  # the output itself as the root, no loss
    assert page.view == "neurons" and len(page.neurons.payload["steps"]["0"]) == 4 + 1 + 4 + 1
    loss = squared_error(relu([0.5, -1.0]), 1.0) + 0.01 * sum_of([p * p for p in relu.parameters()])
    nodes = explore(loss).neurons.payload["nodes"]
    loss.backward()  # a regularised loss: the deltas are still the engine's
    out = next(v for v in forward_order(loss) if v.label == "L2.N0.net")
    assert nodes["L2.N0@0"]["deltaExact"] == repr(out.grad)
    a, b = MLP(1, [1], seed=1), MLP(1, [1], seed=2)  # two models whose labels collide: op-level only
    assert explore(b([a([0.3])])).view == "ops"


def test_the_page_stores_each_repeated_piece_once_and_restores_it_exactly():
    import json
    import re as regex

    from autograd_mini.views.explorer.page import _pack_formulas, script_json

    loss, *_ = lecture_loss()
    page = explore(loss, max_nodes=400)
    full = _pack_formulas({**page.data.payload(), "neuronView": page.neurons.payload})
    packed = json.loads(regex.search(r'id="explorer-data">(.*?)</script>', page.html(), regex.S)[1])
    assert unshared(packed) == full
    entries = [json.dumps(e) for e in packed["shared"]]
    assert len(entries) == len(set(entries))  # each piece once
    # the explain reports' lines and fractions repeat across paths, examples and nodes: 2.32 MB -> 1.39 MB
    assert len(script_json(packed)) < 0.65 * len(script_json(full))
