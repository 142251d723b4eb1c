"""Neurons, layers and multilayer perceptrons built from Values.

A neuron computes net_j = sum_k w_kj O_k + b_j as one `dot` node plus a bias
add (1.1), then its activation: the logistic function of (1.2) by default, or
tanh, relu or nothing ("linear"); an output layer may be "softmax", a layer-wide
activation y_k = exp(net_k) / sum_i exp(net_i). Labels come from `labels`, the
JSON format from `serialization`.
"""

from __future__ import annotations

import math
import os
import random
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .. import ops
from ..value import Operand, Value, apply, lift_all
from .labels import neuron_label, node_label, parameter_label
from .losses import softmax
from .serialization import load_json, model_to_dict, parameter_values, save_json, weights_to_dict

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
# softmax reads the whole layer, so its neurons output net_j and `Layer` applies it.
_ACTIVATION_OPS = {"sigmoid": ops.SIGMOID, "tanh": ops.TANH, "relu": ops.RELU, "linear": None, "softmax": None}
# The closed range of each activation's outputs: the targets a model can reach (or approach).
ACTIVATION_RANGES = {
    "sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, math.inf), "linear": (-math.inf, math.inf),
    "softmax": (0.0, 1.0),
}


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
        outs = [n._forward(x) for n in self.neurons]
        if self.activation == "softmax":  # layer-wide: every O_k reads every net of the layer
            outs = softmax(outs)
            for n, out in zip(self.neurons, outs, strict=True):
                out.label = n._out_label
        return outs

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
        output_activation: the last layer's activation; None means `activation`;
                           "softmax" (two or more outputs) gives class probabilities,
                           trained with `cross_entropy(model.logits(x), class)`.
        bias:              whether neurons have a bias.
        seed:              seed of the random.Random that draws the initial
                           parameters (None: a fresh random seed).

    Initialisation (as PyTorch's `nn.Linear`): every weight and bias of a
    layer with `nin` inputs is drawn uniformly from [-1/sqrt(nin), 1/sqrt(nin)].

    `model(x)` on a list of `nin` numbers or Values returns the output Value of
    a one-output model; `model.outputs(x)` returns the list of outputs of any model.
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
        nouts, output_activation = _check_architecture(nin, nouts, activation, output_activation, bias, seed)
        self.nin = nin
        self.nouts = nouts
        self.bias = bias
        self.layers = _init_layers(random.Random(seed), [nin] + nouts, activation, output_activation, bias)

    @property
    def activations(self) -> list[str]:
        """Each layer's activation, first layer first."""
        return [layer.activation for layer in self.layers]

    def __call__(self, x: Sequence[Operand]) -> Value:
        """The network's output for one input vector x (numbers or Values): one Value.

        Typed `Value` so `(model(x) - t) ** 2` checks without narrowing. A model
        with several outputs still returns their list here, as it always has,
        but a type checker does not know that: call `outputs(x)` for the list.
        """
        values = self.outputs(x)
        # The list for several outputs is kept for existing callers; `outputs` is its typed form.
        return values[0] if len(values) == 1 else values  # type: ignore[return-value]  # see the comment above: `outputs` is the typed form

    def outputs(self, x: Sequence[Operand]) -> list[Value]:
        """Every output of the network for one input vector x, as a list (any number of outputs)."""
        values = _inputs(x, self.nin, self)
        for layer in self.layers:
            values = layer._forward(values)
        return values

    def logits(self, x: Sequence[Operand]) -> list[Value]:
        """The output layer's net_j (1.1), before its softmax: what `cross_entropy` takes.

        For a model whose output activation is "softmax" or "linear" (ValueError otherwise).
        """
        if self.layers[-1].activation not in ("softmax", "linear"):
            raise ValueError(
                f"{_describe(self)}.logits: the output activation is {self.layers[-1].activation!r}; "
                "logits are the nets of a softmax or linear output layer"
            )
        values = _inputs(x, self.nin, self)
        for layer in self.layers[:-1]:
            values = layer._forward(values)
        return [n._forward(values) for n in self.layers[-1].neurons]

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
        _assign(model.parameters(), values)
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
        _assign(self.parameters(), parameter_values(data, ACTIVATIONS, expected=self))


def warn_unreachable_targets(model: object, targets: Iterable[float], who: str) -> None:
    """Warn when a target lies outside the range of `model`'s output activation.

    `MLP(3, [4, 4, 1])` is sigmoid on every layer, so micrograd's lecture loop
    with targets -1 and +1 runs but cannot learn: say so, naming the activation
    and its range. A model without `activations` (not an MLP) is not checked.
    """
    activations = getattr(model, "activations", None)
    if not activations or activations[-1] not in ACTIVATION_RANGES:
        return
    activation = activations[-1]
    low, high = ACTIVATION_RANGES[activation]
    outside = [t for t in targets if not low <= t <= high]
    if outside:
        warnings.warn(
            f"{who}: target {outside[0]!r} lies outside [{low:g}, {high:g}], the range of the output "
            f"activation {activation!r}, so the model can never reach it and the loss cannot go to 0; "
            "for targets -1/+1 build the MLP with activation='tanh' (as in micrograd's lecture) "
            "or output_activation='linear'",
            UserWarning,
            stacklevel=3,
        )


def _check_architecture(
    nin: int, nouts: Sequence[int], activation: str, output_activation: str | None, bias: bool, seed: int | None
) -> tuple[list[int], str]:
    """MLP's arguments, checked in order: (nouts as a list, the output activation), else TypeError/ValueError."""
    _positive_int(nin, "nin")
    sizes = list(nouts) if isinstance(nouts, (list, tuple)) else _bad_nouts(nouts)
    if not sizes:
        raise ValueError("MLP: nouts must list at least one layer size, got []")
    for i, n in enumerate(sizes):
        _positive_int(n, f"nouts[{i}]")
    _check_activation(activation)
    output_activation = activation if output_activation is None else _check_activation(output_activation)
    if activation == "softmax" and len(sizes) > 1:
        raise ValueError("MLP: softmax is an output activation only; pass it as output_activation")
    if output_activation == "softmax" and sizes[-1] < 2:
        raise ValueError(f"MLP: a softmax output needs at least 2 outputs, got {sizes[-1]}")
    if not isinstance(bias, bool):
        raise TypeError(f"MLP: bias must be True or False, got {bias!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"MLP: seed must be an int or None, got {seed!r}")
    return sizes, output_activation


def _init_layers(
    rng: random.Random, sizes: list[int], activation: str, output_activation: str, bias: bool
) -> list[Layer]:
    """Layers 1..L for `sizes` = [nin, *nouts], parameters drawn in order from `rng` (see MLP's docstring)."""
    layers = []
    for li in range(1, len(sizes)):
        nin, nout = sizes[li - 1], sizes[li]
        act = output_activation if li == len(sizes) - 1 else activation
        bound = 1.0 / math.sqrt(nin)
        neurons = []
        for j in range(nout):
            w = [Value(rng.uniform(-bound, bound), label=parameter_label(li, j, k)) for k in range(nin)]
            b = Value(rng.uniform(-bound, bound), label=parameter_label(li, j)) if bias else None
            neurons.append(Neuron(w, b, act, neuron_label(li, j)))
        layers.append(Layer(neurons))
    return layers


def _assign(params: list[Value], values: list[float]) -> None:
    """Set each parameter's value (validated by the caller) and reset its gradient."""
    for p, v in zip(params, values, strict=True):
        p.data = v
        p.grad = 0.0


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


def _positive_int(n: object, name: str) -> int:
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
