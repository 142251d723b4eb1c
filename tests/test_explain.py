"""explain(): paths, local derivatives, totals against backward(), and the report."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_mini import Explanation, Value, dot, explain, sum_of
from autograd_mini.engine import local_derivatives
from autograd_mini.errors import AutogradMiniError
from autograd_mini.explain import Edge, Path
from autograd_mini.losses import squared_error
from autograd_mini.nn import MLP

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
    assert "delta = (y - t) * y (1 - y)" in str(ex) and "O_i = L1.N2.out" in str(ex)

    hidden = results["L1.N1.w0"]
    assert hidden.delta is not None and hidden.delta.kind == "hidden"
    assert hidden.delta.gradient == pytest.approx(hidden_w.grad, rel=1e-12)
    assert "delta_L2.N0 * L2.N0.w1" in str(hidden) and "O_i = network input 0" in str(hidden)

    b = results["L2.N0.b"]
    assert b.delta is not None and b.delta.gradient == pytest.approx(bias.grad, rel=1e-12)
    assert "dE/db = delta_L2.N0" in str(b)


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
