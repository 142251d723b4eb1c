"""An `nn` MLP's loss read in the derivation's terms, for `explain`.

Regroups each chain-rule path of a sigmoid MLP with squared error into the
derivation's factors, dE/dy = y - t (1.6), dO_j/dnet_j = O_j (1 - O_j) (1.3),
dnet_l/dO_j = w_jl (1.8), dnet_j/dw_ij = O_i (1.5), and gives the delta form;
every number is a product of the `paths` edges' local derivatives. Where the
reading does not apply, one line says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..nn.labels import neuron_key, node_label
from ..value import Value
from .neurons import nn_label
from .paths import Edge, Edges, Path

_SUMS = ("add", "sum")
_LETTERS = ("j", "l", "m", "n", "p", "q", "r", "s")


@dataclass(frozen=True)
class Factor:
    """Consecutive edges of a path folded into one factor of the derivation.

    symbol "dO_j/dnet_j", formula "O_j (1 - O_j)", value (the product of the
    edges' local derivatives), equation "(1.3)". `recursion` is set on a
    factor dnet_l/dO_j: the line naming dE/dO_j there (1.8).
    """

    symbol: str
    formula: str
    value: float
    equation: str
    edges: tuple[Edge, ...]
    recursion: str | None = None


@dataclass(frozen=True)
class DerivationPath:
    """One path of `explain` in the derivation's factors; equation is "(1.9)" or "(1.10)"."""

    factors: tuple[Factor, ...]
    equation: str
    points: tuple[Value, ...]
    legend: str


@dataclass
class DeltaForm:
    """The delta-rule view of a gradient for an nn weight or bias (1.5)-(1.8)."""

    neuron: str
    kind: str  # "output" or "hidden"
    delta: float
    gradient: float
    lines: list[str]


@dataclass
class Derivation:
    """What `read` found: the paths in the derivation's factors (empty when `explain` did not
    list paths), the delta form, and `reason`: one line on what could not be shown, or None."""

    paths: list[DerivationPath] = field(default_factory=list)
    delta: DeltaForm | None = None
    reason: str | None = None


def applies(output: Value, wrt: Value, order: list[Value]) -> bool:
    """Whether `explain` should try this reading: wrt is an nn parameter or node, or feeds nn neurons."""
    if output is wrt:
        return False
    return nn_label(wrt.label) is not None or any(_role(node) for node in order)


def read(
    output: Value,
    wrt: Value,
    order: list[Value],
    edges: Edges,
    grads: dict[Value, float],
    paths: list[Path],
) -> Derivation:
    """The derivation's reading of explain's paths and the delta form; see the module docstring."""
    result = Derivation()
    for path in paths:
        read_path = _read_path(path, output)
        if isinstance(read_path, str):
            return Derivation(reason=f"derivation form not shown: {read_path}")
        result.paths.append(read_path)
    form = delta_form(wrt, order, edges, grads)
    if isinstance(form, str):
        result.reason = f"delta form not shown: {form}"
    elif form is not None:
        result.delta = form
    return result


def describe_node(node: Value, groups: dict[Value, str] | None = None) -> str | None:
    """What an nn node is in the derivation's symbols, in one line; None for other nodes.

    `groups` (from `neurons.neuron_groups`) lets a neuron's unlabelled `dot`
    node be named too. For node inspectors such as `explore`'s.
    """
    parsed = nn_label(node.label)
    if parsed is None:
        neuron = (groups or {}).get(node)
        if neuron is None or node.op is None or node.op.name != "dot":
            return None
        return f"sum_i w_ij O_i of neuron j = {neuron}: net_j before its bias (1.1)"
    j = parsed.neuron_name
    if parsed.part == "w":
        return (f"w_ij, i = input {parsed.input}, j = {j}: the weight from i into j (1.1); the label names "
                "the receiving neuron first")
    if parsed.part == "b":
        return f"b_j, j = {j}: the bias added to net_j (1.1)"
    if parsed.part == "net":
        # nn builds net_j as dot(w, O) + b_j, or as the dot alone when the neuron has no bias
        bias = " + b_j" if node.op is not None and node.op.name == "add" else " (no bias)"
        return f"net_j = sum_i w_ij O_i{bias}, j = {j}   (1.1)"
    op = node.op.name if node.op is not None else "no op"
    if op == "sigmoid":
        return f"O_j = phi(net_j) = 1 / (1 + e^(-net_j)), j = {j}   (1.2)"
    return f"O_j = {op}(net_j), j = {j}: not the derivation's logistic phi (1.2)"


# --- one path, regrouped at the neurons' net_j and O_j nodes ---------------------------------
def _role(node: Value) -> str | None:
    parsed = nn_label(node.label)
    return parsed.part if parsed is not None and parsed.part in ("net", "out") else None


def _neuron(node: Value) -> str:
    parsed = nn_label(node.label)
    assert parsed is not None
    return parsed.neuron_name


def _read_path(path: Path, output: Value) -> DerivationPath | str:
    """The path's factors, or the reason it is not a path of the derivation."""
    if not path.edges:
        return "the output is wrt itself"
    nodes = [output] + [e.input for e in path.edges]
    if _role(output) is not None:
        return f"the output {output.label} is a neuron's node, not a loss E (1.4)"
    cuts = [0] + [k for k in range(1, len(nodes) - 1) if _role(nodes[k])] + [len(nodes) - 1]
    neurons = [_neuron(n) for n in nodes if nn_label(n.label) is not None]
    neurons = list(dict.fromkeys(neurons))  # top first, each once
    symbols = {name: _letter(len(neurons) - 1 - k) for k, name in enumerate(neurons)}
    factors: list[Factor] = []
    legend: list[str] = [f"{symbols[n]} = {n}" for n in reversed(neurons)]
    if len(neurons) > 1:
        legend.append(f"y = O_{symbols[neurons[0]]}")
    for a, b in zip(cuts, cuts[1:], strict=False):
        factor = _segment(nodes[a], nodes[b], path.edges[a:b], a == 0, symbols, legend)
        if isinstance(factor, str):
            return factor
        factors.append(factor)
    factors = _with_recursion(factors)
    equation = "(1.9)" if len(neurons) == 1 else "(1.10)"
    return DerivationPath(tuple(factors), equation, tuple(nodes[k] for k in cuts), ", ".join(legend))


def _letter(k: int) -> str:
    """j for the neuron nearest wrt, then l, m, ... up the path toward the loss."""
    return _LETTERS[k] if k < len(_LETTERS) else f"l{k}"


def _w(source: str, target: str) -> str:
    """w_kj, the weight from k to j (the derivation's order)."""
    return f"w_{source}{target}" if len(source) == len(target) == 1 else f"w_{{{source},{target}}}"


def _segment(
    top: Value, bottom: Value, seg: tuple[Edge, ...], at_loss: bool, symbols: dict[str, str], legend: list[str]
) -> Factor | str:
    """The factor for the edges between two consecutive named points of a path."""
    value = math.prod(e.local for e in seg)
    names = f"{top.label or 'the output'} and {bottom.label or 'wrt'}"
    if at_loss:
        return _loss_factor(bottom, seg, value, names)
    role, below = _role(top), _role(bottom)
    if role == "out":
        if below != "net" or len(seg) != 1 or _neuron(top) != _neuron(bottom):
            return f"between {names} the path is not O_j = phi(net_j) (1.2)"
        if seg[0].consumer.op is None or seg[0].consumer.op.name != "sigmoid":
            return _not_sigmoid(top)
        s = symbols[_neuron(top)]
        return Factor(f"dO_{s}/dnet_{s}", f"O_{s} (1 - O_{s})", value, "(1.3)", tuple(seg))
    if role == "net":
        return _net_factor(top, bottom, seg, value, names, symbols, legend)
    return f"between {names} the path is not one of the derivation's factors"


def _loss_factor(bottom: Value, seg: tuple[Edge, ...], value: float, names: str) -> Factor | str:
    """dE/dy = y - t (1.6): a squared_error at y, under nothing but sums (1.4)."""
    ops = [e.consumer.op.name if e.consumer.op else "leaf" for e in seg]
    sums_only = all(op in _SUMS and e.local == 1.0 for op, e in zip(ops[:-1], seg, strict=False))
    if ops[-1] == "squared_error" and seg[-1].position == 0 and sums_only:
        if _role(bottom) == "out":
            return Factor("dE/dy", "y - t", value, "(1.6)", tuple(seg))
        return (f"neuron {_neuron(bottom)} has no sigmoid (its net_j is the output y): the derivation's neurons "
                "are logistic (1.2)")
    extra = ", ".join(dict.fromkeys(op for op in ops if op not in _SUMS + ("squared_error",))) or "a scaled sum"
    return (f"the loss is not E = sum_k 1/2 (t_k - y_k)^2 (1.4): between {names} it uses {extra}, so dE/dy is not "
            "y - t (1.6)")


def _net_factor(
    top: Value, bottom: Value, seg: tuple[Edge, ...], value: float, names: str, symbols: dict[str, str],
    legend: list[str],
) -> Factor | str:
    """dnet_j/dw_ij = O_i (1.5), dnet_l/dO_j = w_jl (1.8) or dnet_j/db_j = 1: net_j's add and dot folded."""
    s = symbols[_neuron(top)]
    first = seg[0]
    if first.consumer.op is not None and first.consumer.op.name == "add" and first.position == 1 and len(seg) == 1:
        return Factor(f"dnet_{s}/db_{s}", "1", value, "(1.1)", tuple(seg))
    if first.consumer.op is not None and first.consumer.op.name == "add" and first.position == 0:
        seg_dot = seg[1:]
        if not seg_dot and bottom.op is not None and bottom.op.name == "dot":  # wrt is net_j's dot itself
            return Factor(f"dnet_{s}/d(sum_i w_i{s} O_i)", "1", value, "(1.1)", tuple(seg))
    else:
        seg_dot = seg
    if len(seg_dot) != 1 or seg_dot[0].consumer.op is None or seg_dot[0].consumer.op.name != "dot":
        return f"between {names} the path is not net_j = sum_i w_ij O_i + b_j (1.1)"
    e = seg_dot[0]
    n = len(e.consumer.inputs) // 2
    if e.position < n:  # the edge to a weight: dnet_j/dw_ij = O_i
        source = e.consumer.inputs[n + e.position]
        legend.append(f"O_i = {source.label or f'network input {e.position}'}")
        return Factor(f"dnet_{s}/d{_w('i', s)}", "O_i", value, "(1.5)", tuple(seg))
    weight = e.consumer.inputs[e.position - n]
    if _role(bottom) == "out":
        lower = symbols[_neuron(bottom)]
    else:
        lower = "i"
        legend.append(f"O_i = {bottom.label or f'network input {e.position - n}'}")
    legend.append(f"{_w(lower, s)} = {weight.label or 'a weight'}")
    return Factor(f"dnet_{s}/dO_{lower}", _w(lower, s), value, "(1.8)", tuple(seg))


def _with_recursion(factors: list[Factor]) -> list[Factor]:
    """Name dE/dO_j = (product so far) after each dnet_l/dO_j factor, as (1.8) does."""
    result = []
    running = 1.0
    for k, f in enumerate(factors):
        running *= f.value
        if f.equation == "(1.8)" and k + 1 < len(factors):
            lower = f.symbol.rsplit("/dO_", 1)[1]
            chain = " * ".join(g.symbol for g in factors[: k + 1])
            f = Factor(f.symbol, f.formula, f.value, f.equation, f.edges,
                       f"dE/dO_{lower} = {chain} = {running:.6g}   (1.8), the term of this path's successor")
        result.append(f)
    return result


def _not_sigmoid(out: Value) -> str:
    op = out.op.name if out.op is not None else "no op"
    return (f"neuron {_neuron(out)} uses {op}, not the logistic sigmoid (1.2) whose derivative O_j (1 - O_j) "
            "is (1.3)")


# --- the delta form: delta_j = dE/dnet_j from the accumulated gradients --------------------------
def delta_form(
    wrt: Value, order: list[Value], edges: Edges, grads: dict[Value, float]
) -> DeltaForm | str | None:
    """delta_j and dE/dw_ij = delta_j O_i (1.5) for an nn weight or bias; else why not (None: not a parameter)."""
    parsed = nn_label(wrt.label)
    if parsed is None or parsed.part not in ("w", "b"):
        return None
    neuron = parsed.neuron_name
    net, out = _unique(order, node_label(neuron, "net")), _unique(order, node_label(neuron, "out"))
    if net is None or out is None:
        return f"{neuron}'s net_j and O_j are not each once in the graph (several forward passes, or no sigmoid)"
    if out.op is None or out.op.name != "sigmoid" or not edges[out]:
        return _not_sigmoid(out)
    sigmoid_local = edges[out][0].local  # dO_j/dnet_j = O_j (1 - O_j) (1.3), from the table
    consumers = [e for node in order for e in edges[node] if e.input is out]
    kind = "output"
    lines: list[str] | str | None = _output_lines(neuron, out, consumers, grads, sigmoid_local)
    if lines is None:
        kind = "hidden"
        lines = _hidden_lines(neuron, consumers, order, edges, grads, sigmoid_local)
    if isinstance(lines, str):
        return lines
    delta = grads.get(net, 0.0)
    if parsed.part == "b":
        lines.append(f"  dE/db_j = delta_j = {delta:.6g}   (1.1): dnet_j/db_j = 1")
        return DeltaForm(neuron, kind, delta, delta, lines)
    into_dot = [e for node in order for e in edges[node] if e.input is wrt]
    if len(into_dot) != 1:
        return f"{wrt.label} feeds {len(into_dot)} nodes, not one dot"
    e = into_dot[0]
    o_i = e.local  # d dot/d w_ij = O_i, from the table
    n = len(e.consumer.inputs) // 2
    source = e.consumer.inputs[n + e.position].label or f"network input {e.position}"
    lines.append(f"  dE/dw_ij = delta_j * O_i = {delta:.6g} * {o_i:.6g} = {delta * o_i:.6g}   (1.5), "
                 f"w_ij = {wrt.label}, O_i = {source}")
    return DeltaForm(neuron, kind, delta, delta * o_i, lines)


def _output_lines(
    neuron: str, out: Value, consumers: list[Edge], grads: dict[Value, float], sigmoid_local: float
) -> list[str] | None:
    """delta_j = (y - t) y (1 - y): O_j feeds only squared_error terms that E sums with weight 1."""
    if not consumers or not all(
        e.consumer.op is not None and e.consumer.op.name == "squared_error" and e.position == 0
        and grads.get(e.consumer) == 1.0 for e in consumers
    ):
        return None
    de_dy = sum(e.local for e in consumers)  # y - t (1.6), from the table
    return [f"delta form: delta_j = dE/dnet_j = dE/dO_j * dO_j/dnet_j, j = {neuron} (the package's notation)",
            f"  output neuron: delta_j = (y - t) * y (1 - y) = {de_dy:.6g} * {sigmoid_local:.6g} "
            f"= {de_dy * sigmoid_local:.6g}   (1.6), (1.3), y = {out.data:.6g}"]


def _hidden_lines(
    neuron: str,
    consumers: list[Edge],
    order: list[Value],
    edges: Edges,
    grads: dict[Value, float],
    sigmoid_local: float,
) -> list[str] | str:
    """delta_j = (sum_l delta_l w_jl) O_j (1 - O_j): O_j feeds the next layer's dots (1.8)."""
    terms = []
    for e in consumers:
        net_l = _net_of(e.consumer, order, edges)
        if net_l is None:
            return (f"{neuron}'s output feeds {e.consumer.op.name if e.consumer.op else 'a leaf'}, neither a loss "
                    "term 1/2 (t - y)^2 (1.4) nor a next-layer neuron (1.7)")
        weight = e.consumer.inputs[e.position - len(e.consumer.inputs) // 2]  # d dot/d O_j = w_jl
        terms.append((_neuron(net_l), weight.label or "w", grads.get(net_l, 0.0), e.local))
    terms.sort(key=lambda term: neuron_key(term[0]))
    de_do = sum(d * w for _, _, d, w in terms)
    shown = " + ".join(f"{d:.6g} * {w:.6g}" for _, _, d, w in terms)
    who = " + ".join(f"delta_{name} * {w_name}" for name, w_name, _, _ in terms)
    if len(terms) > 3:  # one line stays readable: name the sum instead of spelling it out
        who = f"sum over l = {terms[0][0]} ... {terms[-1][0]} of delta_l * w_jl"
        shown = " + ".join(f"{d:.6g} * {w:.6g}" for _, _, d, w in terms[:2]) + " + ..."
    return [f"delta form: delta_j = dE/dnet_j = dE/dO_j * dO_j/dnet_j, j = {neuron} (the package's notation)",
            "  hidden neuron: dE/dO_j = sum_l delta_l * w_jl over the neurons l that j feeds   (1.7), (1.8)",
            f"    = {who} = {shown} = {de_do:.6g}",
            f"  delta_j = dE/dO_j * O_j (1 - O_j) = {de_do:.6g} * {sigmoid_local:.6g} = {de_do * sigmoid_local:.6g}"
            "   (1.3)"]


def _net_of(dot_node: Value, order: list[Value], edges: Edges) -> Value | None:
    """The net_l node a next-layer dot feeds (the dot itself when the neuron has no bias)."""
    if dot_node.op is None or dot_node.op.name != "dot":
        return None
    if _role(dot_node) == "net":
        return dot_node
    for node in order:
        if _role(node) == "net" and any(e.input is dot_node for e in edges[node]):
            return node
    return None


def _unique(order: list[Value], label: str) -> Value | None:
    found = [node for node in order if node.label == label]
    return found[0] if len(found) == 1 else None
