"""Forward mode (`jvp`) and Jacobians both ways (`jacfwd`, `jacrev`).

Oracles: the reverse-mode engine (a jvp along v equals the vjp-built Jacobian
times v, on hypothesis-drawn graphs over every row), each row's own local
derivatives, central finite differences, and torch.func where installed.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import (
    DomainError,
    NumericOverflowError,
    Value,
    dot,
    grad,
    gradients,
    hessian,
    jacfwd,
    jacobian_cost,
    jacrev,
    jvp,
    no_grad,
    sum_of,
)
from autograd_mini.engine import local_derivatives
from autograd_mini.extend import is_custom
from autograd_mini.forward import node_tangents, record
from autograd_mini.ops import OPS
from autograd_mini.testing import DEFAULT_OPS, PIECEWISE_CONSTANT_OPS, expressions, sample_inputs
from autograd_mini.value import apply

# Built from methods that Value and torch.Tensor share, so the same function runs on both.
FUNCTIONS = {
    "poly": (lambda x, y: x * x * y + 3.0 * y, (1.5, -0.7)),
    "trig": (lambda x, y: (x * y).sin() + (x - y).cos() / (y * y + 1.0), (0.3, 1.2)),
    "exp_log": (lambda x, y, z: (x.exp() + y * y).log() * z.tanh(), (0.2, -1.1, 0.8)),
    "sigmoid": (lambda x, y: (x * 2.0 - y).sigmoid() * x.sqrt(), (1.3, 0.4)),
    "abs_relu": (lambda x, y: (x - 2.0 * y).abs() + (x * y).relu(), (1.7, 0.4)),
}
# Vector-valued: n inputs -> m outputs.
VECTOR = {
    "polar": (lambda r, a: (r * a.cos(), r * a.sin()), (2.0, 0.6)),
    "mixed": (lambda x, y, z: (x * y * z, x.exp() - z, (y / z).tanh(), x * x), (0.4, -0.9, 1.3)),
    "one_to_many": (lambda x: (x.sin(), x.cos(), x * x, x.exp(), x.sigmoid()), (0.7,)),
}


def close(a, b, rel=1e-12, scale=1.0):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-13 * scale)


def reverse_column(f, xs, v):
    """J v from reverse mode: one backward pass per output (the vjp-built Jacobian), times v."""
    inputs = [Value(x) for x in xs]
    out = f(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [sum(g * vj for g, vj in zip(gradients(o, inputs), v, strict=True)) for o in outs]


def central_difference(f, xs, v, h=1e-6):
    def at(s):
        out = f(*[Value(x + s * vj) for x, vj in zip(xs, v, strict=True)])
        return [o.data for o in (out if isinstance(out, (tuple, list)) else [out])]

    return [(a - b) / (2 * h) for a, b in zip(at(h), at(-h), strict=True)]


# --- jvp on every row of the table -----------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in DEFAULT_OPS + PIECEWISE_CONSTANT_OPS])
def test_jvp_along_each_input_is_the_rows_local_derivative(name):
    """For every built-in row, the tangent along e_j is d out / d input_j from the row itself."""
    op = OPS[name]

    @settings(max_examples=20)
    @given(sample_inputs(op))
    def check(xs):
        node = apply(op, *[Value(x) for x in xs])
        local = local_derivatives(node)
        for j in range(len(xs)):
            e_j = [1.0 if k == j else 0.0 for k in range(len(xs))]
            value, tangent = jvp(lambda *v: apply(op, *v), xs, e_j)
            assert value == node.data
            expected = 0.0 if local[j] is None else local[j]
            assert close(tangent, expected), (name, xs, j, tangent, expected)

    check()


# Tangents are normal floats or 0: a subnormal tangent (5e-324) underflows to 0 after one local factor
# of forward mode while reverse mode multiplies it last, a difference of rounding, not of rules.
@given(expressions(max_leaves=3, max_ops=8),
       st.lists(st.floats(-2.0, 2.0, allow_subnormal=False).map(lambda t: t if abs(t) > 1e-200 else 0.0),
                min_size=3, max_size=3))
def test_jvp_equals_the_vjp_built_jacobian_column_on_drawn_graphs(expr, v):
    """Drawn DAGs over every differentiable row, with shared subexpressions: J v both ways."""
    v = v[: expr.n_inputs]
    value, tangent = jvp(expr, expr.inputs, v)
    assert value == expr(*expr.inputs).data
    (expected,) = reverse_column(expr, expr.inputs, v)
    assert close(tangent, expected, rel=1e-9, scale=sum(abs(x) for x in v) * 10), (tangent, expected)


def test_the_row_tests_cover_every_built_in_row():
    """The two tests above draw from DEFAULT_OPS and PIECEWISE_CONSTANT_OPS: together, every built-in row."""
    built_in = {name for name in OPS if not is_custom(name)}
    assert built_in == set(DEFAULT_OPS) | set(PIECEWISE_CONSTANT_OPS)


def test_node_tangents_gives_every_node_and_writes_nothing():
    x = Value(0.5)
    rec = record(lambda a: (a * a).sin(), [x], as_values=False, caller="test")
    tangents, calls = node_tangents(rec, [2.0])
    square, sine = rec.order
    assert (tangents[square], tangents[sine], calls) == (2.0, math.cos(0.25) * 2.0, 2)
    assert x.grad == 0.0 and square.grad == 0.0 and sine.grad == 0.0


def test_jvp_is_linear_in_the_tangent_so_its_gradient_there_is_the_derivative():
    f = lambda x: x.exp() * x  # noqa: E731
    assert close(grad(lambda v: jvp(f, (0.7,), (v,))[1])(1.0), math.exp(0.7) * 1.7)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_jvp_matches_finite_differences(name):
    f, xs = FUNCTIONS[name]
    v = [0.3 * (k + 1) * (-1) ** k for k in range(len(xs))]
    _, tangent = jvp(f, xs, v)
    (fd,) = central_difference(f, xs, v)
    assert math.isclose(tangent, fd, rel_tol=1e-6, abs_tol=1e-8)


@pytest.mark.parametrize("name", sorted(VECTOR))
def test_jvp_of_a_tuple_gives_a_tuple_of_tangents(name):
    f, xs = VECTOR[name]
    v = [1.0 - 0.5 * k for k in range(len(xs))]
    value, tangent = jvp(f, xs, v)
    assert isinstance(value, tuple) and isinstance(tangent, tuple)
    assert list(value) == [o.data for o in f(*[Value(x) for x in xs])]
    for t, fd, r in zip(tangent, central_difference(f, xs, v), reverse_column(f, xs, v), strict=True):
        assert math.isclose(t, fd, rel_tol=1e-6, abs_tol=1e-8)
        assert close(t, r)


def test_jvp_of_a_list_gives_a_list_and_numbers_have_tangent_zero():
    value, tangent = jvp(lambda x: [x * x, 2.0, 3], [3.0], [1.0])
    assert value == [9.0, 2.0, 3.0] and tangent == [6.0, 0.0, 0.0]
    assert jvp(lambda x: 5.0, (1.0,), (1.0,)) == (5.0, 0.0)


def test_n_ary_rows_dot_and_sum():
    f = lambda a, b, c, d: dot([a, b], [c, d]) + sum_of([a, b, c]) * d  # noqa: E731
    xs, v = (1.0, 2.0, 3.0, 4.0), (0.5, -1.0, 2.0, 0.25)
    _, tangent = jvp(f, xs, v)
    # d/da = c + d, d/db = d + d, d/dc = a + d, d/dd = b + (a + b + c)
    grads = [3.0 + 4.0, 4.0 + 4.0, 1.0 + 4.0, 2.0 + 6.0]
    assert tangent == sum(g * vj for g, vj in zip(grads, v, strict=True))


def test_a_shared_node_sums_both_paths():
    """a * a: the input appears twice, so the tangent is 2 a t (not a t)."""
    assert jvp(lambda a: a * a, (3.0,), (1.0,)) == (9.0, 6.0)
    assert jvp(lambda a, b: a * a * b, (3.0, 2.0), (1.0, 0.0))[1] == 12.0


def test_custom_op_from_defop(registry):
    from conftest import softplus_forward

    from autograd_mini.primitives import sigmoid

    _, softplus = registry("softplus", forward=softplus_forward, vjp=lambda g, out, x: (g * sigmoid(x),))
    _, tangent = jvp(lambda x, y: softplus(x * y), (0.5, 2.0), (1.0, 0.5))
    s = 1.0 / (1.0 + math.exp(-1.0))
    assert close(tangent, s * (2.0 * 1.0 + 0.5 * 0.5))
    # and forward over reverse through it: d/dx sigmoid(x) = s (1 - s)
    _, second = jvp(grad(lambda x: softplus(x)), (1.0,), (1.0,))
    assert close(second, s * (1.0 - s))


def test_custom_variadic_op_with_a_nondiff_input(registry):
    _, scaled = registry(
        "scaled_sum", forward=lambda k, *xs: k * sum(xs), vjp=lambda g, out, k, *xs: (None, *[g * k] * len(xs)),
        arity=None, nondiff=(0,),
    )
    _, tangent = jvp(lambda x, y: scaled(3.0, x, y * y), (1.0, 2.0), (1.0, 1.0))
    assert tangent == 3.0 * (1.0 + 2 * 2.0)


# --- composition with grad ----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_forward_over_reverse_is_the_hessian_vector_product(name):
    f, xs = FUNCTIONS[name]
    v = [0.7 - 0.4 * k for k in range(len(xs))]
    argnums = tuple(range(len(xs)))
    _, hv = jvp(grad(f, argnums=argnums), xs, v)
    H = hessian(f)(*xs)
    expected = [sum(H[i][j] * v[j] for j in range(len(xs))) for i in range(len(xs))]
    for a, b in zip(hv, expected, strict=True):
        assert close(a, b, rel=1e-10)


def test_reverse_over_forward_and_forward_over_forward():
    f = lambda x: x.sin() * x * x  # noqa: E731
    d2 = lambda x: -math.sin(x) * x * x + 4 * x * math.cos(x) + 2 * math.sin(x)  # noqa: E731
    assert close(grad(lambda x: jvp(f, (x,), (1.0,))[1])(0.9), d2(0.9))
    assert close(jvp(lambda x: jvp(f, (x,), (1.0,))[1], (0.9,), (1.0,))[1], d2(0.9))


def test_a_jvp_inside_grad_keeps_the_dependence_on_closed_over_values():
    """d/dx [d/dy x*y] = 1: the inner tangent is x, a Value of the outer grad, not a float."""
    assert grad(lambda x: jvp(lambda y: x * y, (3.0,), (1.0,))[1])(2.0) == 1.0
    assert jvp(lambda x: grad(lambda y: x * y)(3.0), (2.0,), (1.0,)) == (2.0, 1.0)


def test_value_primals_give_values_and_write_no_grad():
    x = Value(2.0)
    value, tangent = jvp(lambda a: a * a * a, (x,), (1.0,))
    assert isinstance(value, Value) and isinstance(tangent, Value)
    assert (value.data, tangent.data) == (8.0, 12.0)
    assert x.grad == 0.0
    tangent.backward()
    assert x.grad == 12.0  # d/dx 3x^2


def test_jvp_records_even_inside_no_grad():
    with no_grad():
        assert jvp(lambda x: x.exp(), (0.0,), (2.0,)) == (1.0, 2.0)


# --- Jacobians ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(VECTOR) + sorted(FUNCTIONS))
def test_jacfwd_equals_jacrev_and_finite_differences(name):
    f, xs = {**VECTOR, **FUNCTIONS}[name]
    J_fwd, J_rev = jacfwd(f)(*xs), jacrev(f)(*xs)
    assert len(J_fwd) == len(J_rev) and all(len(row) == len(xs) for row in J_fwd)
    for j in range(len(xs)):
        e_j = [1.0 if k == j else 0.0 for k in range(len(xs))]
        for i, fd in enumerate(central_difference(f, xs, e_j)):
            assert close(J_fwd[i][j], J_rev[i][j], scale=10.0)
            assert math.isclose(J_fwd[i][j], fd, rel_tol=1e-6, abs_tol=1e-8)


def test_the_cost_shows_n_forward_passes_against_m_reverse_passes():
    """Many inputs, one output: jacrev takes 1 pass, jacfwd n. One input, many outputs: the reverse."""
    n = 12
    many_in = lambda *xs: sum_of([x * x for x in xs]).sin()  # noqa: E731
    cost = jacobian_cost(many_in, [0.1 * (k + 1) for k in range(n)])  # no 0: a zero tangent stops a pass
    assert (cost.n_inputs, cost.n_outputs) == (n, 1)
    assert len(cost.forward_passes) == n and len(cost.reverse_passes) == 1
    assert cost.reverse_ops == cost.recorded_ops == n + 2  # n squares, the sum, sin
    assert cost.forward_ops == n * 3  # each pass: one square, the sum, sin
    many_out = lambda x: tuple((x * float(k)).sin() for k in range(1, n + 1))  # noqa: E731
    cost = jacobian_cost(many_out, [0.3])
    assert len(cost.forward_passes) == 1 and len(cost.reverse_passes) == n
    assert cost.forward_ops == 2 * n and cost.reverse_ops == 2 * n
    assert "12 reverse passes" in str(cost)


def test_jacobian_of_values_is_values_for_nesting():
    J = jacfwd(lambda x, y: (x * y, x + y))(Value(2.0), Value(3.0))
    assert isinstance(J[0][0], Value) and [[e.data for e in row] for row in J] == [[3.0, 2.0], [1.0, 1.0]]
    # the Jacobian of the gradient is the Hessian
    f = lambda x, y: x * x * y  # noqa: E731
    H = jacfwd(grad(f, argnums=(0, 1)))(1.5, 2.0)
    assert H == jacrev(grad(f, argnums=(0, 1)))(1.5, 2.0) == hessian(f)(1.5, 2.0)


# --- errors ---------------------------------------------------------------------------------------
def test_a_local_derivative_that_does_not_exist_names_the_op_and_value():
    with pytest.raises(DomainError, match=r"jvp through sqrt\(0\.0\)"):
        jvp(lambda x: x.sqrt(), (0.0,), (1.0,))
    assert jvp(lambda x, y: x.sqrt() + y, (0.0, 1.0), (0.0, 1.0)) == (1.0, 1.0)  # no tangent reaches sqrt


def test_a_tangent_that_overflows_names_the_op():
    with pytest.raises(NumericOverflowError, match=r"jvp through exp\(700\.0\).*overflows"):
        jvp(lambda x: x.exp(), (700.0,), (1e300,))


@pytest.mark.parametrize(
    "primals, tangents, error, words",
    [
        ((True,), (1.0,), TypeError, r"jvp: primals\[0\] must be an int, float or Value, got bool"),
        (("1",), (1.0,), TypeError, r"primals\[0\].*got str"),
        ((1.0,), (None,), TypeError, r"tangents\[0\].*got NoneType"),
        ((1.0,), (math.nan,), ValueError, r"tangents\[0\] must be finite, got NaN"),
        ((1.0, 2.0), (1.0,), ValueError, "2 primals but 1 tangents"),
        (1.0, (1.0,), TypeError, "primals must be a tuple or list"),
        ((), (), ValueError, "at least one primal"),
    ],
)
def test_bad_primals_and_tangents_are_typed_errors(primals, tangents, error, words):
    with pytest.raises(error, match=words):
        jvp(lambda x, *rest: x, primals, tangents)


def test_a_function_returning_no_number_is_a_type_error():
    def bad(x):
        return "x"

    with pytest.raises(TypeError, match="jvp: bad must return a number or Value"):
        jvp(bad, (1.0,), (1.0,))
    with pytest.raises(TypeError, match="item 1 of its tuple"):
        jvp(lambda x: (x, None), (1.0,), (1.0,))
    with pytest.raises(ValueError, match="jacfwd: the function was called without arguments"):
        jacfwd(lambda: 1.0)()


# --- torch.func as the oracle ------------------------------------------------------------------------
def torch_version(f, n_out):
    torch = pytest.importorskip("torch")

    def g(x):
        out = f(*x.unbind())
        return torch.stack(list(out)) if isinstance(out, tuple) else out

    return torch, g


@pytest.mark.parametrize("name", sorted(VECTOR) + sorted(FUNCTIONS))
def test_against_torch_func(name):
    f, xs = {**VECTOR, **FUNCTIONS}[name]
    torch, g = torch_version(f, None)
    x = torch.tensor(xs, dtype=torch.float64)
    v = torch.tensor([0.5 + k for k in range(len(xs))], dtype=torch.float64)
    t_value, t_tangent = torch.func.jvp(g, (x,), (v,))
    value, tangent = jvp(f, xs, v.tolist())
    ours = list(tangent) if isinstance(tangent, tuple) else [tangent]
    for a, b in zip(ours, t_tangent.reshape(-1).tolist(), strict=True):
        assert close(a, b, rel=1e-12, scale=10.0)
    for ours_J, theirs in ((jacfwd(f)(*xs), torch.func.jacfwd(g)(x)), (jacrev(f)(*xs), torch.func.jacrev(g)(x))):
        theirs_rows = theirs.reshape(len(ours_J), len(xs)).tolist()
        for row, trow in zip(ours_J, theirs_rows, strict=True):
            for a, b in zip(row, trow, strict=True):
                assert close(a, b, rel=1e-12, scale=10.0)


def test_the_benchmark_runs_quick():
    """benchmarks/bench_forward.py --quick prints its three contenders for both workloads (no timing asserted)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "benchmarks/bench_forward.py", "--quick"], cwd=root,
                         capture_output=True, text=True, timeout=120, check=True)
    rows = [line.split()[:2] for line in run.stdout.splitlines()[2:]]
    assert rows == [[w, c] for w in ("mlp", "chain") for c in ("forward", "jvp", "forward+backward")]
