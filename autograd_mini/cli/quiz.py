"""`autograd-mini quiz`: compute one delta_j or one dE/dw_ij of a small sigmoid network by hand.

The network is the derivation's kind (sigmoid neurons without biases (1.1)-(1.3), squared
error (1.4)), seeded; the answer is checked against `delta_table` with a relative tolerance,
a common mistake is named, and a wrong answer gets the table and `explain`'s report.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TextIO

from ..nn.delta import DeltaTable, delta_table
from ..nn.labels import neuron_label, parameter_label
from ..nn.losses import squared_error
from ..nn.network import MLP
from ..value import Value, sum_of
from ..views.explain import explain
from .expression import ParseError
from .parser import parse
from .quoting import printable
from .terminal import TextOutput, fit_lines, width

DEFAULT_TOLERANCE = 0.01
"""Relative tolerance of an answer: 1%, so four significant digits computed by hand pass."""
KINDS: tuple[Literal["delta", "weight"], ...] = ("delta", "weight")
ANSWER_HINT = "type a number such as 0.0123, or arithmetic on numbers such as 0.1069 * 0.2386"


@dataclass(frozen=True)
class Question:
    """One exercise: the network, its input and target, and the quantity asked for."""

    model: MLP
    x: list[float]
    t: list[float]
    kind: Literal["delta", "weight"]
    layer: int  # l, from 1
    index: int  # j, the neuron of layer l
    input_index: int  # i, the weight's input (for kind "weight")
    seed: int

    @property
    def neuron(self) -> str:
        """The label of neuron j ("L2.N0")."""
        return neuron_label(self.layer, self.index)

    @property
    def table(self) -> DeltaTable:
        """The derivation's quantities of every neuron at this x and t."""
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
        """The right answer: delta_j, or dE/dw_ij = delta_j O_i (1.5)."""
        row = self.table.row(self.neuron)
        return row.delta if self.kind == "delta" else row.weight_grads[self.input_index]

    @property
    def input_out(self) -> float:
        """O_i, the output of the weight's input: x_i in layer 1, else neuron i of the layer below."""
        if self.layer == 1:
            return self.x[self.input_index]
        return self.table.row(neuron_label(self.layer - 1, self.input_index)).out


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
    return Question(model, x, t, rng.choice(KINDS), layer, index, rng.randrange(2), seed)


def describe(question: Question, columns: int = 80) -> str:
    """The exercise as text fitted to `columns`: the network, the forward pass and the question."""
    table = question.table
    lines = [
        f"Seed {question.seed}: a sigmoid network without biases (1.1)-(1.3)",
        "   with squared error E = sum_k 1/2 (t_k - y_k)^2 (1.4)",
        f"   inputs x = {question.x}, targets t = {question.t}",
        "   weights (w{i} of L{l}.N{j} is w_ij: from input i of the layer below into j):",
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
    return fit_lines("\n".join(lines), columns)


def read_answer(ask: Callable[[], str | None], say: Callable[[str], None]) -> float | None:
    """The first answer that is a number (or arithmetic on numbers); None at the end of input.

    `ask()` returns one line, or None at the end of input; a line that is no
    number is explained and asked again.
    """
    while True:
        line = ask()
        if line is None:
            return None
        text = line.strip()
        if not text:
            say(f"no answer on that line; {ANSWER_HINT} (the end of input gives up)")
            continue
        try:
            expression = parse(text)
            if expression.variables:
                raise ParseError(f"it has variables ({', '.join(expression.variables)}), and an answer is a number")
            return expression.evaluate({}).data
        except (ParseError, ArithmeticError, ValueError) as exc:
            reason = str(exc).splitlines()[0]
            say(f"not a number: {printable(repr(text[:60]))} ({reason}); {ANSWER_HINT} (the end of input gives up)")


def is_right(answer: float, truth: float, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """Whether `answer` is within `tolerance` of `truth`, relative (absolute 1e-9 near 0)."""
    return abs(answer - truth) <= max(tolerance * abs(truth), 1e-9)


def known_mistakes(question: Question) -> list[tuple[float, str]]:
    """The answers common mistakes give, each with what the mistake is, most specific first."""
    row = question.table.row(question.neuron)
    slope = row.out * (1.0 - row.out)  # dO_j/dnet_j (1.3)
    if question.kind == "weight":
        o_i = question.input_out
        mistakes = [
            (row.delta, f"that is delta_j of {row.neuron}; dE/dw_ij = delta_j * O_i (1.5), "
                        f"here {row.delta:.6g} * {o_i:.6g}"),
            (row.dE_dout * o_i, f"that is dE/dO_j * O_i: the factor dO_j/dnet_j = O_j (1 - O_j) = {slope:.6g} "
                                "(1.3) is missing"),
        ]
    else:
        mistakes = [
            (row.dE_dout, f"that is dE/dO_j of {row.neuron}; delta_j = dE/dO_j * O_j (1 - O_j) (1.3), "
                          f"here {row.dE_dout:.6g} * {slope:.6g}"),
        ]
    flipped = "the sign is wrong: E = 1/2 (t - y)^2 gives dE/dy = y - t (1.6), not t - y"
    return [(-question.answer, f"the size is right but {flipped}"), *mistakes,
            *((-value, f"{why}; and {flipped}") for value, why in mistakes)]


def mistake_in(answer: float, question: Question, tolerance: float = DEFAULT_TOLERANCE) -> str | None:
    """What common mistake gives `answer` (a wrong one), or None when it is none of them."""
    for value, why in known_mistakes(question):
        if is_right(answer, value, tolerance):
            return why
    return None


def worked_answer(question: Question, columns: int = 80) -> str:
    """The per-neuron delta table and explain's report for the weight asked about (or one into the neuron)."""
    xs = [Value(v, label=f"x{i}") for i, v in enumerate(question.x)]
    losses = [squared_error(y, t) for y, t in zip(question.model.outputs(xs), question.t, strict=True)]
    loss = losses[0] if len(losses) == 1 else sum_of(losses)
    loss.label = "E"
    weight = question.model.layers[question.layer - 1].neurons[question.index].w[question.input_index]
    return f"{question.table}\n\n{fit_lines(str(explain(loss, weight)), columns)}"


def run_quiz(question: Question, stdin: TextIO, out: TextOutput, tolerance: float = DEFAULT_TOLERANCE,
             columns: int | None = None) -> bool:
    """Ask `question` on `out` (lines fitted to `columns`, default the terminal's), read the answer
    from `stdin`; True when it is right."""
    columns = width() if columns is None else columns

    def say(text: str) -> None:
        print(fit_lines(text, columns), file=out, flush=True)

    def ask() -> str | None:
        print("your answer: ", end="", file=out, flush=True)
        line = stdin.readline()
        return line if line else None

    say(describe(question, columns))
    answer, truth = read_answer(ask, say), question.answer
    if answer is None:
        say(f"\nno answer (end of input). The answer is {truth:.6g}.")
        return False
    if is_right(answer, truth, tolerance):
        say(f"\nright: {truth:.6g} (you gave {answer:.6g}, within {tolerance:.0%}).")
        return True
    say(f"\nnot quite: the answer is {truth:.6g}, you gave {answer:.6g}.")
    if (why := mistake_in(answer, question, tolerance)) is not None:
        say(f"Your answer is a common mistake: {why}.")
    say("How it is built:")
    say("")
    print(worked_answer(question, columns), file=out, flush=True)
    return False
