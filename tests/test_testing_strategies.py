"""autograd_mini.testing: the expressions() strategy and assert_grads_close."""

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from autograd_mini import Value, grad
from autograd_mini.checking import GradcheckError, gradcheck
from autograd_mini.extend import is_custom
from autograd_mini.graph import reverse_topological_order
from autograd_mini.ops import OPS
from autograd_mini.testing import (
    DEFAULT_OPS,
    KINK_MARGIN,
    PIECEWISE_CONSTANT_OPS,
    SATURATION_LIMIT,
    Expression,
    Step,
    assert_grads_close,
    expressions,
)

SEARCH = settings(max_examples=2000, database=None, suppress_health_check=list(HealthCheck))


def graph_of(expr):
    return reverse_topological_order(expr(*expr.inputs))


def op_names(expr):
    return {node.op.name for node in graph_of(expr) if node.op is not None}


def test_the_default_ops_cover_every_builtin_row_of_the_table():
    builtin = {name for name in OPS if not is_custom(name)}
    assert builtin <= set(DEFAULT_OPS) | set(PIECEWISE_CONSTANT_OPS)
    assert set(DEFAULT_OPS).isdisjoint(PIECEWISE_CONSTANT_OPS)


@given(expressions(max_leaves=4, max_ops=7))
def test_drawn_expressions_respect_their_bounds_and_are_well_posed(expr):
    assert isinstance(expr, Expression)
    assert 1 <= expr.n_inputs <= 4 and len(expr.inputs) == expr.n_inputs
    assert 1 <= len(expr.steps) <= 7
    assert all(-2.0 <= x <= 2.0 for x in expr.inputs)
    assert expr.ops <= set(DEFAULT_OPS)
    assert expr.is_well_posed()
    assert expr.ops <= op_names(expr)  # every drawn op is in the graph


@given(expressions(), st.floats(0.5, 1.5))
def test_an_expression_can_be_rebuilt_at_other_points(expr, scale):
    point = [x * scale for x in expr.inputs]
    if not expr.is_well_posed(point):
        return
    a, b = expr(*point), expr(*point)
    assert a is not b and a.data == b.data  # a fresh graph, the same function
    leaves = [Value(x) for x in point]
    assert expr(*leaves).data == a.data  # Values work as inputs too


@pytest.mark.parametrize("name", DEFAULT_OPS + PIECEWISE_CONSTANT_OPS)
def test_every_op_can_be_drawn_alone_and_checks_out_to_second_order(name):
    @given(expressions(max_leaves=2, max_ops=3, ops=[name]))
    @settings(max_examples=25)
    def check(expr):
        assert expr.ops == {name}
        assert name in op_names(expr)
        assert_grads_close(expr, expr.inputs, order=2)

    check()


def test_shared_subexpressions_occur():
    def has_square(expr):  # an op reading the same node twice: a * a
        return any(len(node.inputs) != len(set(node.inputs)) for node in graph_of(expr) if node.op is not None)

    def has_diamond(expr):  # a drawn result read by two later ops
        uses = [a for step in expr.steps for a in set(step.args) if a >= expr.n_inputs]
        return len(uses) != len(set(uses))

    assert has_square(find(expressions(ops=["mul", "add", "sub"]), has_square, settings=SEARCH))
    assert has_diamond(find(expressions(), has_diamond, settings=SEARCH))


def test_deep_chains_occur():
    def depth(expr):
        level = {}
        for node in reversed(graph_of(expr)):
            level[node] = 1 + max((level[x] for x in node.inputs), default=0)
        return max(level.values())

    assert depth(find(expressions(max_ops=6), lambda e: depth(e) >= 8, settings=SEARCH)) >= 8


@given(expressions(ops=["abs", "relu", "sign", "step", "mul"]))
def test_kinks_are_kept_away_from_the_drawn_point(expr):
    _, _, kinks = expr.build(expr.inputs)
    assert all(abs(k) >= KINK_MARGIN for k in kinks)


# Drawn once by the dev profile: the third guard reads sigmoid(27.5), whose 1 - out is ~1e-12.
EXP_CHAIN = [Step("exp", (0,), (0.0, 0.0)), Step("exp", (1,), (0.0, 0.0)), Step("exp", (2,), (0.0, 0.0))]


def exp_chain_by_hand(x, exp):
    def guard(a):
        return -5.0 + 10.0 / (1.0 + exp(-a))

    return exp(guard(exp(guard(exp(guard(x))))))


def test_a_saturated_guard_is_rejected_because_finite_differences_there_measure_rounding():
    mpmath = pytest.importorskip("mpmath")
    expr = Expression(1, EXP_CHAIN, [0.1875])
    assert "v2 = exp(-5.0 + 10*sigmoid(v1))" in repr(expr)
    _, _, _, squashed = expr._trace(expr.inputs)
    assert max(squashed) > SATURATION_LIMIT and not expr.is_well_posed()
    # sigmoid's rule out * (1 - out) keeps about 4 digits of 1 - sigmoid(27.5), so the engine
    # agrees with 50-digit arithmetic to about 1e-4 ...
    with mpmath.workdps(50):
        exact = float(mpmath.diff(lambda x: exp_chain_by_hand(x, mpmath.exp), mpmath.mpf(0.1875), 2))
    assert grad(grad(expr))(0.1875) == pytest.approx(exact, rel=1e-3)
    # ... and central differences of the gradient divide that rounding by their step of 1e-6.
    report = gradcheck(expr, 0.1875, order=2)
    assert not report and [e.name for e in report.failures] == ["d2/dx02"]
    # Where no guard saturates, the same program checks out.
    assert Expression(1, EXP_CHAIN, [-1.0]).is_well_posed()
    assert_grads_close(expr, [-1.0], order=2)


@given(expressions(values=st.just(1.25)))
def test_the_values_strategy_sets_the_inputs(expr):
    assert set(expr.inputs) == {1.25}


@given(expressions(max_leaves=2, max_ops=4))
def test_the_repr_is_a_readable_program(expr):
    text = repr(expr)
    assert text.startswith("Expression with inputs x0=")
    assert text.count("\n  v") == len(expr.steps)
    assert "\n  output = " in text


def test_expression_call_checks_the_number_of_inputs():
    expr = Expression(2, [], [1.0, 2.0])
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        expr(1.0)


def test_strategy_arguments_are_validated():
    with pytest.raises(ValueError, match="max_leaves >= 1"):
        expressions(max_leaves=0)
    with pytest.raises(ValueError, match="'nope' is not an op"):
        expressions(ops=["nope"])
    with pytest.raises(ValueError, match="at least one op"):
        expressions(ops=[])


# --- assert_grads_close ------------------------------------------------------------------------------
def test_assert_grads_close_passes_for_a_correct_function():
    assert_grads_close(lambda x, y: (x * y).sigmoid() + y.log(), [0.4, 1.5], order=2)


def test_assert_grads_close_fails_with_the_table_for_a_function_leaving_the_graph():
    with pytest.raises(AssertionError) as info:
        assert_grads_close(lambda x: x * x.data, [2.0])
    assert isinstance(info.value, GradcheckError)
    assert "d/dx" in str(info.value) and "FAIL" in str(info.value)


@given(expressions(max_leaves=3, max_ops=6))
def test_grad_of_an_expression_matches_assert_grads_close_inputs(expr):
    # an Expression is a plain function of its inputs: grad applies to it directly
    derivative = grad(expr)(*expr.inputs)
    assert isinstance(derivative, float)
    assert_grads_close(expr, expr.inputs)
    first = gradcheck(expr, *expr.inputs).entries[0]  # d/d input 0: engine.gradients and a central difference
    assert derivative == pytest.approx(first.analytic, rel=1e-9, abs=1e-12)
    assert abs(derivative - first.numeric) <= 1e-5 + 1e-3 * abs(first.numeric)  # gradcheck's default tolerance


# --- sample domains from the table ---------------------------------------------------------------
def test_a_custom_op_with_a_sample_is_guarded_into_it():
    from autograd_mini import ops
    from autograd_mini.extend import defop, remove_op
    from autograd_mini.primitives import log

    defop("log_of_custom", forward=lambda x: log(x), vjp=lambda g, out, x: (g / x,),
          valid=lambda x: x > 0, domain="x > 0", sample=((ops.POSITIVE,),))
    try:
        @given(expressions(max_leaves=2, max_ops=3, ops=["log_of_custom"]))
        @settings(max_examples=25)
        def check(expr):
            assert "sigmoid" in repr(expr)  # the operand is mapped into (0.1, 10), not rejected
            assert_grads_close(expr, expr.inputs, order=2)

        check()
    finally:
        remove_op("log_of_custom")


@given(st.data())
def test_sample_inputs_stay_inside_the_row_sample(data):
    from autograd_mini.testing import sample_inputs

    name = data.draw(st.sampled_from(sorted(DEFAULT_OPS)))
    xs = data.draw(sample_inputs(name))
    op = OPS[name]
    inside = [
        all(any(lo <= x <= hi for lo, hi in case[min(i, len(case) - 1)]) for i, x in enumerate(xs))
        for case in op.sample
    ]
    assert any(inside)
