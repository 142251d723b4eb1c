"""What a tape accepts as a batch, and the clear errors for what it cannot replay (issue 19, items 3, 6).

Oracles: the same batch given as numpy rows; the eager engine for the numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograd_mini import Value, trace
from autograd_mini.tape import ArrayRuleError, TraceError

ROWS = np.array([[0.3, -1.2, 0.8], [1.5, 0.4, -0.6], [-0.7, 0.9, 2.0]])  # square: rows.T is a valid batch too


def three_input_tape():
    ws = [Value(0.5), Value(-0.3), Value(0.2)]

    def fn(params, xs):
        return ((params[0] * xs[0] + params[1] * xs[1] + params[2] * xs[2]).tanh() - 0.3) ** 2

    return fn, ws, trace(fn, ws, ROWS[0])


def test_a_list_of_torch_columns_is_read_as_columns_like_numpy_columns():
    torch = pytest.importorskip("torch")
    _, _, tape = three_input_tape()
    expected = tape.value_and_grad(ROWS)
    wrong = tape.value_and_grad(ROWS.T)  # what reading the columns as rows would give
    assert abs(wrong.loss - expected.loss) > 1e-3
    T = torch.tensor(ROWS)
    by_torch_columns = tape.value_and_grad([T[:, 0], T[:, 1], T[:, 2]])
    by_numpy_columns = tape.value_and_grad([ROWS[:, 0], ROWS[:, 1], ROWS[:, 2]])
    assert isinstance(by_torch_columns.grads, torch.Tensor)  # torch columns in, torch results out
    assert by_torch_columns.loss == pytest.approx(expected.loss, rel=1e-13)
    assert by_numpy_columns.loss == pytest.approx(expected.loss, rel=1e-15)
    np.testing.assert_allclose(by_torch_columns.grads.numpy(), expected.grads, rtol=1e-12)
    np.testing.assert_allclose(by_torch_columns.losses.numpy(), expected.losses, rtol=1e-13)


def test_columns_of_a_wrong_size_or_of_mixed_kinds_are_refused_clearly():
    torch = pytest.importorskip("torch")
    _, _, tape = three_input_tape()
    T = torch.tensor(ROWS)
    with pytest.raises(ValueError, match=r"expected 3 input arrays of shape \(batch,\)"):
        tape.forward([T[:, 0], T[:2, 1], T[:, 2]])
    with pytest.raises(ValueError, match=r"expected 3 input arrays"):
        tape.forward([T[:, 0], T[:, 1]])
    with pytest.raises(TypeError, match="of one kind"):
        tape.forward([T[:, 0], ROWS[:, 1], T[:, 2]])
    with pytest.raises(ValueError, match="input 1 of example 2 is NaN"):
        column = T[:, 1].clone()
        column[2] = float("nan")
        tape.forward([T[:, 0], column, T[:, 2]])


def test_torch_inputs_requiring_grad_are_refused_with_the_fix():
    torch = pytest.importorskip("torch")
    _, _, tape = three_input_tape()
    T = torch.tensor(ROWS, requires_grad=True)
    with pytest.raises(TypeError, match=r"Tape: inputs is a tensor with requires_grad=True.*inputs\.detach\(\)"):
        tape.value_and_grad(T)
    with pytest.raises(TypeError, match=r"inputs\[1\] is a tensor with requires_grad=True"):
        tape.value_and_grad([T[:, 0].detach(), T[:, 1], T[:, 2].detach()])
    detached = tape.value_and_grad(T.detach())
    assert detached.losses.grad_fn is None
    assert detached.loss == pytest.approx(tape.value_and_grad(ROWS).loss, rel=1e-13)


def test_meta_and_sparse_tensors_get_a_typed_error_naming_the_input():
    torch = pytest.importorskip("torch")
    _, _, tape = three_input_tape()
    T = torch.tensor(ROWS)
    with pytest.raises(TypeError, match=r"Tape: inputs is on the 'meta' device"):
        tape.forward(T.to("meta"))
    with pytest.raises(TypeError, match=r"Tape: inputs is a sparse tensor \(layout torch\.sparse_coo\).*to_dense"):
        tape.forward(T.to_sparse())
    with pytest.raises(TypeError, match=r"Tape: inputs\[0\] is a sparse tensor"):
        tape.forward([T[:, 0].to_sparse(), T[:, 1], T[:, 2]])


def test_a_custom_op_with_a_python_if_names_the_op_and_says_why(registry):
    name, leaky = registry("leaky", lambda x: x if x > 0 else 0.1 * x, lambda g, out, x: (g if x > 0 else 0.1 * g,))
    w = Value(0.5)
    tape = trace(lambda params, xs: leaky(params[0] * xs[0]), [w], [1.0])  # on floats, tracing works
    with pytest.raises(ArrayRuleError, match=rf"op '{name}': its forward does not run on numpy arrays.*"
                                             r"truth value.*Python `if`.*whole batch at once") as info:
        tape.value_and_grad(np.array([[1.0], [-1.0]]))
    assert isinstance(info.value, TraceError) and isinstance(info.value, TypeError)
    _, rule_only = registry("rule_if", lambda x: 2.0 * x, lambda g, out, x: (g if x > 0 else 2.0 * g,))
    tape = trace(lambda params, xs: rule_only(params[0] * xs[0]), [w], [1.0])
    assert tape.forward(np.array([[1.0], [-1.0]])).losses.tolist() == [1.0, -1.0]
    with pytest.raises(ArrayRuleError, match=r"its rule does not run on numpy arrays"):
        tape.value_and_grad(np.array([[1.0], [-1.0]]))


def test_a_custom_op_calling_math_names_the_op(registry):
    import math

    name, op = registry("mathexp", lambda x: math.exp(x), lambda g, out, x: (g * out,))
    tape = trace(lambda params, xs: op(params[0] * xs[0]), [Value(0.5)], [1.0])
    with pytest.raises(ArrayRuleError, match=rf"op '{name}': its forward does not run on numpy arrays"):
        tape.forward(np.array([[1.0], [2.0]]))


def test_one_input_torch_batches_give_the_numpy_numbers_without_warnings():
    torch = pytest.importorskip("torch")
    w = Value(1.5)
    tape = trace(lambda params, xs: (params[0] * xs[0]).tanh(), [w], [0.3])
    xs = np.array([0.1, -0.4, 2.0])
    expected = tape.value_and_grad(xs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch deprecates .T on a 1-D tensor
        for batch in (torch.tensor(xs), [torch.tensor(xs)], torch.tensor(xs[:, None])):
            result = tape.value_and_grad(batch)
            assert result.loss == pytest.approx(expected.loss, rel=1e-15)
            np.testing.assert_allclose(result.grads.numpy(), expected.grads, rtol=1e-14)
