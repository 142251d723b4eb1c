"""What a type checker sees of the nn API, checked with mypy on a file written as a user would (issue 24).

`MLP.__call__` is typed `Value` (a one-output model, the common case), `MLP.outputs` and
`Layer.__call__` `list[Value]`; the file must type-check with no narrowing. Skipped without mypy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

USER_FILE = textwrap.dedent(
    """
    from typing import assert_type

    from autograd_mini import Value
    from autograd_mini.nn import MLP, Layer, Neuron

    model = MLP(2, [3, 1], seed=0)
    out = model([0.5, 1.0])
    assert_type(out, Value)
    out.backward()
    assert_type(out.data, float)

    wide = MLP(2, [3, 2], activation="tanh", output_activation="linear", seed=0)
    outs = wide.outputs([0.5, Value(1.0)])
    assert_type(outs, list[Value])
    for o in outs:
        o.backward()
    layer: Layer = wide.layers[-1]
    assert_type(layer([0.5, 1.0, 2.0]), list[Value])
    neuron: Neuron = layer.neurons[0]
    assert_type(neuron([0.5, 1.0, 2.0]), Value)
    assert_type(model.parameters(), list[Value])
    """
)


def test_the_nn_api_type_checks_as_a_user_writes_it(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="the typing test needs mypy (the test extra)")
    user = tmp_path / "user.py"
    user.write_text(USER_FILE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11", str(user)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
