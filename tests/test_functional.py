"""The functional API: grad, value_and_grad, hessian, hvp (modes, argnums, errors)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, grad, hessian, hvp, no_grad, value_and_grad
from autograd_mini.testing import expressions

finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


# --- number mode -------------------------------------------------------------------------
def test_grad_of_numbers_returns_a_float():
    df = grad(lambda x, y: x * x * y)(2.0, 3.0)
    assert type(df) is float
    assert df == 12.0  # d/dx x^2 y = 2xy


def test_grad_accepts_ints():
    assert grad(lambda x: x * x)(3) == 6.0


def test_tuple_argnums_returns_a_tuple_of_floats():
    dx, dy = grad(lambda x, y: x * x * y, argnums=(0, 1))(2.0, 3.0)
    assert (dx, dy) == (12.0, 4.0)  # 2xy, x^2


def test_argnums_selects_the_argument_and_order():
    f = lambda x, y: x * x * y  # noqa: E731
    assert grad(f, argnums=1)(2.0, 3.0) == 4.0
    assert grad(f, argnums=(1, 0))(2.0, 3.0) == (4.0, 12.0)
    assert grad(f, argnums=-1)(2.0, 3.0) == 4.0


def test_value_and_grad_returns_the_value_and_the_gradient():
    value, df = value_and_grad(lambda x: x.exp() * x)(1.0)
    assert value == pytest.approx(math.e)
    assert df == pytest.approx(2 * math.e)  # (1 + x) e^x
    value, (dx, dy) = value_and_grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
    assert (value, dx, dy) == (10.0, 5.0, 2.0)


def test_non_differentiated_arguments_pass_through_untouched():
    data = [1.0, 2.0, 3.0]

    def loss(w, xs, scale=1.0):
        assert xs is data
        return scale * sum(w * x for x in xs)

    assert grad(loss)(0.5, data, scale=2.0) == 12.0


def test_grad_does_not_touch_grad_attributes_of_value_arguments():
    x = Value(2.0)
    x.grad = 7.0
    grad(lambda a: a * a)(x)
    assert x.grad == 7.0


def test_a_constant_number_result_has_derivative_zero():
    assert grad(lambda x: 3.0)(1.0) == 0.0
    assert grad(lambda x, y: 3.0, argnums=(0, 1))(1.0, 2.0) == (0.0, 0.0)
    assert value_and_grad(lambda x: 5)(1.0) == (5.0, 0.0)


def test_an_output_independent_of_the_input_has_derivative_zero():
    assert grad(lambda x, y: y * y)(1.0, 2.0) == 0.0


def test_grad_works_inside_no_grad():
    with no_grad():
        assert grad(lambda x: x * x * x)(2.0) == 12.0


# --- errors ------------------------------------------------------------------------------
def test_argnums_out_of_range_is_a_clear_value_error():
    with pytest.raises(ValueError, match=r"argnums=2 is out of range.*2 positional arguments"):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError, match="out of range"):
        grad(lambda x, y: x * y, argnums=(0, -3))(1.0, 2.0)


@pytest.mark.parametrize("argnums", [1.0, "0", None, True])
def test_argnums_of_the_wrong_type_is_a_type_error(argnums):
    with pytest.raises(TypeError, match="argnums"):
        grad(lambda x: x, argnums=argnums)


def test_repeated_or_empty_argnums_are_rejected():
    with pytest.raises(ValueError, match="repeated"):
        grad(lambda x: x, argnums=(0, 0))
    with pytest.raises(ValueError, match="empty"):
        grad(lambda x: x, argnums=())
    with pytest.raises(ValueError, match="same argument twice"):
        grad(lambda x, y: x, argnums=(0, -2))(1.0, 2.0)


@pytest.mark.parametrize("bad", ["2.0", [2.0], None, True])
def test_a_differentiated_argument_must_be_a_number_or_value(bad):
    with pytest.raises(TypeError, match="argument 0 is differentiated"):
        grad(lambda x: x)(bad)


def test_a_non_scalar_result_is_a_type_error_naming_the_function():
    def vector(x):
        return [x, x]

    with pytest.raises(TypeError, match="vector must return a scalar Value"):
        grad(vector)(1.0)


def test_grad_keeps_the_wrapped_function_name():
    def loss(x):
        return x * x

    assert grad(loss).__name__ == "loss"
    assert value_and_grad(loss).__name__ == "loss"


# --- Value mode ----------------------------------------------------------------------------
def test_value_arguments_give_value_gradients_with_graphs():
    x = Value(3.0)
    g = grad(lambda a: a * a * a)(x)
    assert isinstance(g, Value)
    assert g.data == 27.0  # 3x^2
    g.backward()
    assert x.grad == 18.0  # 6x


def test_inner_grad_of_a_closure_depends_on_the_outer_variable():
    # d/dx [ d/dy (x * y) ] = d/dx x = 1
    assert grad(lambda x: grad(lambda y: x * y)(2.0))(3.0) == 1.0
    assert grad(lambda x: grad(lambda y: x * x * y)(2.0))(3.0) == 6.0


def test_nested_derivatives_do_not_confuse_their_variables():
    # The inner derivative is taken with respect to its own argument even when
    # it is the outer variable: d/dy (x y) at y = x is x, so the total is 1, not 2.
    assert grad(lambda x: grad(lambda y: x * y)(x))(3.0) == 1.0


# --- hessian and hvp ---------------------------------------------------------------------------
def test_hessian_of_a_quadratic_form():
    # f = x^2 + 3xy + 5y^2: H = [[2, 3], [3, 10]]
    h = hessian(lambda x, y: x * x + 3 * x * y + 5 * y * y)(1.5, -2.0)
    assert h == [[2.0, 3.0], [3.0, 10.0]]
    assert all(type(v) is float for row in h for v in row)


def test_hessian_argnums_restricts_the_variables():
    h = hessian(lambda x, y: x * x * y * y, argnums=(1,))(2.0, 3.0)
    assert h == [[8.0]]  # 2x^2


@given(finite, finite, finite, finite)
def test_hvp_equals_the_hessian_times_v(x, y, v0, v1):
    f = lambda a, b: (a * b).tanh() + a * a * a * b  # noqa: E731
    h = hessian(f)(x, y)
    expected = [h[0][0] * v0 + h[0][1] * v1, h[1][0] * v0 + h[1][1] * v1]
    assert hvp(f)((x, y), (v0, v1)) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_hvp_rejects_a_v_of_the_wrong_length():
    with pytest.raises(ValueError, match="v has 1 entries but 2"):
        hvp(lambda x, y: x * y)((1.0, 2.0), (1.0,))


@given(expressions(max_leaves=3, max_ops=5))
def test_value_and_grad_agrees_with_backward(expr):
    out = expr(*expr.inputs)
    assert value_and_grad(expr)(*expr.inputs)[0] == out.data
    leaves = [Value(x) for x in expr.inputs]
    expr(*leaves).backward()
    argnums = tuple(range(len(leaves)))
    assert grad(expr, argnums=argnums)(*expr.inputs) == pytest.approx(tuple(x.grad for x in leaves), rel=1e-12)



def test_the_module_docstring_examples_run():
    import doctest
    import sys

    for name in ("autograd_mini.functional", "autograd_mini.checking"):
        result = doctest.testmod(sys.modules[name])
        assert result.attempted >= 2 and result.failed == 0, name
