"""`explore`: the page's data against the engine, its self-containment, saving, Jupyter.

The page driven in a real browser is tested in test_explore_browser.py.
"""

import json
import os
import re
import sys

import pytest
from hypothesis import given, settings

from autograd_mini import Explorer, Value, explore, ops
from autograd_mini.graph import reverse_topological_order
from autograd_mini.nn import MLP
from autograd_mini.nn.losses import squared_error
from autograd_mini.testing import expressions
from autograd_mini.value import apply
from autograd_mini.views.explorer.sharing import unshared


def neuron_loss():
    """One sigmoid neuron with squared error: E = 1/2 (t - sigmoid(w1 x1 + w2 x2 + b))^2."""
    x1, x2 = Value(0.05, label="x1"), Value(0.10, label="x2")
    w1, w2, b = Value(0.15, label="w1"), Value(0.20, label="w2"), Value(0.35, label="b")
    y = (w1 * x1 + w2 * x2 + b).sigmoid()
    return squared_error(y, 0.01), [x1, x2, w1, w2, b]


def mlp_loss(nouts=(3, 1), x=(0.5, -0.3), t=0.25):
    model = MLP(len(x), list(nouts), seed=1)
    return squared_error(model(list(x)), t), model, list(x), t


def needs_delta_table():
    import autograd_mini.nn.delta

    if not hasattr(autograd_mini.nn.delta, "delta_table"):
        pytest.skip("delta_table (contract 3, helper views) is not merged yet")


def replay(payload, k):
    """The gradients the page shows after k steps: the step changes applied in order."""
    grads = {}
    for s in payload["steps"][:k]:
        grads.update(s["grad"])
    return grads


def graph_nodes(root):
    return reverse_topological_order(root)


def test_last_step_shows_exactly_the_gradients_backward_leaves():
    loss, model, _, _ = mlp_loss()
    page = explore(loss)
    loss.backward()
    payload = page.data.payload()
    shown = replay(payload, len(payload["steps"]))
    ids = {node["name"]: i for i, node in payload["nodes"].items()}
    constants = {i for i, node in payload["nodes"].items() if node["constant"]}
    assert len(constants) == 3  # x (2 inputs) and t lifted into the graph: requires_grad=False
    assert set(shown) == set(payload["nodes"]) - constants  # every other node has a gradient at the end
    for p in model.parameters():
        assert shown[ids[p.label]][1] == repr(p.grad)
        assert float(shown[ids[p.label]][1]) == p.grad


def test_explore_leaves_the_graph_as_it_was():
    loss, leaves = neuron_loss()
    labels = [v.label for v in graph_nodes(loss)]
    explore(loss)
    assert all(v.grad == 0.0 for v in graph_nodes(loss))
    assert [v.label for v in graph_nodes(loss)] == labels  # the temporary names are taken back
    loss.backward()
    before = [v.grad for v in leaves]
    explore(loss)
    assert [v.grad for v in leaves] == before


def test_steps_follow_forward_then_the_engines_backward_order():
    loss, _ = neuron_loss()
    page = explore(loss)
    payload = page.data.payload()
    names = {i: n["name"] for i, n in payload["nodes"].items()}
    steps = payload["steps"]
    forward = [s for s in steps if s["phase"] == "forward"]
    backward = [s for s in steps if s["phase"] == "backward"]
    interior = reverse_topological_order(loss, leaves=[])
    assert len(forward) == len(interior) == len(backward)
    assert payload["backwardStart"] == len(forward)
    assert [names[s["node"]] for s in backward] == [v.label or names[s["node"]] for v, s in zip(interior, backward)]
    assert steps[0]["phase"] == "forward" and steps[-1]["phase"] == "done"
    # forward: inputs are computed before the node that reads them
    computed = {i for i, n in payload["nodes"].items() if n["kind"] in ("leaf", "constant")}
    for s in forward:
        assert all(src in computed for src, dst in s["edges"] if dst.endswith("_op") and src in payload["nodes"])
        computed.update(s["data"])
    # backward: the root's step comes first and is seeded with 1
    assert backward[0]["grad"][backward[0]["node"]] == ["1", "1.0"]


def test_a_backward_step_writes_out_g_times_local_and_the_running_sum():
    a = Value(3.0, label="a")
    y = a * a + a  # a has three consumers' terms: two through the mul, one through the add
    y.label = "y"
    payload = explore(y).data.payload()
    text = "\n".join(line for s in payload["steps"] for line in s["lines"])
    assert "to a: g x local = 1 x 1 = 1; grad a = 1  (term 1 of 3 in the sum (1.8))" in text
    assert "to a (input 0): g x local = 1 x 3 = 3; grad a = 1 + 3 = 4  (term 2 of 3 in the sum (1.8))" in text
    assert "to a (input 1): g x local = 1 x 3 = 3; grad a = 4 + 3 = 7  (term 3 of 3 in the sum (1.8))" in text
    y.backward()
    assert a.grad == 7.0


def test_forward_steps_show_the_ops_forward_with_names_and_values():
    loss, _ = neuron_loss()
    lines = [line for s in explore(loss).data.payload()["steps"] for line in s["lines"]]
    assert any(re.fullmatch(r"#\d+ = w1 \* x1 = 0\.15 \* 0\.05 = 0\.0075", line) for line in lines)
    assert any(line.startswith("#") and "sigmoid(0.3775) = 0.59327" in line for line in lines)


def test_nodes_carry_data_label_and_empty_data_grad_in_the_svg():
    loss, _ = neuron_loss()
    page = explore(loss)
    tags = re.findall(r'<g id="am_(n\d+)" class="node value" data-node="(n\d+)" data-label="([^"]*)" '
                      r'data-data="[^"]*" data-grad="">', page.svg)
    assert len(tags) == len(page.data.nodes)
    assert {label for _, _, label in tags} >= {"x1", "x2", "w1", "w2", "b"}
    assert all(a == b for a, b, _ in tags)


def test_the_page_is_one_self_contained_document():
    loss, _ = neuron_loss()
    doc = explore(loss).html()
    assert doc.startswith("<!DOCTYPE html>")
    assert "<link" not in doc and "@import" not in doc and "url(" not in doc
    assert not re.search(r"""\b(?:src|href)\s*=""", doc)
    assert "Content-Security-Policy" in doc and "default-src 'none'" in doc
    assert doc.count("<script") == 2 and doc.count("</script>") == 2
    assert "<svg" in doc and 'id="explorer-data"' in doc


def test_hostile_labels_cannot_break_out_of_the_json_or_the_svg():
    label = "</script><!-- <b>&\u2028\u2029\"'"
    a = Value(1.5, label=label)
    y = a * a
    page = explore(y)
    doc = page.html()
    assert doc.count("</script>") == 2 and "<!--  <b>" not in doc
    block = doc.split('<script type="application/json" id="explorer-data">', 1)[1].split("</script>", 1)[0]
    assert "\u2028" not in block and "<" not in block
    data = unshared(json.loads(block))
    assert label in {n["name"] for n in data["nodes"].values()}
    assert 'data-label="&lt;/script&gt;&lt;!-- &lt;b&gt;&amp;' in page.svg


def test_neuron_nodes_show_their_delta_table_row_with_equation_numbers():
    needs_delta_table()
    loss, model, x, t = mlp_loss()
    nodes = explore(loss, model=model, x=x, t=t).data.payload()["nodes"]
    by_name = {n["name"]: n for n in nodes.values()}
    out = by_name["L2.N0.out"]
    assert out["neuron"] == "L2.N0"
    for eq in ("(1.1)", "(1.2)", "(1.3)", "(1.5)", "(1.6)"):
        assert eq in out["delta"]
    assert "(1.2)" in out["symbol"] and by_name["L1.N0.w1"]["symbol"].startswith("w_ij, i = input 1, j = L1.N0")
    hidden = by_name["L1.N0.w1"]["delta"]
    assert "hidden layer 1" in hidden and "(1.7), (1.8)" in hidden
    from autograd_mini.nn.delta import delta_table

    row = delta_table(model, x, t).row("L1.N2")
    assert f"delta_j  = dE/dO_j * O_j (1 - O_j) = {row.delta:.6g}" in by_name["L1.N2.net"]["delta"]


def test_a_node_from_another_input_gets_no_row():
    needs_delta_table()
    loss, model, x, t = mlp_loss()
    nodes = explore(loss, model=model, x=[0.9, 0.9], t=t).data.payload()["nodes"]
    net = next(n for n in nodes.values() if n["name"] == "L2.N0.net")
    assert "another input" in net["delta"]


def test_the_explain_report_of_each_node_uses_the_pages_names():
    loss, _ = neuron_loss()
    nodes = explore(loss).data.payload()["nodes"]
    w1 = next(n for n in nodes.values() if n["name"] == "w1")
    assert "path 1" in w1["explain"] and "w1" in w1["explain"]
    unnamed = [n["name"] for n in nodes.values() if n["name"].startswith("#")]
    assert any(name in w1["explain"] for name in unnamed)


def test_large_graphs_are_refused_with_the_count():
    x = Value(1.0)
    y = x
    for _ in range(300):
        y = y * 1.0001
    with pytest.raises(ValueError, match=r"explore: the graph has 901 nodes .* max_nodes=500; pass max_nodes=901"):
        explore(y)
    assert explore(y, max_nodes=901).steps == 2 * 300 + 1


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_bad_max_nodes(bad):
    with pytest.raises(ValueError, match="explore: max_nodes must be a positive int"):
        explore(Value(1.0), max_nodes=bad)


def test_bad_arguments_name_the_problem():
    with pytest.raises(TypeError, match="explore needs a Value, got float"):
        explore(1.0)
    loss, model, _, _ = mlp_loss()
    with pytest.raises(TypeError, match="model needs x and t"):
        explore(loss, model=model)


def test_a_leaf_root_has_just_the_seed():
    page = explore(Value(2.0, label="c"))
    steps = page.data.payload()["steps"]
    assert [s["phase"] for s in steps] == ["backward", "done"]
    assert steps[0]["grad"] == {"n0": ["1", "1.0"]}


def test_unreached_nodes_end_with_grad_zero():
    x = Value(0.5, label="x")
    z = x * 2.0
    y = apply(ops.STEP, z) + x  # step passes no gradient: z ends with 0, as backward leaves it
    payload = explore(y).data.payload()
    shown = replay(payload, len(payload["steps"]))
    y.backward()
    by_name = {n["name"]: shown[i] for i, n in payload["nodes"].items() if i in shown}
    assert z.grad == 0.0 and x.grad == 1.0
    z_name = next(n["name"] for n in payload["nodes"].values() if n["forward"].endswith("= 0.5 * 2 = 1"))
    assert by_name[z_name] == ["0", "0.0"] and by_name["x"] == ["1", "1.0"]
    constant = next(n["name"] for n in payload["nodes"].values() if n["forward"].endswith("= 2 (given)"))
    # z got its 0 from step's rule; the constant 2.0 is listed apart, as never getting a gradient
    assert payload["steps"][-1]["lines"][1] == f"Constants (requires_grad=False), no gradient: {constant}."
    assert constant not in by_name  # 2.0 is a constant: it never shows a gradient


def test_nodes_no_gradient_reaches_are_named_and_end_with_grad_zero():
    x, w = Value(0.5, label="x"), Value(2.0, label="w")
    y = apply(ops.STEP, x * w) + x  # x * w gets 0 from step, so its rule is skipped: w is never reached
    payload = explore(y).data.payload()
    shown = replay(payload, len(payload["steps"]))
    y.backward()
    by_name = {n["name"]: shown[i] for i, n in payload["nodes"].items()}
    assert w.grad == 0.0 and by_name["w"] == ["0", "0.0"]
    assert payload["steps"][-1]["lines"][1] == "Nothing reached w (no differentiable path, or only zero " \
        "gradients): grad 0."


def test_save_writes_the_page_atomically(tmp_path, monkeypatch):
    module = sys.modules["autograd_mini.views.explorer.page"]  # the package's `explore` is the function

    calls = []
    real = module.atomic_write
    monkeypatch.setattr(module, "atomic_write", lambda path, data: calls.append(path) or real(path, data))
    loss, _ = neuron_loss()
    page = explore(loss)
    path = page.save(tmp_path / "graph.html")
    assert calls == [tmp_path / "graph.html"]
    assert path.read_text(encoding="utf-8") == page.html()


def test_repr_html_is_an_isolated_iframe():
    page = explore(Value(2.0) * Value(3.0))
    shown = page._repr_html_()
    assert shown.startswith("<iframe sandbox=\"allow-scripts\" srcdoc=\"&lt;!DOCTYPE html&gt;")
    assert '"' not in shown.split('srcdoc="', 1)[1].split('" style=', 1)[0]
    assert isinstance(page, Explorer) and "steps" in repr(page)


def test_the_script_and_styles_are_package_files():
    from importlib import resources

    from autograd_mini.views.explorer.page import SCRIPT_FILES

    files = resources.files("autograd_mini.views.explorer")
    css = files.joinpath("explorer.css").read_text(encoding="utf-8")
    doc = explore(Value(2.0) * Value(3.0)).html()
    assert css in doc
    assert SCRIPT_FILES[0] == "explorer.js" and len(SCRIPT_FILES) == 3
    for name in SCRIPT_FILES:  # each file whole, in order, in the page's one script
        js = files.joinpath(name).read_text(encoding="utf-8")
        assert js in doc and doc.count("<script>") == 1
        assert "fetch(" not in js and "XMLHttpRequest" not in js and "import(" not in js


def test_jupyter_cell_shows_the_explorer_as_html(tmp_path):
    """A notebook cell ending in explore(y) gives text/html, run by nbclient in this venv's python."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    kernels = tmp_path / "kernels" / "autograd-mini-test"
    kernels.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "autograd_mini test", "language": "python"}
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "from autograd_mini import Value, explore\n"
        "a = Value(2.0, label='a'); b = Value(3.0, label='b')\n"
        "y = a * b + a\n"
        "explore(y)"))
    env_before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(tmp_path)
    try:
        nbclient.NotebookClient(nb, kernel_name="autograd-mini-test", timeout=120,
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_before is None:
            del os.environ["JUPYTER_PATH"]
        else:
            os.environ["JUPYTER_PATH"] = env_before
    outputs = nb.cells[0].outputs
    assert [o["output_type"] for o in outputs] == ["execute_result"]
    shown = outputs[0]["data"]["text/html"]
    assert shown.startswith('<iframe sandbox="allow-scripts" srcdoc=')
    assert "explorer-data" in shown and "data-label=&quot;a&quot;" in shown


def test_a_graph_backward_cannot_pass_raises_the_engines_error():
    from autograd_mini import DomainError

    x = Value(0.0, label="x")
    y = x.sqrt()
    with pytest.raises(DomainError, match=r"backward through sqrt\(0\.0\)"):
        explore(y)
    with pytest.raises(DomainError, match=r"backward through sqrt\(0\.0\)"):
        y.backward()  # the same error, word for word


@settings(max_examples=60, deadline=None)
@given(expressions(max_leaves=3, max_ops=8))
def test_random_graphs_end_with_backwards_gradients_bit_for_bit(expr):
    """Every node, leaves and interior, ends with the repr of the .grad backward() leaves."""
    from autograd_mini.graph import forward_order

    root = expr(*expr.inputs)
    payload = explore(root).data.payload()
    shown = replay(payload, len(payload["steps"]))
    root.backward()
    order = forward_order(root)
    assert len(order) == len(payload["nodes"])
    for i, v in enumerate(order):
        if v.requires_grad:
            assert shown[f"n{i}"][1] == repr(v.grad), (i, v)
        else:  # a constant: backward() never writes its .grad, and the page shows none
            assert f"n{i}" not in shown and v.grad == 0.0 and payload["nodes"][f"n{i}"]["constant"]


def test_default_max_nodes_is_draws():
    from autograd_mini import explore as explore_function
    from autograd_mini.views.draw import DEFAULT_MAX_NODES

    assert sys.modules["autograd_mini.views.explorer.page"].DEFAULT_MAX_NODES == DEFAULT_MAX_NODES
    assert explore_function.__kwdefaults__["max_nodes"] == DEFAULT_MAX_NODES


def test_constants_receive_nothing_as_in_backward():
    x = Value(0.5, label="x")
    y = x * 2.0  # 2.0 is lifted as a constant: backward never writes its .grad
    lines = [line for s in explore(y).data.payload()["steps"] for line in s["lines"]]
    assert any("a constant (requires_grad=False), nothing added" in line for line in lines)
    c = Value(3.0, label="c", requires_grad=False) * 2.0
    steps = explore(c).data.payload()["steps"]
    assert steps[1]["lines"] == ["#1 is a constant: backward() does nothing"] and steps[1]["grad"] == {}


def test_the_names_of_unlabelled_nodes_are_the_numbers_in_their_boxes():
    x = Value(0.5, label="x")
    y = (x * 2.0 + x.tanh()) * x
    svg = explore(y).svg
    groups = re.findall(r'data-label="([^"]*)" data-data="[^"]*" data-grad="">(.*?)</g>', svg, re.S)
    assert len(groups) == 6  # x, 2.0, x * 2.0, tanh x, the sum, the product
    for label, body in groups:
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", body)
        assert texts[0].startswith("#")  # the box's first cell: its number in backward's order
        if label.startswith("#"):
            assert texts[0] == label
        else:
            assert texts[1] == label


def view_box(svg):
    return [float(v) for v in re.search(r'viewBox="([^"]*)"', svg)[1].split()[2:]]


def test_the_layout_is_the_one_that_shows_the_graph_largest():
    loss, _ = neuron_loss()
    by_rank = {d: view_box(explore(loss, rankdir=d).svg) for d in ("LR", "TB")}
    # draw's two layouts: LR wider than TB, TB taller than LR (TB boxes are two rows: label, then data | grad)
    assert by_rank["LR"][0] > by_rank["TB"][0] and by_rank["TB"][1] > by_rank["LR"][1]
    assert view_box(explore(loss).svg) == by_rank["TB"]  # a small graph: on top of each other it fits a window
    big, *_ = mlp_loss(nouts=(8, 8, 1), x=(0.1, 0.2, 0.3))
    assert view_box(explore(big).svg) == view_box(explore(big, rankdir="LR").svg)  # wide layers: side by side
    with pytest.raises(ValueError, match="rankdir must be 'LR', 'TB' or None.*'BT'"):
        explore(loss, rankdir="BT")


def test_an_svg_without_the_dot_ids_is_a_render_error() -> None:
    """A renderer that drops DOT ids leaves the page nothing to find: a RenderError, not a blank page."""
    from autograd_mini.views.explorer.page import _tag_nodes
    from autograd_mini.views.render import RenderError

    x = Value(1.0, label="x")
    with pytest.raises(RenderError, match="lacks the ids of 1 nodes"):
        _tag_nodes("<svg></svg>", [x], {x: "n0"}, {x: "x"})


# --- forward mode: explore(root, forward_mode=x) (issue 23, item 3) -------------------------------
def _shared(a, b):
    """A graph with a shared subexpression and a node used twice; its interior nodes, inputs first."""
    h = a * b
    u = h * h
    v = u + a.tanh() * h
    w = v / (1.0 + b * b)
    return h, u, v, w


def test_forward_mode_tangents_equal_jvp_and_the_final_tangent_the_gradient():
    import math

    from autograd_mini.forward import jvp
    from autograd_mini.graph import forward_order

    a, b = Value(0.7, label="a"), Value(-1.2, label="b")
    parts = _shared(a, b)
    for label, v in zip("huvw", parts):
        v.label = label
    root = parts[-1]
    before = [(v.data, v.grad) for v in forward_order(root)]
    for seed, direction in ((a, [1.0, 0.0]), (b, [0.0, 1.0])):
        page = explore(root, forward_mode=seed)
        payload = page.data.payload()
        ids = {v.label: i for i, v in enumerate(forward_order(root)) if v.label}
        assert payload["tangentOf"] == f"n{ids[seed.label]}"
        _, tangents = jvp(_shared, [0.7, -1.2], direction)
        exact = {s["node"]: float(s["tangent"][s["node"]][1]) for s in payload["steps"][:payload["backwardStart"]]}
        for label, t in zip("huvw", tangents):
            assert math.isclose(exact[f"n{ids[label]}"], t, rel_tol=1e-12, abs_tol=1e-15), label
        nodes = payload["nodes"]
        assert float(nodes[f"n{ids[seed.label]}"]["tangent"][1]) == 1.0
        other = b if seed is a else a
        assert float(nodes[f"n{ids[other.label]}"]["tangent"][1]) == 0.0
        root.backward()
        assert math.isclose(exact[f"n{ids['w']}"], seed.grad, rel_tol=1e-12)
        for v in forward_order(root):
            v.grad = 0.0
        text = payload["steps"][payload["backwardStart"] - 1]["lines"][-1]
        assert text.startswith("t_w = ") and text.endswith("(forward mode)")
        assert "Forward mode gave the same number" in " ".join(payload["steps"][-1]["lines"])
    assert [(v.data, v.grad) for v in forward_order(root)] == before  # a view only reads


def test_forward_mode_leaves_the_page_as_it_was_apart_from_tangents():
    loss, leaves = neuron_loss()
    plain, fwd = explore(loss).data.payload(), explore(loss, forward_mode=leaves[2]).data.payload()
    assert "tangentOf" not in plain and not any("tangent" in s for s in plain["steps"])
    assert not any("tangent" in n for n in plain["nodes"].values())
    assert len(plain["steps"]) == len(fwd["steps"]) and plain["backwardStart"] == fwd["backwardStart"]
    k = plain["backwardStart"]
    assert plain["steps"][k:-1] == fwd["steps"][k:-1]  # the backward pass is untouched
    for p, f in zip(plain["steps"][:k], fwd["steps"][:k]):
        assert f["lines"][:len(p["lines"])] == p["lines"] and f["node"] == p["node"] and f["data"] == p["data"]
    assert 'data-tangent-of="' not in explore(loss).html() and 'data-tangent-of="' in explore(
        loss, forward_mode=leaves[2]).html()


def test_forward_mode_from_an_interior_node_and_its_errors():
    import math

    from autograd_mini import explain

    a, b = Value(0.7, label="a"), Value(-1.2, label="b")
    h, _, _, w = _shared(a, b)
    page = explore(w, forward_mode=h).data.payload()
    last = page["steps"][page["backwardStart"] - 1]
    assert math.isclose(float(last["tangent"][last["node"]][1]), explain(w, h).total, rel_tol=1e-12)
    seed_step = next(s for s in page["steps"] if s["node"] == page["tangentOf"])
    assert "the seed" in seed_step["lines"][-1]
    with pytest.raises(TypeError, match="forward_mode must be a Value"):
        explore(w, forward_mode=0.7)
    with pytest.raises(ValueError, match="is not in the graph"):
        explore(w, forward_mode=Value(1.0))
    const = Value(2.0, requires_grad=False, label="c")
    with pytest.raises(ValueError, match="is a constant"):
        explore(w * const, forward_mode=const)


def test_the_pages_sharing_restores_any_payload_exactly():
    from autograd_mini.views.explorer.sharing import MIN_SHARED, shared

    report = "path 1: a <- b\n    d a/d b = 2   [mul]\n" * 3
    payload = {"nodes": {"n0": {"explain": report, "name": "a\nb"}, "n1": {"explain": report + "more"}},
               "steps": [["x" * MIN_SHARED] * 3, [["y" * MIN_SHARED, 1.5, None, True]] * 2, "z" * 5, "z" * 5],
               "hostile": '</script>\u2028"@"'}
    packed = shared(payload)
    assert unshared(packed) == payload
    entries = [json.dumps(e) for e in packed["shared"]]
    assert len(entries) == len(set(entries))  # each piece once
    assert json.dumps("x" * MIN_SHARED) in entries and json.dumps("z" * 5) not in entries  # short pieces stay
    assert json.dumps("    d a/d b = 2   [mul]") in entries  # a report's repeated line, stored once
