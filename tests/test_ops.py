"""Every row of the derivative table against central finite differences.

Each differentiable built-in op gets a hypothesis strategy for its valid domain
(kinks of relu and abs excluded); the gradient backward() produces through the
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
from autograd_mini.value import apply


def reals(lo=-10.0, hi=10.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo=1e-3, hi=10.0):
    """Floats with lo <= |x| <= hi, either sign."""
    return st.tuples(reals(lo, hi), st.booleans()).map(lambda p: -p[0] if p[1] else p[0])


def _integer_powers():
    return st.tuples(away_from_zero(0.1, 5.0), st.integers(-3, 4).map(float))


def _fractional_powers():
    return st.tuples(reals(0.1, 5.0), reals(-2.5, 2.5))


def _variadic(n_min, n_max):
    return st.lists(reals(-5.0, 5.0), min_size=n_min, max_size=n_max).map(tuple)


def _dot_operands():
    return st.integers(1, 5).flatmap(lambda n: st.lists(reals(-5.0, 5.0), min_size=2 * n, max_size=2 * n).map(tuple))


# name -> strategy of input tuples inside the op's valid domain
DOMAINS = {
    "add":           st.tuples(reals(), reals()),
    "sub":           st.tuples(reals(), reals()),
    "mul":           st.tuples(reals(), reals()),
    "div":           st.tuples(reals(), away_from_zero(0.1, 10.0)),
    "neg":           st.tuples(reals()),
    "pow":           st.one_of(_integer_powers(), _fractional_powers()),
    "pow_value":     st.tuples(reals(0.1, 5.0), reals(-3.0, 3.0)),
    "sum":           _variadic(1, 7),
    "dot":           _dot_operands(),
    "exp":           st.tuples(reals(-20.0, 20.0)),
    "log":           st.tuples(reals(0.01, 100.0)),
    "sqrt":          st.tuples(reals(0.01, 100.0)),
    "abs":           st.tuples(away_from_zero()),
    "tanh":          st.tuples(reals()),
    "sigmoid":       st.tuples(reals()),
    "relu":          st.tuples(away_from_zero()),
    "squared_error": st.tuples(reals(), reals()),
}
NOT_DIFFERENTIABLE = {"step", "sign"}


def builtin_rows():
    """The Op rows defined in autograd_mini.ops itself (custom ops registered by other tests excluded)."""
    return {op.name: op for op in vars(ops_module).values() if isinstance(op, ops_module.Op)}


def test_every_builtin_row_has_a_domain_here():
    rows = set(builtin_rows())
    assert rows - NOT_DIFFERENTIABLE == set(DOMAINS)
    assert all(name in OPS for name in rows)


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


@pytest.mark.parametrize("name", sorted(DOMAINS))
@given(data=st.data())
def test_row_matches_finite_differences(name, data):
    xs = data.draw(DOMAINS[name], label="inputs")
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
