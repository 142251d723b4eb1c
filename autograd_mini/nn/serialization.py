"""An MLP's architecture and parameters as JSON, validated on the way in.

`model_to_dict` shows the format (version 1). Loading checks every key, type, size
and number and raises ValueError naming the first problem, before anything is
assigned; the file read is bounded. JSON only: no pickle, nothing is evaluated.
"""

from __future__ import annotations

import json
import math
import os
import reprlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..files import atomic_write

FORMAT = "autograd_mini.MLP"
VERSION = 1
MAX_FILE_BYTES = 64 * 2**20  # a model with about 3 million parameters
_KEYS = ("format", "version", "nin", "nouts", "activations", "bias", "layers")


def model_to_dict(model: Any) -> dict[str, Any]:
    """The JSON-ready description of `model`, format version 1:

        {"format": "autograd_mini.MLP", "version": 1,
         "nin": 2, "nouts": [3, 1], "activations": ["tanh", "sigmoid"], "bias": true,
         "layers": [{"weights": [[w00, w01], ...one row per neuron], "biases": [b0, ...]}, ...]}

    "biases" is null when bias is false. No NaN, infinities, bools or extra keys.
    """
    layers = []
    for layer in model.layers:
        weights = [[w.data for w in n.w] for n in layer.neurons]
        biases = [n.b.data for n in layer.neurons if n.b is not None] if model.bias else None
        layers.append({"weights": weights, "biases": biases})
    return {
        "format": FORMAT,
        "version": VERSION,
        "nin": model.nin,
        "nouts": list(model.nouts),
        "activations": model.activations,
        "bias": model.bias,
        "layers": layers,
    }


def weights_to_dict(
    weights: Any, biases: Any, activation: str, output_activation: str | None, known: Sequence[str]
) -> dict[str, Any]:
    """The `to_dict()` form of `MLP.from_weights`'s arguments, fully validated (`known`: the activations).

    weights[l][j][i]: into neuron j of layer l+1 from input i; biases[l][j] or None.
    Raises ValueError naming "MLP.from_weights" and the first problem.
    """
    who = "MLP.from_weights"
    layers = _list(weights, f"{who}: weights", "a non-empty list of layers")
    nouts = []
    for li, layer in enumerate(layers, start=1):
        nouts.append(len(_list(layer, f"{who}: weights of layer {li}", "a non-empty list of neuron rows")))
    first_row = _list(layers[0][0], f"{who}: weights of layer 1, neuron 0", "a non-empty list of numbers")
    if biases is not None:
        biases = _list(biases, f"{who}: biases", f"None or a list of {len(layers)} layers")
        if len(biases) != len(layers):
            raise ValueError(f"{who}: biases must list {len(layers)} layers (one per weights layer), got {len(biases)}")
    output_activation = activation if output_activation is None else output_activation
    data = {
        "format": FORMAT,
        "version": VERSION,
        "nin": len(first_row),
        "nouts": nouts,
        "activations": [activation] * (len(nouts) - 1) + [output_activation],
        "bias": biases is not None,
        "layers": [
            {"weights": _rows(layer), "biases": None if biases is None else _rows(biases[li])}
            for li, layer in enumerate(layers)
        ],
    }
    parameter_values(data, known, who=who)
    return data


def _list(x: Any, what: str, expected: str) -> list[Any]:
    if isinstance(x, (str, bytes, dict)) or not isinstance(x, (list, tuple)) or not x:
        raise ValueError(f"{what} must be {expected}, got {_show(x)}")
    return list(x)


def _rows(x: Any) -> Any:
    """Tuples as lists (the JSON form), anything else unchanged for validation to name."""
    if isinstance(x, tuple):
        x = list(x)
    return [list(r) if isinstance(r, tuple) else r for r in x] if isinstance(x, list) else x


def parameter_values(data: Any, known: Sequence[str], expected: Any = None, who: str = "model JSON") -> list[float]:
    """Validate `data` completely and return its values in `parameters()` order.

    `known` lists the activations a model may have (`nn.ACTIVATIONS`; passed
    in so this module needs nothing from `nn`). With `expected` (an MLP), the
    architecture in `data` must also equal that model's. `who` starts every
    error message.
    """
    _check_header(data, known, who)
    nin, nouts, bias = data["nin"], data["nouts"], data["bias"]
    if expected is not None:
        _check_same_architecture(data, expected)
    layers = data["layers"]
    if not isinstance(layers, list) or len(layers) != len(nouts):
        raise ValueError(f"{who}: 'layers' must be a list of {len(nouts)} layers, got {_show(layers)}")
    values: list[float] = []
    sizes = [nin] + nouts
    for li, layer in enumerate(layers, start=1):
        values += _layer_values(layer, li, sizes[li - 1], sizes[li], bias, who)
    return values


def _check_header(data: Any, known: Sequence[str], who: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{who}: expected an object, got {_show(data)}")
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise ValueError(f"{who}: missing key(s) {', '.join(map(repr, missing))}")
    extra = sorted(str(k) for k in data if k not in _KEYS)
    if extra:
        raise ValueError(f"{who}: unknown key(s) {', '.join(map(repr, extra))}")
    if data["format"] != FORMAT:
        raise ValueError(f"{who}: 'format' must be {FORMAT!r}, got {_show(data['format'])}")
    if not _is_int(data["version"]) or data["version"] != VERSION:
        raise ValueError(f"{who}: unsupported 'version' {_show(data['version'])} (this library reads {VERSION})")
    if not _is_int(data["nin"]) or data["nin"] < 1:
        raise ValueError(f"{who}: 'nin' must be a positive int, got {_show(data['nin'])}")
    nouts = data["nouts"]
    if not isinstance(nouts, list) or not nouts or not all(_is_int(n) and n >= 1 for n in nouts):
        raise ValueError(f"{who}: 'nouts' must be a non-empty list of positive ints, got {_show(nouts)}")
    activations = data["activations"]
    if not isinstance(activations, list) or len(activations) != len(nouts):
        raise ValueError(f"{who}: 'activations' must be a list of {len(nouts)} names, got {_show(activations)}")
    for a in activations:
        if not isinstance(a, str) or a not in known:
            raise ValueError(f"{who}: unknown activation {_show(a)}: choose one of {', '.join(known)}")
    if "softmax" in activations[:-1]:
        raise ValueError(f"{who}: softmax is an output activation only, got {_show(activations)}")
    if len(set(activations[:-1])) > 1:
        raise ValueError(f"{who}: hidden layers must share one activation, got {_show(activations)}")
    if not isinstance(data["bias"], bool):
        raise ValueError(f"{who}: 'bias' must be true or false, got {_show(data['bias'])}")


def _check_same_architecture(data: dict[str, Any], model: Any) -> None:
    saved = (data["nin"], data["nouts"], data["activations"], data["bias"])
    ours = (model.nin, model.nouts, model.activations, model.bias)
    if saved != ours:
        raise ValueError(
            "model JSON: architecture (nin, nouts, activations, bias) = "
            f"{saved} does not match this model's {ours}"
        )


def _layer_values(layer: Any, li: int, nin: int, nout: int, bias: bool, who: str) -> list[float]:
    where = f"{who}: layer {li}"
    if not isinstance(layer, dict) or set(layer) != {"weights", "biases"}:
        raise ValueError(f"{where} must be an object with exactly 'weights' and 'biases', got {_show(layer)}")
    weights, biases = layer["weights"], layer["biases"]
    if not isinstance(weights, list) or len(weights) != nout:
        raise ValueError(f"{where}: 'weights' must be a list of {nout} rows, got {_show(weights)}")
    if bias:
        if not isinstance(biases, list) or len(biases) != nout:
            raise ValueError(f"{where}: 'biases' must be a list of {nout} numbers, got {_show(biases)}")
    elif biases is not None:
        raise ValueError(f"{where}: 'biases' must be null for a model without bias, got {_show(biases)}")
    values: list[float] = []
    for j, row in enumerate(weights):
        if not isinstance(row, list) or len(row) != nin:
            raise ValueError(f"{where}: weights of neuron {j} must be a list of {nin} numbers, got {_show(row)}")
        values += [_number(w, f"{where}, neuron {j}, weight {k}") for k, w in enumerate(row)]
        if bias:
            values.append(_number(biases[j], f"{where}, neuron {j}, bias"))
    return values


def _number(x: Any, where: str) -> float:
    if isinstance(x, _LongInt):
        raise ValueError(f"{where} must be finite, got {x!r}")
    if isinstance(x, bool) or not isinstance(x, (int, float, np.floating)):  # np.float32 too, as np.float64
        raise ValueError(f"{where} must be a number, got {_show(x)}")
    try:
        value = float(x)
    except OverflowError:
        raise ValueError(f"{where} must be finite, got {_show(x)}") from None
    if not math.isfinite(value):
        raise ValueError(f"{where} must be finite, got {value!r}")
    return value


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class _ShortRepr(reprlib.Repr):
    """repr cut to a few levels and items, so a deep or huge value cannot exhaust the stack or memory."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 10_000:  # repr would raise beyond sys.get_int_max_str_digits()
            return repr(_LongInt(int(x.bit_length() * math.log10(2)) + 1))
        return super().repr_int(x, level)


_SHORT = _ShortRepr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 3, 6, 4, 40, 40


def _show(x: Any) -> str:
    text = _SHORT.repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


class _LongInt:
    """An integer in a model file too long to convert (over 4,300 digits): a number no model holds."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<an integer of {self.digits} digits>"


class _Refused(ValueError):
    """A problem found while parsing; load_json adds the file's name."""


def _parse_int(text: str) -> int | _LongInt:
    digits = len(text.lstrip("-"))
    return _LongInt(digits) if digits > 4300 else int(text)  # int() would raise a bare "Exceeds the limit"


def _parse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a valid number (NaN and infinities are not allowed)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _Refused(f"duplicate key {_show(key)} (each key may appear once in an object)")
        seen.add(key)
    return dict(pairs)


def save_json(data: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write `data` to `path` as strict JSON (no NaN), atomically: a failed save keeps the old file."""
    text = json.dumps(data, indent=1, allow_nan=False)
    atomic_write(path, text + "\n")


def load_json(path: str | os.PathLike[str]) -> Any:
    """Parse the JSON file at `path`; ValueError if it is not strict JSON or over `MAX_FILE_BYTES`."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"expected a path or a dict, got {type(path).__name__}")
    name = repr(os.fspath(path))
    with open(path, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)  # bounded: /dev/zero or a huge file must not fill memory
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"model JSON: {name} is larger than {MAX_FILE_BYTES // 2**20} MiB, the limit for a model file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"model JSON: {name} is not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(
            text, parse_constant=_parse_constant, parse_int=_parse_int, object_pairs_hook=_unique_keys
        )
    except _Refused as exc:
        raise ValueError(f"model JSON: {name}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"model JSON: {name} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"model JSON: {name} is nested too deeply") from None
