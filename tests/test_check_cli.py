"""`autograd-mini check`: the exit codes, broken files, --json/--junit/--table/--draw, --template."""

import json
import subprocess
import sys

import pytest
from test_check import filled

from autograd_mini.check.template import TEMPLATE
from autograd_mini.cli.app import main


def run(capsys, *argv):
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def correct_file(tmp_path):
    path = tmp_path / "engine.py"
    path.write_text(filled())
    return path


def test_a_correct_engine_exits_0(capsys, correct_file):
    code, out, err = run(capsys, f"{correct_file}:Value", "--examples", "30")
    assert code == 0, out
    assert "all checks agree with autograd_mini" in out and err == ""


def test_a_broken_engine_exits_1_with_the_report(capsys, tmp_path):
    path = tmp_path / "engine.py"
    path.write_text(filled().replace("(1 - t ** 2) * out.grad", "(1 - t) * out.grad"))
    code, out, _ = run(capsys, f"{path}:Value", "--examples", "20")
    assert code == 1
    assert "yours gives 1 - t, the rule is 1 - t**2" in out and "out = x0.tanh()" in out


def test_the_template_is_graded_then_passes_once_filled_in(capsys, tmp_path):
    code, out, _ = run(capsys, "--template")
    assert code == 0 and out == TEMPLATE
    path = tmp_path / "engine.py"
    path.write_text(out)
    code, report, _ = run(capsys, f"{path}:Value", "--examples", "20")
    assert code == 1 and "must seed the root's gradient with 1" in report
    path.write_text(filled())
    assert run(capsys, f"{path}:Value", "--examples", "20")[0] == 0


@pytest.mark.parametrize("source, message", [
    ("class Value(:\n", "syntax error in"),
    ("import no_such_module_here\n", "raised ModuleNotFoundError: No module named 'no_such_module_here'"),
    ("class Value:\n    def __init__(self, data):\n        raise RuntimeError('boom')\n", "raised RuntimeError: boom"),
    ("class Other:\n    pass\n", "has no class 'Value' (it defines: Other)"),
    ("Value = 3\n", "is a int, not a class"),
])
def test_broken_files_give_one_line_and_exit_2(capsys, tmp_path, source, message):
    path = tmp_path / "engine.py"
    path.write_text(source)
    code, out, err = run(capsys, f"{path}:Value")
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("target, message", [
    ("no/such/file.py:Value", "no such file"),
    ("no_such_module_xyz:Value", "no such module"),
    ("engine.py", "give the file (or module) and the class"),
])
def test_usage_errors_exit_2(capsys, target, message):
    code, _, err = run(capsys, target)
    assert code == 2 and message in err


def test_no_engine_and_no_template_is_a_usage_error(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "--template" in err


def test_a_module_path(capsys):
    code, out, _ = run(capsys, "micrograd.engine:Value", "--examples", "20")
    assert code == 1 and "RecursionError" in out


def test_json_junit_table_and_draw(capsys, tmp_path):
    path = tmp_path / "engine.py"
    path.write_text(filled().replace("self.grad += out.grad\n", "self.grad = out.grad\n", 1))
    junit, svg = tmp_path / "report.xml", tmp_path / "failure.svg"
    code, out, _ = run(capsys, f"{path}:Value", "--json", "--junit", str(junit), "--draw", str(svg),
                       "--examples", "20")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and data["failures"][0]["op"] == "add"
    assert data["failures"][0]["kind"] == "accumulation"
    assert "<testcase" in junit.read_text() and "<failure" in junit.read_text()
    text = svg.read_text()
    assert "<svg" in text and "yours: data" in text and "expected:" in text
    code, out, _ = run(capsys, f"{path}:Value", "--table", "--examples", "20")
    assert out.startswith("Engine `") and "| a + a |" in out


def test_the_learners_prints_do_not_mix_with_the_json(capsys, tmp_path):
    path = tmp_path / "engine.py"
    path.write_text("print('hello from the engine')\n" + filled())
    code, out, _ = run(capsys, f"{path}:Value", "--json", "--examples", "10")
    assert code == 0 and json.loads(out)["ok"] is True


def test_the_console_entry_point_runs_it(tmp_path):
    path = tmp_path / "engine.py"
    path.write_text("class Value(:\n")
    done = subprocess.run([sys.executable, "-m", "autograd_mini", "check", f"{path}:Value"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "syntax error" in done.stderr


def test_draw_to_html_writes_an_explorer_page(capsys, tmp_path):
    path = tmp_path / "engine.py"
    path.write_text(filled().replace("(1 - t ** 2) * out.grad", "(1 - t) * out.grad"))
    page = tmp_path / "failure.html"
    code, _, _ = run(capsys, f"{path}:Value", "--draw", str(page), "--examples", "10")
    assert code == 1
    text = page.read_text()
    assert text.lstrip().lower().startswith("<!doctype html") and "x0 ✗ yours: data 0.7, grad 0.3956" in text


def test_nothing_to_draw_is_said(capsys, tmp_path, correct_file):
    code, _, err = run(capsys, f"{correct_file}:Value", "--draw", str(tmp_path / "f.svg"), "--examples", "10")
    assert code == 0 and "nothing drawn" in err and not (tmp_path / "f.svg").exists()
