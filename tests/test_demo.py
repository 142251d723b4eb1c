"""`autograd-mini demo` end to end: it runs with no arguments beyond --out, prints
the delta-rule check, trains to at least 95% accuracy and writes what it lists."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd_mini.cli import demo
from autograd_mini.nn import MLP


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    done = subprocess.run(
        [sys.executable, "-m", "autograd_mini", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "80"},
    )
    return done, out


def test_the_demo_succeeds_without_errors(demo_run):
    done, _ = demo_run
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for heading in ("1. backward() against the delta rule", "2. The computation graph", "3. Training",
                    "4. The decision boundary", "5. Files written"):
        assert heading in done.stdout


def test_no_progress_bar_lines_when_stderr_is_not_a_terminal(demo_run):
    done, _ = demo_run  # stderr is a pipe here, as in a log file
    assert "\r" not in done.stderr and "training" not in done.stderr, done.stderr[:500]


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stderr", "progress", "drawn"), [
    (_Terminal, True, True), (io.StringIO, True, False), (_Terminal, False, False),
])
def test_the_bar_is_drawn_only_on_a_terminal_and_not_with_no_progress(monkeypatch, stderr, progress, drawn):
    monkeypatch.setattr(sys, "stderr", stderr())
    monkeypatch.setattr(demo, "TRAINING_STEPS", 3)
    demo.train_moons(demo.Report(io.StringIO(), 80), demo.DemoResult(), progress)
    assert ("training" in sys.stderr.getvalue()) is drawn


def test_backward_matches_the_delta_rule_for_every_weight(demo_run):
    done, _ = demo_run
    rows = re.findall(r"^\s+(L\d\.N\d\.w\d)\s+(\S+)\s+(\S+)\s+(\S+)$", done.stdout, re.M)
    assert [r[0] for r in rows] == ["L1.N0.w0", "L1.N0.w1", "L1.N1.w0", "L1.N1.w1", "L2.N0.w0", "L2.N0.w1"]
    for _, engine, delta, _difference in rows:
        assert float(engine) == pytest.approx(float(delta), rel=1e-12, abs=1e-15)
    largest = float(re.search(r"largest difference: (\S+)", done.stdout).group(1))
    assert largest < 1e-15
    assert "explain(E, L1.N0.w0)" in done.stdout and "delta form" in done.stdout


def test_training_reaches_at_least_95_percent(demo_run):
    done, _ = demo_run
    match = re.search(r"final loss (\S+), accuracy (\d+)% \((\d+)/100 points\), trained in (\S+) s", done.stdout)
    assert match, done.stdout
    assert int(match.group(2)) >= 95 and int(match.group(3)) >= 95
    assert float(match.group(1)) < 0.2


def test_the_files_listed_exist_and_are_what_they_claim(demo_run):
    done, out = demo_run
    listed = done.stdout.split("5. Files written", 1)[1].split()
    assert listed == [str(out / "network.svg"), str(out / "explore.html"), str(out / "moons.png")]
    page = (out / "explore.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and 'data-label="L1.N0.w0"' in page
    assert "neuron L1.N0 (hidden layer 1)" in page  # the page carries the delta rows of the network
    assert "<script src" not in page and "<link" not in page  # self-contained
    svg = ET.parse(out / "network.svg").getroot()
    assert svg.tag.endswith("svg")
    text = "".join(svg.itertext())
    assert "L1.N0.w0" in text and "E" in text
    assert (out / "moons.png").read_bytes().startswith(b"\x89PNG")


def test_without_matplotlib_the_picture_is_skipped_with_install_advice(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    printed = io.StringIO()
    result = demo.DemoResult()
    model = MLP(2, [2, 1], seed=0)
    points, labels, losses = [[0.0, 0.0], [1.0, 1.0]], [0, 1], [1.0, 0.5]
    demo.plot_moons(demo.Report(printed, 80), model, points, labels, losses, tmp_path / "m.png", result)
    assert 'pip install "autograd-mini[demo]"' in printed.getvalue()
    assert result.files == [] and not (tmp_path / "m.png").exists()


def test_an_unwritable_out_folder_is_a_usage_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = subprocess.run(
        [sys.executable, "-m", "autograd_mini", "demo", "--out", str(blocker / "sub"), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "cannot write the demo's files" in done.stderr and "Traceback" not in done.stderr


def test_step_1_prints_the_per_neuron_delta_table(demo_run):
    from autograd_mini.nn.delta import delta_table

    done, _ = demo_run
    step1 = done.stdout.split("2. The computation graph")[0]
    table = delta_table(MLP(2, [2, 1], bias=False, seed=2), [0.35, 0.9], 0.5)
    for row in table.rows:
        line = next(line for line in step1.splitlines() if line.split()[:1] == [row.neuron])
        cells = line.split()
        assert float(cells[1]) == pytest.approx(row.net, rel=1e-8)
        assert float(cells[2]) == pytest.approx(row.out, rel=1e-8)
        assert any(c.rstrip(",") and _close(c.rstrip(","), row.delta) for c in cells[3:])
    assert "(1.6)" in step1 and "(1.7)/(1.8)" in step1


def _close(text: str, number: float) -> bool:
    try:
        return float(text) == pytest.approx(number, rel=1e-8)
    except ValueError:
        return False


def test_the_move_to_relu_and_hinge_says_the_delta_formulas_no_longer_apply(demo_run):
    done, _ = demo_run
    step3 = done.stdout.split("3. Training")[1].split("4. The decision boundary")[0]
    assert "delta formulas (1.3)-(1.8) are for sigmoid neurons with squared error" in " ".join(step3.split())


def test_every_file_the_demo_writes_goes_through_atomic_write(monkeypatch, tmp_path):
    import importlib

    from autograd_mini import files

    explore = importlib.import_module("autograd_mini.views.explorer.page")  # the module, not the function of that name

    written = []

    def spy(path, data, **kwargs):
        written.append(Path(path).name)
        return files.atomic_write(path, data, **kwargs)

    monkeypatch.setattr(demo, "atomic_write", spy)
    monkeypatch.setattr(explore, "atomic_write", spy)
    monkeypatch.setattr(demo, "TRAINING_STEPS", 2)
    result = demo.run_demo(tmp_path / "out", out=io.StringIO(), progress=False)
    assert sorted(written) == sorted(p.name for p in result.files) == ["explore.html", "moons.png", "network.svg"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(written)  # no temporary files left


# --- 80 columns (issue 19, item 14) ---------------------------------------------------------------
def test_the_demo_fits_80_columns_apart_from_the_delta_table(demo_run):
    from autograd_mini.nn.delta import delta_table

    done, _ = demo_run
    table = str(delta_table(MLP(2, [2, 1], bias=False, seed=2), [0.35, 0.9], 0.5))  # its width is nn's
    exempt = {line.strip() for line in table.splitlines()}
    wide = [line for line in done.stdout.splitlines() if len(line) > 80 and line.strip() not in exempt]
    assert not wide, wide


def test_the_comparison_table_stacks_when_the_terminal_is_narrow():
    rows = [("L1.N0.w0", 0.0009071475055484444, 0.0009071475055484444), ("L2.N0.w1", 0.25, 0.125)]
    wide = demo.comparison_table(rows, 77).splitlines()
    assert len(wide) == 3 and wide[0].split()[:2] == ["weight", "backward()"]
    assert wide[2].split() == ["L2.N0.w1", "0.25", "0.125", "0.125"]
    narrow = demo.comparison_table(rows, 40).splitlines()
    assert max(map(len, narrow)) <= 40
    assert narrow[0] == "backward() and delta rule (1.5)-(1.8)"
    assert narrow[5:] == ["L2.N0.w1:", "  backward()  0.25", "  delta rule  0.125", "  difference  0.125"]


def test_prose_is_wrapped_with_the_indent_kept(monkeypatch):
    printed = io.StringIO()
    demo.Report(printed, 40).say("   " + "word " * 20, indent="   | ")
    lines = printed.getvalue().splitlines()
    assert len(lines) > 1 and all(len(line) <= 40 and line.startswith("   |    ") for line in lines)
    assert " ".join(printed.getvalue().replace("|", "").split()) == " ".join(["word"] * 20)
