"""delta_gradients (closed form, floats) against the engine's backward()."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, sum_of
from autograd_mini.nn import MLP
from autograd_mini.nn.delta import delta_gradients, delta_table
from autograd_mini.nn.losses import squared_error

finite = st.floats(-3.0, 3.0, allow_nan=False)


def engine_gradients(model: MLP, x: list[float], t: float | list[float]) -> list[float]:
    model.zero_grad()
    outs = model.outputs(x)
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
    y = model.outputs([0.1, 0.2])[1].data
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


# --- delta_table: the derivation's quantities per neuron ------------------------------------
MAZUR_WEIGHTS = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
MAZUR_BIASES = [[0.35, 0.35], [0.60, 0.60]]


def test_delta_table_reproduces_mazurs_published_figures() -> None:
    model = MLP.from_weights(MAZUR_WEIGHTS, MAZUR_BIASES)
    table = delta_table(model, [0.05, 0.10], [0.01, 0.99])
    assert round(table.total_error, 9) == 0.298371109
    assert round(table.row("L2.N0").weight_grads[0], 9) == 0.082167041  # dE/dw5
    assert round(table.row("L1.N0").out, 9) == 0.593269992  # out_h1
    assert round(table.row("L2.N0").out, 9) == 0.75136507  # out_o1
    assert round(table.row("L1.N0").weight_grads[0], 9) == 0.000438568  # dE/dw1
    assert [r.neuron for r in table.rows] == ["L1.N0", "L1.N1", "L2.N0", "L2.N1"]
    assert [(r.layer, r.index) for r in table.rows] == [(1, 0), (1, 1), (2, 0), (2, 1)]


def test_delta_table_text_names_quantities_and_equations() -> None:
    model = MLP.from_weights(MAZUR_WEIGHTS, MAZUR_BIASES)
    text = delta_table(model, [0.05, 0.10], [0.01, 0.99]).format(width=1000)  # the one-line-per-neuron form
    for needle in ("net_j", "(1.1)", "O_j", "(1.2)", "dE/dO_j", "(1.6)", "(1.7)/(1.8)", "delta_j", "(1.3)",
                   "dE/dw_ij", "(1.5)", "0.298371109", "0.0821670406"):
        assert needle in text, needle
    lines = text.splitlines()
    rows = [line for line in lines if line.startswith("L")]
    assert len(rows) == 4
    heading = next(line for line in lines if line.startswith("neuron"))
    for row in rows:  # aligned: each row's net_j and delta_j start under their headings
        assert row.index(" " + row.split()[1]) + 1 == heading.index("net_j")
    assert [row.find("y - t") for row in rows[2:]] == [heading.index("from")] * 2
    assert [row.find("sum_l") for row in rows[:2]] == [heading.index("from")] * 2
    assert "y - t" in rows[2] and "sum_l delta_l w_jl" in rows[0]


def table_against_backward(model: MLP, x: list[float], t: list[float]) -> None:
    target: float | list[float] = t[0] if len(t) == 1 else t
    table = delta_table(model, x, target)
    engine = engine_gradients(model, x, target)
    flat = [g for r in table.rows for g in r.weight_grads + ([r.bias_grad] if r.bias_grad is not None else [])]
    assert len(flat) == len(engine)
    for got, want in zip(flat, engine, strict=True):
        assert abs(got - want) <= 1e-12
    outs = model(x)
    outs = outs if isinstance(outs, list) else [outs]
    error = sum_of([squared_error(y, tk) for y, tk in zip(outs, t, strict=True)])
    assert abs(table.total_error - error.data) <= 1e-12
    for r in table.rows:
        assert abs(r.delta - r.dE_dout * r.out * (1 - r.out)) <= 1e-15
        assert r.bias_grad is None or r.bias_grad == r.delta
    for r, y, tk in zip(table.rows[-len(t):], outs, t, strict=True):
        assert abs(r.out - y.data) <= 1e-12 and abs(r.dE_dout - (y.data - tk)) <= 1e-12


@given(network_and_example())
def test_delta_table_equals_backward(case: tuple[MLP, list[float], list[float]]) -> None:
    table_against_backward(*case)


@given(network_and_example().filter(lambda case: case[0].nouts[-1] >= 2))
def test_delta_table_equals_backward_with_several_outputs(case: tuple[MLP, list[float], list[float]]) -> None:
    table_against_backward(*case)


def test_delta_table_net_is_the_weighted_sum() -> None:
    model = MLP.from_weights([[[0.5, -1.0]], [[2.0]]], [[0.25], [-0.5]])
    table = delta_table(model, [1.0, 2.0], 0.3)
    h = table.row("L1.N0")
    assert h.net == 0.5 * 1.0 - 1.0 * 2.0 + 0.25
    assert h.out == pytest.approx(1 / (1 + math.exp(-h.net)), rel=1e-15)
    assert table.row("L2.N0").net == pytest.approx(2.0 * h.out - 0.5, rel=1e-15)
    # hidden dE/dO_j = sum_l delta_l w_jl (1.8), with one successor l
    assert h.dE_dout == pytest.approx(table.row("L2.N0").delta * 2.0, rel=1e-15)


def test_delta_table_without_bias_and_errors() -> None:
    model = MLP.from_weights([[[0.5]], [[2.0]]])
    table = delta_table(model, [1.0], 0.3)
    assert all(r.bias_grad is None for r in table.rows)
    assert "-" in str(table).splitlines()[-1].split()
    with pytest.raises(KeyError, match="no neuron 'L3.N0'.*L1.N0, L2.N0"):
        table.row("L3.N0")
    with pytest.raises(ValueError, match=r"delta_table covers sigmoid networks only .* L2.N0"):
        delta_table(MLP.from_weights([[[0.5]], [[2.0]]], output_activation="linear"), [1.0], 0.3)
    with pytest.raises(ValueError, match="delta_table: expected 1 inputs, got 2"):
        delta_table(model, [1.0, 2.0], 0.3)
    with pytest.raises(TypeError, match=r"delta_table: t\[0\]"):
        delta_table(model, [1.0], ["a"])  # type: ignore[list-item]


# --- the printed table fits the terminal (issue 19, item 14) ----------------------------------
@pytest.mark.parametrize("nin", [2, 16])
def test_delta_table_fits_80_columns_and_keeps_every_number(nin: int, monkeypatch: pytest.MonkeyPatch) -> None:
    model = MLP(nin, [4, 4, 1], seed=0)
    table = delta_table(model, [0.05 * (i + 1) for i in range(nin)], 0.99)
    assert max(map(len, table.format(width=1000).splitlines())) > 120  # the one-line form is wide
    monkeypatch.setenv("COLUMNS", "80")  # what shutil.get_terminal_size reads first
    text = str(table)
    assert text == table.format(width=80)
    assert max(map(len, text.splitlines())) <= 80, text
    for needle in ("(1.1)", "(1.2)", "(1.3)", "(1.4)", "(1.5)", "(1.6)", "(1.7)/(1.8)",
                   "delta_j = dE/dO_j O_j (1 - O_j)"):
        assert needle in text, needle
    numbers = {float(w.rstrip(",")) for line in text.splitlines() for w in line.split() if _is_number(w.rstrip(","))}
    for r in table.rows:  # every quantity of every row is still printed, to its 9 digits
        for value in (r.net, r.out, r.dE_dout, r.delta, *r.weight_grads, r.bias_grad):
            assert float(f"{value:.9g}") in numbers


def test_delta_table_uses_the_one_line_form_when_the_terminal_is_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    table = delta_table(MLP.from_weights(MAZUR_WEIGHTS, MAZUR_BIASES), [0.05, 0.10], [0.01, 0.99])
    monkeypatch.setenv("COLUMNS", "200")
    assert str(table) == table.format(width=200) == table.format(width=1000)
    assert next(line for line in str(table).splitlines() if line.startswith("neuron")).split()[4] == "from"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- targets a sigmoid output can never reach (issue 19, item 11) -----------------------------
def test_delta_table_warns_when_a_target_lies_outside_the_sigmoid_range() -> None:
    model = MLP(3, [4, 4, 1], seed=0)
    with pytest.warns(UserWarning, match=r"delta_table: target -1\.0 lies outside \[0, 1\].*'sigmoid'"):
        delta_table(model, [2.0, 3.0, -1.0], -1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        delta_table(model, [2.0, 3.0, -1.0], 1.0)  # the range's own end is allowed
        delta_gradients(model, [2.0, 3.0, -1.0], -1.0)  # the oracle stays quiet
