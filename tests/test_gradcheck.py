"""gradcheck: the report, its table, and catching (and naming) wrong derivative rules."""

import math

import pytest
from conftest import softplus_forward

from autograd_mini import AutogradMiniError, Value, gradcheck
from autograd_mini.checking import GradcheckError, GradcheckReport
from autograd_mini.primitives import relu, sigmoid, step


# --- agreeing derivatives --------------------------------------------------------------------
def test_a_correct_function_gives_a_true_report_with_a_row_per_input():
    report = gradcheck(lambda x, y: x * y + x.exp(), 0.5, 2.0)
    assert isinstance(report, GradcheckReport)
    assert report and not report.failures
    assert [e.name for e in report.entries] == ["d/dx", "d/dy"]
    dx, dy = report.entries
    assert dx.analytic == pytest.approx(2.0 + math.exp(0.5), rel=1e-15)
    assert dy.analytic == 0.5
    assert dx.numeric == pytest.approx(dx.analytic, rel=1e-8)
    assert dx.abs_error == abs(dx.analytic - dx.numeric)
    text = str(report)
    assert text.startswith("gradcheck ok")
    for heading in ("derivative", "analytic", "numeric", "abs error", "rel error"):
        assert heading in text
    assert "d/dx" in text and "d/dy" in text and "FAIL" not in text


def test_order_two_adds_a_row_per_pair_of_inputs():
    report = gradcheck(lambda x, y, z: x * y * z + (x * z).tanh(), 0.3, -0.7, 1.1, order=2)
    assert report, str(report)
    names = [e.name for e in report.entries]
    assert names[:3] == ["d/dx", "d/dy", "d/dz"]
    assert sorted(names[3:]) == sorted(["d2/dx2", "d2/dxdy", "d2/dxdz", "d2/dy2", "d2/dydz", "d2/dz2"])
    xy = next(e for e in report.entries if e.name == "d2/dxdy")
    assert xy.order == 2 and xy.analytic == pytest.approx(1.1, rel=1e-15)  # z


def test_inputs_without_parameter_names_are_called_x0_x1():
    report = gradcheck(lambda *xs: xs[0] * xs[1], 1.0, 2.0)
    assert [e.name for e in report.entries] == ["d/dx0", "d/dx1"]


def test_the_step_scales_with_large_inputs():
    report = gradcheck(lambda x: x * x, 1e4)
    assert report, str(report)
    assert report.entries[0].numeric == pytest.approx(2e4, rel=1e-9)


def test_a_constant_function_checks_out():
    assert gradcheck(lambda x: 3.0, 1.0)


# --- catching wrong rules -----------------------------------------------------------------------
def test_a_deliberately_wrong_rule_is_caught_and_named(registry):
    # softplus' derivative is sigmoid(x); this rule says sigmoid(-x).
    name, bad = registry("softplus_wrong", softplus_forward, lambda g, out, x: (g * sigmoid(-x),))
    report = gradcheck(lambda x, y: bad(x * y) + y * y, 0.5, 2.0)
    assert not report
    assert report.failing_inputs == ["x", "y"]
    assert f"{name} (custom)" in report.ops_on_paths["x"]
    assert any(name in s and "softplus" in s for s in report.suspects)
    text = str(report)
    assert text.startswith("gradcheck FAIL")
    assert "FAIL" in text.splitlines()[3]  # the d/dx row
    assert f"ops on the paths from x to the output: add, mul, {name} (custom)" in text
    assert f"suspect rule: {name} (custom) at {name}(1.0)" in text
    # the numbers quoted are the rule's value and the forward's finite difference
    assert f"{sig(-1.0):.8g}" in text and f"{sig(1.0):.8g}" in text


def test_only_the_inputs_whose_paths_cross_the_wrong_rule_fail(registry):
    name, bad = registry("softplus_wrong", softplus_forward, lambda g, out, x: (g * 0.5 * sigmoid(x),))
    report = gradcheck(lambda x, y: bad(x) + y.tanh(), 0.3, 0.4)
    assert report.failing_inputs == ["x"]
    assert [e.ok for e in report.entries] == [False, True]
    assert report.ops_on_paths == {"x": ["add", f"{name} (custom)"]}


def test_a_rule_that_is_right_once_but_not_twice_is_caught_at_order_two(registry):
    # math.exp on a Value returns a float: the rule is right on floats, but as a
    # graph it is a constant, so every second derivative through it is lost.
    name, bad = registry(
        "softplus_math", softplus_forward, lambda g, out, x: (g / (1.0 + math.exp(-float(x))),)
    )
    f = lambda x: bad(x) * 2.0  # noqa: E731
    assert gradcheck(f, 0.4, order=1)
    report = gradcheck(f, 0.4, order=2)
    assert not report
    assert [e.name for e in report.failures] == ["d2/dx2"]
    assert report.failures[0].analytic == 0.0
    assert report.failures[0].numeric == pytest.approx(2 * sig(0.4) * (1 - sig(0.4)), rel=1e-6)
    assert any(name in s and "math.*" in s for s in report.suspects)


def test_a_function_leaving_the_graph_is_reported_without_blaming_a_rule():
    report = gradcheck(lambda x: x * float(x), 1.5)
    assert not report
    assert report.suspects == []
    assert "leave the graph" in str(report)


def test_raise_on_failure_raises_an_assertion_error_with_the_table(registry):
    name, bad = registry("double_wrong", lambda x: 2.0 * x, lambda g, out, x: (3.0 * g,))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: bad(x), 1.0, raise_on_failure=True)
    assert isinstance(info.value, AssertionError) and isinstance(info.value, AutogradMiniError)
    assert "d/dx" in str(info.value) and name in str(info.value)


def test_raise_on_failure_returns_the_report_when_all_agree():
    assert gradcheck(lambda x: x.sigmoid(), 0.2, raise_on_failure=True)


def test_tolerances_decide_the_verdict():
    # central differences are exact for x^2, off by eps^2 = 1e-4 for x^3
    assert gradcheck(lambda x: x * x, 1.0, eps=1e-2, atol=1e-9, rtol=0.0)
    g = lambda x: x * x * x  # noqa: E731
    assert not gradcheck(g, 1.0, eps=1e-2, atol=1e-6, rtol=1e-6)
    assert gradcheck(g, 1.0, eps=1e-2, atol=1e-3, rtol=0.0)


# --- argument errors ------------------------------------------------------------------------------
def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        gradcheck(lambda x: x, 1.0, order=3)
    with pytest.raises(ValueError, match="at least one"):
        gradcheck(lambda: Value(1.0))
    with pytest.raises(TypeError, match="argument 1 must be a finite int or float"):
        gradcheck(lambda x, y: x * y, 1.0, "2")
    with pytest.raises(TypeError, match="argument 0"):
        gradcheck(lambda x: x, math.inf)
    with pytest.raises(TypeError, match="must return a scalar Value"):
        gradcheck(lambda x: [x], 1.0)


def test_value_arguments_are_read_as_their_data():
    report = gradcheck(lambda x: x * x, Value(3.0))
    assert report.entries[0].analytic == 6.0


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


# --- a point within eps of a kink (issue 11, item 13) ----------------------------------------
def test_a_point_within_eps_of_a_kink_is_named_and_the_rule_not_blamed():
    report = gradcheck(lambda x: x.relu(), 1e-9)
    (entry,) = report.entries
    assert entry.analytic == 1.0 and entry.numeric == pytest.approx(0.5005, rel=1e-6)  # straddles the kink
    assert not report and report.suspects == []
    (kink,) = report.kinks
    assert kink.startswith("relu at relu(1e-09)") and "slope 0.001 on the left, 1 on the right" in kink
    text = str(report)
    assert "kink within eps: relu" in text and "suspect rule" not in text
    assert "check at a point farther than eps" in text and "not at fault" in text
    assert gradcheck(lambda x: x.relu(), 1e-3)  # farther than eps from the kink: checks out


def test_a_kink_inside_a_larger_graph_is_found_at_its_node():
    report = gradcheck(lambda x: (x - 1.0).abs() * x.exp(), 1.0 + 1e-8)
    assert not report and report.suspects == []
    assert [k.split(" at ")[0] for k in report.kinks] == ["abs"]


def test_a_wrong_rule_near_a_kink_is_still_blamed(registry):
    # slope 3 on the right of 0 is neither side's slope (0 and 1): the rule is wrong, kink or not
    name, bad = registry("relu_wrong", relu, lambda g, out, x: (3.0 * g * step(x),))
    report = gradcheck(lambda x: bad(x), 1e-9)
    assert not report and report.kinks == []
    assert len(report.suspects) == 1 and report.suspects[0].startswith(f"{name} (custom)")
