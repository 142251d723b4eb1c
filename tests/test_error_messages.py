"""The message builders of `errors`: one wording for every failure of an op.

Eager and tape both call these, so their words are checked here once; NaN is
always spelled "NaN" and the `where` suffix follows the call.
"""

import math

import pytest

from autograd_mini import Value, errors
from autograd_mini.errors import DomainError, NumericOverflowError
from autograd_mini.ops import OPS


def test_describe_call_names_nan_and_limits_operands():
    assert errors.describe_call(OPS["mul"], [2.0, math.nan]) == "mul(2.0, NaN)"
    assert errors.describe_call(OPS["sum"], range(8), limit=3) == "sum(0.0, 1.0, 2.0, ... 5 more)"


def test_forward_error_with_a_nan_operand_is_a_domain_error_naming_nan_and_where():
    error = errors.forward_error(OPS["mul"], [math.nan, 1.0], None, math.nan, where=" at example 0 of the batch")
    assert isinstance(error, DomainError)
    assert str(error).startswith("mul(NaN, 1.0) at example 0 of the batch is undefined")
    assert "operand 0 is NaN" in str(error)
    assert "overflow" not in str(error)


def test_forward_error_types():
    assert isinstance(errors.forward_error(OPS["exp"], [1000.0], OverflowError()), NumericOverflowError)
    assert isinstance(errors.forward_error(OPS["mul"], [1e200, 1e200], None, math.inf), NumericOverflowError)
    assert isinstance(errors.forward_error(OPS["log"], [-1.0], ValueError()), DomainError)
    assert "log needs x > 0" in str(errors.forward_error(OPS["log"], [-1.0], ValueError()))


def test_rule_and_gradient_errors():
    assert isinstance(errors.rule_error(OPS["sqrt"], [0.0], ZeroDivisionError()), DomainError)
    assert isinstance(errors.rule_error(OPS["exp"], [709.0], OverflowError()), NumericOverflowError)
    nan = errors.gradient_error(OPS["mul"], [1.0, 2.0], 1, math.nan, where=" (row 3)")
    assert isinstance(nan, DomainError)
    assert str(nan) == "backward through mul(1.0, 2.0) (row 3): the gradient of input 1 would be NaN"
    inf = errors.gradient_error(OPS["mul"], [1.0, 2.0], None, -math.inf)
    assert isinstance(inf, NumericOverflowError)
    assert "the gradient reaching it would be -inf" in str(inf)


@pytest.mark.parametrize("module", ["autograd_mini.value", "autograd_mini.engine"])
def test_the_core_builds_no_message_itself(module):
    import importlib
    import inspect

    source = inspect.getsource(importlib.import_module(module))
    assert "def describe_call" not in source
    assert "def forward_error" not in source
    assert "def rule_error" not in source


@pytest.mark.parametrize("build", [lambda: Value(-2.0) ** Value(0.5), lambda: (-2.0) ** Value(0.5)])
def test_a_value_exponent_of_a_negative_base_is_named_as_written_not_by_its_row(build):
    """Issue 19 item 10: `x ** y` at x = -2 named the internal row `pow_value`."""
    with pytest.raises(DomainError) as info:
        build()
    message = str(info.value)
    assert message.startswith("x ** y at x = -2.0, y = 0.5 is undefined: x ** y needs a positive base x")
    assert "pow_value" not in message
