"""Losses (mse, hinge, binary cross-entropy) and optimizers (SGD, Adam) against PyTorch and formulas."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value
from autograd_mini.errors import NumericOverflowError
from autograd_mini.nn.losses import binary_cross_entropy, hinge, mse, squared_error
from autograd_mini.nn.optim import SGD, Adam

floats = st.floats(-5.0, 5.0)


def grads_of(loss_fn, xs: list[float], other: list[float]) -> tuple[float, list[float]]:
    values = [Value(x) for x in xs]
    loss = loss_fn(values, other)
    loss.backward()
    return loss.data, [v.grad for v in values]


@given(st.lists(st.tuples(floats, floats), min_size=1, max_size=8))
def test_mse_value_and_gradient(pairs: list[tuple[float, float]]) -> None:
    ys, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    n = len(ys)
    loss, grads = grads_of(mse, ys, ts)
    assert loss == pytest.approx(sum((y - t) ** 2 for y, t in pairs) / n, rel=1e-12, abs=1e-12)
    assert grads == pytest.approx([2 * (y - t) / n for y, t in pairs], rel=1e-12, abs=1e-12)


@given(st.lists(st.tuples(floats, st.sampled_from([-1, 1])), min_size=1, max_size=8))
def test_hinge_value_and_gradient(pairs: list[tuple[float, int]]) -> None:
    scores, labels = [p[0] for p in pairs], [p[1] for p in pairs]
    n = len(scores)
    loss, grads = grads_of(hinge, scores, labels)
    assert loss == pytest.approx(sum(max(0.0, 1 - y * s) for s, y in pairs) / n, rel=1e-12, abs=1e-12)
    assert grads == pytest.approx([-y / n if 1 - y * s > 0 else 0.0 for s, y in pairs], abs=1e-12)


@given(st.lists(st.tuples(st.floats(-30, 30), st.floats(0, 1)), min_size=1, max_size=8))
def test_binary_cross_entropy_matches_torch(pairs: list[tuple[float, float]]) -> None:
    torch = pytest.importorskip("torch")
    logits, targets = [p[0] for p in pairs], [p[1] for p in pairs]
    loss, grads = grads_of(binary_cross_entropy, logits, targets)
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(targets, dtype=torch.float64))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-9, abs=1e-12)
    assert grads == pytest.approx(z.grad.tolist(), rel=1e-9, abs=1e-12)


def test_binary_cross_entropy_is_stable_and_exact_at_zero() -> None:
    loss, grads = grads_of(binary_cross_entropy, [1000.0, -1000.0, 0.0], [0.0, 1.0, 0.25])
    assert loss == pytest.approx((1000.0 + 1000.0 + math.log(2)) / 3, rel=1e-12)
    # d/dz = sigmoid(z) - t, averaged: at z = 0 it is 1/2 - t, not -t
    assert grads == pytest.approx([1 / 3, -1 / 3, (0.5 - 0.25) / 3], rel=1e-12)


def test_losses_accept_single_values_and_check_arguments() -> None:
    assert mse(Value(3.0), 1.0).data == 4.0
    assert hinge(0.5, -1).data == 1.5
    with pytest.raises(ValueError, match="same length"):
        mse([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least one"):
        mse([], [])
    with pytest.raises(ValueError, match=r"labels must be -1 or \+1, got 0.0"):
        hinge([1.0], [0])
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\], got 2.0"):
        binary_cross_entropy([1.0], [2.0])
    with pytest.raises(TypeError, match=r"ys\[1\]"):
        mse([1.0, "x"], [1.0, 2.0])
    assert squared_error(3.0, 1.0).data == 2.0  # unchanged


def _params(values: list[float], grads: list[float]) -> list[Value]:
    params = [Value(v) for v in values]
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    return params


def test_sgd_with_momentum_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    start, lr, momentum = [0.5, -1.0, 2.0], 0.1, 0.9
    ours = [Value(v) for v in start]
    opt = SGD(ours, lr=lr, momentum=momentum)
    theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.SGD([theirs], lr=lr, momentum=momentum)
    for _ in range(5):
        opt.zero_grad()
        loss = sum((p * p * p).tanh() for p in ours)
        loss.backward()
        opt.step()
        ref.zero_grad()
        torch.tanh(theirs**3).sum().backward()
        ref.step()
    assert [p.data for p in ours] == pytest.approx(theirs.tolist(), rel=1e-12)


def test_plain_sgd_step() -> None:
    params = _params([1.0, 2.0], [0.5, -1.0])
    SGD(params, lr=0.2).step()
    assert [p.data for p in params] == pytest.approx([0.9, 2.2])


def test_adam_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    start = [0.5, -1.0, 2.0]
    ours = [Value(v) for v in start]
    opt = Adam(ours, lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.Adam([theirs], lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    for _ in range(10):
        opt.zero_grad()
        sum((p * p * p).tanh() for p in ours).backward()
        opt.step()
        ref.zero_grad()
        torch.tanh(theirs**3).sum().backward()
        ref.step()
    assert [p.data for p in ours] == pytest.approx(theirs.tolist(), rel=1e-10)


def test_zero_grad_resets() -> None:
    params = _params([1.0, 2.0], [3.0, 4.0])
    Adam(params).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: SGD(p, lr=0.0), ValueError, "lr"),
        (lambda p: SGD(p, lr=math.nan), ValueError, "lr"),
        (lambda p: SGD(p, lr="0.1"), TypeError, "lr"),
        (lambda p: SGD(p, lr=0.1, momentum=1.0), ValueError, "momentum"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.1), ValueError, "momentum"),
        (lambda p: Adam(p, lr=-1.0), ValueError, "lr"),
        (lambda p: Adam(p, betas=(0.9,)), TypeError, "betas"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (lambda p: Adam(p, eps=0.0), ValueError, "eps"),
        (lambda p: SGD([], lr=0.1), ValueError, "empty"),
        (lambda p: SGD(p[0], lr=0.1), TypeError, "one Value"),
        (lambda p: SGD([1.0], lr=0.1), TypeError, r"params\[0\]"),
        (lambda p: SGD([p[0], p[0]], lr=0.1), ValueError, "twice"),
    ],
)
def test_optimizer_arguments_are_validated(make, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make(_params([1.0], [0.0]))


def test_step_refuses_graph_gradients_and_overflow() -> None:
    params = _params([1.0], [0.0])
    params[0].grad = Value(1.0)
    with pytest.raises(TypeError, match="create_graph"):
        SGD(params, lr=0.1).step()
    params = _params([1e308], [-1e308])
    with pytest.raises(NumericOverflowError, match="would become inf"):
        SGD(params, lr=10.0).step()
    assert params[0].data == 1e308


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=1e308, momentum=0.5), lambda p: Adam(p, lr=1e308)])
def test_a_step_that_would_overflow_changes_nothing(make) -> None:
    params = _params([1.0, 1e308], [1.0, -1.0])
    opt = make(params)
    state = {k: np.copy(v) for k, v in vars(opt).items() if isinstance(v, np.ndarray)}
    with pytest.raises(NumericOverflowError, match=r"parameter 1 would become inf"):
        opt.step()
    assert [p.data for p in params] == [1.0, 1e308]
    assert all(np.array_equal(getattr(opt, k), v) for k, v in state.items()) and state
    assert getattr(opt, "t", 0) == 0


def test_optim_and_trace_share_one_parameter_list_check():
    """The same bad list gets the same words from SGD, Adam and trace (one check, in _params)."""
    from autograd_mini import trace

    w = Value(0.5, label="w")
    for bad, kind, words in (([w, w], ValueError, "params[1] (w) appears twice"),
                             ([w * 2.0], ValueError, "is not a leaf"),
                             ([w, 3.0], TypeError, "params[1] must be a Value, got float"),
                             (w, TypeError, "got one Value")):
        for owner, call in (("SGD", lambda b: SGD(b, lr=0.1)), ("Adam", lambda b: Adam(b)),
                            ("trace", lambda b: trace(lambda ps, xs: xs[0], b, [1.0]))):
            with pytest.raises(kind, match=rf"^{owner}: .*{re.escape(words)}"):
                call(bad)


def test_optimizers_have_a_repr_with_their_settings() -> None:
    params = [Value(1.0), Value(2.0), Value(3.0)]
    sgd = SGD(params, lr=0.1, momentum=0.9)
    assert repr(sgd) == "SGD(3 parameters, lr=0.1, momentum=0.9)"
    adam = Adam(params, lr=0.01)
    assert repr(adam) == "Adam(3 parameters, lr=0.01, betas=(0.9, 0.999), eps=1e-08, t=0)"
    for p in params:
        p.grad = 1.0
    adam.step()
    sgd.lr = 0.05  # a schedule's change shows
    assert repr(adam).endswith("t=1)") and "lr=0.05" in repr(sgd)
