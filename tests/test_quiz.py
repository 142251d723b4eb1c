"""`autograd-mini quiz`: the exercise's answer is the engine's gradient, right, wrong and
malformed answers (and the end of input) are handled, and the CLI's exit codes say which."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from autograd_mini.cli import quiz
from autograd_mini.graph import reverse_topological_order
from autograd_mini.nn.losses import squared_error
from autograd_mini.value import Value, sum_of

SEEDS = range(40)


def _by_label(root: Value) -> dict[str | None, Value]:
    """Every node of root's graph by its label (the graph module's walk)."""
    return {node.label: node for node in reversed(reverse_topological_order(root))}


def _backward_answer(question: quiz.Question) -> float:
    """The asked quantity from backward() on the same network: an oracle independent of delta_table."""
    xs = [Value(v, label=f"x{i}") for i, v in enumerate(question.x)]
    ys = question.model(xs)
    ys = ys if isinstance(ys, list) else [ys]
    loss = sum_of([squared_error(y, t) for y, t in zip(ys, question.t, strict=True)])
    nets = _by_label(loss)  # find the neuron's net_j node by its label
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
    right = quiz.run_quiz(quiz.make_question(seed), io.StringIO(answers), out, tolerance, columns=80)
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
    assert ("no answer on that line" if junk == "" else "not a number") in text and "\x1b" not in text


def test_the_end_of_input_gives_up_with_the_answer():
    question = quiz.make_question(6)
    right, text = _play(6, "")
    assert not right
    assert f"no answer (end of input). The answer is {question.answer:.6g}." in text
    right, text = _play(6, "abc\n")  # malformed, then the end of input
    assert not right and "not a number" in text and "no answer" in text


def _cli(*args: str, answers: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograd_mini", "quiz", *args], input=answers,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "80"})


def test_the_command_exits_0_when_right_and_1_when_wrong_or_missing():
    truth = quiz.make_question(8).answer
    done = _cli("--seed", "8", answers=f"{truth!r}\n")
    assert done.returncode == 0, done.stderr
    assert "Seed 8:" in done.stdout and "right:" in done.stdout
    assert _cli("--seed", "8", answers=f"{-truth - 1.0!r}\n").returncode == 1
    done = _cli("--seed", "8", answers="")
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_without_a_seed_the_question_names_its_seed():
    done = _cli(answers="")
    assert done.returncode == 1
    seed = int(done.stdout.split("Seed ", 1)[1].split(":")[0])
    assert quiz.describe(quiz.make_question(seed)) in done.stdout


@pytest.mark.parametrize("tolerance", ["0", "-0.1", "1.5"])
def test_a_tolerance_outside_0_1_is_a_usage_error(tolerance):
    done = _cli("--tolerance", tolerance, answers="")
    assert done.returncode == 2 and "--tolerance must be between 0 and 1" in done.stderr


# --- common mistakes, hints and width (issue 19, item 13 and 14) ---------------------------------
def _backward_quantities(question: quiz.Question) -> tuple[float, float]:
    """(dE/dO_j, delta_j = dE/dnet_j) of the question's neuron from backward(): an oracle beside delta_table."""
    xs = [Value(v, label=f"x{i}") for i, v in enumerate(question.x)]
    ys = question.model(xs)
    ys = ys if isinstance(ys, list) else [ys]
    loss = sum_of([squared_error(y, t) for y, t in zip(ys, question.t, strict=True)])
    nodes = _by_label(loss)
    loss.backward()
    return nodes[f"{question.neuron}.out"].grad, nodes[f"{question.neuron}.net"].grad


def _said(seed: int, answer: float) -> tuple[bool, str]:
    """_play with one answer; the text with its line breaks (from fitting 80 columns) undone."""
    right, text = _play(seed, f"{answer!r}\n")
    return right, " ".join(text.split())


def _distinct(value: float, truth: float) -> bool:
    return not quiz.is_right(value, truth) and not quiz.is_right(value, -truth)


def _seeds(kind: str) -> list[int]:
    return [s for s in SEEDS if quiz.make_question(s).kind == kind]


@pytest.mark.parametrize("seed", _seeds("weight"))
def test_delta_j_given_for_a_weight_gradient_is_named(seed):
    question = quiz.make_question(seed)
    _, delta = _backward_quantities(question)
    if not _distinct(delta, question.answer):  # O_i near 1 makes the two the same number
        pytest.skip("delta_j equals dE/dw_ij here")
    right, text = _said(seed, delta)
    assert not right
    assert f"common mistake: that is delta_j of {question.neuron}; dE/dw_ij = delta_j * O_i (1.5)" in text


@pytest.mark.parametrize("seed", _seeds("delta"))
def test_dE_dO_j_given_for_delta_j_is_named(seed):
    question = quiz.make_question(seed)
    dE_dout, _ = _backward_quantities(question)
    right, text = _said(seed, dE_dout)
    assert not right
    assert f"common mistake: that is dE/dO_j of {question.neuron}; delta_j = dE/dO_j * O_j (1 - O_j) (1.3)" in text


@pytest.mark.parametrize("seed", range(10))
def test_the_right_size_with_the_wrong_sign_is_named(seed):
    question = quiz.make_question(seed)
    right, text = _said(seed, -question.answer)
    assert not right
    assert "common mistake: the size is right but the sign is wrong: E = 1/2 (t - y)^2 gives dE/dy = y - t" in text


def test_a_wrong_answer_that_is_no_known_mistake_is_not_given_a_name():
    question = quiz.make_question(3)
    wrong = question.answer * 1.5
    assert all(not quiz.is_right(wrong, value) for value, _ in quiz.known_mistakes(question))
    right, text = _play(3, f"{wrong!r}\n")
    assert not right and "common mistake" not in text and "How it is built" in text


def test_the_hints_for_an_empty_line_and_for_letters_agree():
    truth = quiz.make_question(5).answer
    empty, letters = (" ".join(_play(5, f"{junk}\n{truth!r}\n")[1].split()) for junk in ("", "abc"))
    for text in (empty, letters):
        assert quiz.ANSWER_HINT in text
        assert "x * y" not in text and "something like" not in text  # no hint to type a formula with variables
    assert "it has variables (abc), and an answer is a number" in letters


@pytest.mark.parametrize("seed", range(12))
def test_the_quiz_fits_80_columns_apart_from_the_delta_table(seed):
    question = quiz.make_question(seed)
    right, text = _play(seed, f"{question.answer * 1.5!r}\n")
    table = set(str(question.table).splitlines())  # delta_table's own width is nn's (issue 19, item 14)
    wide = [line for line in text.splitlines() if len(line) > 80 and line not in table]
    assert not right and not wide, wide


def test_the_question_is_wrapped_to_a_narrow_terminal():
    text = quiz.describe(quiz.make_question(0), columns=50)
    assert max(len(line) for line in text.splitlines()) <= 50
    assert "What is" in text
