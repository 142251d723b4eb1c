"""The `autograd-mini` command line end to end: each command in a subprocess
(`python -m autograd_mini`), its output against the engine, every error path
with its exit code and message and without a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd_mini import Value, gradients
from autograd_mini.functional import hessian

EXPRESSION = "sigmoid(x*y) + x**2 - log(y*y)"


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m autograd_mini ARGS`, with its exit code and output captured."""
    return subprocess.run(
        [sys.executable, "-m", "autograd_mini", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def results(stdout: str) -> dict[str, float]:
    """The 'label = number' lines of `grad`'s output."""
    rows = {}
    for line in stdout.splitlines():
        label, sep, number = line.partition(" = ")
        if sep and " " not in number.strip():
            rows[label.strip()] = float(number)
    return rows


def by_hand(x: float, y: float) -> tuple[Value, Value, Value]:
    """EXPRESSION built with Value calls directly (not through the parser)."""
    xv, yv = Value(x, label="x"), Value(y, label="y")
    return (xv * yv).sigmoid() + xv**2 - (yv * yv).log(), xv, yv


# --- grad -----------------------------------------------------------------------------------------
def test_grad_prints_the_value_and_every_partial_derivative_exactly():
    done = run("grad", EXPRESSION, "x=1.5", "y=-2")
    assert done.returncode == 0, done.stderr
    f, x, y = by_hand(1.5, -2.0)
    dx, dy = gradients(f, [x, y])
    assert results(done.stdout) == {"value": f.data, "d/dx": dx, "d/dy": dy}
    assert done.stdout.splitlines()[0].startswith("value = ")
    assert done.stderr == ""


def test_grad_with_wrt_prints_only_those_derivatives():
    done = run("grad", EXPRESSION, "x=1.5", "y=-2", "--wrt", "y")
    f, x, y = by_hand(1.5, -2.0)
    assert results(done.stdout) == {"value": f.data, "d/dy": gradients(f, [y])[0]}


def test_grad_order_two_prints_the_hessian_entries():
    done = run("grad", EXPRESSION, "x=1.5", "y=-2", "--order", "2")
    assert done.returncode == 0, done.stderr
    rows = results(done.stdout)
    (hxx, hxy), (hyx, hyy) = hessian(lambda x, y: by_hand_values(x, y))(1.5, -2.0)
    assert rows["d2/dx2"] == pytest.approx(hxx, rel=1e-12)
    assert rows["d2/dx dy"] == pytest.approx(hxy, rel=1e-12)
    assert rows["d2/dy2"] == pytest.approx(hyy, rel=1e-12)
    assert set(rows) == {"value", "d/dx", "d/dy", "d2/dx2", "d2/dx dy", "d2/dy2"}


def by_hand_values(x: Value, y: Value) -> Value:
    return (x * y).sigmoid() + x**2 - (y * y).log()


def test_grad_second_derivatives_match_torch():
    torch = pytest.importorskip("torch")
    done = run("grad", "tanh(a) * exp(b) / (1 + a*a*b)", "a=0.3", "b=-0.7", "--order", "2")
    rows = results(done.stdout)
    inputs = torch.tensor([0.3, -0.7], dtype=torch.float64)
    h = torch.autograd.functional.hessian(
        lambda v: torch.tanh(v[0]) * torch.exp(v[1]) / (1 + v[0] * v[0] * v[1]), inputs
    )
    assert rows["d2/da2"] == pytest.approx(h[0, 0].item(), rel=1e-12)
    assert rows["d2/da db"] == pytest.approx(h[0, 1].item(), rel=1e-12)
    assert rows["d2/db2"] == pytest.approx(h[1, 1].item(), rel=1e-12)


def test_grad_digits_rounds_the_output():
    done = run("grad", "x/3", "x=1", "--digits", "4")
    assert done.stdout.splitlines() == ["value = 0.3333", "d/dx  = 0.3333"]


def test_options_may_come_between_the_values_and_dash_dash_allows_a_leading_minus():
    assert results(run("grad", "x*y", "x=2", "--wrt", "x", "y=5").stdout) == {"value": 10.0, "d/dx": 5.0}
    assert results(run("grad", "--", "-x*y", "x=2", "y=5").stdout) == {"value": -10.0, "d/dx": -5.0, "d/dy": -2.0}


def test_grad_explain_prints_the_chain_rule_report():
    done = run("grad", "sigmoid(w*x)", "w=0.5", "x=2", "--explain", "w")
    assert done.returncode == 0, done.stderr
    assert "path 1" in done.stdout
    assert "total" in done.stdout


def test_grad_svg_writes_a_graph_that_parses(tmp_path):
    done = run("grad", EXPRESSION, "x=1.5", "y=-2", "--svg", "g.svg", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = ET.parse(tmp_path / "g.svg").getroot()
    assert root.tag.endswith("svg")
    assert "graph written to g.svg" in done.stdout


def test_a_constant_expression_has_a_value_and_no_derivatives():
    assert results(run("grad", "2 ** 10 / 4").stdout) == {"value": 256.0}


# --- draw -----------------------------------------------------------------------------------------
def test_draw_without_output_prints_dot_with_the_variables_labelled():
    done = run("draw", "x*y + x", "x=3", "y=4")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("digraph")
    assert "<B>x</B>" in done.stdout and "<B>y</B>" in done.stdout


@pytest.mark.parametrize("name", ["g.svg", "g.dot", "g.png"])
def test_draw_writes_the_format_its_suffix_names(tmp_path, name):
    done = run("draw", "tanh(x) * y", "x=0.5", "y=2", "-o", name, "--derivatives", "--highlight", "x", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = (tmp_path / name).read_bytes()
    if name.endswith(".svg"):
        assert ET.fromstring(data).tag.endswith("svg")
    elif name.endswith(".dot"):
        assert data.startswith(b"digraph")
    else:
        assert data.startswith(b"\x89PNG")


# --- help -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], ["demo"], ["grad"], ["draw"]])
def test_every_command_has_help(command):
    done = run(*command, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: autograd-mini")


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "autograd-mini"
    if not script.exists():
        pytest.skip("the package is not installed with its console script in this environment")
    done = subprocess.run([str(script), "grad", "x*x", "x=3"], capture_output=True, text=True, timeout=60)
    assert results(done.stdout) == {"value": 9.0, "d/dx": 6.0}


# --- errors ---------------------------------------------------------------------------------------
ERRORS = [
    (["grad", "x.data", "x=1"], "attribute access ('.') is not allowed"),
    (["grad", "__import__('os').system('echo hi')"], "unknown function '__import__'"),
    (["grad", "().__class__"], "unexpected ')'"),
    (["grad", "[1]"], "subscripts and lists"),
    (["grad", "lambda: 1"], "'lambda' is a Python keyword"),
    (["grad", "9**9**9"], "overflows float64"),
    (["grad", "exp(x)", "x=1000"], "overflows float64"),
    (["grad", "log(x)", "x=0"], "log(0.0) is undefined"),
    (["grad", "sqrt(x)", "x=0"], "sqrt"),  # the derivative 1/(2 sqrt x) is infinite at 0
    (["grad", "x*y", "x=1"], "no value for y"),
    (["grad", "x*y", "X=3", "y=1"], "(X=3.0 was given: names are case-sensitive)"),
    (["grad", "sigmod(x)", "x=1"], "unknown function 'sigmod': did you mean sigmoid?"),
    (["grad", "x", "x=1", "z=2"], "z given but not used"),
    (["grad", "x", "x"], "expected name=value"),
    (["grad", "x", "x=abc"], "'abc' is not a number"),
    (["grad", "x²", "x=2"], "unexpected character '²'"),
    (["grad", "٣*x", "x=2"], "unexpected character '٣'"),
    (["grad", "x", "x=٣"], "'٣' is not a number"),
    (["grad", "x", "x=nan"], "finite number"),
    (["grad", "x", "x=inf"], "finite number"),
    (["grad", "x", "x=1", "x=2"], "x is given twice (x=1.0 and x=2.0)"),
    (["grad", "x", "2x=1"], "not a valid variable name"),
    (["grad", "exp", "exp=1"], "exp is a function"),
    (["grad", "x", "x=1", "--wrt", "y"], "--wrt y: not a variable of the expression"),
    (["grad", "x", "x=1", "--explain", "y"], "--explain y: not a variable"),
    (["grad", "x", "x=1", "--order", "3"], "invalid choice"),
    (["grad", "x", "x=1", "--svg", "g.txt"], "unknown file type '.txt'"),
    (["grad", "x", "x=1", "--digits", "0"], "--digits must be between 1 and 17"),
    (["grad", "-x", "x=1"], "unrecognized arguments"),
    (["grad"], "the following arguments are required: EXPR"),
    (["draw", "x", "x=1", "-o", "missing-folder/g.svg"], "cannot write missing-folder/g.svg"),
    (["draw", "x", "x=1", "--highlight", "q"], "--highlight q: not a variable"),
    (["draw", "+".join(["x"] * 300), "x=1", "-o", "g.svg"], "give --max-nodes 599 to draw it anyway"),
    (["grad", "+".join(["x"] * 300), "x=1", "--svg", "g.svg"], "more than --max-nodes 500"),
    (["draw", "x", "x=1", "--max-nodes", "0"], "--max-nodes must be a positive number"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize("args, message", ERRORS)
def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path, args, message):
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "error:" in done.stderr
    assert "Traceback" not in done.stderr


def test_parse_errors_show_the_expression_with_a_caret():
    done = run("grad", "1 + x.data", "x=1")
    assert done.stderr.splitlines()[-2:] == ["    1 + x.data", "         ^"]


def test_a_missing_renderer_exits_1_with_instructions_but_dot_still_works(tmp_path):
    env = {"AUTOGRAD_MINI_DOT": str(tmp_path / "no-such-dot")}
    done = run("draw", "x*y", "x=1", "y=2", "-o", "g.svg", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "AUTOGRAD_MINI_DOT" in done.stderr and "Traceback" not in done.stderr
    assert run("draw", "x*y", "x=1", "y=2", "-o", "g.dot", cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_an_internal_failure_exits_1_with_the_traceback(monkeypatch, capsys):
    from autograd_mini import cli
    from autograd_mini.cli import commands

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(commands, "gradients", broken)
    assert cli.main(["grad", "x", "x=1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug" in err
    assert "internal error" in err


def test_main_returns_exit_codes_instead_of_exiting(capsys):
    from autograd_mini.cli import main

    assert main(["grad", "x*x", "x=3"]) == 0
    assert results(capsys.readouterr().out) == {"value": 9.0, "d/dx": 6.0}
    assert main(["grad", "x.y"]) == 2
    assert main(["--help"]) == 0
    assert main(["grad", "--nonsense"]) == 2


# --- the edges of the command line (issue 11, item 15) ------------------------------------------
def test_grad_svg_draws_the_real_gradients(tmp_path):
    done = run("grad", "x*y", "x=1", "y=2", "--svg", "g.svg", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    texts = [t.strip() for t in ET.parse(tmp_path / "g.svg").getroot().itertext() if t.strip()]
    assert "grad 2" in texts and "grad 1" in texts  # d/dx = y = 2, d/dy = x = 1, d/df = 1


def test_refusing_a_big_graph_advises_the_flag_not_a_python_keyword(tmp_path):
    done = run("draw", "+".join(["x"] * 300), "x=1", "-o", "g.svg", cwd=tmp_path)
    assert "max_nodes=" not in done.stderr and "collapse_neurons" not in done.stderr
    assert run("draw", "+".join(["x"] * 300), "x=1", "-o", "g.svg", "--max-nodes", "599", cwd=tmp_path).returncode == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_on_stdout_is_a_clear_error_without_traceback():
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "autograd_mini", "grad", "x*y", "x=1", "y=2"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == "autograd-mini: error: cannot write the output: No space left on device\n"


def test_a_closed_stdout_pipe_ends_quietly():
    done = subprocess.Popen([sys.executable, "-m", "autograd_mini", "grad", "x*y", "x=1", "y=2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done.stdout.close()  # the reader is gone before the command prints (as `| head -0`)
    err = done.stderr.read()
    done.stderr.close()
    assert done.wait(timeout=60) == 0
    assert err == ""


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_broken_pipe_during_the_demo_is_not_a_demo_file_error(monkeypatch, tmp_path, capsys):
    from autograd_mini import cli

    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert cli.main(["demo", "--out", str(tmp_path / "d"), "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_ctrl_c_while_the_package_imports_exits_130_without_traceback(tmp_path):
    pytest.importorskip("_autograd_mini_cli", reason="the console script's module is not installed")
    fake = tmp_path / "autograd_mini"  # stands in for the package; its import is interrupted
    fake.mkdir()
    (fake / "__init__.py").write_text("raise KeyboardInterrupt\n")
    done = subprocess.run([sys.executable, "-c", "import sys, _autograd_mini_cli; sys.exit(_autograd_mini_cli.main())",
                           "grad", "x", "x=1"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 130
    assert done.stderr == "autograd-mini: error: interrupted\n"


def test_ctrl_c_while_a_command_runs_exits_130_without_traceback(monkeypatch, capsys):
    from autograd_mini import cli
    from autograd_mini.cli import commands

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "gradients", interrupted)
    assert cli.main(["grad", "x", "x=1"]) == 130
    assert capsys.readouterr().err == "autograd-mini: error: interrupted\n"


def test_a_100000_digit_literal_gets_a_short_error():
    done = run("grad", "1" * 100_000)
    assert done.returncode == 2
    assert "too large for a float64" in done.stderr and len(done.stderr) < 500


@pytest.mark.parametrize("args", [["grad", "x \x1b[31m", "x=1"], ["grad", "x", "x\x1b[2J=1"],
                                  ["grad", "x", "x=1", "--wrt", "\x1b[2J"]])
def test_control_characters_from_the_input_are_escaped(args):
    done = run(*args)
    assert done.returncode == 2
    assert "\x1b" not in done.stderr and "\\x1b" in done.stderr


@pytest.mark.parametrize("order", ["1", "2"])
def test_an_infinite_derivative_names_the_users_function_with_a_caret(order):
    done = run("grad", "1 + sqrt(x)", "x=0", "--order", order)
    assert done.returncode == 2
    assert "div(" not in done.stderr
    assert "sqrt(0.0)" in done.stderr
    assert done.stderr.splitlines()[-2:] == ["    1 + sqrt(x)", "        ^^^^^^^"]


def test_demo_out_naming_a_file_says_not_a_directory(tmp_path):
    (tmp_path / "a-file").write_text("")
    done = run("demo", "--out", "a-file", "--no-progress", cwd=tmp_path)
    assert done.returncode == 2
    assert "not a directory" in done.stderr.lower() and "File exists" not in done.stderr


# --- the explorer page (issue 13) ---------------------------------------------------------------
def test_draw_to_html_writes_the_explorer_page(tmp_path):
    done = run("draw", "sigmoid(w*x + b)", "w=0.5", "x=2", "b=-1", "-o", "neuron.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "explorer page written to neuron.html" in done.stdout
    page = (tmp_path / "neuron.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    for label in ("w", "x", "b", "f"):
        assert f'data-label="{label}"' in page
    assert 'data-steps="' in page and "<script" in page


@pytest.mark.parametrize("flag", ["--derivatives", "--show-order", "--highlight=x"])
def test_drawing_options_are_refused_for_the_page(tmp_path, flag):
    done = run("draw", "x*x", "x=1", "-o", "g.html", flag, cwd=tmp_path)
    assert done.returncode == 2
    assert "the .html explorer page" in done.stderr and not (tmp_path / "g.html").exists()


def test_functions_added_to_the_table_work_on_the_command_line():
    import math

    done = run("grad", "sin(x) * cos(y)", "x=0.3", "y=-1.2")
    assert done.returncode == 0, done.stderr
    assert results(done.stdout) == pytest.approx({
        "value": math.sin(0.3) * math.cos(-1.2),
        "d/dx": math.cos(0.3) * math.cos(-1.2),
        "d/dy": -math.sin(0.3) * math.sin(-1.2),
    }, rel=1e-15)
    assert "sin, cos" in run("grad", "--help").stdout


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_draw_to_html_takes_the_rankdir_it_is_given(tmp_path, rankdir):
    import re

    done = run("draw", "sigmoid(w*x + b) * sigmoid(w*x - b)", "w=0.5", "x=2", "b=-1", "-o", "g.html",
               "--rankdir", rankdir, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    box = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"', (tmp_path / "g.html").read_text())
    width, height = float(box.group(1)), float(box.group(2))
    assert (width > 1.5 * height) == (rankdir == "LR")  # TB boxes are two cells wide: TB is not always taller


# --- help that cannot be written, an empty --out (issue 19, item 8) ------------------------------
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["grad", "--help"], ["demo", "--help"]])
def test_help_and_version_to_a_full_disk_fail_with_one_line(args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "autograd_mini", *args],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == "autograd-mini: error: cannot write the output: No space left on device\n"


def test_help_to_a_closed_pipe_ends_quietly():
    done = subprocess.Popen([sys.executable, "-m", "autograd_mini", "--help"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done.stdout.close()
    err = done.stderr.read()
    done.stderr.close()
    assert done.wait(timeout=60) == 0
    assert err == ""


def test_version_prints_the_version(capsys):
    from autograd_mini import __version__
    from autograd_mini.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"autograd-mini {__version__}\n"


@pytest.mark.parametrize("out", ["", " "])
def test_demo_refuses_an_empty_out_folder(tmp_path, out):
    done = run("demo", "--out", out, "--no-progress", cwd=tmp_path)
    assert done.returncode == 2
    assert "--out" in done.stderr and "give a folder name" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder
