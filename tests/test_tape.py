"""The compiled tape against the eager engine: same rows, same numbers (1e-12 relative, float64).

Oracles: the eager engine (`engine.gradients` on each example's graph), the plain
reference replay (`Tape.reference_value_and_grad`, one instruction at a time) for the
grouped one, and PyTorch for the moons MLP when installed. Errors: the eager engine's
typed errors, raised with the op, the operands and the example's index.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import DomainError, NumericOverflowError, Tape, TraceError, Value, dot, sum_of, trace
from autograd_mini.engine import gradients
from autograd_mini.graph import reverse_topological_order
from autograd_mini.nn import MLP
from autograd_mini.nn.datasets import make_moons
from autograd_mini.nn.losses import squared_error
from autograd_mini.testing import expressions

RTOL = 1e-12


def eager(fn, params, rows):
    """Per-example losses, per-example gradients (rows x params) and per-example loss
    conditions on the eager engine.

    The condition of an example's loss is sum |dL/dv| |v| over every node v of its graph
    (the output included, so it is at least |L|): a change of one ulp in v moves L by about
    eps |dL/dv| |v|, so it bounds how far two evaluations whose ops differ by an ulp (numpy's
    tanh against math's) may fall apart. It is |L| itself unless terms cancel.
    """
    losses, grads, conditions = [], [], []
    for row in np.asarray(rows, dtype=float).tolist():
        out = fn(params, [Value(v) for v in row])
        out = out[0] if isinstance(out, tuple) else out
        losses.append(out.data)
        grads.append(gradients(out, params))
        nodes = reverse_topological_order(out)
        conditions.append(sum(abs(g * v.data) for g, v in zip(gradients(out, nodes), nodes, strict=True)))
    shape = (len(losses), len(params))
    return np.array(losses), np.array(grads, dtype=float).reshape(shape), np.array(conditions)


def assert_matches_eager(tape: Tape, fn, params, rows, vector_relative: bool = False) -> None:
    """Losses elementwise, and gradients example by example (batch of one, elementwise)
    and summed over the batch (relative to the sum of the magnitudes, as cancellation
    between examples is rounding-order dependent).

    vector_relative: for random expressions, where numpy's tanh, exp, ... may differ from
    math's by one ulp and the expression may cancel that ulp's neighbours away.
    Gradients are then compared relative to max(1, the largest gradient of the example)
    instead of elementwise: a rule such as 1 - tanh(x)**2 at a saturated tanh turns that ulp
    into a large relative error of a derivative that is nearly 0. Losses are compared
    relative to their condition (see `eager`) instead of to |L|: tanh(v) - v at v = 5e-4 is
    -4e-11, and one ulp of tanh(v) (1e-19) is 1e-9 of it, though both engines are right to
    the last bit of each op. An MLP's float64 numbers match elementwise.
    """
    losses, per_example, conditions = eager(fn, params, rows)
    result = tape.value_and_grad(rows)
    scale_of_loss = conditions if vector_relative else np.abs(losses)
    assert np.all(np.abs(result.losses - losses) <= RTOL * scale_of_loss + 1e-300), (result.losses, losses)
    b = len(losses)
    scale = 1.0 / b if tape.reduction == "mean" else 1.0
    assert result.loss == pytest.approx(losses.sum() * scale, rel=RTOL, abs=RTOL * scale_of_loss.sum() * scale)
    magnitude = np.abs(per_example)
    if vector_relative:
        magnitude = np.broadcast_to(np.maximum(magnitude.max(axis=1, keepdims=True), 1.0), magnitude.shape)
    worst = np.abs(result.grads - per_example.sum(axis=0) * scale)
    assert np.all(worst <= RTOL * magnitude.sum(axis=0) * scale + 1e-300)
    for i in range(min(b, 5)):
        single = tape.value_and_grad(np.asarray(rows)[i : i + 1])
        assert np.all(np.abs(single.grads - per_example[i]) <= RTOL * magnitude[i] + 1e-300)


# --- the moons MLP: relu hidden layers, linear output, hinge loss + L2 ----------------------
def moons_problem(n=100, width=16, seed=1):
    X, y = make_moons(n, noise=0.1, seed=0)
    model = MLP(2, [width, width, 1], activation="relu", output_activation="linear", seed=seed)
    params = model.parameters()

    def fn(params, inputs):
        x0, x1, t = inputs
        score = model([x0, x1])
        return (1 - t * score).relu() + 1e-4 * sum_of([p * p for p in params]), score

    rows = np.array([[a, b, 2.0 * c - 1.0] for (a, b), c in zip(X, y, strict=True)])
    return model, params, fn, rows


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_moons_mlp_matches_eager(reduction):
    _, params, fn, rows = moons_problem()
    tape = trace(fn, params, rows[0], reduction=reduction)
    assert_matches_eager(tape, fn, params, rows)
    scores = tape.forward(rows).outputs[0]
    eager_scores = [fn(params, [Value(v) for v in row])[1].data for row in rows.tolist()]
    np.testing.assert_allclose(scores, eager_scores, rtol=RTOL)


def test_moons_mlp_matches_torch():
    torch = pytest.importorskip("torch")
    model, params, fn, rows = moons_problem(n=40)
    result = trace(fn, params, rows[0]).value_and_grad(rows)
    weights = []
    for layer in model.layers:
        w = torch.tensor([[p.data for p in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        weights += [w, b]
    h = torch.tensor(rows[:, :2])
    for i in range(0, len(weights), 2):
        h = h @ weights[i].T + weights[i + 1]
        if i < len(weights) - 2:
            h = torch.relu(h)
    loss = torch.relu(1 - torch.tensor(rows[:, 2]) * h[:, 0]).mean() + 1e-4 * sum((w * w).sum() for w in weights)
    loss.backward()
    expected = []
    for i in range(0, len(weights), 2):
        for j in range(weights[i].shape[0]):
            expected += weights[i].grad[j].tolist() + [weights[i + 1].grad[j].item()]
    assert result.loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(result.grads, expected, rtol=1e-9, atol=1e-15)


# --- the derivation's setting: a sigmoid MLP with squared error (1.4) -------------------------
def test_sigmoid_mlp_squared_error_matches_eager():
    rng = random.Random(3)
    model = MLP(3, [4, 2], seed=7)  # sigmoid everywhere, as in (1.2)
    params = model.parameters()

    def fn(params, inputs):
        outs = model(inputs[:3])
        return sum_of([squared_error(o, t) for o, t in zip(outs, inputs[3:], strict=True)])

    rows = np.array([[rng.uniform(-2, 2) for _ in range(3)] + [rng.random(), rng.random()] for _ in range(30)])
    tape = trace(fn, params, rows[0])
    assert_matches_eager(tape, fn, params, rows)


def test_grads_written_into_params_accumulate():
    _, params, fn, rows = moons_problem(n=10)
    tape = trace(fn, params, rows[0])
    for p in params:
        p.grad = 0.0
    first = tape.backward(rows)
    tape.backward(rows)
    np.testing.assert_allclose([p.grad for p in params], 2 * first.grads, rtol=1e-15)


def test_param_updates_are_seen_by_the_next_replay():
    _, params, fn, rows = moons_problem(n=10)
    tape = trace(fn, params, rows[0])
    for p in params:
        p.data *= 0.5
    assert_matches_eager(tape, fn, params, rows)


def test_chunked_replay_matches_one_pass():
    _, params, fn, rows = moons_problem(n=50, width=4)
    tape = trace(fn, params, rows[0])
    whole = tape.value_and_grad(rows)
    tape.chunk_size = 7
    chunked = tape.value_and_grad(rows)
    np.testing.assert_array_equal(chunked.losses, whole.losses)
    np.testing.assert_array_equal(chunked.outputs, whole.outputs)
    np.testing.assert_allclose(chunked.grads, whole.grads, rtol=1e-13, atol=1e-17)
    assert chunked.loss == pytest.approx(whole.loss, rel=1e-15)


def test_column_inputs_and_one_input_functions():
    w = Value(1.5)
    tape = trace(lambda params, xs: (params[0] * xs[0]).tanh(), [w], [0.3])
    xs = np.array([0.1, -0.4, 2.0])
    by_rows = tape.value_and_grad(xs)
    by_columns = tape.value_and_grad([xs])
    np.testing.assert_array_equal(by_rows.losses, by_columns.losses)
    np.testing.assert_allclose(by_rows.losses, np.tanh(1.5 * xs), rtol=1e-15)
    np.testing.assert_allclose(by_rows.grads, [np.mean(xs * (1 - np.tanh(1.5 * xs) ** 2))], rtol=1e-14)


def test_shared_branch_and_constants():
    a, b = Value(0.7), Value(-1.2)

    def fn(params, xs):
        a, b = params
        shared = (a * b).exp() + a ** 3  # depends on no input: computed once per replay
        return shared * xs[0] + 2.0 * (xs[1] - b) ** 2

    rows = np.array([[0.5, 1.0], [-1.0, 0.2], [2.0, -0.3]])
    tape = trace(fn, [a, b], rows[0])
    assert_matches_eager(tape, fn, [a, b], rows)


def test_group_mixing_nodes_with_and_without_gradients():
    # v0 + a and x*x + 0.5 share a group (same op, depth, layout); only the first leads
    # from a parameter to the loss (found by hypothesis: the group must still scatter).
    a, unused = Value(0.3), Value(0.0)

    def fn(params, xs):
        v1 = (xs[0] + xs[0]) + params[0]
        return -((v1 + v1) / (xs[0] * xs[0] + 0.5))

    rows = np.array([[0.0], [0.4], [-1.1]])
    assert_matches_eager(trace(fn, [a, unused], rows[0]), fn, [a, unused], rows)


def test_loss_independent_of_inputs_and_leaf_outputs():
    a = Value(2.0)
    tape = trace(lambda params, xs: params[0] * params[0], [a], [0.0], reduction="sum")
    result = tape.value_and_grad(np.zeros((4, 1)))
    np.testing.assert_array_equal(result.losses, [4.0] * 4)
    assert result.grads.tolist() == [16.0]  # 4 examples x 2a
    leaf = trace(lambda params, xs: xs[0], [a], [1.0]).value_and_grad(np.array([[3.0], [4.0]]))
    assert leaf.losses.tolist() == [3.0, 4.0] and leaf.grads.tolist() == [0.0]


def test_instructions_are_flat_and_topological():
    _, params, fn, rows = moons_problem(n=4, width=3)
    tape = trace(fn, params, rows[0])
    defined = set(range(len(params) + 3 + tape.n_constants))
    for ins in tape.instructions:
        assert set(ins.inputs) <= defined
        defined.add(ins.output)
    assert "instructions" in repr(tape)


def test_group_count_grows_with_depth_not_width():
    counts = []
    for width in (2, 8, 32):
        _, params, fn, rows = moons_problem(n=4, width=width)
        tape = trace(fn, params, rows[0])
        counts.append((tape.n_groups, tape.depth, len(tape.instructions)))
    assert counts[0][:2] == counts[1][:2] == counts[2][:2]
    assert counts[2][2] > 10 * counts[0][2]


# --- random expressions from autograd_mini.testing -------------------------------------------
@settings(max_examples=100)
@given(expressions(max_leaves=4, max_ops=8), st.integers(0, 3), st.randoms(use_true_random=False))
def test_random_expressions_match_eager(expr, n_params, rnd):
    problem = expression_problem(expr, n_params, rnd)
    if problem is not None:
        assert_matches_eager(*problem, vector_relative=True)


@settings(max_examples=100)
@given(expressions(max_leaves=4, max_ops=8), st.integers(0, 3), st.randoms(use_true_random=False))
def test_random_expressions_fast_replay_matches_the_reference_replay(expr, n_params, rnd):
    problem = expression_problem(expr, n_params, rnd)
    if problem is not None:
        assert_matches_reference(*problem)


def assert_matches_reference(tape: Tape, fn, params, rows) -> None:
    """The grouped replay against the plain one (one instruction at a time). Both run the same
    rows on numpy, so they differ only in summation order (matrix products, sums over the batch)
    and where the fast one runs a one-node shared row on floats (math's ulp, not numpy's): losses
    are compared relative to their condition, gradients to the largest of each example (see
    `assert_matches_eager`)."""
    losses, per_example, conditions = eager(fn, params, rows)
    fast, plain = tape.value_and_grad(rows), tape.reference_value_and_grad(rows)
    assert np.all(np.abs(fast.losses - plain.losses) <= RTOL * conditions + 1e-300)
    np.testing.assert_allclose(fast.outputs, plain.outputs, rtol=1e-12, atol=1e-300)
    scale = 1.0 / len(losses) if tape.reduction == "mean" else 1.0
    magnitude = np.maximum(np.abs(per_example).max(axis=1, keepdims=True), 1.0).sum() * scale
    assert np.all(np.abs(fast.grads - plain.grads) <= RTOL * magnitude), (fast.grads, plain.grads)


def expression_problem(expr, n_params, rnd):
    """(tape, fn, params, rows): the first n_params inputs of `expr` become parameters, the
    rest per-example inputs drawn around the expression's point; None if the graph is
    data-dependent."""
    n_params = min(n_params, expr.n_inputs - 1) if expr.n_inputs > 1 else 0
    params = [Value(x) for x in expr.inputs[:n_params]]
    if not params:
        params = [Value(1.0)]
        fn = lambda params, xs: expr(*xs) * params[0]  # noqa: E731
        rows = [list(expr.inputs)]
    else:
        fn = lambda params, xs: expr(*params, *xs)  # noqa: E731
        rows = [list(expr.inputs[n_params:])]
    for _ in range(6):
        row = [x + rnd.uniform(-0.3, 0.3) for x in rows[0]]
        full = [p.data for p in params] + row if n_params else row
        if expr.is_well_posed(full):
            rows.append(row)
    try:
        tape = trace(fn, params, rows[0], check_inputs=rows[1:2] or None)
    except TraceError:
        return None  # a guard that reads .data (not an op) shaped the graph differently
    return tape, fn, params, np.array(rows)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_fast_replay_of_an_mlp_matches_the_reference_replay(reduction):
    """Every shortcut the schedule plans for an MLP (matrix products, views, hand-overs, folds)."""
    _, params, fn, rows = moons_problem(n=30, width=5)
    tape = trace(fn, params, rows[0], reduction=reduction)
    assert any(g.matmul is not None for g in tape._replayer.groups) and any(g.receives for g in tape._replayer.groups)
    assert_matches_reference(tape, fn, params, rows)
    plain = tape.reference_value_and_grad(rows)
    assert plain.loss == pytest.approx(tape.value_and_grad(rows).loss, rel=1e-13)


# --- errors ----------------------------------------------------------------------------------
def test_domain_error_names_op_operands_and_example():
    w = Value(1.0)
    tape = trace(lambda params, xs: (params[0] * xs[0]).log(), [w], [1.0])
    with pytest.raises(DomainError, match=r"log\(-2\.0\).*at example 2 \(row 1 of the tape\)"):
        tape.forward(np.array([[1.0], [3.0], [-2.0], [-5.0]]))
    tape.chunk_size = 2  # the index counts from the start of the batch, not of the chunk
    with pytest.raises(DomainError, match=r"log\(-5\.0\).*at example 3 \(row 1 of the tape\)"):
        tape.forward(np.array([[1.0], [3.0], [2.0], [-5.0]]))


def test_overflow_and_division_errors_match_the_engine():
    w = Value(1.0)
    tape = trace(lambda params, xs: (params[0] * xs[0]).exp(), [w], [1.0])
    with pytest.raises(NumericOverflowError, match=r"exp\(800\.0\).*example 1"):
        tape.value_and_grad(np.array([[1.0], [800.0]]))
    tape = trace(lambda params, xs: params[0] / xs[0], [w], [1.0])
    with pytest.raises(DomainError, match=r"div\(1\.0, 0\.0\).*example 0"):
        tape.forward(np.array([[0.0], [1.0]]))
    tape = trace(lambda params, xs: xs[0] ** params[0], [w], [1.0])
    with pytest.raises(DomainError, match=r"x \*\* y at x = -1\.0, y = 1\.0.*example 1"):
        tape.forward(np.array([[2.0], [-1.0]]))


def test_backward_error_matches_the_engine_and_zero_gradients_are_skipped():
    w = Value(0.0)
    tape = trace(lambda params, xs: (params[0] * xs[0]).sqrt(), [w], [1.0])
    with pytest.raises(DomainError, match=r"backward through sqrt\(0\.0\)"):
        tape.value_and_grad(np.array([[1.0], [2.0]]))
    with pytest.raises(DomainError):
        Value(0.0).sqrt().backward()
    # relu(sqrt(0) - 1) sends gradient 0 into sqrt: the engine skips it, so must the tape.
    tape = trace(lambda params, xs: (((params[0] * xs[0]).sqrt() - 1.0).relu()), [w], [1.0])
    assert tape.value_and_grad(np.array([[1.0], [2.0]])).grads.tolist() == [0.0]


def test_data_dependent_branch_is_refused():
    w = Value(0.5)

    def fn(params, xs):
        return params[0] * xs[0] if xs[0].data > 0 else (params[0] * xs[0]).exp()

    with pytest.raises(TraceError, match="differs"):
        trace(fn, [w], [1.0])  # the default check re-traces on a perturbed (negative) example
    tape = trace(fn, [w], [1.0], check=False)
    with pytest.raises(TraceError, match="same graph for every example"):
        tape.check(np.array([[2.0], [-3.0]]))


def test_constant_read_from_data_is_refused():
    w = Value(0.5)
    with pytest.raises(TraceError, match="computed from an input's .data"):
        trace(lambda params, xs: params[0] * Value(xs[0].data * 2), [w], [1.0])


def test_relu_and_abs_branches_are_fine():
    w = Value(0.5)
    tape = trace(lambda params, xs: (params[0] * xs[0]).relu() + abs(xs[0] - params[0]), [w], [1.0])
    tape.check(np.array([[2.0], [-3.0], [0.25]]))
    result = tape.value_and_grad(np.array([[2.0], [-3.0]]), )
    assert result.losses.tolist() == [1.0 + 1.5, 0.0 + 3.5]


def test_captured_value_is_refused():
    w, forgotten = Value(0.5), Value(2.0, label="bias")
    with pytest.raises(TraceError, match="'bias'.*not in params"):
        trace(lambda params, xs: params[0] * xs[0] + forgotten, [w], [1.0])


def test_wrong_shapes_and_arguments():
    w = Value(0.5)
    tape = trace(lambda params, xs: params[0] * xs[0] * xs[1], [w], [1.0, 2.0])
    for bad in (np.zeros((3, 3)), np.zeros(3), np.zeros((2, 2, 2)), [np.zeros(3), np.zeros(4)], np.zeros((0, 2))):
        with pytest.raises(ValueError):
            tape.forward(bad)
    with pytest.raises(ValueError, match="input 1 of example 2 is NaN"):
        tape.forward(np.array([[1.0, 1.0], [1.0, 1.0], [1.0, np.nan]]))
    with pytest.raises(ValueError, match="input 0 of example 0 is inf"):
        tape.forward(np.array([[np.inf, 1.0]]))
    with pytest.raises(ValueError, match="param_values"):
        tape.value_and_grad(np.ones((2, 2)), param_values=np.ones(2))
    with pytest.raises(ValueError, match="reduction"):
        trace(lambda params, xs: xs[0], [w], [1.0], reduction="max")
    with pytest.raises(TypeError, match="must return a Value"):
        trace(lambda params, xs: 3.0, [w], [1.0])
    with pytest.raises(ValueError, match="not a leaf"):
        trace(lambda params, xs: xs[0], [w * 2], [1.0])
    with pytest.raises(ValueError, match="twice"):
        trace(lambda params, xs: xs[0], [w, w], [1.0])


def _message(call):
    """(type, text) of the error `call()` raises."""
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


def test_a_nan_parameter_is_named_as_nan_with_its_label():
    w = Value(1.0, label="w")
    tape = trace(lambda params, xs: params[0] * xs[0], [w], [1.0])
    with pytest.raises(ValueError, match=r"parameter 0 \(w\) is NaN"):
        tape.value_and_grad(np.array([[1.0]]), param_values=np.array([np.nan]))
    with pytest.raises(ValueError, match=r"parameter 0 \(w\) is inf"):
        tape.value_and_grad(np.array([[1.0]]), param_values=np.array([np.inf]))


def test_complex_inputs_are_refused_not_cast():
    w = Value(1.0)
    tape = trace(lambda params, xs: params[0] * xs[0], [w], [1.0])
    for call in (lambda: tape.forward(np.array([[1.0 + 2.0j]])),
                 lambda: tape.value_and_grad(np.array([[1.0]]), param_values=np.array([1j])),
                 lambda: tape.check(np.array([[1j]])),
                 lambda: trace(lambda params, xs: params[0] * xs[0], [w], [2j])):
        kind, text = _message(call)
        assert kind is TypeError and "complex" in text


@pytest.mark.parametrize(
    ("fn", "x"),
    [
        (lambda w, x: (w * x).exp(), 1600.0),  # forward overflow
        (lambda w, x: (w * x).log(), -1.0),  # forward domain
        (lambda w, x: (w * x) ** 0.5, -1.0),  # numpy gives NaN, math raises: the same DomainError
        (lambda w, x: (w * x).exp(), 1418.0),  # backward: exp(709) * 1418 overflows
        (lambda w, x: (w * x).sqrt(), 0.0),  # backward: the rule divides by zero
        (lambda w, x: w * x + w * x, 1e308),  # backward: two finite gradients add up to inf
    ],
)
def test_tape_and_eager_raise_the_same_type_and_words(fn, x):
    """The tape's message is the eager engine's, plus where: the example and the row."""
    w = Value(0.5)
    tape = trace(lambda params, xs: fn(params[0], xs[0]), [w], [1.0], check=False)
    tape_kind, tape_text = _message(lambda: tape.value_and_grad(np.array([[1.0], [x]])))
    eager_kind, eager_text = _message(lambda: fn(w, Value(x)).backward())
    assert tape_kind is eager_kind
    where = re.search(r" at example 1 \(row \d+ of the tape\)", tape_text)
    assert where is not None and tape_text.replace(where.group(0), "") == eager_text


def test_the_first_overflowing_row_is_named_not_a_later_one():
    w = Value(1.0)
    tape = trace(lambda params, xs: (params[0] * xs[0] - xs[0]) * xs[0], [w], [1.0])
    kind, text = _message(lambda: tape.forward(np.array([[1.0], [1e308], [3.0]]), param_values=np.array([1e10])))
    assert kind is NumericOverflowError and "at example 1 (row 0 of the tape)" in text


def test_matmul_groups_match_the_dot_rows_exactly():
    """A layer's dot rows run as matrix products: same numbers as the eager engine, and the
    tape really uses the batched form (one group per layer marked matmul)."""
    model, params, fn, rows = moons_problem(n=50, width=5)
    tape = trace(fn, params, rows[0])
    marked = [g for g in tape._replayer.groups if g.matmul is not None]
    assert len(marked) == 3  # one per layer
    assert all(g.matmul.w_grid is not None for g in marked)  # weights read as views
    assert all(g.matmul.w_scatter.grid is not None for g in marked)  # and their gradients added through them
    assert_matches_eager(tape, fn, params, rows)


def test_matmul_with_weights_second_and_shared_operands():
    ws = [Value(0.1 * i - 0.2, label=f"w{i}") for i in range(6)]

    def fn(params, xs):
        a = dot(xs, params[:3]) + dot(xs, params[3:])  # the weights as the dot's second half
        return a * a + dot(params[:3], params[3:])  # and a dot on parameters only (shared)

    tape = trace(fn, ws, [0.5, -1.0, 2.0])
    assert any(g.matmul is not None and g.matmul.swapped for g in tape._replayer.groups)
    rows = np.random.default_rng(0).normal(size=(9, 3))
    assert_matches_eager(tape, fn, ws, rows)


# --- the replay on another Array API namespace: torch tensors (CPU here, any device there) -------
def test_the_tape_replays_on_torch_tensors_like_on_numpy():
    torch = pytest.importorskip("torch")
    model, params, fn, rows = moons_problem(n=40, width=6)

    def wider(params, inputs):  # every row of the table that primitives dispatch, once
        loss, score = fn(params, inputs)
        x0, x1, _ = inputs
        extra = (x0 * x0 + 1.0).log() + x0.tanh() + x1.sigmoid() + abs(x1) + (x1 * params[0]).exp() + x0**2
        return loss + extra * params[1] + params[2] * params[2] * x1, score

    tape = trace(wider, params, rows[0])
    on_numpy = tape.value_and_grad(rows)
    on_torch = tape.value_and_grad(torch.tensor(rows))
    assert isinstance(on_torch.grads, torch.Tensor) and on_torch.grads.dtype == torch.float64
    assert isinstance(on_torch.losses, torch.Tensor) and on_torch.loss == pytest.approx(on_numpy.loss, rel=1e-13)
    np.testing.assert_allclose(on_torch.grads.numpy(), on_numpy.grads, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(on_torch.outputs.numpy(), on_numpy.outputs, rtol=1e-12)
    tape.chunk_size = 16  # chunks of the batch are joined in torch too
    chunked = tape.value_and_grad(torch.tensor(rows))
    np.testing.assert_allclose(chunked.grads.numpy(), on_numpy.grads, rtol=1e-11, atol=1e-15)
    assert torch.equal(tape.forward(torch.tensor(rows)).losses, chunked.losses)
    assert_matches_eager(tape, wider, params, rows[:5])


def test_torch_replays_raise_and_skip_like_numpy():
    torch = pytest.importorskip("torch")
    w = Value(1.0)
    tape = trace(lambda params, xs: (params[0] * xs[0]).log(), [w], [1.0])
    with pytest.raises(DomainError, match=r"log\(-2\.0\) at example 1 \(row 1 of the tape\)"):
        tape.forward(torch.tensor([[1.0], [-2.0]], dtype=torch.float64))
    with pytest.raises(TypeError, match="complex"):
        tape.forward(torch.tensor([[1.0 + 1.0j]]))
    w0 = Value(0.0)
    tape = trace(lambda params, xs: (((params[0] * xs[0]).sqrt() - 1.0).relu()), [w0], [1.0])
    result = tape.value_and_grad(torch.tensor([[1.0], [2.0]], dtype=torch.float64))  # 0 * inf skipped, as eager
    assert result.grads.tolist() == [0.0] and isinstance(result.grads, torch.Tensor)


def test_torch_replay_sums_duplicate_operands():
    torch = pytest.importorskip("torch")
    ws = [Value(0.3), Value(-0.7)]

    def fn(params, xs):  # one group of three muls reads params[0] twice: its gradients must add up
        return params[0] * xs[0] + params[1] * xs[1] + params[0] * xs[2]

    tape = trace(fn, ws, [0.5, 1.0, 2.0])
    ports = [port for group in tape._replayer.groups for port in group.ports]
    assert any(port.scatter is not None and port.scatter.starts is not None for port in ports)
    rows = np.array([[0.5, 1.0, 2.0], [-1.5, 0.25, 3.0], [2.0, -1.0, 0.5]])
    np.testing.assert_allclose(tape.value_and_grad(torch.tensor(rows)).grads.numpy(),
                               tape.value_and_grad(rows).grads, rtol=1e-13)


def test_an_overflowing_sum_over_parameters_is_named_at_its_row():
    """The one-node sum over parameters runs on one array: its overflow still reads as eager's."""
    ws = [Value(1.0), Value(1.0), Value(1.0)]
    tape = trace(lambda params, xs: sum_of(params) * xs[0], ws, [1.0], check=False)
    with pytest.raises(NumericOverflowError, match=r"sum\(1e\+308, 1e\+308, -1e\+308\) \(row 0 of the tape"):
        tape.forward(np.array([[1.0]]), param_values=np.array([1e308, 1e308, -1e308]))
    assert tape.forward(np.array([[0.5]]), param_values=np.array([1e308, -1e308, 1e308])).losses.tolist() == [5e307]


# --- the fast paths of the replay: same numbers as the general ones ----------------------------
def test_an_l2_term_folds_the_gradients_of_p_times_p():
    """p * p reads each parameter twice: its two gradient blocks are folded into one (no
    sorting), and the sum matches the eager engine's 2 p, on numpy and on torch."""
    ws = [Value(0.1 * i - 0.4, label=f"w{i}") for i in range(7)]

    def fn(params, xs):
        return dot(params[:3], xs) * xs[0] + 0.01 * sum_of([p * p for p in params])

    tape = trace(fn, ws, [0.5, -1.0, 2.0])
    folds = [port.scatter.fold for g in tape._replayer.groups for port in g.ports if port.scatter is not None]
    assert 2 in folds
    rows = np.random.default_rng(1).normal(size=(6, 3))
    assert_matches_eager(tape, fn, ws, rows)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(tape.value_and_grad(torch.tensor(rows)).grads.numpy(),
                               tape.value_and_grad(rows).grads, rtol=1e-13)


def test_rules_returning_a_number_or_none_still_scatter_right(registry):
    """The direct scatter takes only arrays of g's shape; a rule giving a number (broadcast
    over the batch) or None falls back to the general scatter, with the same result as eager."""
    _, first = registry("first", lambda x, y: x + 0.0 * y, lambda g, out, x, y: (g, 0.0), arity=2)
    _, second = registry("second", lambda x, y: y + 0.0 * x, lambda g, out, x, y: (None, g), arity=2)
    a, b = Value(0.3), Value(-0.8)

    def fn(params, xs):
        left = first(params[0] * xs[0], params[1] * xs[1])
        return left * second(params[1] * xs[0], params[0] + xs[1]) + (params[0] * xs[1]).relu()

    rows = np.array([[0.5, 1.0], [-1.0, 0.2], [2.0, -0.3], [0.1, 0.4]])
    tape = trace(fn, [a, b], rows[0])
    assert_matches_eager(tape, fn, [a, b], rows)


def test_operands_no_parameter_reaches_take_no_gradient_port():
    """t in t * score gets its own port, with no scatter: the score's gradient is added as is."""
    model, params, fn, rows = moons_problem(n=20, width=4)
    tape = trace(fn, params, rows[0])
    inputs = range(tape.n_params, tape.n_params + tape.n_inputs)
    for group in tape._replayer.groups:
        for port in group.ports:
            reads_input = any(group.nodes[0].inputs[p] in inputs for p in port.positions)
            if reads_input and not port.shared:
                assert port.scatter is None
    assert_matches_eager(tape, fn, params, rows)


def test_rows_read_as_views_only_where_the_layout_allows():
    """Evenly spaced rows become (stepped) slices, a layer's weight grid a reshaped view;
    anything else stays a fancy index (a copy), read and scattered the general way."""
    from autograd_mini.tape.planner import grid_of
    from autograd_mini.tape.schedule import rows_of

    assert rows_of(np.array([2, 5, 8])) == slice(2, 9, 3)
    assert rows_of(np.array([4, 5, 6])) == slice(4, 7)
    assert isinstance(rows_of(np.array([5, 3])), np.ndarray) and isinstance(rows_of(np.array([1, 2, 4])), np.ndarray)
    weights = np.array([[0, 1], [3, 4]])  # two neurons, two weights each, a bias after each
    assert grid_of(weights, 6) == (slice(0, 6), (2, 3), slice(0, 2))
    matrix = np.arange(6.0)
    rows, shape, columns = grid_of(weights, 6)
    np.testing.assert_array_equal(matrix[rows].reshape(shape)[:, columns], matrix[weights])
    assert grid_of(weights, 5) is None  # the reshape would run past the matrix
    assert grid_of(np.array([[0, 2], [3, 4]]), 6) is None


def test_gradients_handed_over_whole_only_from_a_sole_consumer():
    """A group whose rows get their gradient from one consumer receives it as an array (the
    MLP's relu, add and dot groups); one read by two consumers gets the sum of both (1.8)."""
    model, params, fn, rows = moons_problem(n=30, width=4)
    tape = trace(fn, params, rows[0])
    groups = tape._replayer.groups
    receivers = {g.op.name for g in groups if g.receives}
    assert {"relu", "add", "dot"} <= receivers
    assert_matches_eager(tape, fn, params, rows)
    ws = [Value(0.4), Value(-0.9)]

    def two_consumers(params, xs):
        v = params[0] * xs[0] + params[1]  # read by the relu and by the product below
        return v.relu() * xs[1] + v * v.tanh()

    rows = np.random.default_rng(2).normal(size=(8, 2))
    tape = trace(two_consumers, ws, rows[0])
    add = next(g for g in tape._replayer.groups if g.op.name == "add" and g.nodes[0].inputs[1] == 1)
    assert not add.receives
    assert_matches_eager(tape, two_consumers, ws, rows)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(tape.value_and_grad(torch.tensor(rows)).grads.numpy(),
                               tape.value_and_grad(rows).grads, rtol=1e-13)


def test_docs_tape_md_examples_run_as_shown():
    import doctest
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs" / "tape.md"
    failures, attempted = doctest.testfile(str(path), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert attempted >= 5 and failures == 0
