"""check_engine on engines with one known defect each: caught, shrunk, named.

The engines are the `--template` skeleton filled in (the correct engine) and
that engine with one line changed; each is written to a file and loaded the
way the CLI loads a learner's file. Oracles: autograd_mini's exact gradients
(inside the checker), and the defect each engine was written with.
"""

import json

import pytest

from autograd_mini import check_engine
from autograd_mini.check import TorchAdapter, assert_engine_ok
from autograd_mini.check.loading import load_engine
from autograd_mini.check.template import TEMPLATE
from autograd_mini.check.traps import traps

ANSWERS = {
    "pass  # TODO: d(out)/d(self) = 1 and d(out)/d(other) = 1; add (+=), never assign (=)":
        "self.grad += out.grad\n            other.grad += out.grad",
    "pass  # TODO: d(out)/d(self) = other.data and d(out)/d(other) = self.data":
        "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
    "pass  # TODO: d(out)/d(self) = n * self.data ** (n - 1)": "self.grad += n * self.data ** (n - 1) * out.grad",
    "pass  # TODO: d(out)/d(self) = 1 - t ** 2": "self.grad += (1 - t ** 2) * out.grad",
    "pass  # TODO: d(out)/d(self) = out.data": "self.grad += out.data * out.grad",
    "pass  # TODO: d(out)/d(self) = 1 if self.data > 0 else 0": "self.grad += (self.data > 0) * out.grad",
    "topo = []\n": """topo, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif v not in seen:
                seen.add(v)
                stack.append((v, True))
                stack.extend((child, False) for child in v._prev)
""",
    "        for v in reversed(topo):": """        for v in topo:
            if v._prev:
                v.grad = 0.0
        self.grad = 1.0
        for v in reversed(topo):""",
}
RECURSIVE_TOPO = """topo, visited = [], set()
        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
"""
NO_TOPOLOGICAL_ORDER = """    def backward(self):
        self.grad = 1.0
        self._propagate()

    def _propagate(self):
        self._backward()
        for child in set(self._prev):
            child._propagate()

    def __neg__(self):"""


def filled() -> str:
    """The template with every TODO answered: a correct engine."""
    source = TEMPLATE
    for todo, answer in ANSWERS.items():
        assert todo in source, todo
        source = source.replace(todo, answer)
    assert "pass  # TODO" not in source
    return source


def engine(tmp_path, source, name="engine"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return load_engine(f"{path}:Value")


def broken(tmp_path, old, new):
    source = filled()
    assert old in source, old
    return engine(tmp_path, source.replace(old, new, 1), "broken")


@pytest.fixture(scope="module")
def correct(tmp_path_factory):
    return engine(tmp_path_factory.mktemp("correct"), filled(), "correct")


def test_the_filled_in_template_passes_with_no_false_alarm(correct):
    report = check_engine(correct, examples=150)
    assert report.ok, str(report)
    assert "x.tanh()" in report.tested and "x.sigmoid()" in report.untested
    assert {c.status for c in report.checks} <= {"ok", "note"}
    assert_engine_ok(correct, examples=20)


def test_the_template_as_written_fails_with_the_seed_finding(tmp_path):
    report = check_engine(engine(tmp_path, TEMPLATE), examples=20)
    assert not report.ok
    assert {(f.op, f.kind) for f in report.failures} == {("backward", "seed")}
    assert "self.grad = 1" in report.failures[0].cause
    with pytest.raises(AssertionError, match="seed"):
        assert_engine_ok(engine(tmp_path, TEMPLATE), examples=20)


def test_the_template_with_backward_done_names_each_rule_left_to_write(tmp_path):
    source = TEMPLATE
    for todo in ("topo = []\n", "        for v in reversed(topo):"):
        source = source.replace(todo, ANSWERS[todo])
    report = check_engine(engine(tmp_path, source), examples=20)
    blamed = {f.op for f in report.failures}
    assert {"add", "mul", "pow", "tanh", "exp", "relu"} <= blamed
    assert any("yours gives 0 (no gradient flows back), the rule is 1 - t**2" in f.cause for f in report.failures)


# (defect, old line, new line, blamed op, kind, words the cause must contain)
DEFECTS = [
    ("wrong tanh derivative", "(1 - t ** 2) * out.grad", "(1 - t) * out.grad",
     "tanh", "local derivative", "yours gives 1 - t, the rule is 1 - t**2"),
    ("= instead of += in add", "self.grad += out.grad\n", "self.grad = out.grad\n",
     "add", "accumulation", "assigns its operand's gradient (=) instead of adding"),
    ("recursive backward without a topological order", "    def backward(self):", None,
     "backward", "order", "no topological order"),
    ("missing seed gradient", "        self.grad = 1.0\n", "",
     "backward", "seed", "self.grad = 1"),
    ("wrong forward of relu", "max(self.data, 0.0)", "abs(self.data)",
     "relu", "forward", "wrong forward value"),
    ("wrong reflected sub (2 - x)", "return other + (-self)", "return self - other",
     "rsub", "forward", "x - c (the operands swapped)"),
    ("wrong pow derivative", "n * self.data ** (n - 1) * out.grad", "n * self.data ** n * out.grad",
     "pow", "local derivative", "yours gives c * x**c, the rule is c * x**(c - 1)"),
    ("interior gradients compound on a second backward()", "                v.grad = 0.0\n",
     "                pass\n", "backward", "compounding", "compound"),
    ("recursive topological sort", ANSWERS["topo = []\n"], RECURSIVE_TOPO,
     "backward", "recursion", "RecursionError"),
    ("mul's derivatives swapped", "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
     "self.grad += self.data * out.grad\n            other.grad += other.data * out.grad",
     "mul", "local derivative", "swapped"),
    ("a node visited more than once (no visited set)", "            elif v not in seen:\n                seen.add(v)\n",
     "            else:\n", "backward", "order", "more than once"),
    ("wrong exp derivative", "self.grad += out.data * out.grad", "self.grad += self.data * out.grad",
     "exp", "local derivative", "yours gives x, the rule is t (= e**x)"),
]


# A recursive backward without a topological order is also recursive (deep chain) and, since it
# never resets interior gradients, compounds on a second backward(): three true findings.
ALSO = {"recursive backward without a topological order": {("backward", "recursion"), ("backward", "compounding")}}


@pytest.mark.parametrize("defect, old, new, op, kind, words", DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_defect_is_caught_shrunk_and_named(tmp_path, defect, old, new, op, kind, words):
    if new is None:  # the whole backward replaced
        source = filled()
        start = source.index("    def backward(self):")
        end = source.index("    def __neg__(self):")
        value = engine(tmp_path, source[:start] + NO_TOPOLOGICAL_ORDER + source[end + len("    def __neg__(self):"):])
    else:
        value = broken(tmp_path, old, new)
    report = check_engine(value, examples=60)
    assert not report.ok
    first = report.failures[0]
    assert (first.op, first.kind) == (op, kind), str(report)
    assert words in first.cause, first.cause
    allowed = {(op, kind)} | ALSO.get(defect, set())
    assert {(f.op, f.kind) for f in report.failures} <= allowed, str(report)  # one defect, its findings only
    if kind != "recursion":
        assert first.program is not None and first.program.size <= 6, first.expression
        assert first.expression.count("\n") <= 8
        assert "Value(" in first.expression and ".backward()" in first.expression
    assert str(first) in str(report)


def test_the_first_wrong_node_and_the_table_of_a_diamond(tmp_path):
    source = filled()
    start, end = source.index("    def backward(self):"), source.index("    def __neg__(self):")
    value = engine(tmp_path, source[:start] + NO_TOPOLOGICAL_ORDER + source[end + len("    def __neg__(self):"):])
    failure = check_engine(value, examples=20).failures[0]
    assert failure.check == "diamond"
    wrong = {row.name: row for row in failure.rows if row.wrong}
    assert failure.first_wrong in wrong and failure.first_wrong.startswith("x")
    row = wrong[failure.first_wrong]
    assert row.grad != pytest.approx(row.expected_grad)
    assert failure.expected_grads[failure.first_wrong] == row.expected_grad


def test_micrograd_is_reported_right():
    from micrograd.engine import Value

    report = check_engine(Value, examples=150)
    assert {(f.op, f.kind) for f in report.failures} == {("backward", "recursion"), ("backward", "compounding")}
    assert set(report.untested) == {"x.tanh()", "x.exp()", "x.log()", "x.sigmoid()"}
    assert {"2.0 - x", "2.0 / x", "x ** 2.0", "x.relu()"} <= set(report.tested)
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["deep chain (5000 ops)"] == "FAIL" and statuses["backward() twice"] == "FAIL"
    assert statuses["relu at 0"] == "note" and statuses["random DAGs"] == "ok"
    twice = next(f for f in report.failures if f.kind == "compounding")
    assert twice.expression.count(".backward()") == 2


def test_the_torch_adapter_passes():
    pytest.importorskip("torch")
    report = check_engine(TorchAdapter(), examples=60)
    assert report.ok, str(report)
    assert len(report.tested) == 19 and not report.untested


def test_an_adapter_for_other_names(correct):
    from autograd_mini.check import Adapter

    class Renamed:  # a class whose gradient is .derivative, as minitorch's Scalar
        def __init__(self, value):
            self.inner = value if isinstance(value, correct) else correct(value)

        def __add__(self, other):
            return Renamed(self.inner + other.inner)

        def __mul__(self, other):
            return Renamed(self.inner * other.inner)

        @property
        def derivative(self):
            return self.inner.grad

    class RenamedAdapter(Adapter):
        codes = {"add": "{0}.plus({1})"}

        def data(self, node):
            return node.inner.data

        def grad(self, node):
            return node.derivative

        def backward(self, root):
            root.inner.backward()

    report = check_engine(RenamedAdapter(Renamed), examples=30)
    assert report.ok, str(report)
    assert report.tested == ["x + y", "x * y"]
    a_plus_a = traps(frozenset({"add", "mul"}))[0].programs[0]
    assert "out = x0.plus(x0)" in RenamedAdapter(Renamed).code(a_plus_a)


def test_a_seed_gives_the_same_report(tmp_path):
    value = broken(tmp_path, "(1 - t ** 2) * out.grad", "(1 - t) * out.grad")
    one, two = check_engine(value, seed=3, examples=40), check_engine(value, seed=3, examples=40)
    assert str(one) == str(two)


def test_report_forms(tmp_path):
    report = check_engine(broken(tmp_path, "(1 - t ** 2) * out.grad", "(1 - t) * out.grad"), examples=20)
    data = json.loads(report.to_json())
    assert data["ok"] is False and data["failures"][0]["op"] == "tanh"
    assert "| op tanh |" in report.table() and "FAIL" in report.table()
    assert '<testsuite name="autograd-mini check"' in report.junit() and "<failure" in report.junit()


def test_an_engine_that_cannot_make_a_value(tmp_path):
    value = engine(tmp_path, "class Value:\n    def __init__(self, data):\n        raise ValueError('no')\n")
    report = check_engine(value)
    assert not report.ok and report.failures[0].kind == "engine" and "ValueError: no" in report.failures[0].cause


def test_an_engine_without_multiplication(tmp_path):
    source = "class Value:\n    def __init__(self, data):\n        self.data, self.grad = data, 0.0\n"
    source += "    def __add__(self, other):\n        return Value(self.data + other.data)\n"
    report = check_engine(engine(tmp_path, source))
    assert [(f.op, f.kind) for f in report.failures] == [("mul", "missing op")]


BREADTH_FIRST = """topo, seen, queue = [], {id(self)}, [self]
        while queue:
            v = queue.pop(0)
            topo.insert(0, v)
            for child in v._prev:
                if id(child) not in seen:
                    seen.add(id(child))
                    queue.append(child)
"""


def test_only_the_random_search_catches_a_breadth_first_order(tmp_path):
    """Breadth-first from the root is a topological order for every trap, not for a skip connection."""
    report = check_engine(broken(tmp_path, ANSWERS["topo = []\n"], BREADTH_FIRST), examples=300)
    assert [c.name for c in report.checks if c.status == "FAIL"] == ["random DAGs"]
    failure = report.failures[0]
    assert (failure.op, failure.kind) == ("backward", "order")
    assert failure.program.size <= 7 and len(failure.program.leaves) == 1, failure.expression
    assert failure.first_wrong == "x0"


def test_the_search_shrinks_to_the_smallest_program():
    from autograd_mini.check.search import smallest_failure

    def reuses_a_product(program):  # some mul reads one node twice
        return any(s.op == "mul" and len(set(s.args)) == 1 for s in program.steps)

    found = smallest_failure(["add", "mul", "tanh"], reuses_a_product, seed=1, examples=200)
    assert found is not None
    assert len(found.steps) == 1 and len(found.leaves) == 1 and found.steps[0].op == "mul"
    assert found == smallest_failure(["add", "mul", "tanh"], reuses_a_product, seed=1, examples=200)


def test_an_engine_that_raises_the_recursion_limit_still_meets_a_chain_too_deep(tmp_path):
    """A learner's file may call sys.setrecursionlimit; the chain grows past the new limit."""
    import sys

    before = sys.getrecursionlimit()
    try:
        value = broken(tmp_path, ANSWERS["topo = []\n"], RECURSIVE_TOPO.replace(
            "topo, visited = [], set()", "import sys; sys.setrecursionlimit(6000)\n        topo, visited = [], set()"))
        report = check_engine(value, examples=10)
    finally:
        sys.setrecursionlimit(before)
    assert [(f.op, f.kind) for f in report.failures] == [("backward", "recursion")]
    assert report.failures[0].check == "deep chain (12000 ops)"


def test_an_engine_without_backward_gets_one_finding(tmp_path):
    source = filled().replace("    def backward(self):", "    def backward_pass(self):")
    report = check_engine(engine(tmp_path, source), examples=10)
    assert [(f.op, f.kind) for f in report.failures] == [("backward", "exception")]
    assert "has no attribute 'backward'" in report.failures[0].cause


def test_a_wrong_sign_in_sub_is_named(tmp_path):
    sub = """        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out"""
    report = check_engine(engine(tmp_path, filled().replace("        return self + (-other)", sub)), examples=10)
    assert [(f.op, f.kind) for f in report.failures] == [("sub", "local derivative")]
    assert "with respect to y: yours gives 1 (the sign is wrong), the rule is -1" in report.failures[0].cause


def test_without_hypothesis_the_random_search_is_skipped_and_said(correct, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "autograd_mini.check.search", None)  # import fails as if hypothesis were absent
    report = check_engine(correct)
    row = next(c for c in report.checks if c.name == "random DAGs")
    assert (row.status, row.detail) == ("skipped", "needs hypothesis (pip install hypothesis)")
    assert report.ok
