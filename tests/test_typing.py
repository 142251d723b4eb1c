"""Types a user's checker can trust (issue 24): mypy on a user's file, and on the package.

The user's file is written as a user would, with `assert_type` on the README's
examples; it is checked with `mypy --strict` against this checkout (imported
modules' own errors are not the user's: `--follow-imports=silent`) and run.
The package is checked with the `[tool.mypy]` settings of pyproject.toml, one
test per layer. Skipped where mypy is not installed (`pip install ".[test]"`).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="the type checks need mypy (pip install '.[test]')")

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["", "tape", "nn", "views", "check", "cli"]  # "" is the core at the package root, as in test_layering

USER_FILE = """
    import math
    from typing_extensions import assert_type

    from autograd_mini import Value, dot, grad, gradients, hessian, hvp, no_grad, sum_of, value_and_grad
    from autograd_mini.nn.losses import squared_error

    # issue 24's snippet
    x = Value(1.0, label="x")
    y = x * 2 + x.tanh() - 3 / x
    assert_type(y, Value)
    y.backward()
    assert_type(grad(lambda a: a * a)(2.0), float)

    # Value op number, number op Value, Value op Value: a Value
    w = Value(-1.2, label="w")
    for v in (x + 1, 1 + x, x + w, x - 1, 1 - x, x * w, 2.0 * x, x / 2, 2 / x, x / w,
              x ** 2, x ** w, 2 ** x, -x, +x, abs(x)):
        assert_type(v, Value)
    assert_type(x.exp().log().sqrt().sin().cos().abs().tanh().sigmoid().relu(), Value)
    assert_type(x.step() + x.sign(), Value)
    assert_type(sum_of([x, w, 1.0]), Value)
    assert_type(dot([x, w], [0.5, 2]), Value)

    # comparisons give bools; float(v), v.data and v.item() floats; round(v) an int
    assert_type(x < w, bool)
    assert_type(x >= 0, bool)
    assert_type(float(x), float)
    assert_type(x.data, float)
    assert_type(x.item(), float)
    assert_type(round(x), int)
    assert_type(round(x, 2), float)
    assert_type(math.tanh(x), float)  # leaves the graph through __float__, as the README says

    # the README's first example
    x1 = Value(0.35, label="x")
    w1, w2 = Value(0.8, label="w1"), Value(-1.2, label="w2")
    o1 = (w1 * x1).sigmoid()
    E = squared_error((w2 * o1).sigmoid(), 0.5)
    assert_type(E, Value)
    E.backward()
    E.backward(1.0, create_graph=True)
    E.zero_grad()

    # the functional API: floats for numbers, Values for Values
    f = lambda a: a * a * a
    assert_type(grad(f)(2.0), float)
    assert_type(grad(grad(f))(2.0), float)
    assert_type(grad(f)(Value(2.0)), Value)
    assert_type(grad(lambda a, b: a * b, argnums=(0, 1))(2.0, 3.0), tuple[float, ...])
    assert_type(value_and_grad(f)(2.0), tuple[float, float])
    assert_type(value_and_grad(lambda a, b: a * b + b.tanh(), argnums=(0, 1))(2.0, 0.5),
                tuple[float, tuple[float, ...]])
    assert_type(hessian(lambda a, b: a ** b)(2.0, 3.0), list[list[float]])
    assert_type(hvp(lambda a, b: a * a * b)([1.0, 2.0], [1.0, 0.0]), list[float])
    assert_type(gradients(E, [w1, w2]), list[float])
    assert_type(gradients(E, [w1, w2], create_graph=True), list[Value])

    with no_grad():
        assert_type(x * 2, Value)
    print("ran")
"""

MLP_FILE = """
    from typing_extensions import assert_type

    from autograd_mini import Value
    from autograd_mini.nn import MLP

    out = MLP(2, [3, 1], seed=0)([0.5, 1.0])
    assert_type(out, Value)
    loss = (out - 1.0) ** 2
    assert_type(loss, Value)
    loss.backward()
    print("ran")
"""


def mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """mypy in a subprocess, finding this checkout's autograd_mini first."""
    env = {**os.environ, "MYPYPATH": str(ROOT), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def check_user_file(source: str, tmp_path: Path) -> None:
    path = tmp_path / "user.py"
    path.write_text(textwrap.dedent(source))
    checked = mypy("--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"), str(path),
                   cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ran = subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and ran.stdout.strip() == "ran", ran.stderr


def test_a_users_file_type_checks_with_the_types_the_readme_promises(tmp_path: Path) -> None:
    check_user_file(USER_FILE, tmp_path)


def test_a_one_output_mlp_gives_a_value_a_checker_knows(tmp_path: Path) -> None:
    check_user_file(MLP_FILE, tmp_path)


@functools.cache
def package_errors() -> dict[str, list[str]]:
    """mypy with pyproject's [tool.mypy] settings (strict, the whole package): error lines by layer."""
    checked = mypy("--cache-dir", "/dev/null", cwd=ROOT)
    errors: dict[str, list[str]] = {layer: [] for layer in LAYERS}
    for line in checked.stdout.splitlines():
        found = re.match(r"autograd_mini/(?:(\w+)/)?[\w/]*\.py:\d+: error:", line)
        if found:
            errors[found.group(1) if found.group(1) in LAYERS else ""].append(line)
    assert checked.returncode == (1 if any(errors.values()) else 0), checked.stdout + checked.stderr
    return errors


@pytest.mark.parametrize("layer", LAYERS, ids=[layer or "core" for layer in LAYERS])
def test_the_package_type_checks_strictly(layer: str) -> None:
    assert package_errors()[layer] == []
