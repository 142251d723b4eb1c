"""explain(): paths, local derivatives, totals against backward(), and the report."""

from __future__ import annotations

import functools
import math
import operator
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_mini import Explanation, Value, dot, explain, sum_of
from autograd_mini.engine import local_derivatives
from autograd_mini.errors import AutogradMiniError
from autograd_mini.graph import reverse_topological_order
from autograd_mini.nn import MLP
from autograd_mini.nn.losses import mse, squared_error
from autograd_mini.views.paths import PATH_COUNT_CAP, Edge, Path

UNARY = {
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "neg": lambda a: -a,
    "square": lambda a: a**2,
    "exp_tanh": lambda a: a.tanh().exp(),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.0 + b * b),
    "sum": lambda a, b: sum_of([a, b, a]),
    "dot": lambda a, b: dot([a, b], [b, b]),
}


@st.composite
def random_graph(draw: st.DrawFn) -> tuple[list[Value], list[Value]]:
    """Leaves and every node of a random DAG with shared subexpressions; the last node is the output."""
    leaves = [Value(draw(st.floats(-2, 2)), label=f"x{i}") for i in range(draw(st.integers(1, 3)))]
    nodes = list(leaves)
    for _ in range(draw(st.integers(1, 10))):
        pick = st.sampled_from(nodes)
        try:
            if draw(st.booleans()):
                node = UNARY[draw(st.sampled_from(sorted(UNARY)))](draw(pick))
            else:
                node = BINARY[draw(st.sampled_from(sorted(BINARY)))](draw(pick), draw(pick))
        except AutogradMiniError:
            assume(False)
        assume(abs(node.data) < 1e6)
        nodes.append(node)
    return leaves, nodes


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@given(random_graph())
def test_total_equals_backward_for_every_node(graph: tuple[list[Value], list[Value]]) -> None:
    leaves, nodes = graph
    out = nodes[-1]
    results = {id(n): explain(out, n) for n in nodes}
    out.backward()
    for node in nodes:
        ex = results[id(node)]
        expected = node.grad if node.op is not None or node is out or ex.path_count else 0.0
        assert close(ex.total, expected), (ex.method, ex.total, expected)


@given(random_graph())
def test_paths_are_products_of_table_factors(graph: tuple[list[Value], list[Value]]) -> None:
    leaves, nodes = graph
    out = nodes[-1]
    for leaf in leaves:
        ex = explain(out, leaf, limit=10_000)
        assert ex.method == "paths" and len(ex.paths) == ex.path_count
        for path in ex.paths:
            if path.edges:
                assert path.edges[0].consumer is out and path.edges[-1].input is leaf
            for upper, lower in zip(path.edges, path.edges[1:], strict=False):
                assert upper.input is lower.consumer
            for e in path.edges:
                assert e.consumer.inputs[e.position] is e.input
                assert e.local == local_derivatives(e.consumer)[e.position]
            assert path.product == pytest.approx(math.prod(path.factors), rel=1e-12)
        assert close(ex.total, math.fsum(p.product for p in ex.paths))
        forced = explain(out, leaf, limit=1)
        if ex.path_count > 1:
            assert forced.method == "accumulation" and forced.paths == []
        assert close(forced.total, ex.total)


def test_known_example_with_exact_factors() -> None:
    x = Value(2.0, label="x")
    y = x * x + 3 * x
    y.label = "y"
    ex = explain(y, x)
    assert isinstance(ex, Explanation) and ex.method == "paths" and ex.path_count == 3
    assert [p.factors for p in ex.paths] == [[1.0, 2.0], [1.0, 2.0], [1.0, 3.0]]
    assert [p.product for p in ex.paths] == [2.0, 2.0, 3.0]
    assert [[e.position for e in p.edges] for p in ex.paths] == [[0, 0], [0, 1], [1, 1]]
    assert ex.total == 7.0
    report = str(ex)
    assert report.startswith("d y/d x = 7\n")
    assert "3 paths" in report and "(1.5), (1.10)" in report and "(1.8)" in report
    assert re.search(r"d mul#\d+/d x \(input 0\) = +2   \[mul\]", report)
    assert "total = 2 + 2 + 3 = 7" in report
    y.backward()
    assert x.grad == ex.total


def test_path_limit_falls_back_to_node_accumulation() -> None:
    x = Value(0.3, label="x")
    y = x
    for _ in range(8):  # each level doubles the number of paths: 256
        y = (y + y) * 0.5
    y = y.tanh()
    ex = explain(y, x, limit=64)
    assert ex.method == "accumulation" and ex.path_count == 256 and ex.paths == []
    y.backward()
    assert ex.total == pytest.approx(x.grad, rel=1e-12)
    report = str(ex)
    assert "256 paths" in report and "limit of 64" in report and "recursion (1.8)" in report
    assert [c[2] for c in ex.contributions] == pytest.approx([x.grad / 2, x.grad / 2], rel=1e-12)
    assert explain(y, x, limit=256).method == "paths"


def test_wrt_not_in_graph_and_wrt_is_output() -> None:
    x, z = Value(1.0, label="x"), Value(5.0, label="z")
    y = (x * 2.0).tanh()
    ex = explain(y, z)
    assert ex.total == 0.0 and ex.path_count == 0 and "does not depend" in str(ex)
    same = explain(y, y)
    assert same.total == 1.0 and same.paths == [Path((), 1.0)]


def test_non_differentiable_edges_are_not_paths() -> None:
    x = Value(1.5, label="x")
    y = x ** 3.0
    ex = explain(y, x)
    assert ex.path_count == 1 and ex.total == pytest.approx(3 * 1.5**2)


def test_arguments_are_checked() -> None:
    with pytest.raises(TypeError):
        explain(1.0, Value(1.0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        explain(Value(1.0), Value(1.0), limit=0)


def _mlp_loss(targets: list[float]) -> tuple[MLP, Value]:
    model = MLP(2, [3, len(targets)], seed=5)
    out = model([0.5, -1.0])
    outs = out if isinstance(out, list) else [out]
    losses = [squared_error(y, t) for y, t in zip(outs, targets, strict=True)]
    loss = losses[0] if len(losses) == 1 else sum_of(losses)
    loss.label = "E"
    return model, loss


def test_delta_form_for_output_weight_hidden_weight_and_bias() -> None:
    model, loss = _mlp_loss([1.0])
    out_w = model.layers[1].neurons[0].w[2]
    hidden_w = model.layers[0].neurons[1].w[0]
    bias = model.layers[1].neurons[0].b
    results = {p.label: explain(loss, p) for p in (out_w, hidden_w, bias)}
    loss.backward()
    y = model([0.5, -1.0]).data
    out_delta = (y - 1.0) * y * (1 - y)
    o_i = model.layers[0].neurons[2]([0.5, -1.0]).data

    ex = results["L2.N0.w2"]
    assert ex.delta is not None and ex.delta.kind == "output" and ex.delta.neuron == "L2.N0"
    assert ex.delta.delta == pytest.approx(out_delta, rel=1e-12)
    assert ex.delta.gradient == pytest.approx(out_delta * o_i, rel=1e-12) == pytest.approx(out_w.grad)
    assert "delta_j = (y - t) * y (1 - y)" in str(ex) and "O_i = L1.N2.out" in str(ex)

    hidden = results["L1.N1.w0"]
    assert hidden.delta is not None and hidden.delta.kind == "hidden"
    assert hidden.delta.gradient == pytest.approx(hidden_w.grad, rel=1e-12)
    assert "delta_L2.N0 * L2.N0.w1" in str(hidden) and "O_i = network input 0" in str(hidden)

    b = results["L2.N0.b"]
    assert b.delta is not None and b.delta.gradient == pytest.approx(bias.grad, rel=1e-12)
    assert "dE/db_j = delta_j" in str(b) and "j = L2.N0" in str(b)


def test_delta_form_with_several_outputs_sums_over_successors() -> None:
    model, loss = _mlp_loss([1.0, 0.0])
    w = model.layers[0].neurons[0].w[1]
    ex = explain(loss, w)
    loss.backward()
    assert ex.path_count == 2 and ex.delta is not None
    assert ex.delta.gradient == pytest.approx(w.grad, rel=1e-12) and ex.total == pytest.approx(w.grad, rel=1e-12)
    assert "delta_L2.N0 * L2.N0.w0 + delta_L2.N1 * L2.N1.w0" in str(ex)


def test_no_delta_form_outside_the_derivations_setting() -> None:
    model = MLP(2, [2, 1], activation="tanh", seed=0)
    loss = squared_error(model([1.0, 2.0]), 0.0)
    assert explain(loss, model.layers[0].neurons[0].w[0]).delta is None
    sigmoid_model = MLP(2, [2, 1], seed=0)
    not_squared = sigmoid_model([1.0, 2.0]) * 2.0
    assert explain(not_squared, sigmoid_model.layers[1].neurons[0].w[0]).delta is None


def test_edges_name_consumer_position_input_and_local_derivative() -> None:
    x, y = Value(0.75, label="x"), Value(0.5, label="y")
    prod = x * y
    out = prod.tanh()
    (path,) = explain(out, y).paths
    top, bottom = path.edges  # listed from the output down to wrt, as (1.10) is written
    dtanh = pytest.approx(1.0 - math.tanh(0.375) ** 2, rel=1e-12)
    assert top == Edge(consumer=out, position=0, input=prod, local=dtanh)
    assert bottom.consumer is prod and bottom.position == 1 and bottom.input is y and bottom.local == 0.75
    assert path.product == pytest.approx(top.local * bottom.local, rel=1e-15)


def test_deep_chain_does_not_recurse() -> None:
    x = Value(0.1, label="x")
    y = x
    for _ in range(20_000):
        y = y * 1.0
    ex = explain(y, x)
    assert ex.path_count == 1 and len(ex.paths[0].edges) == 20_000 and ex.total == 1.0


# --- the derivation's factors (issue 12) ------------------------------------------------------
def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _check_factors_cover_the_path(ex: Explanation) -> None:
    """Every op edge of each path belongs to exactly one factor, whose value is their product."""
    assert ex.derivation is not None and len(ex.derivation.paths) == len(ex.paths)
    for read, path in zip(ex.derivation.paths, ex.paths, strict=True):
        assert [e for f in read.factors for e in f.edges] == list(path.edges)
        for f in read.factors:
            assert f.value == pytest.approx(math.prod(e.local for e in f.edges), rel=1e-15)
        assert math.prod(f.value for f in read.factors) == pytest.approx(path.product, rel=1e-12)


def test_chain_of_single_neurons_reads_as_1_9_and_1_10() -> None:
    # The derivation's worked example: x -> (j-1) -> j, sigmoid neurons without bias.
    w_prev, w_last, x, t = 0.8, -1.5, 0.6, 1.0
    model = MLP.from_weights([[[w_prev]], [[w_last]]])
    loss = squared_error(model([x]), t)
    loss.label = "E"
    o_prev = _logistic(w_prev * x)
    y = _logistic(w_last * o_prev)

    last = explain(loss, model.layers[1].neurons[0].w[0])
    _check_factors_cover_the_path(last)
    (read,) = last.derivation.paths  # type: ignore[union-attr]
    assert read.equation == "(1.9)"
    assert [f.symbol for f in read.factors] == ["dE/dy", "dO_j/dnet_j", "dnet_j/dw_ij"]
    assert [f.equation for f in read.factors] == ["(1.6)", "(1.3)", "(1.5)"]
    assert [f.value for f in read.factors] == pytest.approx([y - t, y * (1 - y), o_prev], rel=1e-14)
    text = str(last)
    assert f"dE/dy        = y - t         = {y - t:>12.6g}   (1.6)" in text
    assert f"dO_j/dnet_j  = O_j (1 - O_j) = {y * (1 - y):>12.6g}   (1.3)" in text
    assert f"dnet_j/dw_ij = O_i           = {o_prev:>12.6g}   (1.5)" in text
    assert "path 1, (1.9): dE/dw_ij = dE/dy * dO_j/dnet_j * dnet_j/dw_ij" in text
    assert "E <- L2.N0.out <- L2.N0.net <- L2.N0.w0" in text and "O_i = L1.N0.out" in text

    first = explain(loss, model.layers[0].neurons[0].w[0])
    _check_factors_cover_the_path(first)
    (read,) = first.derivation.paths  # type: ignore[union-attr]
    assert read.equation == "(1.10)" and len(read.factors) == 5
    assert [f.symbol for f in read.factors] == ["dE/dy", "dO_l/dnet_l", "dnet_l/dO_j", "dO_j/dnet_j", "dnet_j/dw_ij"]
    expected = [y - t, y * (1 - y), w_last, o_prev * (1 - o_prev), x]
    assert [f.value for f in read.factors] == pytest.approx(expected, rel=1e-14)
    de_do = (y - t) * y * (1 - y) * w_last  # dE/dO_{j-1} by (1.8) with a single successor
    assert read.factors[2].recursion == (
        f"dE/dO_j = dE/dy * dO_l/dnet_l * dnet_l/dO_j = {de_do:.6g}   (1.8), the term of this path's successor"
    )
    text = str(first)
    assert "path 1, (1.10)" in text and f"dE/dO_j = dE/dy * dO_l/dnet_l * dnet_l/dO_j = {de_do:.6g}" in text
    assert first.total == pytest.approx(math.prod(expected), rel=1e-14)
    loss.backward()
    assert first.total == pytest.approx(model.layers[0].neurons[0].w[0].grad, rel=1e-14)


def test_three_neuron_chain_names_each_dE_dO() -> None:
    model = MLP.from_weights([[[0.5]], [[-0.7]], [[1.2]]], [[0.1], [0.2], [-0.3]])
    loss = squared_error(model([0.9]), 0.25)
    ex = explain(loss, model.layers[0].neurons[0].w[0])
    _check_factors_cover_the_path(ex)
    (read,) = ex.derivation.paths  # type: ignore[union-attr]
    assert len(read.factors) == 7  # the derivation's count: bias adds and dots folded
    assert [f.symbol for f in read.factors if f.recursion] == ["dnet_m/dO_l", "dnet_l/dO_j"]
    assert "j = L1.N0, l = L2.N0, m = L3.N0" in read.legend


MAZUR = ([[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]], [[0.35, 0.35], [0.60, 0.60]])


def _mazur_loss(how: str) -> tuple[MLP, Value]:
    model = MLP.from_weights(*MAZUR)
    y1, y2 = model([0.05, 0.10])
    terms = [squared_error(y1, 0.01), squared_error(y2, 0.99)]
    loss = {"plus": lambda: terms[0] + terms[1], "sum": lambda: sum(terms), "sum_of": lambda: sum_of(terms)}[how]()
    loss.label = "E"
    return model, loss


@pytest.mark.parametrize("how", ["plus", "sum", "sum_of"])
def test_two_layer_network_in_the_derivations_factors_however_summed(how: str) -> None:
    model, loss = _mazur_loss(how)
    w5 = model.layers[1].neurons[0].w[0]
    output = explain(loss, w5)
    _check_factors_cover_the_path(output)
    (read,) = output.derivation.paths  # type: ignore[union-attr]
    assert read.equation == "(1.9)"
    assert [round(f.value, 6) for f in read.factors] == [0.741365, 0.186816, 0.59327]  # Mazur's figures
    assert round(output.total, 9) == 0.082167041
    text = str(output)
    assert "dE/dy        = y - t         =     0.741365   (1.6)" in text
    assert "dO_j/dnet_j  = O_j (1 - O_j) =     0.186816   (1.3)" in text
    assert "dnet_j/dw_ij = O_i" in text and output.delta is not None and output.delta.kind == "output"

    w1 = model.layers[0].neurons[0].w[0]
    hidden = explain(loss, w1)
    _check_factors_cover_the_path(hidden)
    reads = hidden.derivation.paths  # type: ignore[union-attr]
    assert len(reads) == 2 and all(len(r.factors) == 5 and r.equation == "(1.10)" for r in reads)
    assert [r.factors[2].value for r in reads] == [0.40, 0.50]  # w_jl into L2.N0 and L2.N1
    assert round(hidden.total, 9) == 0.000438568  # Mazur's dE/dw1
    text = str(hidden)
    for needle in ("(1.10)", "(1.8)", "dE/dO_j =", "dnet_l/dO_j  = w_jl ", "O_i = network input 0", "(1.7), (1.8)"):
        assert needle in text, needle
    assert hidden.delta is not None and hidden.delta.kind == "hidden"
    loss.backward()
    assert hidden.total == pytest.approx(w1.grad, rel=1e-12) and output.total == pytest.approx(w5.grad, rel=1e-12)


def test_bias_and_network_input_read_as_net_j_terms() -> None:
    model, loss = _mazur_loss("sum_of")
    b = explain(loss, model.layers[1].neurons[1].b)
    (read,) = b.derivation.paths  # type: ignore[union-attr]
    assert [f.symbol for f in read.factors] == ["dE/dy", "dO_j/dnet_j", "dnet_j/db_j"]
    assert read.factors[-1].value == 1.0 and "dE/db_j = delta_j" in str(b)

    x = Value(0.05, label="x")
    net = MLP.from_weights(*MAZUR)
    outs = net([x, 0.10])
    loss = squared_error(outs[0], 0.01) + squared_error(outs[1], 0.99)
    ex = explain(loss, x)
    _check_factors_cover_the_path(ex)
    assert all(r.factors[-1].symbol == "dnet_j/dO_i" and r.factors[-1].formula == "w_ij" for r in ex.derivation.paths)


def test_why_the_derivation_form_is_not_shown_in_one_line() -> None:
    model = MLP.from_weights(*MAZUR)
    w = model.layers[0].neurons[0].w[0]
    cases = {
        "the loss is not E = sum_k 1/2 (t_k - y_k)^2 (1.4)": mse(model([0.05, 0.1]), [0.01, 0.99]),
        "neuron L2.N0 uses tanh": squared_error(
            MLP.from_weights([[[0.1]], [[0.2]]], activation="tanh")([1.0]), 0.0),
        "neuron L2.N0 has no sigmoid": squared_error(
            MLP.from_weights([[[0.1]], [[0.2]]], output_activation="linear")([1.0]), 0.0),
    }
    for reason, loss in cases.items():
        leaf = w if reason.startswith("the loss") else next(p for p in _leaves(loss) if p.label == "L1.N0.w0")
        ex = explain(loss, leaf)
        lines = [line for line in str(ex).splitlines() if "not shown" in line]
        assert len(lines) == 1 and reason in lines[0], str(ex)
        assert ex.derivation is not None and ex.derivation.paths == [] and ex.delta is None
        assert "[dot]" in str(ex)  # the op-by-op report stays
    # two forward passes: the paths still read as the derivation's, the delta form is per example
    twice = squared_error(model([0.05, 0.1])[0], 0.0) + squared_error(model([0.5, 0.2])[0], 1.0)
    ex = explain(twice, w)
    assert ex.derivation is not None and len(ex.derivation.paths) == 2 and ex.delta is None
    assert "delta form not shown: L1.N0's net_j and O_j are not each once" in str(ex)


def _leaves(root: Value) -> list[Value]:
    seen, stack = [], [root]
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.append(v)
            stack.extend(v.inputs)
    return [v for v in seen if not v.inputs]


def test_plain_expressions_keep_the_op_by_op_report() -> None:
    x = Value(0.5, label="x")
    y = (x * 2.0).sigmoid()
    ex = explain(y, x)
    assert ex.derivation is None and "not shown" not in str(ex) and "[sigmoid]" in str(ex)


# --- path counts saturate (issue 11, item 7) ----------------------------------------------------
def test_exponentially_many_paths_do_not_grow_without_bound() -> None:
    x = Value(1.0, label="x")
    y = x
    for _ in range(15_000):  # 2^15000 paths from x to y
        y = y * y
    ex = explain(y, x)
    report = str(ex)  # used to raise: "Exceeds the limit (4300 digits) for integer string conversion"
    assert ex.method == "accumulation" and ex.path_count == PATH_COUNT_CAP and not ex.path_count_exact
    assert f"at least {PATH_COUNT_CAP:,} paths" in report


def test_saturated_count_still_gives_the_right_total() -> None:
    x = Value(0.3, label="x")
    y = x
    for _ in range(60):  # 2^60 > PATH_COUNT_CAP paths, derivative 1
        y = y * 0.5 + y * 0.5
    ex = explain(y, x)
    assert ex.path_count == PATH_COUNT_CAP and ex.total == pytest.approx(1.0, rel=1e-12)
    small = explain(y, y.inputs[0])
    assert small.path_count_exact and small.path_count == 1


# --- for node inspectors (explore) -------------------------------------------------------------
def test_names_override_how_the_report_names_nodes() -> None:
    x = Value(2.0)
    h = x * 3.0
    y = h.tanh()
    text = str(explain(y, x, names={x: "n0", h: "n1", y: "n2"}))
    assert text.startswith("d n2/d n0 = ") and "d n1/d n0" in text and "#" not in text
    assert x.label is None and h.label is None  # nothing is relabelled


def test_describe_node_in_the_derivations_symbols() -> None:
    from autograd_mini.graph import forward_order
    from autograd_mini.views.derivation import describe_node
    from autograd_mini.views.neurons import neuron_groups, neuron_of_node

    model = MLP.from_weights([[[0.5, -1.0]]], [[0.25]])
    out = model([1.0, 2.0])
    nodes = forward_order(out)
    groups = neuron_groups(nodes)
    (dot_node,) = [v for v in nodes if v.op is not None and v.op.name == "dot"]
    described = {v.label or "dot": describe_node(v, groups) for v in nodes if describe_node(v, groups)}
    assert described["L1.N0.w1"].startswith("w_ij, i = input 1, j = L1.N0")
    assert described["L1.N0.b"].startswith("b_j, j = L1.N0")
    assert described["L1.N0.net"].endswith("(1.1)") and described["L1.N0.out"].endswith("(1.2)")
    assert described["dot"].startswith("sum_i w_ij O_i of neuron j = L1.N0")
    assert neuron_of_node(dot_node, groups) == "L1.N0" and neuron_of_node(dot_node) is None
    assert describe_node(Value(1.0)) is None
    tanh_out = MLP.from_weights([[[0.5]]], activation="tanh")([1.0])
    assert "not the derivation's logistic" in (describe_node(tanh_out) or "")


@given(
    st.integers(1, 3),
    st.lists(st.integers(1, 3), min_size=1, max_size=3),
    st.booleans(),
    st.sampled_from(["plus", "sum", "sum_of"]),
    st.data(),
)
def test_random_sigmoid_networks_read_as_the_derivation(
    nin: int, nouts: list[int], bias: bool, how: str, data: st.DataObject
) -> None:
    model = MLP(nin, nouts, bias=bias, seed=data.draw(st.integers(0, 1000)))
    outs = model([0.3 * (k + 1) for k in range(nin)])
    outs = outs if isinstance(outs, list) else [outs]
    terms = [squared_error(y, 0.5) for y in outs]
    loss = {"plus": lambda: functools.reduce(operator.add, terms), "sum": lambda: sum(terms),
            "sum_of": lambda: sum_of(terms)}[how]()
    p = data.draw(st.sampled_from(model.parameters()))
    ex = explain(loss, p, limit=10_000)
    loss.backward()
    assert ex.derivation is not None and ex.derivation.reason is None, str(ex)
    _check_factors_cover_the_path(ex)
    for read in ex.derivation.paths:
        assert read.factors[0].symbol == "dE/dy" and read.factors[-1].equation in ("(1.5)", "(1.1)")
        assert read.equation == ("(1.9)" if p.label.startswith(f"L{len(nouts)}.") else "(1.10)")
        assert len(read.factors) == 3 + 2 * (len(nouts) - int(p.label[1]))  # the derivation's count
    assert ex.delta is not None and ex.delta.gradient == pytest.approx(p.grad, rel=1e-9, abs=1e-15)
    assert ex.total == pytest.approx(p.grad, rel=1e-9, abs=1e-15)


def test_every_node_of_a_network_gets_an_answer() -> None:
    model, loss = _mazur_loss("sum_of")
    for node in reverse_topological_order(loss):
        ex = explain(loss, node)
        text = str(ex)
        if ex.derivation is not None and node is not loss and node.op is not None:
            assert ex.derivation.reason is None or "delta form" in ex.derivation.reason, text
        assert text.startswith("d E/d")
    dot_node = next(v for v in reverse_topological_order(loss) if v.op is not None and v.op.name == "dot")
    read = explain(loss, dot_node).derivation
    assert read is not None and read.paths and read.paths[0].factors[-1].symbol.startswith("dnet_j/d(sum_i")


# --- forward mode beside the reverse report (issue 23, item 3) ------------------------------------
@given(random_graph())
def test_forward_mode_total_equals_the_reverse_total(graph: tuple[list[Value], list[Value]]) -> None:
    leaves, nodes = graph
    output = nodes[-1]
    for leaf in leaves:
        ex = explain(output, leaf, limit=8)
        assert ex.forward_error is None and math.isclose(ex.forward_total, ex.total, rel_tol=1e-9, abs_tol=1e-12)
        for p in ex.paths:  # the same product, taken inputs first
            assert math.isclose(p.forward_product, p.product, rel_tol=1e-12, abs_tol=1e-300)
        if ex.method == "paths" and ex.paths:
            assert math.isclose(math.fsum(p.forward_product for p in ex.paths), ex.forward_total,
                                rel_tol=1e-9, abs_tol=1e-12)
        if ex.method == "accumulation":
            assert math.isclose(math.fsum(c for _, _, c in ex.forward_contributions), ex.forward_total,
                                rel_tol=1e-9, abs_tol=1e-12)


def _rebuild(x1: float, x2: float) -> Value:
    a, b = Value(x1, label="a"), Value(x2, label="b")
    h = a * b + a.tanh()
    return h * a + (b / (1.0 + h * h))


def test_forward_mode_equals_finite_differences_and_states_each_path() -> None:
    a0, b0, eps = 0.7, -1.3, 1e-6
    out = _rebuild(a0, b0)
    leaves = {v.label: v for v in reverse_topological_order(out) if v.label}
    for name, fd in (("a", (_rebuild(a0 + eps, b0).data - _rebuild(a0 - eps, b0).data) / (2 * eps)),
                     ("b", (_rebuild(a0, b0 + eps).data - _rebuild(a0, b0 - eps).data) / (2 * eps))):
        ex = explain(out, leaves[name])
        assert ex.forward_total == pytest.approx(fd, rel=1e-6)
        assert ex.forward_total == pytest.approx(ex.total, rel=1e-12)
        text = str(ex)
        lines = [line for line in text.splitlines() if line.startswith("forward mode, path ")]
        assert len(lines) == ex.path_count == len(ex.paths)
        for line, p in zip(lines, ex.paths, strict=True):  # factors listed inputs first, then the product
            factors = line.split(" = ")[1].split(" * ")
            assert factors == ["1"] + [f"{e.local:.6g}" for e in reversed(p.edges)]
            assert line.endswith(f"= {p.forward_product:.6g}")
        assert "forward mode: t_out = " in text and text.rstrip().endswith(f"= d out/d {name}")
        latex = ex.latex()
        assert latex.count(r"\tag*{path ") == ex.path_count and r"\tag*{forward mode}" in latex


def test_forward_mode_in_the_accumulation_report_and_where_the_tangent_overflows() -> None:
    x = Value(0.9, label="x")
    y = x
    for _ in range(8):  # 256 paths: over the limit, node-level accumulation
        y = y * 0.5 + y.tanh()
    ex = explain(y, x)
    assert ex.method == "accumulation" and ex.forward_total == pytest.approx(ex.total, rel=1e-12)
    assert len(ex.forward_contributions) == 2
    assert "forward mode: d out/d " in str(ex) and "forward mode: t_out = " in str(ex)
    one = Value(1.0, label="x")
    z = one
    for _ in range(1100):  # 2^1100 paths: d z/d x overflows float64; backward says inf, the tangent pass says why
        z = z * z
    big = explain(z * 1.0, one)
    assert math.isnan(big.forward_total) and big.forward_error is not None and "overflows" in big.forward_error
    assert "forward mode: the tangent pass fails: jvp through mul" in str(big)


def test_no_forward_mode_lines_where_the_output_does_not_depend_on_wrt() -> None:
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    ex = explain(y * 3.0, x)
    assert ex.forward_total == 0.0 and "forward mode" not in str(ex) and "forward mode" not in ex.latex()
