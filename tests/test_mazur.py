"""examples/mazur.py reproduces Matt Mazur's "A Step by Step Backpropagation Example"
to every digit the post publishes, and prints each figure beside the published one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import load_script

from autograd_mini.nn.delta import delta_gradients

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mazur.py"

# The post's figures as it prints them (the oracle; independent of the example's own copy).
PUBLISHED = {
    "net_h1": "0.3775", "out_h1": "0.593269992", "out_h2": "0.596884378", "net_o1": "1.105905967",
    "out_o1": "0.75136507", "out_o2": "0.772928465", "E_total": "0.298371109",
    "dE/dout_o1": "0.74136507", "dout_o1/dnet_o1": "0.186815602", "dE/dw5": "0.082167041",
    "dE/dout_h1": "0.036350306", "dout_h1/dnet_h1": "0.241300709", "dE/dw1": "0.000438568",
    "w1+": "0.149780716", "w2+": "0.19956143", "w3+": "0.24975114", "w4+": "0.29950229",
    "w5+": "0.35891648", "w6+": "0.408666186", "w7+": "0.511301270", "w8+": "0.561370121",
}


@pytest.fixture(scope="module")
def mazur():
    return load_script("examples/mazur.py")


@pytest.fixture(scope="module")
def figures(mazur):
    return mazur.one_step(mazur.build())[0]


def _rounded(value: float, published: str) -> str:
    return f"{value:.{len(published.split('.')[1])}f}"


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_every_published_figure_to_the_digits_published(figures, name):
    assert _rounded(figures[name], PUBLISHED[name]) == PUBLISHED[name]


def test_the_example_prints_the_posts_figures(mazur):
    assert mazur.PUBLISHED == PUBLISHED
    assert not mazur.agrees(0.3583, "0.35891648") and mazur.agrees(0.358916479, "0.35891648")


def test_the_network_is_the_posts(mazur):
    model = mazur.build()
    params = {p.label: p.data for p in model.parameters()}
    assert [params[mazur.WEIGHT_LABELS[f"w{k}"]] for k in range(1, 9)] == [
        0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
    assert [params[f"L{layer}.N{j}.b"] for layer in (1, 2) for j in (0, 1)] == [0.35, 0.35, 0.60, 0.60]


def test_the_step_is_plain_gradient_descent_from_the_delta_rule(mazur):
    # Every parameter moves by -0.5 * the closed-form gradient (1.5), hidden ones with the old w5..w8.
    model = mazur.build()
    before = [p.data for p in model.parameters()]
    closed_form = delta_gradients(model, mazur.INPUTS, mazur.TARGETS)
    mazur.one_step(model)
    for p, old, g in zip(model.parameters(), before, closed_form, strict=True):
        assert p.data == pytest.approx(old - 0.5 * g, rel=1e-12, abs=1e-15), p.label


def test_running_the_script_prints_all_figures_agreeing(tmp_path):
    run = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "DISAGREES" not in out
    assert f"{len(PUBLISHED)} of {len(PUBLISHED)} published figures agree" in out
    for name, published in PUBLISHED.items():
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert line.split()[2] == published and line.endswith("agrees"), line
    assert "L2.N0" in out and "(1.6)" in out  # the delta_table is printed too
