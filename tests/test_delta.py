"""delta_gradients (closed form, floats) against the engine's backward()."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, sum_of
from autograd_mini.delta import delta_gradients
from autograd_mini.losses import squared_error
from autograd_mini.nn import MLP

finite = st.floats(-3.0, 3.0, allow_nan=False)


def engine_gradients(model: MLP, x: list[float], t: float | list[float]) -> list[float]:
    model.zero_grad()
    out = model(x)
    outs = out if isinstance(out, list) else [out]
    ts = t if isinstance(t, list) else [t]
    sum_of([squared_error(y, tk) for y, tk in zip(outs, ts, strict=True)]).backward()
    return [p.grad for p in model.parameters()]


@st.composite
def network_and_example(draw: st.DrawFn) -> tuple[MLP, list[float], list[float]]:
    nin = draw(st.integers(1, 6))
    nouts = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    model = MLP(nin, nouts, bias=draw(st.booleans()), seed=0)
    for p in model.parameters():
        p.data = draw(finite)
    x = draw(st.lists(finite, min_size=nin, max_size=nin))
    t = draw(st.lists(st.floats(0.0, 1.0), min_size=nouts[-1], max_size=nouts[-1]))
    return model, x, t


@given(network_and_example())
def test_delta_rule_equals_backward(case: tuple[MLP, list[float], list[float]]) -> None:
    model, x, t = case
    target: float | list[float] = t[0] if len(t) == 1 else t
    closed_form = delta_gradients(model, x, target)
    engine = engine_gradients(model, x, target)
    assert len(closed_form) == len(model.parameters())
    for got, want in zip(closed_form, engine, strict=True):
        assert got == pytest.approx(want, rel=1e-10, abs=1e-15)


def test_worked_chain_example_1_9_and_1_10() -> None:
    # A chain x -> (j-1) -> j of single sigmoid neurons without bias; j is the output.
    model = MLP(1, [1, 1], bias=False, seed=0)
    w_prev, w_last = model.parameters()  # w_{j-2,j-1} (from the input), w_{j-1,j}
    w_prev.data, w_last.data = 0.8, -1.5
    x, t = 0.6, 1.0
    o_prev = 1 / (1 + math.exp(-w_prev.data * x))
    y = 1 / (1 + math.exp(-w_last.data * o_prev))
    de_dy = y - t  # (1.6)
    dy_dnet = y * (1 - y)  # (1.3)
    dw_last = de_dy * dy_dnet * o_prev  # (1.9)
    dw_prev = de_dy * dy_dnet * w_last.data * o_prev * (1 - o_prev) * x  # (1.10)
    assert delta_gradients(model, [x], t) == pytest.approx([dw_prev, dw_last], rel=1e-14)
    assert engine_gradients(model, [x], t) == pytest.approx([dw_prev, dw_last], rel=1e-14)


def test_returns_floats_in_parameters_order() -> None:
    model = MLP(2, [3, 2], seed=4)
    grads = delta_gradients(model, [0.1, 0.2], [0.0, 1.0])
    assert all(type(g) is float for g in grads)
    assert len(grads) == len(model.parameters()) == 2 * 3 + 3 + 3 * 2 + 2
    # the bias gradient of output neuron 1 is its delta: (y - t) y (1 - y)
    y = model([0.1, 0.2])[1].data
    assert grads[-1] == pytest.approx((y - 1.0) * y * (1 - y), rel=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_non_sigmoid_model_is_refused_naming_the_neuron(activation: str) -> None:
    model = MLP(2, [2, 1], output_activation=activation, seed=0)
    with pytest.raises(ValueError, match=f"L2.N0 has activation '{activation}'"):
        delta_gradients(model, [1.0, 2.0], 1.0)


def test_argument_errors() -> None:
    model = MLP(2, [2, 2], seed=0)
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        delta_gradients(model, [1.0, 2.0, 3.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="2 outputs, got 1 targets"):
        delta_gradients(model, [1.0, 2.0], 1.0)
    with pytest.raises(TypeError, match=r"x\[0\]"):
        delta_gradients(model, [Value(1.0), 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        delta_gradients(model, [math.nan, 2.0], [0.0, 1.0])
