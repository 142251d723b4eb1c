"""Typed errors for impossible numerics, and finiteness everywhere else.

Every op outside its domain raises DomainError, every result beyond float64
raises NumericOverflowError, each naming the op and its operands; no op ever
returns NaN or an infinity, in forward or in backward.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import AutogradMiniError, DomainError, NumericOverflowError, Value, dot, gradients, sum_of
from autograd_mini.ops import OPS
from autograd_mini.value import apply

DOMAIN_ERRORS = [
    # id, expression, words the message must contain
    ("log(0)",           lambda: Value(0.0).log(),          ["log", "0.0"]),
    ("log(-1)",          lambda: Value(-1.0).log(),         ["log", "-1.0"]),
    ("sqrt(-1)",         lambda: Value(-1.0).sqrt(),        ["sqrt", "-1.0"]),
    ("x / 0",            lambda: Value(1.0) / 0,            ["div", "1.0", "0.0"]),
    ("1 / Value(0)",     lambda: 1 / Value(0.0),            ["div", "0.0"]),
    ("Value / Value(0)", lambda: Value(3.0) / Value(0.0),   ["div", "3.0", "0.0"]),
    ("0 ** -1",          lambda: Value(0.0) ** -1,          ["pow", "0.0", "-1.0"]),
    ("0 ** -0.5",        lambda: Value(0.0) ** -0.5,        ["pow", "0.0", "-0.5"]),
    ("(-8) ** (1/3)",    lambda: Value(-8.0) ** (1 / 3),    ["pow", "-8.0", "0.333"]),
    ("(-2) ** Value",    lambda: Value(-2.0) ** Value(2.0), ["x ** y at x = -2.0, y = 2.0"]),
    ("-2 ** Value",      lambda: (-2) ** Value(0.5),        ["x ** y at x = -2.0, y = 0.5"]),
    ("0 ** Value",       lambda: 0 ** Value(1.0),           ["x ** y at x = 0.0"]),
]

OVERFLOWS = [
    ("exp(710)",         lambda: Value(710.0).exp(),              ["exp", "710.0"]),
    ("1e200 * 1e200",    lambda: Value(1e200) * Value(1e200),     ["mul", "1e+200"]),
    ("1e308 + 1e308",    lambda: Value(1e308) + 1e308,            ["add", "1e+308"]),
    ("1e308 - -1e308",   lambda: Value(1e308) - -1e308,           ["sub", "1e+308"]),
    ("1e308 / 1e-10",    lambda: Value(1e308) / 1e-10,            ["div", "1e+308", "1e-10"]),
    ("10 ** 400",        lambda: Value(10.0) ** 400,              ["pow", "10.0", "400.0"]),
    ("10 ** Value(400)", lambda: 10 ** Value(400.0),              ["x ** y at x = 10.0, y = 400.0"]),
    ("sum overflow",     lambda: sum_of([1e308, Value(1e308)]),   ["sum", "1e+308"]),
    ("dot overflow",     lambda: dot([Value(1e300)], [1e10]),     ["dot", "1e+300"]),
    ("-(-1e308)**3",     lambda: Value(-1e308) ** 3,              ["pow", "-1e+308"]),
]


@pytest.mark.parametrize("build, words", [row[1:] for row in DOMAIN_ERRORS], ids=[row[0] for row in DOMAIN_ERRORS])
def test_domain_errors_name_op_and_operands(build, words):
    with pytest.raises(DomainError) as info:
        build()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("build, words", [row[1:] for row in OVERFLOWS], ids=[row[0] for row in OVERFLOWS])
def test_overflow_errors_name_op_and_operands(build, words):
    with pytest.raises(NumericOverflowError) as info:
        build()
    for word in words:
        assert word in str(info.value)


def test_error_classes_are_also_builtin_kinds():
    assert issubclass(DomainError, ValueError) and issubclass(DomainError, AutogradMiniError)
    assert issubclass(NumericOverflowError, OverflowError) and issubclass(NumericOverflowError, AutogradMiniError)


def test_exp_just_below_overflow_is_fine():
    assert Value(709.0).exp().data == math.exp(709.0)


# --- sigmoid and tanh at extreme inputs ----------------------------------------------------
def sigmoid_closed_form(x):
    """(1.2) in whichever form does not overflow: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@pytest.mark.parametrize("x", [1000.0, -1000.0, 1e308, -1e308, 700.0, -700.0, 36.0, -36.0, 0.0])
def test_sigmoid_is_finite_and_correct_at_extremes(x):
    v = Value(x)
    s = v.sigmoid()
    assert math.isclose(s.data, sigmoid_closed_form(x), rel_tol=1e-15, abs_tol=0.0)
    s.backward()
    assert math.isfinite(v.grad)
    assert math.isclose(v.grad, s.data * (1 - s.data), rel_tol=1e-15, abs_tol=1e-300)  # (1.3)


def test_sigmoid_extreme_values_exactly():
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).sigmoid().data == 0.0  # e^-1000 underflows
    assert Value(1e308).sigmoid().data == 1.0
    assert Value(-1e308).sigmoid().data == 0.0
    assert math.isclose(Value(-700.0).sigmoid().data, math.exp(-700.0), rel_tol=1e-15)


@pytest.mark.parametrize("x", [1000.0, -1000.0, 1e308, -1e308, 20.0, -20.0, 0.5, -0.5])
def test_tanh_is_finite_and_correct_at_extremes(x):
    v = Value(x)
    t = v.tanh()
    closed_form = math.copysign(1.0, x) if abs(x) >= 1000 else (1 - math.exp(-2 * abs(x))) / (1 + math.exp(-2 * abs(x)))
    assert math.isclose(t.data, math.copysign(closed_form, x), rel_tol=1e-15)
    t.backward()
    assert math.isfinite(v.grad)
    assert math.isclose(v.grad, 1 - t.data**2, rel_tol=1e-15, abs_tol=1e-300)


# --- errors raised during backward -----------------------------------------------------------
def test_backward_through_sqrt_at_zero_is_a_domain_error():
    x = Value(0.0)
    y = x.sqrt()
    assert y.data == 0.0
    with pytest.raises(DomainError, match=r"sqrt\(0\.0\)") as info:
        y.backward()
    assert not isinstance(info.value, ZeroDivisionError)
    assert "backward" in str(info.value)


def test_backward_through_fractional_power_at_zero_is_a_domain_error():
    x = Value(0.0)
    with pytest.raises(DomainError, match="pow"):
        (x**0.5).backward()


@pytest.mark.parametrize("n", [1, 2, 3, 1.5])
def test_power_at_zero_with_a_finite_derivative(n):
    x = Value(0.0)
    (x**n).backward()
    assert x.grad == (1.0 if n == 1 else 0.0)


def test_zeroth_power_at_zero_has_derivative_zero():
    x = Value(0.0)
    y = x**0
    assert y.data == 1.0
    y.backward()  # d/dx x**0 = 0 everywhere, also at 0 (PyTorch agrees)
    assert x.grad == 0.0


def tiny_chain():
    x = Value(1e-300)
    return x, (x / 1e-200) / 1e-200  # value 1e100, gradient 1e400: overflows


def test_backward_gradient_overflow_raises():
    x, y = tiny_chain()
    with pytest.raises(NumericOverflowError, match="overflow"):
        y.backward()



def test_gradients_gradient_overflow_raises():
    x, y = tiny_chain()
    with pytest.raises(NumericOverflowError):
        gradients(y, [x])



def test_backward_gradient_overflow_names_the_op():
    x = Value(1e-310)
    y = x.log()  # forward -713.8 is fine; d/dx = 1/x = 1e310 overflows
    with pytest.raises(NumericOverflowError, match=r"log\(1e-310\)"):
        y.backward()
    assert x.grad == 0.0  # and no inf is left behind in .grad


# --- never NaN, never inf: any op on any finite inputs ---------------------------------------
BUILTIN_NAMES = [
    "add", "sub", "mul", "div", "neg", "pow", "pow_value", "sum", "dot", "exp", "log", "sqrt",
    "abs", "tanh", "sigmoid", "relu", "step", "sign", "squared_error",
]
VARIADIC_ARITY = {"sum": 3, "dot": 4}
finite = st.floats(allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("name", BUILTIN_NAMES)
@given(data=st.data())
def test_no_op_ever_produces_nan_or_inf(name, data):
    op = OPS[name]
    arity = op.arity if op.arity is not None else VARIADIC_ARITY[name]
    xs = data.draw(st.lists(finite, min_size=arity, max_size=arity), label="inputs")
    leaves = [Value(x) for x in xs]
    try:
        out = apply(op, *leaves)
    except (DomainError, NumericOverflowError):
        return
    assert math.isfinite(out.data)
    try:
        out.backward()
    except (DomainError, NumericOverflowError):
        return
    for leaf in leaves:
        assert math.isfinite(leaf.grad)


# --- NaN is a domain error, and custom rules cannot smuggle inf past the checks ---------
def test_a_forward_returning_nan_is_a_domain_error_not_an_overflow():
    from autograd_mini.extend import defop, remove_op

    nan_op = defop("nan_forward_op", forward=lambda x: x * math.nan, vjp=lambda g, out, x: (g,))
    try:
        with pytest.raises(DomainError, match=r"nan_forward_op\(1\.0\) is undefined \(NaN\)"):
            nan_op(Value(1.0))
    finally:
        remove_op("nan_forward_op")


def test_a_nan_gradient_is_a_domain_error_naming_the_op():
    from autograd_mini.extend import defop, remove_op

    nan_rule = defop("nan_rule_op", forward=lambda x: x, vjp=lambda g, out, x: (g * math.nan,))
    try:
        x = Value(1.0)
        with pytest.raises(DomainError, match=r"backward through nan_rule_op\(1\.0\).*NaN"):
            nan_rule(x).backward()
        assert x.grad == 0.0
    finally:
        remove_op("nan_rule_op")


def test_a_numpy_scalar_gradient_that_overflows_is_caught():
    np = pytest.importorskip("numpy")
    from autograd_mini.extend import defop, remove_op

    big = defop("np_scalar_rule_op", forward=lambda x: 2.0 * x, vjp=lambda g, out, x: (g * np.float64(1e300),))
    try:
        x = Value(1.0)
        y = big(x) * 1e10
        with np.errstate(over="ignore"), pytest.raises(NumericOverflowError, match="np_scalar_rule_op"):
            y.backward()
        assert x.grad == 0.0
        fine = big(Value(1.0))
        fine.backward()
        assert type(fine.inputs[0].grad) is float and fine.inputs[0].grad == 1e300
    finally:
        remove_op("np_scalar_rule_op")
