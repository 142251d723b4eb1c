"""The README's examples run as shown and print what the README says they print,
and CI runs the README's own set-up command for the tests."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


DOCTEST = """
import doctest, sys
failures, attempted = doctest.testfile(
    sys.argv[1], module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
)
print(f"{attempted} attempted, {failures} failed")
sys.exit(1 if failures or attempted < 10 else 0)
"""


def test_readme_examples_print_what_the_readme_says(tmp_path):
    # A fresh interpreter: the README registers a custom op, which must not leak
    # into (or collide with) other tests; files the examples write land in tmp_path.
    run = subprocess.run(
        [sys.executable, "-c", DOCTEST, str(README)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def _setup_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README must open with a ```sh block of set-up commands"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_has_two_setup_commands_demo_then_tests():
    demo, tests = _setup_commands()
    assert "pip install" in demo and "autograd-mini demo" in demo
    assert "pip install" in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command_word_for_word():
    _, tests = _setup_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines()


# --- the ```console block of command-line examples ---------------------------------------------
def _console_examples() -> list[tuple[str, list[str]]]:
    """(command, lines shown after it) for each `$ autograd-mini ...` line of the console block.

    A command's output is the lines after it up to the next `$` line or blank line.
    """
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```console\n(.*?)```", text, re.S)
    assert block, "README must show the command line in a ```console block"
    examples: list[tuple[str, list[str]]] = []
    reading = False
    for line in block.group(1).splitlines():
        if line.startswith("$ "):
            examples.append((line[2:], []))
            reading = True
        elif not line.strip():
            reading = False
        else:
            assert reading, f"README console block: output line without a command: {line!r}"
            examples[-1][1].append(line)
    return examples


CONSOLE = _console_examples()


def test_the_console_block_shows_outputs_and_an_error():
    assert len(CONSOLE) >= 4
    assert all(command.startswith("autograd-mini ") for command, _ in CONSOLE)
    assert sum(bool(shown) and shown[0].startswith("autograd-mini: error:") for _, shown in CONSOLE) == 1


@pytest.mark.parametrize(("command", "shown"), CONSOLE, ids=[command for command, _ in CONSOLE])
def test_each_console_example_prints_what_the_readme_shows(tmp_path, command, shown):
    words = shlex.split(command)
    run = subprocess.run(
        [sys.executable, "-m", "autograd_mini", *words[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    expected = "".join(line + "\n" for line in shown)
    if shown and shown[0].startswith("autograd-mini: error:"):
        assert (run.returncode, run.stdout) == (2, "")
        assert run.stderr == expected
        return
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    if shown:  # a command shown without output is only run (its files are checked below)
        assert run.stdout == expected
    for word in words:
        if word.endswith(".svg"):
            assert (tmp_path / word).read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
