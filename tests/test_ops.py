"""Every row of the derivative table against central finite differences.

Each differentiable built-in op is sampled from its row's `sample` domain
(kinks of relu and abs excluded), read from the table, never retyped here; the gradient backward() produces through the
op's row must match (f(x + h) - f(x - h)) / 2h for every differentiable input.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, dot, sum_of
from autograd_mini import ops as ops_module
from autograd_mini.engine import local_derivatives
from autograd_mini.ops import OPS
from autograd_mini.testing import sample_inputs
from autograd_mini.value import apply


def reals(lo=-10.0, hi=10.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


NOT_DIFFERENTIABLE = {"step", "sign"}


def builtin_rows():
    """The Op rows defined in autograd_mini.ops itself (custom ops registered by other tests excluded)."""
    return {op.name: op for op in vars(ops_module).values() if isinstance(op, ops_module.Op)}


DIFFERENTIABLE = sorted(set(builtin_rows()) - NOT_DIFFERENTIABLE)


def test_every_builtin_row_has_a_sample_domain():
    rows = builtin_rows()
    assert all(name in OPS for name in rows)
    for op in rows.values():
        assert op.sample, op.name
        for case in op.sample:
            assert len(case) == (op.arity or 1), op.name
            assert all(lo <= hi for union in case for lo, hi in union), op.name


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@given(data=st.data())
def test_the_sample_is_inside_the_domain(name, data):
    op = OPS[name]
    xs = data.draw(sample_inputs(op), label="inputs")
    out = apply(op, *[Value(x) for x in xs])  # defined there: raises nothing
    assert all(d is None or math.isfinite(d) for d in local_derivatives(out))


def central_difference(f, xs, i):
    """d f / d xs[i] by the central difference with a step relative to |xs[i]|."""
    h = 1e-6 * max(1.0, abs(xs[i]))
    up = list(xs)
    down = list(xs)
    up[i] += h
    down[i] -= h
    return (f(up) - f(down)) / (up[i] - down[i])


def assert_close(engine, numeric, scale):
    assert math.isclose(engine, numeric, rel_tol=1e-5, abs_tol=1e-6 * scale), (engine, numeric)


def forward(op, xs):
    return apply(op, *[Value(x) for x in xs]).data


def check_row_against_finite_differences(name, xs):
    op = OPS[name]
    leaves = [Value(x) for x in xs]
    out = apply(op, *leaves)
    out.backward()
    scale = max(1.0, abs(out.data))
    for i, leaf in enumerate(leaves):
        if i in op.nondiff:
            assert leaf.grad == 0.0  # a constant of the op gets no gradient
            continue
        assert_close(leaf.grad, central_difference(lambda v: forward(op, v), xs, i), scale)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@given(data=st.data())
def test_row_matches_finite_differences(name, data):
    xs = data.draw(sample_inputs(name), label="inputs")
    check_row_against_finite_differences(name, xs)


@pytest.mark.parametrize("name", sorted(NOT_DIFFERENTIABLE))
def test_step_and_sign_are_not_differentiable(name):
    x = Value(0.5)
    out = apply(OPS[name], x)
    assert out.data == 1.0
    assert local_derivatives(out) == (None,)
    out.backward()
    assert x.grad == 0.0


@pytest.mark.parametrize("x, step, sign", [(-2.0, 0.0, -1.0), (0.0, 0.0, 0.0), (3.0, 1.0, 1.0)])
def test_step_and_sign_values(x, step, sign):
    assert apply(OPS["step"], Value(x)).data == step
    assert apply(OPS["sign"], Value(x)).data == sign


# --- the public n-ary helpers -------------------------------------------------------
@given(xs=st.lists(reals(-5.0, 5.0), min_size=1, max_size=8))
def test_sum_of_gradients(xs):
    leaves = [Value(x) for x in xs]
    s = sum_of(leaves)
    s.backward()
    assert math.isclose(s.data, math.fsum(xs), rel_tol=1e-12, abs_tol=1e-12)
    assert [v.grad for v in leaves] == [1.0] * len(xs)


@given(pairs=st.lists(st.tuples(reals(-5.0, 5.0), reals(-5.0, 5.0)), min_size=1, max_size=8))
def test_dot_gradients(pairs):
    w = [Value(a) for a, _ in pairs]
    x = [Value(b) for _, b in pairs]
    d = dot(w, x)
    d.backward()
    assert math.isclose(d.data, math.fsum(a * b for a, b in pairs), rel_tol=1e-12, abs_tol=1e-12)
    assert [v.grad for v in w] == [b for _, b in pairs]  # d net / d w_k = O_k, as in (1.5)
    assert [v.grad for v in x] == [a for a, _ in pairs]


def test_dot_with_a_repeated_value_accumulates():
    a = Value(3.0)
    d = dot([a, a], [a, 2.0])  # a*a + 2a
    d.backward()
    assert d.data == 15.0
    assert a.grad == 8.0


def test_sum_of_with_a_repeated_value_accumulates():
    a = Value(3.0)
    sum_of([a, a, a]).backward()
    assert a.grad == 3.0


# --- local_derivatives -----------------------------------------------------------------
def test_local_derivatives():
    x, y = Value(2.0), Value(5.0)
    assert local_derivatives(x * y) == (5.0, 2.0)
    assert local_derivatives(x + y) == (1.0, 1.0)
    assert local_derivatives(x - y) == (1.0, -1.0)
    assert local_derivatives(x**3) == (12.0, None)
    assert local_derivatives(x) == ()
    s = Value(0.3).sigmoid()
    (d,) = local_derivatives(s)
    assert math.isclose(d, s.data * (1 - s.data), rel_tol=1e-15)  # (1.3)
    (d,) = local_derivatives(Value(4.0).log())
    assert d == 0.25


def test_local_derivatives_do_not_touch_grads():
    x = Value(2.0)
    y = x * x
    local_derivatives(y)
    assert x.grad == 0.0 and y.grad == 0.0
