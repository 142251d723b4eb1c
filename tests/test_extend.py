"""Custom ops through `autograd_mini.extend.defop`: end to end, and every bad registration."""

import math
import uuid

import pytest
from conftest import softplus_forward
from hypothesis import given

from autograd_mini import DomainError, OpRegistrationError, Value, grad, gradcheck, gradients, hessian
from autograd_mini.engine import local_derivatives
from autograd_mini.extend import defop, is_custom, remove_op
from autograd_mini.graph import reverse_topological_order
from autograd_mini.ops import OPS
from autograd_mini.primitives import exp, log, sigmoid
from autograd_mini.testing import assert_grads_close, expressions


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def softplus_vjp(g, out, x):
    return (g * sigmoid(x),)


# --- a custom op end to end: softplus ---------------------------------------------------------
def test_softplus_forward_and_backward(registry):
    name, softplus = registry("softplus", softplus_forward, softplus_vjp)
    x = Value(0.7)
    y = softplus(x)
    assert y.op is OPS[name] and y.inputs == (x,)
    assert y.data == pytest.approx(math.log1p(math.exp(0.7)), rel=1e-15)
    (y * y).backward()
    assert x.grad == pytest.approx(2 * y.data * sig(0.7), rel=1e-14)


def test_softplus_gradients_of_gradients(registry):
    _, softplus = registry("softplus", softplus_forward, softplus_vjp)
    f = lambda x: softplus(x)  # noqa: E731
    s = sig(-0.4)
    assert grad(f)(-0.4) == pytest.approx(s, rel=1e-14)
    assert grad(grad(f))(-0.4) == pytest.approx(s * (1 - s), rel=1e-14)
    assert grad(grad(grad(f)))(-0.4) == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-13)


def test_softplus_passes_gradcheck_to_second_order(registry):
    _, softplus = registry("softplus", softplus_forward, softplus_vjp)
    report = gradcheck(lambda x, y: softplus(x * y) * y, 0.5, -1.5, order=2)
    assert report, str(report)


def test_softplus_hessian_inside_a_larger_expression(registry):
    _, softplus = registry("softplus", softplus_forward, softplus_vjp)
    h = hessian(lambda x, y: softplus(x + y))(0.3, 0.2)
    s = sig(0.5)
    assert h == [[pytest.approx(s * (1 - s))] * 2] * 2


def test_softplus_local_derivatives_read_the_custom_rule(registry):
    _, softplus = registry("softplus", softplus_forward, softplus_vjp)
    y = softplus(Value(1.2))
    assert local_derivatives(y) == pytest.approx((sig(1.2),))


def test_softplus_in_random_expressions(registry):
    name, _ = registry("softplus", softplus_forward, softplus_vjp)

    @given(expressions(ops=[name, "mul", "add", "tanh"]))
    def check(expr):
        graph_ops = {node.op.name for node in reverse_topological_order(expr(*expr.inputs)) if node.op}
        assert expr.ops <= graph_ops
        assert_grads_close(expr, expr.inputs, order=2)

    check()


def test_softplus_shows_in_draw_and_explain(registry):
    viz = pytest.importorskip("autograd_mini.views.draw")
    explain_module = pytest.importorskip("autograd_mini.views.explain")
    name, softplus = registry("softplus", softplus_forward, softplus_vjp)
    x = Value(0.5, label="x")
    y = softplus(x * 2.0)
    assert name in viz.draw(y).source
    assert name in str(explain_module.explain(y, x))


def test_numbers_are_lifted_and_arity_is_enforced_at_call(registry):
    name, softplus = registry("softplus", softplus_forward, softplus_vjp)
    assert softplus(0.0).data == pytest.approx(math.log(2.0))
    with pytest.raises(TypeError, match=rf"{name} takes 1 input, got 2"):
        softplus(1.0, 2.0)
    with pytest.raises(TypeError, match=rf"{name}: input 0 must be a Value"):
        softplus("1.0")


def test_is_custom_and_remove_op(registry):
    name, _ = registry("softplus", softplus_forward, softplus_vjp)
    assert is_custom(name) and not is_custom("mul")
    remove_op(name)
    assert name not in OPS and not is_custom(name)
    with pytest.raises(OpRegistrationError, match="not a custom op"):
        remove_op("mul")
    assert "mul" in OPS


# --- variadic ops, constant inputs, domains ---------------------------------------------------------
def test_a_variadic_custom_op(registry):
    def logsumexp_forward(*xs):
        return log(sum(exp(x) for x in xs))

    def logsumexp_vjp(g, out, *xs):
        return tuple(g * exp(x - out) for x in xs)  # softmax

    _, logsumexp = registry("logsumexp", logsumexp_forward, logsumexp_vjp, arity=None)
    xs = [0.1, -0.3, 0.8]
    total = sum(math.exp(x) for x in xs)
    grads = grad(lambda a, b, c: logsumexp(a, b, c), argnums=(0, 1, 2))(*xs)
    assert grads == pytest.approx(tuple(math.exp(x) / total for x in xs), rel=1e-14)
    report = gradcheck(lambda a, b, c: logsumexp(a, b, c, a), *xs, order=2)
    assert report, str(report)
    assert logsumexp(1.0).data == pytest.approx(1.0)


def test_a_nondiff_input_is_a_constant_of_the_op(registry):
    name, scale = registry("scale", lambda x, k: k * x * x, lambda g, out, x, k: (g * 2.0 * k * x, None),
                           arity=2, nondiff=(1,))
    x, k = Value(1.5), Value(3.0)
    y = scale(x, k)
    y.backward()
    assert (x.grad, k.grad) == (9.0, 0.0)
    assert grad(grad(lambda a: scale(a, 3.0)))(1.5) == 6.0


def test_a_valid_predicate_gives_a_domain_error_naming_the_domain(registry):
    name, safe_log = registry("safe_log", lambda x: log(x), lambda g, out, x: (g / x,),
                              domain="x > 0", valid=lambda x: x > 0)
    assert safe_log(math.e).data == pytest.approx(1.0)
    with pytest.raises(DomainError, match=rf"{name}\(-1.0\).*x > 0"):
        safe_log(-1.0)


def test_replace_true_redefines_a_custom_op(registry):
    name, _ = registry("twice", lambda x: 2.0 * x, lambda g, out, x: (2.0 * g,))
    thrice = defop(name, lambda x: 3.0 * x, lambda g, out, x: (3.0 * g,), replace=True)
    assert thrice(Value(1.0)).data == 3.0
    assert grad(lambda x: thrice(x))(1.0) == 3.0


# --- bad registrations: at registration ------------------------------------------------------
def identity_vjp(g, out, x):
    return (g,)


@pytest.mark.parametrize("name", ["", "1abc", "soft plus", "a-b", None, 3])
def test_the_name_must_be_an_identifier(name):
    with pytest.raises(OpRegistrationError, match="identifier"):
        defop(name, lambda x: x, identity_vjp)


def test_a_taken_name_is_refused_unless_replace(registry):
    name, _ = registry("taken", lambda x: x, identity_vjp)
    with pytest.raises(OpRegistrationError, match=rf"{name!r} is already registered.*replace=True"):
        defop(name, lambda x: x, identity_vjp)


@pytest.mark.parametrize("name", ["mul", "exp", "squared_error"])
def test_builtin_ops_cannot_be_replaced(name):
    before = OPS[name]
    with pytest.raises(OpRegistrationError, match="built-in"):
        defop(name, lambda x: x, identity_vjp, replace=True)
    assert OPS[name] is before


@pytest.mark.parametrize("arity", [0, -1, 1.5, True, "1"])
def test_arity_must_be_a_positive_int_or_none(arity):
    with pytest.raises(OpRegistrationError, match="arity must be a positive int or None"):
        defop(f"bad_arity_{uuid.uuid4().hex[:8]}", lambda x: x, identity_vjp, arity=arity)


@pytest.mark.parametrize(("forward", "vjp", "role"), [(None, identity_vjp, "forward"), (lambda x: x, 2.0, "vjp")])
def test_forward_and_vjp_must_be_callable(forward, vjp, role):
    with pytest.raises(OpRegistrationError, match=f"{role} must be callable"):
        defop(f"bad_fn_{uuid.uuid4().hex[:8]}", forward, vjp)


def test_a_forward_that_cannot_take_arity_inputs_is_refused():
    name = f"bad_forward_{uuid.uuid4().hex[:8]}"
    with pytest.raises(OpRegistrationError, match=r"forward must accept 1 positional argument"):
        defop(name, lambda x, y: x * y, lambda g, out, x: (g,))
    assert name not in OPS


def test_a_vjp_with_the_wrong_signature_is_refused():
    name = f"bad_vjp_{uuid.uuid4().hex[:8]}"
    with pytest.raises(OpRegistrationError, match=r"vjp must accept 4 positional arguments.*vjp\(g, out, \*inputs\)"):
        defop(name, lambda x, y: x * y, lambda g, x, y: (g * y, g * x), arity=2)
    assert name not in OPS


def test_nondiff_positions_must_be_inputs():
    with pytest.raises(OpRegistrationError, match="nondiff position 2"):
        defop(f"bad_nondiff_{uuid.uuid4().hex[:8]}", lambda x, k: x, lambda g, out, x, k: (g, None),
              arity=2, nondiff=(2,))


# --- bad registrations: at first use -------------------------------------------------------------
def test_a_rule_returning_too_many_gradients_fails_at_first_use(registry):
    name, bad = registry("too_many", lambda x: 2.0 * x, lambda g, out, x: (2.0 * g, g))
    with pytest.raises(OpRegistrationError, match=rf"op '{name}': its vjp returned 2 gradients for 1 input"):
        bad(Value(1.0))


def test_a_rule_returning_a_bare_number_fails_at_first_use(registry):
    name, bad = registry("bare", lambda x: 2.0 * x, lambda g, out, x: 2.0 * g)
    with pytest.raises(OpRegistrationError, match=rf"op '{name}'.*not a tuple.*\(g \* \.\.\.,\)"):
        bad(Value(1.0))


def test_a_rule_giving_a_gradient_for_a_nondiff_input_fails_at_first_use(registry):
    name, bad = registry("leaky", lambda x, k: k * x, lambda g, out, x, k: (g * k, g * x), arity=2, nondiff=(1,))
    with pytest.raises(OpRegistrationError, match=rf"op '{name}': input 1 is declared nondiff"):
        bad(1.0, 2.0)


def test_the_table_row_checks_every_call_of_the_rule(registry):
    # A rule whose shape depends on its inputs slips past the first-use probe;
    # the row's wrapper still names the op when a graph of Values runs it.
    def moody_vjp(g, out, x):
        return (g,) if isinstance(x, float) else (g, g)

    name, moody = registry("moody", lambda x: x * 1.0, moody_vjp)
    x = Value(1.0)
    y = moody(x)
    with pytest.raises(OpRegistrationError, match=rf"op '{name}': its vjp returned 2 gradients"):
        gradients(y, [x], create_graph=True)


def test_a_rule_failing_on_the_first_point_is_probed_again_later(registry):
    calls = []

    def vjp(g, out, x):
        calls.append(x)
        if x == 0.0:
            raise ZeroDivisionError
        return (g, g)  # wrong: two gradients

    name, op = registry("late", lambda x: x, vjp)
    op(0.0)  # the probe cannot evaluate the rule here: no verdict yet
    with pytest.raises(OpRegistrationError, match=name):
        op(1.0)
    assert calls == [0.0, 1.0]


def test_the_docstring_example_runs():
    import doctest
    import sys

    module = sys.modules["autograd_mini.extend"]
    try:
        result = doctest.testmod(module)
    finally:
        if "softplus_doc" in OPS:
            remove_op("softplus_doc")
    assert result.attempted >= 5 and result.failed == 0
