"""Issue 11 (core items): all-or-nothing backward, threads, constants, one answer on
every path, the backward signature, the plain-number API, checked .data, rule and
forward results that are not floats, no_grad on generators and coroutines.
"""

import asyncio
import decimal
import math
import subprocess
import sys
import threading

import pytest

from autograd_mini import (
    DomainError,
    NumericOverflowError,
    Value,
    enable_grad,
    grad,
    gradients,
    is_grad_enabled,
    no_grad,
)
from autograd_mini.errors import OpRegistrationError
from autograd_mini.extend import defop, remove_op


# --- 2: a backward() that raises leaves every .grad as it was -------------------------------
def grads_of(*nodes):
    return [n.grad for n in nodes]


def test_a_domain_error_half_way_leaves_every_grad_unchanged():
    x = Value(0.0)
    y = x * 3.0 + x.sqrt()
    before = grads_of(x, y)
    with pytest.raises(DomainError, match="sqrt"):
        y.backward()
    assert grads_of(x, y) == before == [0.0, 0.0]


def test_a_failed_pass_then_a_good_pass_gives_the_right_gradient():
    x = Value(0.0)
    with pytest.raises(DomainError):
        (x * 3.0 + x.sqrt()).backward()
    x.data = 1.0
    (x * 3.0 + x.sqrt()).backward()
    assert x.grad == 3.5


def test_accumulated_grads_survive_a_failed_pass():
    x, w = Value(4.0), Value(2.0)
    (x * w).backward()
    assert (x.grad, w.grad) == (2.0, 4.0)
    bad = x * w + (x - 4.0).sqrt()
    with pytest.raises(DomainError):
        bad.backward()
    assert (x.grad, w.grad) == (2.0, 4.0)


@pytest.mark.parametrize("error", [RuntimeError("custom rule broke"), KeyboardInterrupt()])
def test_a_raising_custom_rule_or_ctrl_c_leaves_every_grad_unchanged(error):
    calls = []

    def vjp(g, out, x):
        calls.append(g)
        if len(calls) > 1:  # defop probes the rule once, on first use
            raise error
        return (g,)

    boom = defop("boom_rule_trust", forward=lambda x: x, vjp=vjp)
    try:
        x = Value(1.5)
        x.grad = 7.0
        y = x * 2.0 + boom(x * x)
        with pytest.raises(type(error)):
            y.backward()
        assert len(calls) == 2 and x.grad == 7.0 and y.grad == 0.0
    finally:
        remove_op("boom_rule_trust")


# --- 3: threads ------------------------------------------------------------------------------
def test_threads_calling_backward_on_one_deep_graph_act_as_if_serial():
    x = Value(1.0)
    y = x
    for _ in range(3000):
        y = y * 1.0 + 0.0
    y = y + x  # dy/dx = 2
    n_threads = 8
    start = threading.Barrier(n_threads)
    errors = []

    def work():
        try:
            start.wait()
            y.backward()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert x.grad == 2.0 * n_threads


# --- 4: constants ----------------------------------------------------------------------------
def test_numbers_in_a_graph_are_constants_and_raise_nothing_in_backward():
    assert grad(lambda x: x / 1e-200)(1.0) == pytest.approx(1e200)
    assert grad(lambda x: 1e300 * (1e-300 * x))(1e10) == pytest.approx(1.0)
    x = Value(1.0)
    (x / 1e-200).backward()
    assert x.grad == pytest.approx(1e200)


def test_requires_grad_false_as_in_torch():
    torch = pytest.importorskip("torch")
    w, x = Value(0.7), Value(0.0, requires_grad=False)
    loss = (w * x.sqrt() - 1) ** 2
    assert not x.sqrt().requires_grad  # a node of constants only is a constant
    loss.backward()
    tw = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    tx = torch.tensor(0.0, dtype=torch.float64)
    ((tw * tx.sqrt() - 1) ** 2).backward()
    assert w.grad == tw.grad.item() == 0.0
    assert x.grad == 0.0  # a constant gets no gradient


def test_with_requires_grad_the_infinite_derivative_toward_x_is_still_an_error():
    w, x = Value(0.7), Value(0.0)
    with pytest.raises(DomainError, match="sqrt"):
        ((w * x.sqrt() - 1) ** 2).backward()


def test_a_constant_node_runs_no_rule():
    seen = []
    spy = defop("spy_trust", forward=lambda x: x, vjp=lambda g, out, x: (seen.append(g) or g,))
    try:
        c = Value(3.0, requires_grad=False)
        y = Value(2.0) * spy(c)
        probed = len(seen)  # defop probes the rule once, on first use
        y.backward()
        assert len(seen) == probed and c.grad == 0.0
    finally:
        remove_op("spy_trust")


def test_requires_grad_must_be_a_bool():
    with pytest.raises(TypeError, match="requires_grad"):
        Value(1.0, requires_grad=1)


# --- 5: one answer on every path ------------------------------------------------------------
def test_a_zero_gradient_reaching_a_kink_is_zero_on_every_path():
    f = lambda x: (x.sqrt() - 1).relu()  # noqa: E731
    assert grad(f)(0.0) == 0.0
    x = Value(0.0)
    assert gradients(f(x), [x]) == [0.0]
    f(x).backward()
    assert x.grad == 0.0


# --- 10: backward's signature ----------------------------------------------------------------
def test_backward_takes_a_positional_seed_and_keyword_only_create_graph():
    x = Value(3.0)
    (x * x).backward(2.0)
    assert x.grad == 12.0 and not isinstance(x.grad, Value)
    with pytest.raises(TypeError):
        (x * x).backward(1.0, True)
    with pytest.raises(TypeError, match="seed gradient"):
        (x * x).backward("1")
    with pytest.raises(ValueError, match="finite"):
        (x * x).backward(math.inf)
    y = Value(2.0)
    (y * y).backward(create_graph=True)
    assert isinstance(y.grad, Value) and y.grad.data == 4.0
    assert "zero_grad" in Value.backward.__doc__ and hasattr(Value, "zero_grad")


# --- 11: the plain-number API ----------------------------------------------------------------
def test_zero_grad_zeroes_every_node_the_value_depends_on():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    out = c + a
    out.backward()
    assert a.grad == 4.0
    out.zero_grad()
    assert [a.grad, b.grad, c.grad, out.grad] == [0.0, 0.0, 0.0, 0.0]


def test_item_int_round_float_and_comparisons():
    v = Value(2.6)
    assert v.item() == 2.6 and float(v) == 2.6 and int(v) == 2 and round(v) == 3 and round(v, 1) == 2.6
    assert v > 0 and v >= 2.6 and v < 3 and v <= Value(2.6) and not v > Value(5.0)
    assert all(type(r) is bool for r in (v > 0, v < 0, v >= v, v <= 1))
    values = [Value(3.0), Value(-1.0), Value(2.0)]
    assert [w.data for w in sorted(values)] == [-1.0, 2.0, 3.0]
    assert max(values) is values[0] and min(values) is values[1]
    with pytest.raises(TypeError):
        v < "a"  # noqa: B015


def test_equality_is_identity_and_values_stay_hashable():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b}) == 2 and {a: 1}[a] == 1


def test_sin_and_cos_are_rows_with_methods():
    x = Value(0.5)
    assert x.sin().data == math.sin(0.5) and x.cos().data == math.cos(0.5)
    assert grad(lambda x: x.sin())(0.5) == pytest.approx(math.cos(0.5))
    assert grad(grad(lambda x: x.cos()))(0.5) == pytest.approx(-math.cos(0.5))


# --- 12: .data is checked on assignment ------------------------------------------------------
@pytest.mark.parametrize("bad, kind, words", [
    (math.nan, ValueError, "NaN"), (math.inf, ValueError, "inf"), ("1.0", TypeError, "str"),
    (True, TypeError, "bool"), (10**400, ValueError, "bits"),
])
def test_assigning_data_a_bad_value_is_refused_at_once(bad, kind, words):
    v = Value(1.0)
    with pytest.raises(kind, match=words):
        v.data = bad
    assert v.data == 1.0


def test_data_assignment_accepts_numbers_as_floats():
    v = Value(1.0)
    v.data = 3
    assert v.data == 3.0 and type(v.data) is float
    v.data -= 0.5
    assert v.data == 2.5


# --- 14 (eager): non-float rule results and forward overflows -------------------------------
@pytest.mark.parametrize("bad", [1j, decimal.Decimal("Infinity"), "0.5"])
def test_a_rule_returning_a_non_real_gradient_is_refused_naming_the_op(bad):
    odd = defop("odd_rule_trust", forward=lambda x: 2.0 * x, vjp=lambda g, out, x: (bad,))
    try:
        x = Value(1.0)
        x.grad = 0.25
        with pytest.raises(OpRegistrationError, match="odd_rule_trust"):
            odd(x).backward()
        assert x.grad == 0.25
        with pytest.raises(OpRegistrationError, match="odd_rule_trust"):
            gradients(odd(x), [x])
    finally:
        remove_op("odd_rule_trust")


def test_a_custom_forward_returning_a_huge_int_is_an_overflow_error():
    huge = defop("huge_forward_trust", forward=lambda x: 10**400, vjp=lambda g, out, x: (g,))
    try:
        with pytest.raises(NumericOverflowError, match="huge_forward_trust"):
            huge(Value(1.0))
    finally:
        remove_op("huge_forward_trust")


# --- 16: testing without hypothesis ----------------------------------------------------------
def test_importing_testing_without_hypothesis_says_what_to_install():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n    import autograd_mini.testing\n"
        "except ModuleNotFoundError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install" in out and "testing" in out and "hypothesis" in out


# --- 17: no_grad on generators and coroutines ------------------------------------------------
def test_no_grad_decorates_a_generator_function():
    @no_grad()
    def products(x):
        for k in range(3):
            assert not is_grad_enabled()
            yield x * k

    x = Value(2.0)
    results = []
    for r in products(x):
        assert is_grad_enabled()  # the caller's mode between items
        results.append(r)
    assert [r.data for r in results] == [0.0, 2.0, 4.0]
    assert all(r.op is None for r in results)


def test_no_grad_decorates_a_generator_that_is_closed_early_or_sent_to():
    @no_grad()
    def echo():
        received = yield is_grad_enabled()
        while True:
            received = yield (received, is_grad_enabled())

    gen = echo()
    assert next(gen) is False
    assert gen.send(5) == (5, False)
    assert is_grad_enabled()
    gen.close()
    assert is_grad_enabled()


def test_no_grad_decorates_a_coroutine_function():
    @no_grad()
    async def square(x):
        await asyncio.sleep(0)
        assert not is_grad_enabled()
        return x * x

    r = asyncio.run(square(Value(3.0)))
    assert r.data == 9.0 and r.op is None
    assert is_grad_enabled()


def test_enable_grad_decorates_an_async_generator_inside_no_grad():
    @enable_grad()
    async def records(x):
        for _ in range(2):
            await asyncio.sleep(0)
            yield x * 2.0

    async def main():
        with no_grad():
            return [r async for r in records(Value(1.0))], is_grad_enabled()

    results, mode_after = asyncio.run(main())
    assert all(r.op is not None for r in results) and mode_after is False
