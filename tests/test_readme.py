"""The README's examples run as shown and print what the README says they print,
and CI runs the README's own set-up command for the tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
