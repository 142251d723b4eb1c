"""The live explorer's engine side: a graph at new leaf values, its numbers, nudges and judged guesses.

`recompute(root, {leaf: value})` replays a recorded graph on new leaf values: a
copy made in forward order, each node's op row (ops.py) applied to its copied
inputs, so the user's Values are only read. `snapshot` gives everything the
live pages show for one graph: the static explorer page (opened at its last
step), each node's data and gradient from the engine, and the questions of
"predict, then see", one per contribution g x local of the backward pass (1.5).
`nudge` compares the change of the root when a leaf moves by h with the linear
prediction dE/dleaf * h; `judge` marks a guessed contribution as the quiz does.
The server (serve.py) and the notebook widget (widget.py) only carry these
numbers to the page: the page does no calculus.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...engine import backward_order, gradients, local_derivatives
from ...errors import AutogradMiniError
from ...grad_mode import enable_grad
from ...graph import forward_order, reverse_topological_order
from ...value import Value, apply
from ..draw import DEFAULT_MAX_NODES
from .page import Explorer, explore

TOLERANCE = 0.01
"""Relative tolerance of a right guess: 1%, as `autograd-mini quiz`."""


def leaf_names(root: Value) -> dict[str, Value]:
    """The leaves that can be nudged (differentiable, no op), by the name the page shows.

    A leaf's name is its label, or "#k" (its number in backward's order) as the page
    names an unlabelled node; a label used by two leaves gets "#k" appended to tell them apart.
    """
    numbers = {v: k for k, v in enumerate(reverse_topological_order(root), 1)}
    leaves = [v for v in forward_order(root) if v.op is None and v.requires_grad]
    labels = [v.label for v in leaves]
    names = {}
    for v in leaves:
        name = v.label if v.label and labels.count(v.label) == 1 else f"{v.label or ''}#{numbers[v]}"
        names[name] = v
    return names


def recompute(root: Value, values: Mapping[Value, float]) -> Value:
    """A copy of `root`'s graph with the given leaves set to new values, recomputed forward.

    Each node is copied after its inputs (forward order), a leaf with its new value
    (or its own), an op node by applying its op's row to the copied inputs: the
    same checked forward the user's code ran, so a value outside an op's domain
    raises the engine's DomainError naming the op. Labels and constants are kept;
    `root`'s graph is only read. Raises KeyError for a key that is not a leaf of the graph.
    """
    order = forward_order(root)
    leaves = {v for v in order if v.op is None}
    if stray := [v for v in values if v not in leaves]:
        raise KeyError(f"recompute: {stray[0]!r} is not a leaf of the graph (only leaves get new values)")
    copies: dict[Value, Value] = {}
    with enable_grad():  # a live page recomputes with gradients, whatever mode the caller is in
        for v in order:
            if v.op is None:
                copy = Value(values.get(v, v.data), label=v.label, requires_grad=v.requires_grad)
            else:
                copy = apply(v.op, *[copies[x] for x in v.inputs])
                copy.label = v.label
            copies[v] = copy
    return copies[root]


@dataclass(frozen=True)
class Question:
    """One number of the backward pass to predict: what `node`'s rule passes to `input` (1.5)."""

    step: int  # the page's step that shows it (1-based); the page waits at step - 1
    node: str
    op: str
    input: str
    g: float  # d root / d node, complete when the step runs (1.8)
    local: float  # d node / d input, from the op's row
    answer: float  # g x local, the contribution the row's rule returns

    def text(self, root: str) -> str:
        return (f"{self.node} = {self.op}(...) has g = d {root}/d {self.node} = {self.g:.6g}. "
                f"What does its rule pass to {self.input}? (g x d {self.node}/d {self.input}, (1.5))")

    def public(self, root: str) -> dict[str, Any]:
        """The question without its answer, for the page."""
        return {"step": self.step, "node": self.node, "input": self.input, "text": self.text(root)}


@dataclass(frozen=True)
class Verdict:
    """How a guess compares: kind is "right", "wrong sign", "missing g", "missing local" or "wrong"."""

    kind: str
    message: str

    def public(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


def judge(answer: float, question: Question, tolerance: float = TOLERANCE) -> Verdict:
    """Mark a guessed contribution: right, the wrong sign, or which factor of g x local is missing."""
    truth, g, local = question.answer, question.g, question.local

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= max(tolerance * abs(b), 1e-9)

    said = f"the answer is {truth:.6g} = g x local = {g:.6g} x {local:.6g}"
    if not math.isfinite(answer):
        return Verdict("wrong", f"not a finite number; {said}")
    if near(answer, truth):
        return Verdict("right", f"right: {said}")
    if near(-answer, truth):
        return Verdict("wrong sign", f"the right size with the wrong sign: {said}")
    if near(answer, local):
        return Verdict("missing g", f"that is the local derivative d {question.node}/d {question.input} alone: "
                                    f"multiply by g = {g:.6g}, the gradient arriving at {question.node} (1.5); {said}")
    if near(answer, g):
        return Verdict("missing local", f"that is g alone: multiply by the local derivative "
                                        f"d {question.node}/d {question.input} = {local:.6g}; {said}")
    return Verdict("wrong", f"not quite: {said}")


class Snapshot:
    """Everything the live pages show for one graph: the page, the engine's numbers and the questions."""

    def __init__(self, root: Value, *, max_nodes: int = DEFAULT_MAX_NODES) -> None:
        """`root` must be a graph the caller owns (a `recompute` copy, or freshly built): it is only read."""
        self.root = root
        self.explorer: Explorer = explore(root, max_nodes=max_nodes)
        self.leaves = leaf_names(root)
        order = forward_order(root)
        grads = gradients(root, order)
        numbers = {v: k for k, v in enumerate(reverse_topological_order(root), 1)}
        names = {v: v.label or f"#{numbers[v]}" for v in order}  # as the page names its nodes
        self.backward_start = sum(1 for v in order if v.op is not None)  # the page's forward steps: one per op
        self.root_name = names[root]
        self.nodes = [{"id": f"n{i}", "label": names[v], "data": repr(v.data),
                       "grad": repr(float(g)) if v.requires_grad else ""}
                      for i, (v, g) in enumerate(zip(order, grads, strict=True))]
        self.grad_of = {name: float(g) for v, g in zip(order, grads, strict=True)
                        for name, leaf in self.leaves.items() if leaf is v}
        self.questions = _questions(root, names, dict(zip(order, grads, strict=True)), self.backward_start)

    def page(self, step: int | None = None) -> str:
        """The explorer page opened at `step` (default: the last, where every gradient is backward()'s)."""
        return self.explorer.html(start=self.explorer.steps if step is None else step)

    def state(self) -> dict[str, Any]:
        """The JSON-ready numbers the live controls show (no page, no answers)."""
        return {
            "root": {"name": self.root_name, "data": repr(self.root.data)},
            "leaves": [{"name": name, "data": repr(v.data), "grad": repr(self.grad_of[name])}
                       for name, v in self.leaves.items()],
            "nodes": self.nodes,
            "steps": self.explorer.steps,
            "backwardStart": self.backward_start,
            "questions": [q.public(self.root_name) for q in self.questions],
        }


def _questions(root: Value, names: dict[Value, str], grads: dict[Value, float], start: int) -> list[Question]:
    """One question per contribution g x local that the backward pass adds (constants and g = 0 skipped)."""
    interior, _ = backward_order(root)
    found = []
    for k, v in enumerate(interior, start + 1):
        assert v.op is not None
        g = grads[v]
        if g == 0.0:  # backward skips the node: nothing to predict
            continue
        contributions = v.op.vjp(g, v.data, *[x.data for x in v.inputs])
        for x, d, c in zip(v.inputs, local_derivatives(v), contributions, strict=True):
            if d is None or c is None or not x.requires_grad:
                continue
            found.append(Question(k, names[v], v.op.name, names[x], float(g), float(d), float(c)))
    return found


@dataclass(frozen=True)
class Nudge:
    """A leaf moved by h: the root's change observed, the linear prediction and what is left."""

    name: str  # the root's, for the text
    leaf: str
    h: float
    before: float
    after: float
    gradient: float  # d root / d leaf at the old value
    curvature: float | None  # d2 root / d leaf2 at the old value, None where the table has no second derivative
    root: Value  # the recomputed graph at the new value
    smaller: tuple[tuple[float, float], ...] = ()  # (h/2, its difference), (h/4, ...): how the difference shrinks

    @property
    def observed(self) -> float:
        return self.after - self.before

    @property
    def predicted(self) -> float:
        return self.gradient * self.h

    @property
    def difference(self) -> float:
        return self.observed - self.predicted

    @property
    def second_order(self) -> float | None:
        """1/2 f'' h^2, the term the difference is made of (None without a second derivative)."""
        return None if self.curvature is None else 0.5 * self.curvature * self.h * self.h  # inf, not OverflowError

    def public(self) -> dict[str, Any]:
        second = self.second_order
        return {
            "leaf": self.leaf, "h": repr(self.h), "before": repr(self.before), "after": repr(self.after),
            "gradient": repr(self.gradient), "observed": repr(self.observed), "predicted": repr(self.predicted),
            "difference": repr(self.difference), "secondOrder": None if second is None else repr(second),
            "smaller": [[repr(h), repr(d)] for h, d in self.smaller],
            "text": self.text(),
        }

    def text(self) -> str:
        """The nudge as aligned lines: the observed change, the prediction, the difference and its cause."""
        d = f"d{self.name}/d{self.leaf}"
        rows = [(f"{self.name} at {self.leaf} + h", f"{self.after:.6g}  (was {self.before:.6g}, h = {self.h:.6g})"),
                ("observed change", f"{self.observed:+.6g}"),
                (f"predicted {d} * h", f"{self.predicted:+.6g}  ({self.gradient:.6g} x {self.h:.6g})"),
                ("difference", f"{self.difference:+.6g}")]
        rows += [(f"difference at h = {h:.3g}", f"{d:+.6g}") for h, d in self.smaller]
        if self.curvature is not None:
            rows.append((f"1/2 d2{self.name}/d{self.leaf}2 * h^2", f"{self.second_order:+.6g}"))
        width = max(len(label) for label, _ in rows)
        lines = [f"{label:<{width}}  {value}" for label, value in rows]
        if self.curvature is not None:
            lines.append("the difference is the second-order term 1/2 f'' h^2 (and smaller ones): it shrinks as "
                         "h^2, so each halving of h quarters it")
        return "\n".join(lines)


def nudge(root: Value, leaf: str, h: float) -> Nudge:
    """Move leaf `leaf` (a name of `leaf_names(root)`) by h and recompute; `root`'s graph is only read."""
    leaves = leaf_names(root)
    if leaf not in leaves:
        raise KeyError(f"nudge: no leaf named {leaf!r}; the leaves are {', '.join(leaves) or 'none'}")
    if isinstance(h, bool) or not isinstance(h, (int, float)) or not math.isfinite(h):
        raise ValueError(f"nudge: h must be a finite number, got {h!r}")
    x = leaves[leaf]
    after = recompute(root, {x: x.data + h})
    copy = recompute(root, {})  # the gradients of gradients are recorded on a copy, not on the user's graph
    copied_x = leaf_names(copy)[leaf]
    (gradient,) = gradients(copy, [copied_x], create_graph=True)
    try:
        (curvature,) = gradients(gradient, [copied_x])
        second: float | None = float(curvature)
    except (AutogradMiniError, TypeError, ValueError, ArithmeticError):
        second = None
    smaller = []
    for k in (2, 4):  # the same nudge, smaller: the difference falls as h^2 where f is smooth
        try:
            smaller.append((h / k, recompute(root, {x: x.data + h / k}).data - root.data - gradient.data * h / k))
        except AutogradMiniError:  # e.g. a domain edge between: show what there is
            break
    moved = Nudge(root.label or "root", leaf, float(h), root.data, after.data, float(gradient.data), second, after,
                  tuple(smaller))
    shown = [moved.observed, moved.predicted, moved.difference, *(d for _, d in moved.smaller)]
    if not all(math.isfinite(v) for v in [*shown, moved.second_order or 0.0]):
        raise ValueError(f"nudge: h = {h:.6g} is too large: the change or its prediction overflows float64; "
                         "try a smaller h")
    return moved
