"""The names of an MLP's parameters and per-pass nodes, written and parsed only here.

Parameters are "L{l}.N{j}.w{k}" and "L{l}.N{j}.b" (l counts layers from 1, j
neurons and k inputs from 0); each forward pass labels net_j "L{l}.N{j}.net"
and O_j "L{l}.N{j}.out". The derivation's w_kj (1.1), the weight from k to j,
is "L{l}.N{j}.w{k}": the receiving neuron first. `draw`, `explain` and the
explorer read labels through these functions, never with a regex of their own.
"""

from __future__ import annotations

from dataclasses import dataclass


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
