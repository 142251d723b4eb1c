"""Neurons, layers and multilayer perceptrons built from Values.

A neuron computes net_j = sum_k w_kj O_k + b_j as one `dot` node plus a bias
add, equation (1.1), and then its activation: the logistic function of (1.2)
by default, as in the derivation, or tanh, relu or nothing ("linear").

Every parameter and every per-pass node carries a label that `draw` and
`explain` read: parameters "L{l}.N{j}.w{k}" and "L{l}.N{j}.b" (l counts layers
from 1, j neurons and k inputs from 0); in each forward pass the net_j node is
"L{l}.N{j}.net" and the activation output "L{l}.N{j}.out". The format is
written and read only by `neuron_label`, `parameter_label`, `node_label` and
`parse_label` below; other modules use those, never a regex of their own.

Note the order: the derivation's w_kj (1.1) names the weight *from* k *to* j,
while the label "L{l}.N{j}.w{k}" names the receiving neuron j first and its
input k second. So w_kj of (1.1) is "L{l}.N{j}.w{k}".

Parameters are saved and loaded as JSON (see `serialization.py` for the
format and its validation); never with pickle.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .. import ops
from ..value import Operand, Value, apply, lift_all
from .serialization import load_json, model_to_dict, parameter_values, save_json, weights_to_dict

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
_ACTIVATION_OPS = {"sigmoid": ops.SIGMOID, "tanh": ops.TANH, "relu": ops.RELU, "linear": None}

Output = Value | list[Value]


# --- the label format: written and parsed only here -------------------------------------
@dataclass(frozen=True)
class Label:
    """A parsed nn label: layer l (from 1), neuron j (from 0), the part, and input k for a weight.

    part is "w" (weight w_kj, k = `input`), "b" (bias), "net" (net_j of (1.1))
    or "out" (O_j of (1.2)).
    """

    layer: int
    neuron: int
    part: str
    input: int | None = None

    @property
    def neuron_name(self) -> str:
        """The neuron's label, e.g. "L2.N0"."""
        return neuron_label(self.layer, self.neuron)

    def __str__(self) -> str:
        if self.part == "w":
            return parameter_label(self.layer, self.neuron, self.input)
        if self.part == "b":
            return parameter_label(self.layer, self.neuron)
        return node_label(self.neuron_name, self.part)


def layer_label(layer: int) -> str:
    """ "L{layer}", the name of layer l (counted from 1)."""
    return f"L{layer}"


def neuron_label(layer: int, neuron: int) -> str:
    """ "L{layer}.N{neuron}", the name of neuron j of layer l."""
    return f"{layer_label(layer)}.N{neuron}"


def parameter_label(layer: int, neuron: int, input: int | None = None) -> str:
    """The label of weight w_kj ("L{l}.N{j}.w{k}", k = input) or, with input=None, of the bias."""
    base = neuron_label(layer, neuron)
    return f"{base}.b" if input is None else f"{base}.w{input}"


def node_label(neuron: str, part: str) -> str:
    """The label of neuron `neuron`'s ("L1.N0") per-pass node: part "net" (net_j) or "out" (O_j)."""
    if part not in ("net", "out"):
        raise ValueError(f"node_label: part must be 'net' or 'out', got {part!r}")
    return f"{neuron}.{part}"


def parse_label(label: object) -> Label | None:
    """The parts of an nn label ("L1.N0.w2", "L2.N1.b", "L1.N0.net", "L1.N0.out"), else None.

    Anything else (None, other text, "L0...", leading zeros) gives None, so
    callers can ask any node's label.
    """
    if not isinstance(label, str) or not label.startswith("L"):
        return None
    pieces = label.split(".")
    if len(pieces) != 3 or not pieces[1].startswith("N"):
        return None
    layer, neuron = _index(pieces[0][1:]), _index(pieces[1][1:])
    part = pieces[2]
    if layer is None or neuron is None or layer < 1:
        return None
    if part in ("b", "net", "out"):
        return Label(layer, neuron, part)
    k = _index(part[1:]) if part.startswith("w") else None
    return None if k is None else Label(layer, neuron, "w", k)


def neuron_of(label: object) -> str | None:
    """The neuron ("L1.N0") an nn label belongs to, or None for any other label."""
    parsed = parse_label(label)
    return None if parsed is None else parsed.neuron_name


def neuron_key(name: str) -> tuple[int, int]:
    """Sort key of a neuron name "L{l}.N{j}" (or any nn label): (l, j), so N10 sorts after N9."""
    parsed = parse_label(name) or parse_label(f"{name}.out")
    if parsed is None:
        raise ValueError(f"neuron_key: {name!r} is not an nn neuron name such as 'L1.N0'")
    return parsed.layer, parsed.neuron


def _index(text: str) -> int | None:
    """A non-negative decimal int without sign or leading zeros, else None."""
    if not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        return None
    return int(text)


class Module:
    """Anything with parameters: `parameters()` lists them, `zero_grad()` resets their `.grad`."""

    def parameters(self) -> list[Value]:
        """The trainable Values, in a fixed documented order."""
        return []

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0 (call before each `backward()`)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """One neuron: O_j = activation(dot(w, x) + b), equation (1.1).

    `w` holds one weight per input (labelled "L{l}.N{j}.w{k}"), `b` the bias
    ("L{l}.N{j}.b") or None when built with bias=False.
    """

    def __init__(self, w: list[Value], b: Value | None, activation: str, name: str) -> None:
        self.w = w
        self.b = b
        self.activation = _check_activation(activation)
        self.name = name
        self._op = _ACTIVATION_OPS[activation]
        self._net_label = node_label(name, "net")
        self._out_label = node_label(name, "out")

    def __call__(self, x: Sequence[Operand]) -> Value:
        """The neuron's output for inputs x (numbers or Values)."""
        return self._forward(_inputs(x, len(self.w), self))

    def _forward(self, x: list[Value]) -> Value:
        # One n-ary dot node, then the bias: a chain of binary adds would cost
        # one node per input.
        net = apply(ops.DOT, *self.w, *x)
        if self.b is not None:
            net = apply(ops.ADD, net, self.b)
        net.label = self._net_label
        if self._op is None:
            return net
        out = apply(self._op, net)
        out.label = self._out_label
        return out

    def parameters(self) -> list[Value]:
        """The weights in input order, then the bias."""
        return self.w + [self.b] if self.b is not None else list(self.w)

    def __repr__(self) -> str:
        return f"Neuron({self.name}, nin={len(self.w)}, {self.activation}, bias={self.b is not None})"


class Layer(Module):
    """A list of neurons that all read the same inputs."""

    def __init__(self, neurons: list[Neuron]) -> None:
        self.neurons = neurons

    @property
    def activation(self) -> str:
        """The activation shared by the layer's neurons."""
        return self.neurons[0].activation

    def __call__(self, x: Sequence[Operand]) -> list[Value]:
        """Every neuron's output, in neuron order."""
        return self._forward(_inputs(x, len(self.neurons[0].w), self))

    def _forward(self, x: list[Value]) -> list[Value]:
        return [n._forward(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        """Neuron by neuron, each neuron's weights and then its bias."""
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer({len(self.neurons)} x {self.activation})"


class MLP(Module):
    """A multilayer perceptron: `MLP(nin, nouts)` has len(nouts) layers.

    Args:
        nin:               number of inputs.
        nouts:             the size of each layer, the last one being the outputs.
        activation:        hidden layers' activation: "sigmoid" (the default, as
                           in the derivation), "tanh", "relu" or "linear".
        output_activation: the last layer's activation; None means `activation`.
        bias:              whether neurons have a bias.
        seed:              seed of the random.Random that draws the initial
                           parameters (None: a fresh random seed).

    Initialisation (as PyTorch's `nn.Linear`): every weight and bias of a
    layer with `nin` inputs is drawn uniformly from [-1/sqrt(nin), 1/sqrt(nin)].

    Calling the model on a list of `nin` numbers or Values returns a Value
    when the last layer has one neuron, else a list of Values.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "sigmoid",
        output_activation: str | None = None,
        bias: bool = True,
        seed: int | None = None,
    ) -> None:
        _check_size(nin, "nin")
        nouts = list(nouts) if isinstance(nouts, (list, tuple)) else _bad_nouts(nouts)
        if not nouts:
            raise ValueError("MLP: nouts must list at least one layer size, got []")
        for i, n in enumerate(nouts):
            _check_size(n, f"nouts[{i}]")
        _check_activation(activation)
        output_activation = activation if output_activation is None else _check_activation(output_activation)
        if not isinstance(bias, bool):
            raise TypeError(f"MLP: bias must be True or False, got {bias!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"MLP: seed must be an int or None, got {seed!r}")
        rng = random.Random(seed)
        sizes = [nin] + nouts
        self.nin = nin
        self.nouts = nouts
        self.bias = bias
        self.layers = []
        for li in range(1, len(sizes)):
            act = output_activation if li == len(nouts) else activation
            self.layers.append(_init_layer(rng, li, sizes[li - 1], sizes[li], act, bias))

    @property
    def activations(self) -> list[str]:
        """Each layer's activation, first layer first."""
        return [layer.activation for layer in self.layers]

    def __call__(self, x: Sequence[Operand]) -> Output:
        """The network's output for one input vector x (numbers or Values)."""
        values = _inputs(x, self.nin, self)
        for layer in self.layers:
            values = layer._forward(values)
        return values[0] if len(values) == 1 else values

    def parameters(self) -> list[Value]:
        """Layer by layer, neuron by neuron, each neuron's weights in input order then its bias."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(label, parameter) pairs in `parameters()` order."""
        for p in self.parameters():
            yield str(p.label), p

    def __repr__(self) -> str:
        return f"MLP({self.nin}, {self.nouts}, activations={self.activations}, bias={self.bias})"

    @classmethod
    def from_weights(
        cls,
        weights: Sequence[Sequence[Sequence[float]]],
        biases: Sequence[Sequence[float]] | None = None,
        activation: str = "sigmoid",
        output_activation: str | None = None,
    ) -> MLP:
        """An MLP with the given parameter values, e.g. to follow a textbook example.

        weights[l][j][i] is the weight into neuron j of layer l+1 from input i
        (one row per neuron, as in the JSON format; w_ij of (1.5), labelled
        "L{l+1}.N{j}.w{i}"). biases[l][j] is neuron j's bias, or biases=None
        for a network without biases. The sizes follow from the lists; every
        size and number is validated as `load` does (ValueError naming the
        layer, neuron and position), before anything is built.
        """
        return cls.from_dict(weights_to_dict(weights, biases, activation, output_activation, ACTIVATIONS))

    # --- JSON save and load: the format and its checks live in serialization.py ----------
    def to_dict(self) -> dict[str, Any]:
        """The architecture and parameter values as a JSON-ready dict."""
        return model_to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> MLP:
        """A new MLP from `to_dict()` output; ValueError, naming the problem, if invalid."""
        values = parameter_values(data, ACTIVATIONS)  # everything checked before anything is built
        activations = data["activations"]
        model = cls(data["nin"], data["nouts"], activations[0], activations[-1], data["bias"], seed=0)
        for p, v in zip(model.parameters(), values, strict=True):
            p.data = v
        return model

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict()` to `path` as JSON."""
        save_json(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MLP:
        """A new MLP from a JSON file written by `save`; ValueError if invalid."""
        return cls.from_dict(load_json(path))

    def load_parameters(self, source: dict[str, Any] | str | os.PathLike[str]) -> None:
        """Set this model's parameter values from a dict or a JSON file.

        The saved architecture must equal this model's. Everything is
        validated before any value is assigned, so on ValueError the model is
        unchanged. Gradients are reset to 0.
        """
        data = load_json(source) if isinstance(source, (str, os.PathLike)) else source
        values = parameter_values(data, ACTIVATIONS, expected=self)
        for p, v in zip(self.parameters(), values, strict=True):
            p.data = v
            p.grad = 0.0


def _init_layer(rng: random.Random, li: int, nin: int, nout: int, activation: str, bias: bool) -> Layer:
    bound = 1.0 / math.sqrt(nin)
    neurons = []
    for j in range(nout):
        w = [Value(rng.uniform(-bound, bound), label=parameter_label(li, j, k)) for k in range(nin)]
        b = Value(rng.uniform(-bound, bound), label=parameter_label(li, j)) if bias else None
        neurons.append(Neuron(w, b, activation, neuron_label(li, j)))
    return Layer(neurons)


def _inputs(x: Sequence[Operand], expected: int, module: Module) -> list[Value]:
    """x as a list of Values of length `expected`, or ValueError/TypeError naming `module`."""
    if isinstance(x, (Value, int, float)):
        raise TypeError(f"{_describe(module)}: expected a list of {expected} inputs, got a single {type(x).__name__}")
    items = list(x)
    if len(items) != expected:
        raise ValueError(f"{_describe(module)}: expected {expected} inputs, got {len(items)}")
    return lift_all(items, lambda: _describe(module), "input {}")


def _describe(module: Module) -> str:
    """How errors name a module: "MLP(2, [16, 16, 1])", or its repr."""
    return f"MLP({module.nin}, {module.nouts})" if isinstance(module, MLP) else repr(module)


def _check_size(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"MLP: {name} must be a positive int, got {n!r}")
    if n < 1:
        raise ValueError(f"MLP: {name} must be a positive int, got {n!r}")
    return n


def _bad_nouts(nouts: object) -> list[int]:
    raise TypeError(f"MLP: nouts must be a list of layer sizes, got {type(nouts).__name__}")


def _check_activation(activation: object) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}")
    return str(activation)
