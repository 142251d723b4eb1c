"""autograd_mini.nn: structure, labels, forward values and gradients of MLPs."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value
from autograd_mini.nn import (
    MLP,
    Label,
    Layer,
    Module,
    Neuron,
    layer_label,
    neuron_key,
    neuron_label,
    neuron_of,
    node_label,
    parameter_label,
    parse_label,
)
from autograd_mini.nn.losses import squared_error

_ACT = {
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "tanh": math.tanh,
    "relu": lambda z: max(z, 0.0),
    "linear": lambda z: z,
}


def reference_forward(model: MLP, x: list[float]) -> list[float]:
    """The MLP's output computed with floats from its parameters' data."""
    values = list(x)
    for layer in model.layers:
        values = [
            _ACT[n.activation](sum(w.data * v for w, v in zip(n.w, values, strict=True)) + (n.b.data if n.b else 0.0))
            for n in layer.neurons
        ]
    return values


def test_parameters_order_and_labels() -> None:
    model = MLP(2, [3, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert labels == [
        "L1.N0.w0", "L1.N0.w1", "L1.N0.b",
        "L1.N1.w0", "L1.N1.w1", "L1.N1.b",
        "L1.N2.w0", "L1.N2.w1", "L1.N2.b",
        "L2.N0.w0", "L2.N0.w1", "L2.N0.w2", "L2.N0.b",
    ]  # fmt: skip
    assert model.parameters()[3] is model.layers[0].neurons[1].w[0]
    assert model.parameters()[-1] is model.layers[1].neurons[0].b
    assert [name for name, _ in model.named_parameters()] == labels


def test_no_bias_has_no_bias_parameters() -> None:
    model = MLP(3, [2, 2], bias=False, seed=0)
    assert len(model.parameters()) == 3 * 2 + 2 * 2
    assert all(n.b is None for layer in model.layers for n in layer.neurons)
    out = model([1.0, 2.0, 3.0])
    assert [o.label for o in out] == ["L2.N0.out", "L2.N1.out"]
    assert out[0].inputs[0].op.name == "dot" and out[0].inputs[0].label == "L2.N0.net"


def test_default_activation_is_sigmoid_everywhere() -> None:
    assert MLP(2, [4, 4, 1]).activations == ["sigmoid"] * 3
    assert MLP(2, [4, 1], activation="tanh").activations == ["tanh", "tanh"]
    assert MLP(2, [4, 1], activation="relu", output_activation="linear").activations == ["relu", "linear"]


def test_output_is_value_for_one_neuron_else_list() -> None:
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(o, Value) for o in out)


def test_forward_pass_labels_and_single_dot_node() -> None:
    model = MLP(2, [2, 1], activation="tanh", output_activation="linear", seed=3)
    y = model([0.5, -0.25])
    assert y.label == "L2.N0.net" and y.op.name == "add"
    dot_node, bias = y.inputs
    assert dot_node.op.name == "dot" and bias is model.layers[1].neurons[0].b
    hidden = dot_node.inputs[2:]
    assert [h.label for h in hidden] == ["L1.N0.out", "L1.N1.out"]
    assert [h.inputs[0].label for h in hidden] == ["L1.N0.net", "L1.N1.net"]
    assert list(dot_node.inputs[:2]) == model.layers[1].neurons[0].w


@given(
    st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
    st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
    st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    st.integers(0, 2**32),
)
def test_forward_matches_float_reference(act: str, out_act: str, x: list[float], seed: int) -> None:
    model = MLP(3, [4, 2], activation=act, output_activation=out_act, seed=seed)
    got = [o.data for o in model(x)]
    assert got == pytest.approx(reference_forward(model, x), rel=1e-12, abs=1e-12)


def test_accepts_values_as_inputs_and_differentiates_through_them() -> None:
    model = MLP(2, [3, 1], seed=0)
    x = [Value(0.3, label="x0"), Value(-0.7, label="x1")]
    y = model(x)
    y.backward()
    h = 1e-6
    for i in range(2):
        plus = [v.data for v in x]
        minus = [v.data for v in x]
        plus[i] += h
        minus[i] -= h
        numeric = (model(plus).data - model(minus).data) / (2 * h)
        assert x[i].grad == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_wrong_input_length_says_expected_vs_got() -> None:
    model = MLP(3, [2], seed=0)
    with pytest.raises(ValueError, match="expected 3 inputs, got 2"):
        model([1.0, 2.0])
    with pytest.raises(TypeError, match="input 1"):
        model([1.0, "a", 2.0])
    with pytest.raises(TypeError, match="list of 3 inputs"):
        model(1.0)


def test_input_errors_name_the_module() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    with pytest.raises(ValueError, match=re.escape("MLP(2, [16, 16, 1]): expected 2 inputs, got 3")):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=re.escape("MLP(2, [16, 16, 1]): input 1 must be a Value")):
        model([1.0, None])
    with pytest.raises(TypeError, match=re.escape("MLP(2, [16, 16, 1]): expected a list of 2 inputs")):
        model(Value(1.0))
    with pytest.raises(ValueError, match=re.escape("Layer(16 x sigmoid): expected 16 inputs, got 2")):
        model.layers[1]([1.0, 2.0])
    with pytest.raises(ValueError, match=re.escape("Neuron(L3.N0, nin=16, sigmoid, bias=True): expected 16 inputs")):
        model.layers[2].neurons[0]([1.0])


def test_seeded_init_is_deterministic_and_bounded() -> None:
    a, b, c = MLP(4, [8, 1], seed=7), MLP(4, [8, 1], seed=7), MLP(4, [8, 1], seed=8)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]
    for p in a.layers[0].parameters():
        assert abs(p.data) <= 1 / math.sqrt(4)
    for p in a.layers[1].parameters():
        assert abs(p.data) <= 1 / math.sqrt(8)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"nin": 0, "nouts": [1]}, ValueError, "nin"),
        ({"nin": 2, "nouts": []}, ValueError, "at least one"),
        ({"nin": 2, "nouts": [2, 0]}, ValueError, r"nouts\[1\]"),
        ({"nin": 2.0, "nouts": [1]}, TypeError, "nin"),
        ({"nin": True, "nouts": [1]}, TypeError, "nin"),
        ({"nin": 2, "nouts": 3}, TypeError, "nouts"),
        ({"nin": 2, "nouts": [1], "activation": "softmax"}, ValueError, "softmax"),
        ({"nin": 2, "nouts": [1], "output_activation": "gelu"}, ValueError, "gelu"),
        ({"nin": 2, "nouts": [1], "bias": 1}, TypeError, "bias"),
        ({"nin": 2, "nouts": [1], "seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        MLP(**kwargs)


def test_zero_grad_resets_every_parameter() -> None:
    model = MLP(2, [3, 1], seed=0)
    squared_error(model([1.0, 2.0]), 0.0).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_module_layer_neuron_api() -> None:
    model = MLP(2, [3, 1], activation="relu", seed=0)
    assert isinstance(model, Module)
    layer = model.layers[0]
    assert isinstance(layer, Layer) and isinstance(layer.neurons[0], Neuron)
    assert layer.activation == "relu"
    assert len(layer([1.0, 2.0])) == 3
    neuron = layer.neurons[2]
    assert neuron([1.0, 2.0]).label == "L1.N2.out"
    assert neuron.parameters() == neuron.w + [neuron.b]
    assert "L1.N2" in repr(neuron) and "MLP(2, [3, 1]" in repr(model)


def test_gradients_match_torch() -> None:
    torch = pytest.importorskip("torch")
    model = MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", seed=11)
    x, t = [0.2, -1.3, 0.8], [1.0, 0.0]
    out = model(x)
    loss = squared_error(out[0], t[0]) + squared_error(out[1], t[1])
    loss.backward()

    values = torch.tensor(x, dtype=torch.float64)
    tensors = []
    for layer in model.layers:
        w = torch.tensor([[p.data for p in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        tensors.append((w, b))
        z = w @ values + b
        values = torch.tanh(z) if layer.activation == "tanh" else torch.sigmoid(z)
    ref = 0.5 * ((torch.tensor(t, dtype=torch.float64) - values) ** 2).sum()
    ref.backward()
    expected = []
    for w, b in tensors:
        for j in range(w.shape[0]):
            expected += w.grad[j].tolist() + [b.grad[j].item()]
    assert loss.data == pytest.approx(ref.item(), rel=1e-12)
    assert [p.grad for p in model.parameters()] == pytest.approx(expected, rel=1e-10, abs=1e-14)


def test_train_moons_example_reaches_95_percent() -> None:
    from conftest import load_script

    assert load_script("examples/train_moons.py").train(steps=100, verbose=False) >= 0.95


# --- MLP.from_weights ---------------------------------------------------------------------
def test_from_weights_sets_every_parameter_in_label_order() -> None:
    model = MLP.from_weights([[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45]]], [[0.35, 0.36], [0.60]],
                             output_activation="linear")
    assert (model.nin, model.nouts, model.bias, model.activations) == (2, [2, 1], True, ["sigmoid", "linear"])
    assert dict((k, p.data) for k, p in model.named_parameters()) == {
        "L1.N0.w0": 0.15, "L1.N0.w1": 0.20, "L1.N0.b": 0.35,
        "L1.N1.w0": 0.25, "L1.N1.w1": 0.30, "L1.N1.b": 0.36,
        "L2.N0.w0": 0.40, "L2.N0.w1": 0.45, "L2.N0.b": 0.60,
    }
    y = model([1.0, 2.0])
    h = [1 / (1 + math.exp(-(0.15 + 0.40 + 0.35))), 1 / (1 + math.exp(-(0.25 + 0.60 + 0.36)))]
    assert y.data == pytest.approx(0.40 * h[0] + 0.45 * h[1] + 0.60, rel=1e-15)


def test_from_weights_without_biases_and_with_tuples() -> None:
    model = MLP.from_weights(((( 1.0,),), (( 2.0,), (3.0,))), activation="tanh")
    assert (model.nin, model.nouts, model.bias, model.activations) == (1, [1, 2], False, ["tanh", "tanh"])
    assert [p.data for p in model.parameters()] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("weights", "biases", "message"),
    [
        ([], None, r"MLP.from_weights: weights must be a non-empty list of layers, got \[\]"),
        ([[]], None, r"weights of layer 1 must be a non-empty list of neuron rows"),
        ([[[1.0, 2.0], [1.0]]], None, r"MLP.from_weights: layer 1: weights of neuron 1 must be a list of 2"),
        ([[[1.0]], [[1.0, 2.0]]], None, r"layer 2: weights of neuron 0 must be a list of 1 numbers"),
        ([[[1.0, True]]], None, r"layer 1, neuron 0, weight 1 must be a number, got True"),
        ([[[math.nan]]], None, r"layer 1, neuron 0, weight 0 must be finite, got nan"),
        ([[["0.5"]]], None, r"weight 0 must be a number, got '0.5'"),
        ([[[1.0]]], [[1.0], [2.0]], r"biases must list 1 layers .* got 2"),
        ([[[1.0]]], [[1.0, 2.0]], r"layer 1: 'biases' must be a list of 1 numbers"),
        ([[[1.0]]], [[math.inf]], r"layer 1, neuron 0, bias must be finite"),
        ([[[1.0]]], "0.5", r"biases must be None or a list of 1 layers"),
    ],
)
def test_from_weights_validates_like_load(weights: object, biases: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MLP.from_weights(weights, biases)  # type: ignore[arg-type]


def test_from_weights_rejects_unknown_activation() -> None:
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLP.from_weights([[[1.0]]], activation="swish")


# --- the label format ---------------------------------------------------------------------
def test_labels_round_trip_through_the_one_parser() -> None:
    model = MLP(3, [4, 11], seed=0)
    for name, _ in model.named_parameters():
        parsed = parse_label(name)
        assert parsed is not None and str(parsed) == name
        assert parsed.part in ("w", "b")
    assert parse_label("L2.N10.w3") == Label(2, 10, "w", 3)
    assert parse_label("L1.N0.b") == Label(1, 0, "b")
    assert parse_label("L1.N0.net") == Label(1, 0, "net")
    assert parse_label("L1.N0.out").neuron_name == "L1.N0"  # type: ignore[union-attr]
    assert parameter_label(2, 1, 0) == "L2.N1.w0" and parameter_label(2, 1) == "L2.N1.b"
    assert node_label(neuron_label(3, 4), "net") == "L3.N4.net" and layer_label(3) == "L3"
    out = model([1.0, 2.0, 3.0])[10]
    assert out.label == "L2.N10.out" and neuron_of(out.label) == "L2.N10"
    assert sorted(["L2.N10", "L2.N9", "L1.N3"], key=neuron_key) == ["L1.N3", "L2.N9", "L2.N10"]


@pytest.mark.parametrize(
    "label", [None, "", "x", "L1.N0", "L0.N0.b", "L01.N0.b", "L1.N0.w", "L1.N0.w-1", "L1.N0.grad",
              "L1.N0.b.x", "l1.n0.b", "L1.N0.w٣", 3],
)
def test_parse_label_refuses_anything_else(label: object) -> None:
    assert parse_label(label) is None
    assert neuron_of(label) is None


def test_label_helpers_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match="node_label: part must be 'net' or 'out', got 'b'"):
        node_label("L1.N0", "b")
    with pytest.raises(ValueError, match="neuron_key: 'x' is not an nn neuron name"):
        neuron_key("x")


def test_outputs_is_the_list_call_returns_for_any_number_of_outputs() -> None:
    one, two = MLP(2, [3, 1], seed=0), MLP(2, [3, 2], seed=0)
    x = [0.5, -1.0]
    y = one(x)
    assert isinstance(y, Value) and [o.data for o in one.outputs(x)] == [y.data]
    outs = two.outputs(x)
    assert isinstance(outs, list) and len(outs) == 2 and all(isinstance(o, Value) for o in outs)
    assert [o.data for o in two(x)] == [o.data for o in outs]  # call still returns the list (typed as Value)
    assert [o.label for o in outs] == ["L2.N0.out", "L2.N1.out"]
    with pytest.raises(ValueError, match=r"MLP\(2, \[3, 2\]\): expected 2 inputs, got 3"):
        two.outputs([1.0, 2.0, 3.0])
