"""Gradients of gradients: second and third derivatives of every op of the table.

Oracles: closed-form derivatives written out below, central finite differences
(gradcheck with order=2, and differences of second derivatives for the third),
random expression DAGs, and PyTorch's Hessian of a small network in float64.
"""

import math

import pytest
from hypothesis import given

from autograd_mini import Value, dot, grad, gradcheck, gradients, hessian, sum_of
from autograd_mini.nn.losses import squared_error
from autograd_mini.ops import OPS
from autograd_mini.primitives import sign, step
from autograd_mini.testing import Expression, Step, assert_grads_close, expressions


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def tanh_derivatives(x):
    t = math.tanh(x)
    return [1 - t * t, -2 * t * (1 - t * t), (1 - t * t) * (6 * t * t - 2)]


def sigmoid_derivatives(x):
    s = sig(x)
    return [s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)]


def power_derivatives(n, x):
    return [n * x ** (n - 1), n * (n - 1) * x ** (n - 2), n * (n - 1) * (n - 2) * x ** (n - 3)]


LN2 = math.log(2.0)

# op name, f, point, [f', f'', f'''] in closed form
UNARY = [
    ("neg", lambda x: -x, 0.7, [-1.0, 0.0, 0.0]),
    ("exp", lambda x: x.exp(), 0.7, [math.exp(0.7)] * 3),
    ("log", lambda x: x.log(), 1.3, [1 / 1.3, -1 / 1.3**2, 2 / 1.3**3]),
    ("sqrt", lambda x: x.sqrt(), 1.7, [0.5 * 1.7**-0.5, -0.25 * 1.7**-1.5, 0.375 * 1.7**-2.5]),
    ("abs", lambda x: abs(x), -1.2, [-1.0, 0.0, 0.0]),
    ("abs", lambda x: x.abs(), 0.8, [1.0, 0.0, 0.0]),
    ("tanh", lambda x: x.tanh(), 0.4, tanh_derivatives(0.4)),
    ("tanh", lambda x: x.tanh(), -1.1, tanh_derivatives(-1.1)),
    ("sigmoid", lambda x: x.sigmoid(), -0.3, sigmoid_derivatives(-0.3)),
    ("sigmoid", lambda x: x.sigmoid(), 2.2, sigmoid_derivatives(2.2)),
    ("relu", lambda x: x.relu(), 0.9, [1.0, 0.0, 0.0]),
    ("relu", lambda x: x.relu(), -0.9, [0.0, 0.0, 0.0]),
    ("step", lambda x: step(x) * 5.0, 0.5, [0.0, 0.0, 0.0]),
    ("sign", lambda x: sign(x) * 5.0, -0.5, [0.0, 0.0, 0.0]),
    ("pow", lambda x: x**3, 1.1, power_derivatives(3, 1.1)),
    ("pow", lambda x: x**-2, 1.5, power_derivatives(-2, 1.5)),
    ("pow", lambda x: x**0.5, 2.0, power_derivatives(0.5, 2.0)),
    ("pow", lambda x: x**2.5, 0.6, power_derivatives(2.5, 0.6)),
    ("pow_value", lambda x: 2.0**x, 0.9, [2**0.9 * LN2, 2**0.9 * LN2**2, 2**0.9 * LN2**3]),
    ("add", lambda x: x + x, 0.3, [2.0, 0.0, 0.0]),
    ("sub", lambda x: 1.0 - x, 0.3, [-1.0, 0.0, 0.0]),
    ("mul", lambda x: x * x * x, -0.8, [3 * 0.64, 6 * -0.8, 6.0]),
    ("div", lambda x: 1.0 / x, 1.4, [-1 / 1.4**2, 2 / 1.4**3, -6 / 1.4**4]),
    ("sum", lambda x: sum_of([x, x * x, x]), 0.4, [2 + 2 * 0.4, 2.0, 0.0]),
    ("dot", lambda x: dot([x, x], [x, 3.0]), 0.4, [2 * 0.4 + 3, 2.0, 0.0]),
    ("squared_error", lambda x: squared_error(x, 0.25), 1.5, [1.25, 1.0, 0.0]),
]


def _ids(cases):
    return [f"{name}@{point}" for name, _, point, _ in cases]


@pytest.mark.parametrize(("name", "f", "x", "closed"), UNARY, ids=_ids(UNARY))
def test_first_second_third_derivatives_match_closed_forms(name, f, x, closed):
    assert name in OPS
    d1, d2, d3 = grad(f), grad(grad(f)), grad(grad(grad(f)))
    for derivative, expected in zip((d1, d2, d3), closed, strict=True):
        assert derivative(x) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(("name", "f", "x", "closed"), UNARY, ids=_ids(UNARY))
def test_second_derivatives_match_finite_differences(name, f, x, closed):
    report = gradcheck(f, x, order=2)
    assert report, str(report)


@pytest.mark.parametrize(("name", "f", "x", "closed"), UNARY, ids=_ids(UNARY))
def test_third_derivative_matches_finite_differences_of_the_second(name, f, x, closed):
    h = 1e-5
    d2 = grad(grad(f))
    numeric = (d2(x + h) - d2(x - h)) / (2 * h)
    assert grad(grad(grad(f)))(x) == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_fourth_and_fifth_derivatives_of_exp_times_x():
    # d^n/dx^n x e^x = (x + n) e^x
    f = lambda x: x * x.exp()  # noqa: E731
    d = f
    for n in range(1, 6):
        d = grad(d)
        assert d(0.5) == pytest.approx((0.5 + n) * math.exp(0.5), rel=1e-12)


# --- mixed partials of the binary ops ---------------------------------------------------------
def pow_value_hessian(x, y):
    lx = math.log(x)
    return [
        [y * (y - 1) * x ** (y - 2), x ** (y - 1) * (1 + y * lx)],
        [x ** (y - 1) * (1 + y * lx), x**y * lx * lx],
    ]


BINARY = [
    ("add", lambda x, y: x + y, (0.3, -1.2), [[0.0, 0.0], [0.0, 0.0]]),
    ("sub", lambda x, y: x - y, (0.3, -1.2), [[0.0, 0.0], [0.0, 0.0]]),
    ("mul", lambda x, y: x * y, (0.3, -1.2), [[0.0, 1.0], [1.0, 0.0]]),
    ("div", lambda x, y: x / y, (0.3, -1.2), [[0.0, -1 / 1.44], [-1 / 1.44, 2 * 0.3 / -1.2**3]]),
    ("pow_value", lambda x, y: x**y, (1.7, 2.3), pow_value_hessian(1.7, 2.3)),
    ("pow_value", lambda x, y: x**y, (0.4, -0.6), pow_value_hessian(0.4, -0.6)),
    ("squared_error", lambda y, t: squared_error(y, t), (0.3, 1.0), [[1.0, -1.0], [-1.0, 1.0]]),
    ("sum", lambda x, y: sum_of([x, y, x * y]), (0.3, -1.2), [[0.0, 1.0], [1.0, 0.0]]),
    ("dot", lambda x, y: dot([x, y], [y, 2.0]), (0.3, -1.2), [[0.0, 1.0], [1.0, 0.0]]),
]


@pytest.mark.parametrize(("name", "f", "point", "closed"), BINARY, ids=_ids(BINARY))
def test_hessians_of_binary_ops_match_closed_forms(name, f, point, closed):
    h = hessian(f)(*point)
    for row, expected in zip(h, closed, strict=True):
        assert row == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert h[0][1] == h[1][0]  # mixed partials commute


@pytest.mark.parametrize(("name", "f", "point", "closed"), BINARY, ids=_ids(BINARY))
def test_hessians_of_binary_ops_match_finite_differences(name, f, point, closed):
    report = gradcheck(f, *point, order=2)
    assert report, str(report)


def test_mixed_partials_in_either_order_agree():
    f = lambda x, y: x**y * (x * y).tanh()  # noqa: E731
    dxy = grad(grad(f, argnums=0), argnums=1)(1.3, 0.7)
    dyx = grad(grad(f, argnums=1), argnums=0)(1.3, 0.7)
    assert dxy == pytest.approx(dyx, rel=1e-12)


def test_third_order_mixed_partials_of_pow_value():
    x, y = 1.7, 2.3
    lx = math.log(x)
    f = lambda a, b: a**b  # noqa: E731
    dyyy = grad(grad(grad(f, 1), 1), 1)(x, y)
    dxxx = grad(grad(grad(f, 0), 0), 0)(x, y)
    dxxy = grad(grad(grad(f, 0), 0), 1)(x, y)
    assert dyyy == pytest.approx(x**y * lx**3, rel=1e-12)
    assert dxxx == pytest.approx(y * (y - 1) * (y - 2) * x ** (y - 3), rel=1e-12)
    assert dxxy == pytest.approx((2 * y - 1) * x ** (y - 2) + y * (y - 1) * x ** (y - 2) * lx, rel=1e-12)


def test_third_derivatives_of_div_in_the_denominator():
    x, y = 0.3, -1.2
    f = lambda a, b: a / b  # noqa: E731
    assert grad(grad(grad(f, 1), 1), 1)(x, y) == pytest.approx(-6 * x / y**4, rel=1e-12)
    assert grad(grad(grad(f, 1), 1), 0)(x, y) == pytest.approx(2 / y**3, rel=1e-12)


# --- Value.backward(create_graph=True) ----------------------------------------------------------
def test_backward_with_create_graph_gives_differentiable_gradients():
    x = Value(1.5)
    y = x * x * x + x.sigmoid()
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value)
    s = sig(1.5)
    assert g.data == pytest.approx(3 * 1.5**2 + s * (1 - s), rel=1e-14)
    x.grad = 0.0
    g.backward()
    assert x.grad == pytest.approx(6 * 1.5 + s * (1 - s) * (1 - 2 * s), rel=1e-13)


def test_gradients_with_create_graph_can_be_taken_three_times():
    x = Value(0.6)
    y = (x * x).log() + x.exp()  # 2 log|x| + e^x
    (g1,) = gradients(y, [x], create_graph=True)
    (g2,) = gradients(g1, [x], create_graph=True)
    (g3,) = gradients(g2, [x])
    assert g1.data == pytest.approx(2 / 0.6 + math.exp(0.6), rel=1e-13)
    assert g2.data == pytest.approx(-2 / 0.36 + math.exp(0.6), rel=1e-13)
    assert g3 == pytest.approx(4 / 0.216 + math.exp(0.6), rel=1e-13)


def test_derivatives_of_integer_powers_at_zero():
    # x ** n differentiated as a graph reaches x ** 0, whose rule must not evaluate 0 ** -1.
    assert grad(grad(grad(lambda x: x**2)))(0.0) == 0.0
    assert [grad(grad(lambda x: x**1))(0.0), grad(lambda x: x**0)(0.0)] == [0.0, 0.0]
    assert grad(grad(grad(lambda x: x**3)))(0.0) == 6.0
    assert grad(grad(grad(grad(lambda x: x**3))))(5e-324) == 0.0


# --- random expression DAGs -----------------------------------------------------------------------
@given(expressions(max_leaves=3, max_ops=8))
def test_first_and_second_derivatives_of_random_expressions_match_finite_differences(expr):
    assert_grads_close(expr, expr.inputs, order=2)


@given(expressions(max_leaves=2, max_ops=5))
def test_third_derivatives_of_random_expressions_match_differences_of_second(expr):
    d2 = grad(grad(expr))
    d3 = grad(d2)
    x = list(expr.inputs)
    h = 1e-5 * max(1.0, abs(x[0]))
    up, down = [x[0] + h, *x[1:]], [x[0] - h, *x[1:]]
    if not (expr.is_well_posed(up) and expr.is_well_posed(down)):
        return
    numeric = (d2(*up) - d2(*down)) / (up[0] - down[0])
    assert d3(*x) == pytest.approx(numeric, rel=1e-4, abs=1e-4)


def test_the_third_derivative_through_a_saturated_guard_is_right_but_not_drawn():
    # The CI profile once drew this: both guards of pow_value read sigmoid(24.9), where
    # 1 - out keeps 5 digits; differences of the second derivative over 2e-5 turn that into
    # a 3e-3 relative error, while the engine's third derivative stays within 1e-5.
    mpmath = pytest.importorskip("mpmath")
    steps = [
        Step("relu", (0,), (0.0, 1.0)), Step("sum", (1, 1, 1, 1, 1, 0), (0.0, 0.0)),
        Step("add", (2, 2), (0.0, 0.0, 0.0)), Step("pow_value", (3, 3), (0.0, 0.0, 0.0)),
        Step("dot", (4, 4), (0.0, 0.0)),
    ]
    expr = Expression(1, steps, [-1.0])
    assert "pow_value(0.1 + 4.9*sigmoid(v2), -3.0 + 6*sigmoid(v2))" in repr(expr)
    assert not expr.is_well_posed()

    def by_hand(x):
        sig = lambda a: 1 / (1 + mpmath.exp(-a))  # noqa: E731
        v2 = 2 * (5 * (0.001 + 9.999 * sig(x)) + x)
        return ((0.1 + 4.9 * sig(v2)) ** (-3.0 + 6 * sig(v2))) ** 2

    with mpmath.workdps(50):
        exact = float(mpmath.diff(by_hand, mpmath.mpf(-1.0), 3))
    assert grad(grad(grad(expr)))(-1.0) == pytest.approx(exact, rel=1e-4)


@given(expressions(max_leaves=3, max_ops=6))
def test_hessian_is_symmetric_on_random_expressions(expr):
    h = hessian(expr)(*expr.inputs)
    n = len(h)
    for i in range(n):
        for j in range(i):
            assert h[i][j] == pytest.approx(h[j][i], rel=1e-9, abs=1e-12)


# --- the Hessian of a small network against PyTorch --------------------------------------------------
X_IN, TARGET = (0.5, -1.2), 0.3
PARAMS = [0.1, -0.4, 0.7, 0.2, 0.05, -0.3, 0.9, -1.1, 0.15]  # w00 w01 w10 w11 b0 b1 v0 v1 c


def mlp_loss(w00, w01, w10, w11, b0, b1, v0, v1, c):
    """A 2-2-1 sigmoid network with squared error (1.4), written with Values."""
    h0 = dot([w00, w01], X_IN) + b0
    h1 = dot([w10, w11], X_IN) + b1
    o0, o1 = h0.sigmoid(), h1.sigmoid()
    y = (dot([v0, v1], [o0, o1]) + c).sigmoid()
    return squared_error(y, TARGET)


def test_mlp_hessian_matches_torch():
    torch = pytest.importorskip("torch")

    def torch_loss(p):
        x = torch.tensor(X_IN, dtype=torch.float64)
        hidden = torch.sigmoid(p[:4].reshape(2, 2) @ x + p[4:6])
        y = torch.sigmoid(p[6:8] @ hidden + p[8])
        return 0.5 * (TARGET - y) ** 2

    expected = torch.autograd.functional.hessian(torch_loss, torch.tensor(PARAMS, dtype=torch.float64))
    h = hessian(mlp_loss)(*PARAMS)
    assert len(h) == 9
    for i in range(9):
        assert h[i] == pytest.approx(expected[i].tolist(), rel=1e-10, abs=1e-13)


def test_mlp_hessian_matches_finite_differences():
    report = gradcheck(mlp_loss, *PARAMS, order=2)
    assert report, str(report)
