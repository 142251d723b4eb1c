"""`autograd-mini quiz`: the exercise's answer is the engine's gradient, right, wrong and
malformed answers (and the end of input) are handled, and the CLI's exit codes say which."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from autograd_mini.cli import quiz
from autograd_mini.nn.losses import squared_error
from autograd_mini.value import Value, sum_of

SEEDS = range(40)


def _backward_answer(question: quiz.Question) -> float:
    """The asked quantity from backward() on the same network: an oracle independent of delta_table."""
    xs = [Value(v, label=f"x{i}") for i, v in enumerate(question.x)]
    ys = question.model(xs)
    ys = ys if isinstance(ys, list) else [ys]
    loss = sum_of([squared_error(y, t) for y, t in zip(ys, question.t, strict=True)])
    nets = {}
    stack, seen = [loss], set()
    while stack:  # find the neuron's net_j node by its label
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            nets[node.label] = node
            stack.extend(node.inputs)
    loss.backward()
    neuron = question.model.layers[question.layer - 1].neurons[question.index]
    if question.kind == "weight":
        return neuron.w[question.input_index].grad
    return nets[f"{question.neuron}.net"].grad


@pytest.mark.parametrize("seed", SEEDS)
def test_the_answer_is_the_engines_gradient(seed):
    question = quiz.make_question(seed)
    assert question.answer == pytest.approx(_backward_answer(question), rel=1e-12, abs=1e-15)


def test_questions_are_seeded_and_cover_both_kinds_and_layers():
    assert quiz.describe(quiz.make_question(7)) == quiz.describe(quiz.make_question(7))
    asked = {(quiz.make_question(s).kind, quiz.make_question(s).layer) for s in SEEDS}
    assert asked == {("delta", 1), ("delta", 2), ("weight", 1), ("weight", 2)}


def _play(seed: int, answers: str, tolerance: float = quiz.DEFAULT_TOLERANCE) -> tuple[bool, str]:
    out = io.StringIO()
    right = quiz.run(quiz.make_question(seed), io.StringIO(answers), out, tolerance)
    return right, out.getvalue()


def test_a_right_answer_rounded_to_four_digits_is_right():
    truth = quiz.make_question(1).answer
    right, text = _play(1, f"{truth:.4g}\n")
    assert right and "right:" in text and "not quite" not in text


def test_arithmetic_on_numbers_is_an_answer():
    truth = quiz.make_question(2).answer
    right, _ = _play(2, f"{truth / 3!r} * 3\n")
    assert right


def test_a_wrong_answer_shows_the_delta_table_and_the_chain_rule_report():
    question = quiz.make_question(3)
    right, text = _play(3, f"{question.answer * 1.5!r}\n")
    assert not right
    assert f"not quite: the answer is {question.answer:.6g}" in text
    assert "delta_j = dE/dO_j O_j (1 - O_j)" in text  # the delta table's header
    assert "path 1" in text and "(1.5)" in text  # explain's report
    assert question.neuron in text


def test_the_tolerance_is_relative():
    truth = quiz.make_question(4).answer
    assert _play(4, f"{truth * 1.005!r}\n")[0]
    assert not _play(4, f"{truth * 1.005!r}\n", tolerance=0.001)[0]


@pytest.mark.parametrize("junk", ["abc", "", "1/0", "x + 1", "0.1.2", "\x1b[2J", "1e999"])
def test_a_malformed_answer_is_explained_and_asked_again(junk):
    truth = quiz.make_question(5).answer
    right, text = _play(5, f"{junk}\n{truth!r}\n")
    assert right
    assert text.count("your answer: ") == 2
    assert "not a number" in text and "\x1b" not in text


def test_the_end_of_input_gives_up_with_the_answer():
    question = quiz.make_question(6)
    right, text = _play(6, "")
    assert not right
    assert f"no answer (end of input). The answer is {question.answer:.6g}." in text
    right, text = _play(6, "abc\n")  # malformed, then the end of input
    assert not right and "not a number" in text and "no answer" in text


def _cli(*args: str, answers: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograd_mini", "quiz", *args], input=answers,
                          capture_output=True, text=True, timeout=60, env=dict(os.environ))


def test_the_command_exits_0_when_right_and_1_when_wrong_or_missing():
    truth = quiz.make_question(8).answer
    done = _cli("--seed", "8", answers=f"{truth!r}\n")
    assert done.returncode == 0, done.stderr
    assert "seed 8" in done.stdout and "right:" in done.stdout
    assert _cli("--seed", "8", answers=f"{-truth - 1.0!r}\n").returncode == 1
    done = _cli("--seed", "8", answers="")
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_without_a_seed_the_question_names_its_seed():
    done = _cli(answers="")
    assert done.returncode == 1
    seed = int(done.stdout.split("; seed ", 1)[1].split()[0])
    assert quiz.describe(quiz.make_question(seed)) in done.stdout


@pytest.mark.parametrize("tolerance", ["0", "-0.1", "1.5"])
def test_a_tolerance_outside_0_1_is_a_usage_error(tolerance):
    done = _cli("--tolerance", tolerance, answers="")
    assert done.returncode == 2 and "--tolerance must be between 0 and 1" in done.stderr
