"""The closed-form delta rule: a reference gradient in plain floats.

For a sigmoid MLP trained on squared error, the derivation gives every
gradient in closed form (delta_j = dE/dnet_j):

    output neuron:  delta_j = (y_j - t_j) * y_j * (1 - y_j)         (1.6) with (1.3)
    hidden neuron:  delta_j = (sum_l delta_l * w_jl) * O_j (1 - O_j) (1.8)
    every weight:   dE/dw_ij = delta_j * O_i                         (1.5)
    every bias:     dE/db_j  = delta_j

This module computes them with floats only (no Values, no graph), so tests can
check the engine's `backward()` against an independent oracle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .nn import MLP

Target = float | Sequence[float]


def delta_gradients(model: MLP, x: Sequence[float], t: Target) -> list[float]:
    """dE/dp for every parameter p of `model`, in `model.parameters()` order.

    E = sum_k 1/2 (t_k - y_k)^2 over the outputs (1.4). `x` is a list of
    numbers; `t` a number (one output) or a list with one target per output.
    Raises ValueError naming the neuron for a layer that is not sigmoid.
    """
    _check_sigmoid(model)
    xs = _floats(x, "x")
    if len(xs) != model.nin:
        raise ValueError(f"delta_gradients: expected {model.nin} inputs, got {len(xs)}")
    targets = _targets(t, model.nouts[-1])
    outputs = _forward(model, xs)  # outputs[0] = x, outputs[l] = layer l's O_j
    deltas = _deltas(model, outputs, targets)
    grads: list[float] = []
    for li, layer in enumerate(model.layers):
        o_prev = outputs[li]
        for neuron, delta in zip(layer.neurons, deltas[li], strict=True):
            grads += [delta * o_i for o_i in o_prev]  # dE/dw_ij = delta_j O_i (1.5)
            if neuron.b is not None:
                grads.append(delta)  # dE/db_j = delta_j
    return grads


def _forward(model: MLP, xs: list[float]) -> list[list[float]]:
    """Every layer's outputs O_j = phi(net_j) of (1.1)-(1.2), input layer first."""
    outputs = [xs]
    for layer in model.layers:
        o_prev = outputs[-1]
        row = []
        for neuron in layer.neurons:
            net = sum(w.data * o for w, o in zip(neuron.w, o_prev, strict=True))
            if neuron.b is not None:
                net += neuron.b.data
            row.append(_logistic(net))
        outputs.append(row)
    return outputs


def _deltas(model: MLP, outputs: list[list[float]], targets: list[float]) -> list[list[float]]:
    """delta_j for every neuron, computed from the output layer backwards (1.8)."""
    y = outputs[-1]
    deltas = [[(yk - tk) * yk * (1.0 - yk) for yk, tk in zip(y, targets, strict=True)]]  # (1.6), (1.3)
    for li in range(len(model.layers) - 2, -1, -1):
        following = model.layers[li + 1].neurons
        later = deltas[0]
        row = []
        for j, o_j in enumerate(outputs[li + 1]):
            de_do = sum(d_l * n.w[j].data for d_l, n in zip(later, following, strict=True))  # (1.8)
            row.append(de_do * o_j * (1.0 - o_j))
        deltas.insert(0, row)
    return deltas


def _logistic(z: float) -> float:
    """phi(z) of (1.2), without overflow for large |z|."""
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


def _check_sigmoid(model: MLP) -> None:
    for layer in model.layers:
        for neuron in layer.neurons:
            if neuron.activation != "sigmoid":
                raise ValueError(
                    f"delta_gradients covers sigmoid networks only (1.2): neuron {neuron.name} "
                    f"has activation {neuron.activation!r}; use backward() for other models"
                )


def _floats(items: Sequence[float], what: str) -> list[float]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise TypeError(f"delta_gradients: {what} must be a list of numbers, got {type(items).__name__}")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"delta_gradients: {what}[{i}] must be an int or float, got {type(v).__name__}")
        if not math.isfinite(v):
            raise ValueError(f"delta_gradients: {what}[{i}] must be finite, got {v!r}")
        out.append(float(v))
    return out


def _targets(t: Target, nout: int) -> list[float]:
    targets = _floats([t], "t") if isinstance(t, (int, float)) and not isinstance(t, bool) else _floats(t, "t")
    if len(targets) != nout:
        raise ValueError(f"delta_gradients: the model has {nout} outputs, got {len(targets)} targets")
    return targets
