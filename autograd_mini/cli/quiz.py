"""`autograd-mini quiz`: compute one delta or one dE/dw of a small sigmoid network by hand.

The network is the derivation's kind: sigmoid neurons without biases (1.1)-(1.3),
squared error (1.4) summed over the outputs, two inputs, a hidden layer of two
and one or two outputs, with weights and inputs of two decimals and targets 0.01 or
0.99 drawn from a seeded generator (`--seed` repeats a question). The forward pass is
given; the question asks for delta_j = dE/dnet_j of one neuron, or dE/dw_ij of
one weight, which (1.3) and (1.5)-(1.8) give. The answer (a number, or
arithmetic on numbers such as `0.1069 * 0.2386`, read by the CLI's own parser)
is checked against `delta_table` with a relative tolerance. A wrong answer gets
the per-neuron table and `explain`'s chain-rule report for that neuron.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from ..nn.delta import DeltaTable, delta_table
from ..nn.labels import neuron_label, parameter_label
from ..nn.losses import squared_error
from ..nn.network import MLP
from ..value import Value, sum_of
from ..views.explain import explain
from .parser import ParseError, parse
from .quoting import printable

DEFAULT_TOLERANCE = 0.01
"""Relative tolerance of an answer: 1%, so four significant digits computed by hand pass."""


@dataclass(frozen=True)
class Question:
    """One exercise: the network, its input and target, and the quantity asked for."""

    model: MLP
    x: list[float]
    t: list[float]
    kind: str  # "delta" or "weight"
    layer: int  # l, from 1
    index: int  # j, the neuron of layer l
    input_index: int  # i, the weight's input (for kind "weight")
    seed: int

    @property
    def neuron(self) -> str:
        return neuron_label(self.layer, self.index)

    @property
    def table(self) -> DeltaTable:
        return delta_table(self.model, self.x, self.t)

    @property
    def symbol(self) -> str:
        """What is asked, in the derivation's symbols."""
        if self.kind == "delta":
            return f"delta_j = dE/dnet_j for neuron j = {self.neuron}"
        weight = parameter_label(self.layer, self.index, self.input_index)
        return f"dE/dw_ij for the weight {weight} (from input i = {self.input_index} into j = {self.neuron})"

    @property
    def answer(self) -> float:
        row = self.table.row(self.neuron)
        return row.delta if self.kind == "delta" else row.weight_grads[self.input_index]


def make_question(seed: int) -> Question:
    """A random 2-2-1 or 2-2-2 sigmoid network without biases and one quantity of it to compute."""
    rng = random.Random(seed)
    outputs = rng.choice((1, 2))

    def number(low: float, high: float) -> float:
        return round(rng.uniform(low, high), 2)

    weights = [[[number(-1.0, 1.0) for _ in range(2)] for _ in range(2)],
               [[number(-1.0, 1.0) for _ in range(2)] for _ in range(outputs)]]
    model = MLP.from_weights(weights)
    x = [number(0.05, 1.0) for _ in range(2)]
    t = [rng.choice((0.01, 0.99)) for _ in range(outputs)]  # far from the outputs, as in Mazur's example
    layer = rng.choice((1, 2))
    index = rng.randrange(len(weights[layer - 1]))
    return Question(model, x, t, rng.choice(("delta", "weight")), layer, index, rng.randrange(2), seed)


def describe(question: Question) -> str:
    """The exercise as text: the network, the forward pass and the question."""
    table = question.table
    lines = [
        f"A sigmoid network without biases (1.1)-(1.3), squared error E = sum_k 1/2 (t_k - y_k)^2 (1.4); "
        f"seed {question.seed}",
        f"   inputs x = {question.x}, targets t = {question.t}",
        "   weights (w{i} of neuron L{l}.N{j} is w_ij, from input i of the layer below into j):",
    ]
    for layer in question.model.layers:
        for neuron in layer.neurons:
            ws = ", ".join(f"w{i} = {w.data}" for i, w in enumerate(neuron.w))
            lines.append(f"      {neuron.name}: {ws}")
    lines.append("   the forward pass, net_j (1.1) and O_j = sigmoid(net_j) (1.2):")
    for row in table.rows:
        lines.append(f"      {row.neuron}: net_j = {row.net:.6g}, O_j = {row.out:.6g}")
    lines.append(f"   E = {table.total_error:.6g}")
    lines.append(f"\nWhat is {question.symbol}?")
    return "\n".join(lines)


def read_answer(ask: Callable[[], str | None], say: Callable[[str], None]) -> float | None:
    """The first answer that is a number (or arithmetic on numbers); None at the end of input.

    `ask()` returns one line, or None at the end of input; a malformed line is
    explained and asked again.
    """
    while True:
        line = ask()
        if line is None:
            return None
        text = line.strip()
        try:
            expression = parse(text)
            if expression.variables:
                raise ParseError(f"give a number, not a formula with variables ({', '.join(expression.variables)})")
            return expression.evaluate({}).data
        except (ParseError, ArithmeticError, ValueError) as exc:
            reason = str(exc).splitlines()[0]
            say(f"not a number: {printable(repr(text[:60]))} ({reason}); type a number such as 0.0123, "
                "or arithmetic such as 0.1069 * 0.2386 (end of input gives up)")


def is_right(answer: float, truth: float, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """Whether `answer` is within `tolerance` of `truth`, relative (absolute 1e-9 near 0)."""
    return abs(answer - truth) <= max(tolerance * abs(truth), 1e-9)


def report(question: Question) -> str:
    """The worked answer: the per-neuron table and explain's report for the neuron asked about."""
    xs = [Value(v, label=f"x{i}") for i, v in enumerate(question.x)]
    ys = question.model(xs)
    ys = ys if isinstance(ys, list) else [ys]
    losses = [squared_error(y, t) for y, t in zip(ys, question.t, strict=True)]
    loss = losses[0] if len(losses) == 1 else sum_of(losses)
    loss.label = "E"
    weight = question.model.layers[question.layer - 1].neurons[question.index].w[question.input_index]
    return f"{question.table}\n\n{explain(loss, weight)}"


def run(question: Question, stdin: TextIO, out: TextIO, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """Ask `question` on `out`, read the answer from `stdin`; True when it is right."""

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    def ask() -> str | None:
        print("your answer: ", end="", file=out, flush=True)
        line = stdin.readline()
        return line if line else None

    say(describe(question))
    answer, truth = read_answer(ask, say), question.answer
    if answer is None:
        say(f"\nno answer (end of input). The answer is {truth:.6g}.")
        return False
    if is_right(answer, truth, tolerance):
        say(f"\nright: {truth:.6g} (you gave {answer:.6g}, within {tolerance:.0%}).")
        return True
    say(f"\nnot quite: the answer is {truth:.6g}, you gave {answer:.6g}. How it is built:\n")
    say(report(question))
    return False
