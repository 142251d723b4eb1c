"""Networks built from Values: MLPs, their losses, optimisers, data sets, training and the delta rule.

`network` holds `Neuron`, `Layer` and `MLP`, `labels` the names `draw` and `explain`
read; `losses`, `optim`, `datasets` and `train` make a training loop; `delta`
computes the derivation's closed-form deltas (1.3)-(1.8) as an oracle;
`serialization` reads and writes models as JSON (never pickle).
`fit` and `History` load the tape (numpy) on first use.
"""

from __future__ import annotations

from typing import Any

from .datasets import make_moons, make_spirals, xor
from .delta import DeltaTable, NeuronDelta, delta_gradients, delta_table
from .labels import Label, layer_label, neuron_key, neuron_label, neuron_of, node_label, parameter_label, parse_label
from .losses import binary_cross_entropy, cross_entropy, hinge, mse, softmax, squared_error
from .network import ACTIVATIONS, MLP, Layer, Module, Neuron
from .optim import SGD, Adam, Optimizer


def __getattr__(name: str) -> Any:
    """`fit` and `History` come from `train`, which loads the tape (and numpy) when first used."""
    if name in ("fit", "History"):
        from . import train

        return getattr(train, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ACTIVATIONS", "MLP", "Adam", "DeltaTable", "History", "Label", "Layer", "Module", "Neuron",
    "NeuronDelta", "Optimizer", "SGD", "binary_cross_entropy", "delta_gradients", "delta_table",
    "fit", "hinge", "layer_label", "make_moons", "mse", "neuron_key", "neuron_label", "neuron_of",
    "node_label", "parameter_label", "parse_label", "squared_error", "xor",
    "cross_entropy", "make_spirals", "softmax",
]
