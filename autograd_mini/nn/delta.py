"""The closed-form delta rule: a reference gradient in plain floats, and its table.

For a sigmoid MLP on squared error (1.4) the derivation gives every gradient in
closed form: output delta_j = (y_j - t_j) y_j (1 - y_j) (1.6)/(1.3), hidden delta_j
= (sum_l delta_l w_jl) O_j (1 - O_j) (1.8), dE/dw_ij = delta_j O_i (1.5), dE/db_j =
delta_j. Floats only (no Values), so tests check `backward()` against it; several
outputs sum (1.4) over them. `delta_table` prints the quantities per neuron.
A softmax output trained with cross-entropy, E = -log y_c for the class c, has the
output delta y_k - t_k (t one-hot): the softmax Jacobian cancels against dE/dy_i =
-t_i / y_i. Hidden deltas then follow (1.8) unchanged.
"""

from __future__ import annotations

import math
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

from .network import MLP, warn_unreachable_targets

Target = float | Sequence[float]


@dataclass(frozen=True)
class NeuronDelta:
    """One neuron's row of the derivation: neuron j of layer `layer` (label `neuron`, e.g. "L2.N0").

    net:          net_j = sum_i w_ij O_i (+ b_j), (1.1)
    out:          O_j = phi(net_j), (1.2)
    dE_dout:      dE/dO_j: y_j - t_j for an output (1.6), sum_l delta_l w_jl for a hidden neuron (1.7)/(1.8);
                  -t_j / y_j for a softmax output under cross-entropy
    delta:        delta_j = dE/dnet_j = dE/dO_j * O_j (1 - O_j), (1.3); y_j - t_j for a softmax output
    weight_grads: dE/dw_ij = delta_j * O_i for each input i, (1.5)
    bias_grad:    dE/db_j = delta_j, or None for a neuron without bias
    """

    neuron: str
    layer: int
    index: int
    net: float
    out: float
    dE_dout: float
    delta: float
    weight_grads: list[float] = field(default_factory=list)
    bias_grad: float | None = None


@dataclass(frozen=True)
class DeltaTable:
    """`delta_table`'s result: one NeuronDelta per neuron, output layer last; `str()` prints it."""

    rows: list[NeuronDelta]
    total_error: float
    inputs: list[float]
    targets: list[float]
    loss: str = "squared_error"
    """"squared_error" (sigmoid outputs, (1.4)) or "cross_entropy" (a softmax output, E = -log y_c)."""

    def row(self, label: str) -> NeuronDelta:
        """The row of neuron `label` ("L2.N0"); KeyError naming the labels there are."""
        for r in self.rows:
            if r.neuron == label:
                return r
        raise KeyError(f"delta_table has no neuron {label!r}: it has {', '.join(r.neuron for r in self.rows)}")

    @property
    def output_layer(self) -> int:
        """The number of the output layer (layers count from 1)."""
        return self.rows[-1].layer

    def format(self, width: int | None = None) -> str:
        """The table as text at most `width` columns wide where it can be (None: the terminal's width).

        Every quantity sits on one line per neuron when that fits; otherwise the
        forward pass and deltas come first and the gradients below, long lists wrapped.
        """
        return _table_text(self, shutil.get_terminal_size().columns if width is None else width)

    def __str__(self) -> str:
        return self.format()


def delta_table(model: MLP, x: Sequence[float], t: Target) -> DeltaTable:
    """The derivation's quantities for every neuron of a sigmoid `model` at input x, target t.

    E = sum_k 1/2 (t_k - y_k)^2 over the outputs (1.4). `x` is a list of
    numbers; `t` a number (one output) or a list with one target per output.
    A model with a softmax output takes an int class index as `t` and
    E = -log y_t (cross-entropy); its hidden layers must be sigmoid.
    Raises ValueError naming the neuron for a layer that is not sigmoid, and
    warns when a target lies outside the sigmoid's range [0, 1].
    """
    table = _table(model, x, t, "delta_table")
    warn_unreachable_targets(model, table.targets, "delta_table")
    return table


def delta_gradients(model: MLP, x: Sequence[float], t: Target) -> list[float]:
    """dE/dp for every parameter p of `model`, in `model.parameters()` order.

    E = sum_k 1/2 (t_k - y_k)^2 over the outputs (1.4). `x` is a list of
    numbers; `t` a number (one output) or a list with one target per output;
    an int class index for a softmax output (E = -log y_t, cross-entropy).
    Raises ValueError naming the neuron for a layer that is not sigmoid.
    """
    grads: list[float] = []
    for row in _table(model, x, t, "delta_gradients").rows:  # layer then neuron order, as parameters()
        grads += row.weight_grads  # dE/dw_ij = delta_j O_i (1.5)
        if row.bias_grad is not None:
            grads.append(row.bias_grad)  # dE/db_j = delta_j
    return grads


def _table(model: MLP, x: Sequence[float], t: Target, who: str) -> DeltaTable:
    """`delta_table`, its errors naming `who`."""
    xs, targets = _arguments(model, x, t, who)
    nets, outputs = _forward(model, xs)
    de_douts, deltas = _backward(model, outputs, targets)
    rows = []
    for li, layer in enumerate(model.layers):
        for j, neuron in enumerate(layer.neurons):
            delta = deltas[li][j]
            rows.append(NeuronDelta(
                neuron=neuron.name, layer=li + 1, index=j, net=nets[li][j], out=outputs[li + 1][j],
                dE_dout=de_douts[li][j], delta=delta,
                weight_grads=[delta * o_i for o_i in outputs[li]],  # (1.5)
                bias_grad=delta if neuron.b is not None else None,
            ))
    if _softmax_output(model):  # E = -log y_c = log sum_k exp(net_k) - net_c, by log-sum-exp
        top = max(nets[-1])
        error = top + math.log(math.fsum(math.exp(n - top) for n in nets[-1])) - nets[-1][targets.index(1.0)]
        return DeltaTable(rows, error, xs, targets, "cross_entropy")
    error = math.fsum(0.5 * (tk - yk) ** 2 for yk, tk in zip(outputs[-1], targets, strict=True))  # (1.4)
    return DeltaTable(rows, error, xs, targets)


def _arguments(model: MLP, x: Sequence[float], t: Target, who: str) -> tuple[list[float], list[float]]:
    _check_sigmoid(model, who)
    xs = _floats(x, "x", who)
    if len(xs) != model.nin:
        raise ValueError(f"{who}: expected {model.nin} inputs, got {len(xs)}")
    if _softmax_output(model):
        return xs, _class_target(t, model.nouts[-1], who)
    return xs, _targets(t, model.nouts[-1], who)


def _forward(model: MLP, xs: list[float]) -> tuple[list[list[float]], list[list[float]]]:
    """Every layer's net_j (1.1) and, input layer first, outputs O_j = phi(net_j) (1.2)."""
    nets: list[list[float]] = []
    outputs = [xs]
    for layer in model.layers:
        o_prev = outputs[-1]
        row = []
        for neuron in layer.neurons:
            net = sum(w.data * o for w, o in zip(neuron.w, o_prev, strict=True))
            if neuron.b is not None:
                net += neuron.b.data
            row.append(net)
        nets.append(row)
        if layer.activation == "softmax":  # the output layer: y_k = exp(net_k - max) / sum_i exp(net_i - max)
            top = max(row)
            exps = [math.exp(net - top) for net in row]
            outputs.append([e / math.fsum(exps) for e in exps])
        else:
            outputs.append([_logistic(net) for net in row])
    return nets, outputs


def _backward(
    model: MLP, outputs: list[list[float]], targets: list[float]
) -> tuple[list[list[float]], list[list[float]]]:
    """dE/dO_j and delta_j for every neuron, from the output layer backwards (1.8)."""
    y = outputs[-1]
    if _softmax_output(model):  # cross-entropy: delta_k = y_k - t_k, the form (1.6) has for a linear output
        de_douts = [[_ce_dE_dy(yk, tk) for yk, tk in zip(y, targets, strict=True)]]
        deltas = [[yk - tk for yk, tk in zip(y, targets, strict=True)]]
    else:
        de_douts = [[yk - tk for yk, tk in zip(y, targets, strict=True)]]  # (1.6)
        deltas = [[d * yk * (1.0 - yk) for d, yk in zip(de_douts[0], y, strict=True)]]  # (1.3)
    for li in range(len(model.layers) - 2, -1, -1):
        following = model.layers[li + 1].neurons
        later = deltas[0]
        de_do = [sum(d_l * n.w[j].data for d_l, n in zip(later, following, strict=True))  # (1.8)
                 for j in range(len(outputs[li + 1]))]
        de_douts.insert(0, de_do)
        deltas.insert(0, [d * o_j * (1.0 - o_j) for d, o_j in zip(de_do, outputs[li + 1], strict=True)])
    return de_douts, deltas


def _softmax_output(model: MLP) -> bool:
    return model.layers[-1].activation == "softmax"


def _ce_dE_dy(y: float, t: float) -> float:
    """dE/dy_k of E = -log y_c: -1/y_c for the class, 0 for the others (-inf if y_c underflowed to 0)."""
    if t == 0.0:
        return 0.0
    return -1.0 / y if y > 0.0 else -math.inf


def _class_target(t: object, nout: int, who: str) -> list[float]:
    """An int class index as the one-hot target t_k of a softmax output."""
    if isinstance(t, bool) or not isinstance(t, int):
        raise TypeError(f"{who}: a softmax output takes an int class index as t, got {type(t).__name__}: {t!r:.40}")
    if not 0 <= t < nout:
        raise ValueError(f"{who}: class {t} is out of range for {nout} softmax outputs (0..{nout - 1})")
    return [1.0 if k == t else 0.0 for k in range(nout)]


# --- the table as text ---------------------------------------------------------------------
_WIDE = (  # (heading, equation line): one line per neuron with every quantity
    ("neuron", ""),
    ("net_j", "(1.1)"),
    ("O_j", "(1.2)"),
    ("dE/dO_j", "(1.6) or (1.8)"),
    ("from", ""),
    ("delta_j = dE/dO_j O_j (1 - O_j)", "dE/dnet_j, (1.3)"),
    ("dE/dw_ij = delta_j O_i, i = 0, 1, ...", "(1.5)"),
    ("dE/db_j", "= delta_j"),
)
_LEGEND = (  # what the narrow tables' headings mean, one definition a line
    "dE/dO_j = y - t (1.6) at an output, sum_l delta_l w_jl (1.7)/(1.8) when hidden",
    "delta_j = dE/dO_j O_j (1 - O_j) = dE/dnet_j (1.3)",
    "dE/dw_ij = delta_j O_i (1.5), dE/db_j = delta_j",
)


def _table_text(table: DeltaTable, width: int) -> str:
    """Every quantity on one line per neuron when that fits `width`, else two narrower tables."""
    x = ", ".join(f"{v:.9g}" for v in table.inputs)
    t = ", ".join(f"{v:.9g}" for v in table.targets)
    lines = textwrap.wrap(f"per-neuron deltas at x = [{x}], t = [{t}]", width, subsequent_indent="    ")
    softmax = table.loss == "cross_entropy"
    lines += [f"E = -log y_c (cross-entropy of the softmax) = {table.total_error:.9g}" if softmax
              else f"E = sum_k 1/2 (t_k - y_k)^2 = {table.total_error:.9g}   (1.4)", ""]
    wide = _aligned([[c[0] for c in _WIDE], [c[1] for c in _WIDE], *_wide_rows(table)])
    if max(map(len, wide)) <= width:
        return "\n".join(lines + wide)
    lines += [part for line in _LEGEND for part in textwrap.wrap(line, width, break_on_hyphens=False)] + [""]
    lines += _aligned([["neuron", "net_j (1.1)", "O_j (1.2)", "dE/dO_j", "delta_j (1.3)"],
                       *([r.neuron, *map(_g, (r.net, r.out, r.dE_dout)), _delta_cell(table, r)] for r in table.rows)])
    lines.append("")
    bias = ["-" if r.bias_grad is None else _g(r.bias_grad) for r in table.rows]
    first = _aligned([["neuron", "dE/db_j"], *([r.neuron, b] for r, b in zip(table.rows, bias, strict=True))])
    indent = max(map(len, first)) + 2
    lines.append(first[0].ljust(indent) + "dE/dw_ij (1.5), i = 0, 1, ...")
    for prefix, r in zip(first[1:], table.rows, strict=True):
        grads = ", ".join(map(_g, r.weight_grads))
        wrapped = textwrap.wrap(grads, max(width - indent, 20)) or [""]
        lines.append((prefix.ljust(indent) + wrapped[0]).rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines)


def _wide_rows(table: DeltaTable) -> list[list[str]]:
    rows = []
    softmax = table.loss == "cross_entropy"
    for r in table.rows:
        output = r.layer == table.output_layer
        source = "y - t  (1.6)" if output else "sum_l delta_l w_jl  (1.7)/(1.8)"
        delta = _delta_cell(table, r)
        if output and softmax:
            source = "-t / y  (softmax, cross-entropy)"
        bias = "-" if r.bias_grad is None else _g(r.bias_grad)
        rows.append([r.neuron, _g(r.net), _g(r.out), _g(r.dE_dout), source, delta,
                     ", ".join(map(_g, r.weight_grads)), bias])
    return rows


def _delta_cell(table: DeltaTable, r: NeuronDelta) -> str:
    """delta_j, marked "(= y - t)" at a softmax output trained with cross-entropy."""
    softmax_output = table.loss == "cross_entropy" and r.layer == table.output_layer
    return f"{_g(r.delta)}  (= y - t)" if softmax_output else _g(r.delta)


def _aligned(rows: list[list[str]]) -> list[str]:
    """The rows as lines, each column padded to its widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _g(x: float) -> str:
    return f"{x:.9g}"


def _logistic(z: float) -> float:
    """phi(z) of (1.2), without overflow for large |z|."""
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


def _check_sigmoid(model: MLP, who: str) -> None:
    for li, layer in enumerate(model.layers):
        for neuron in layer.neurons:
            if neuron.activation != "sigmoid" and not (li == len(model.layers) - 1 and neuron.activation == "softmax"):
                raise ValueError(
                    f"{who} covers sigmoid networks only (1.2): neuron {neuron.name} "
                    f"has activation {neuron.activation!r}; use backward() for other models"
                )


def _floats(items: object, what: str, who: str) -> list[float]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise TypeError(f"{who}: {what} must be a list of numbers, got {type(items).__name__}")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{who}: {what}[{i}] must be an int or float, got {type(v).__name__}")
        if not math.isfinite(v):
            raise ValueError(f"{who}: {what}[{i}] must be finite, got {v!r}")
        out.append(float(v))
    return out


def _targets(t: Target, nout: int, who: str) -> list[float]:
    items: object = t if isinstance(t, bool) or not isinstance(t, (int, float)) else [t]  # a bool is refused
    targets = _floats(items, "t", who)
    if len(targets) != nout:
        raise ValueError(f"{who}: the model has {nout} outputs, got {len(targets)} targets")
    return targets
