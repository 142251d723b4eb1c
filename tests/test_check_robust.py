"""check_engine on engines written in ways its authors did not plan for: no false alarm, no hang, no crash.

Each engine is the filled-in template (test_check.filled) with one pattern
found in public micrograd-style engines: float32 numbers, a backward that
takes the seed, leaves that need requires_grad=True, a gradient kept in a
node, an endless loop, a sys.exit, an op that returns a plain number, a
backward slow on a big graph. Oracles: the report's verdict and the cause it
names, against the pattern each engine was written with.
"""

import subprocess
import sys

import pytest
from test_check import ANSWERS, broken, engine, filled

from autograd_mini import check_engine
from autograd_mini.check import checker, run
from autograd_mini.cli.app import main

np = pytest.importorskip("numpy")
ANSWERS_TOPO = ANSWERS["topo = []\n"]

FLOAT32 = "import numpy as np\n" + filled().replace(
    "self.data = float(data)", "self.data = np.float32(data)").replace(
    "math.tanh(self.data)", "np.tanh(self.data)").replace("math.exp(self.data)", "np.exp(self.data)")


def test_a_float32_engine_is_compared_at_float32_precision(tmp_path):
    report = check_engine(engine(tmp_path, FLOAT32, "single"), examples=100)
    assert report.ok, str(report)
    assert "computes in float32" in report.notes[0]
    assert "x.exp()" in report.tested  # and exp near overflow is tried at 88, not at 700 (inf in float32)


def test_a_float32_engine_with_a_wrong_rule_still_fails(tmp_path):
    source = FLOAT32.replace("(1 - t ** 2) * out.grad", "(1 - t) * out.grad")
    report = check_engine(engine(tmp_path, source, "single_wrong"), examples=20)
    assert [(f.op, f.kind) for f in report.failures] == [("tanh", "local derivative")]
    assert "yours gives 1 - t" in report.failures[0].cause


def test_a_backward_that_takes_the_seed_is_called_with_1(tmp_path):
    source = filled().replace("    def backward(self):", "    def backward(self, seed):").replace(
        "        self.grad = 1.0\n", "        self.grad = seed\n")
    assert check_engine(engine(tmp_path, source, "seeded"), examples=50).ok
    wrong = check_engine(engine(tmp_path, source.replace("(1 - t ** 2)", "(1 - t)"), "seeded2"), examples=20)
    assert [(f.op, f.kind) for f in wrong.failures] == [("tanh", "local derivative")]
    assert wrong.failures[0].expression.endswith("out.backward(1.0)")


def test_leaves_that_need_requires_grad_are_made_with_it(tmp_path):
    source = filled().replace(
        'def __init__(self, data, _children=(), _op=""):',
        'def __init__(self, data, _children=(), _op="", requires_grad=False):\n'
        '        self.requires_grad = requires_grad or bool(_children)').replace(
        "self.grad += out.grad\n", "self.grad += out.grad if self.requires_grad else 0.0\n")
    report = check_engine(engine(tmp_path, source, "flagged"), examples=50)
    assert report.ok, str(report)
    wrong = check_engine(engine(tmp_path, source.replace("(1 - t ** 2)", "(1 + t ** 2)"), "flagged2"), examples=20)
    assert "Value(0.7, requires_grad=True)" in wrong.failures[0].expression


def test_a_gradient_kept_in_a_node_is_read_through_its_data(tmp_path):
    source = filled().replace("        for v in reversed(topo):\n            v._backward()\n",
                              "        for v in reversed(topo):\n            v._backward()\n"
                              "        for v in topo:\n            v.grad = Grad(v.grad)\n") + '''

class Grad:
    """A gradient as a node: no __float__, its number in .data."""

    def __init__(self, data):
        self.data = data

    def __add__(self, other):
        return self.data + getattr(other, "data", other)

    __radd__ = __add__

    def __mul__(self, other):
        return self.data * getattr(other, "data", other)

    __rmul__ = __mul__
'''
    report = check_engine(engine(tmp_path, source, "boxed"), examples=50)
    assert report.ok, str(report)


def test_an_op_that_returns_a_plain_number_is_listed_untested_with_why(tmp_path):
    value = broken(tmp_path, "return self * -1.0", "return self.data * -1.0")
    report = check_engine(value, examples=20)
    assert "it returns a plain float, not a Value" in report.untested["-x"]


def test_sys_exit_in_an_op_is_a_finding_not_the_end(tmp_path):
    value = broken(tmp_path, "self.grad += out.data * out.grad", "raise SystemExit(3)")
    report = check_engine(value, examples=20)
    assert ("exp", "exception") in {(f.op, f.kind) for f in report.failures}
    assert "SystemExit" in report.failures[0].cause


@pytest.mark.parametrize("tail, message", [
    ("import sys\nsys.exit(0)\n", "called sys.exit(0)"),
    ("answer = input('lr? ')\n", "raised EOFError"),
])
def test_a_file_that_exits_or_reads_input_at_import_exits_2(capsys, tmp_path, tail, message):
    path = tmp_path / "engine.py"
    path.write_text(filled() + tail)
    code = main(["check", f"{path}:Value"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_an_endless_loop_in_backward_is_stopped_and_named(tmp_path):
    """In a subprocess, so that a regression fails the test with a timeout instead of hanging the suite."""
    path = tmp_path / "engine.py"
    path.write_text(filled().replace("self.grad += (1 - t ** 2) * out.grad", "while True:\n                pass"))
    done = subprocess.run([sys.executable, "-m", "autograd_mini", "check", f"{path}:Value", "--examples", "20"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "blamed: tanh (timeout)" in done.stdout
    assert "(an endless loop, or far too slow?)" in done.stdout


def test_a_backward_too_slow_for_the_deep_chain_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "DEEP_SECONDS", 0.5)
    value = broken(tmp_path, "        self.grad = 1.0\n",
                   "        while len(topo) > 100:  # stands for a backward quadratic in the graph's size\n"
                   "            pass\n        self.grad = 1.0\n")
    report = check_engine(value, examples=20)
    assert [(f.check, f.op, f.kind) for f in report.failures] == [("deep chain (5000 ops)", "backward", "timeout")]
    assert "a backward linear in the graph's size" in report.failures[0].cause


def test_the_random_search_stops_when_its_time_is_up(correct, monkeypatch):
    monkeypatch.setattr(checker, "SEARCH_SECONDS", 0.0)
    report = check_engine(correct, examples=50)
    assert report.ok
    assert any("the random search stopped after 0 s" in note for note in report.notes)


@pytest.fixture(scope="module")
def correct(tmp_path_factory):
    return engine(tmp_path_factory.mktemp("correct"), filled(), "correct_robust")


def test_tanh_built_on_exp_that_overflows_is_blamed_on_tanh(tmp_path):
    value = broken(tmp_path, "        t = math.tanh(self.data)\n",
                   "        return ((self * 2.0).exp() - 1.0) / ((self * 2.0).exp() + 1.0)\n        t = 0.0\n")
    report = check_engine(value, examples=20)
    large = next(f for f in report.failures if f.check == "large inputs")
    assert (large.op, large.kind) == ("tanh", "exception")
    assert "OverflowError in exp (called by tanh)" in large.cause
    assert "a formula overflows where the function does not" in large.cause


def test_an_init_with_required_children_says_how_to_make_a_leaf(capsys, tmp_path):
    path = tmp_path / "engine.py"
    path.write_text(filled().replace('def __init__(self, data, _children=(), _op=""):',
                                     "def __init__(self, data, _children, _op):"))
    code = main(["check", f"{path}:Value"])
    err = capsys.readouterr().err
    assert code == 2 and "missing 2 required positional arguments" in err
    assert "give your other parameters defaults" in err


RENAMED = filled().replace("class Value", "class Scalar").replace("Value(", "Scalar(").replace(
    "isinstance(other, Value)", "isinstance(other, Scalar)").replace(".data", ".value").replace(
    "self.data =", "self.value =")


def test_an_engine_with_other_names_says_to_use_an_adapter(capsys, tmp_path):
    path = tmp_path / "engine.py"
    path.write_text(RENAMED)
    code = main(["check", f"{path}:Scalar"])
    err = capsys.readouterr().err
    assert code == 2 and "has no attribute 'data'" in err and "through an Adapter" in err


def test_the_command_takes_an_adapter_defined_in_the_file(capsys, tmp_path):
    path = tmp_path / "engine.py"
    path.write_text(RENAMED + '''

from autograd_mini.check import Adapter


class Names(Adapter):
    def data(self, node):
        return node.value


adapter = Names(Scalar)
''')
    code = main(["check", f"{path}:adapter", "--examples", "30"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "engine.py:Scalar" in out.splitlines()[0]


def test_a_raised_recursion_limit_and_recursion_through_c_is_a_finding_not_a_crash(tmp_path):
    """Recursing through map() with the limit at 10**6 overflows the C stack near 14,000 levels (a
    segfault); the checker holds the limit at 4000 while the engine runs. In a subprocess: a crash
    must fail this test, not end the suite."""
    path = tmp_path / "engine.py"
    source = "import sys\nsys.setrecursionlimit(10 ** 6)\n" + filled().replace(ANSWERS_TOPO, """topo, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                list(map(build, v._prev))
                topo.append(v)
        build(self)
""")
    path.write_text(source)
    done = subprocess.run([sys.executable, "-m", "autograd_mini", "check", f"{path}:Value", "--examples", "20"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    assert "deep chain (100000 ops)" in done.stdout and "blamed: backward (recursion)" in done.stdout
    assert "recursion limit (now 4000)" in done.stdout


def test_an_alarm_set_before_the_check_is_set_again_after_it(correct):
    import signal

    if not hasattr(signal, "setitimer"):
        pytest.skip("no setitimer here")
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 1000.0)
        check_engine(correct, examples=10)
        left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert 0 < left < 1000.0 and not fired
