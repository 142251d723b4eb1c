"""Value: construction, attributes, repr, and the operators and methods that record ops."""

import copy
import math

import pytest

from autograd_mini import Value, dot, sum_of
from autograd_mini.nn.losses import squared_error
from autograd_mini.value import NO_INPUTS, ConstantInputs


# --- construction ------------------------------------------------------------------------
@pytest.mark.parametrize("data", [0, 3, -7, 2**53, 0.5, -1e-300, 1e308])
def test_ints_and_floats_are_stored_as_float(data):
    v = Value(data)
    assert type(v.data) is float
    assert v.data == float(data)


@pytest.mark.parametrize(
    "data, type_name",
    [("1.0", "str"), (None, "NoneType"), ([1.0], "list"), (1 + 2j, "complex"), (True, "bool"), (False, "bool")],
)
def test_non_numbers_raise_type_error_naming_the_type(data, type_name):
    with pytest.raises(TypeError, match=type_name):
        Value(data)


@pytest.mark.parametrize("data", [math.nan, math.inf, -math.inf])
def test_non_finite_data_raises_value_error(data):
    with pytest.raises(ValueError, match="finite"):
        Value(data)



def test_int_too_large_for_float64_raises_value_error():
    with pytest.raises(ValueError, match="finite"):
        Value(10**400)


def test_label_must_be_a_string():
    with pytest.raises(TypeError, match="int"):
        Value(1.0, label=3)


def test_a_new_value_is_a_leaf_with_zero_grad():
    v = Value(2, label="w1")
    assert (v.data, v.grad, v.label, v.op, v.inputs) == (2.0, 0.0, "w1", None, ())
    assert Value(1.0).label is None


def test_value_uses_slots():
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
    with pytest.raises(AttributeError):
        v.something_else = 1


def test_repr():
    assert repr(Value(0.5)) == "Value(data=0.5, grad=0.0)"
    assert repr(Value(-2, label="w1")) == "Value(data=-2.0, grad=0.0, label='w1')"
    v = Value(3.0)
    v.grad = 1.5
    assert repr(v) == "Value(data=3.0, grad=1.5)"


def test_float_conversion():
    assert float(Value(2.5)) == 2.5


# --- inputs: an ordered tuple that keeps duplicates ---------------------------------
def test_inputs_keep_duplicates_and_order():
    a, b = Value(3.0), Value(4.0)
    sq = a * a
    assert sq.inputs == (a, a)
    assert sq.inputs[0] is a and sq.inputs[1] is a
    d = b - a
    assert type(d.inputs) is tuple
    assert d.inputs[0] is b and d.inputs[1] is a
    assert (b / a).inputs[0] is b


def test_square_gradient_counts_both_uses():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0


# --- operators with plain numbers on either side ------------------------------------
X = 1.5
BINARY = [
    # name, build from Value x, expected data, op name, index of x among the inputs
    ("x + 2", lambda x: x + 2, X + 2, "add", 0),
    ("2 + x", lambda x: 2 + x, 2 + X, "add", 1),
    ("x - 2", lambda x: x - 2, X - 2, "sub", 0),
    ("2 - x", lambda x: 2 - x, 2 - X, "sub", 1),
    ("x * 2", lambda x: x * 2, X * 2, "mul", 0),
    ("2 * x", lambda x: 2 * x, 2 * X, "mul", 1),
    ("x / 2", lambda x: x / 2, X / 2, "div", 0),
    ("2 / x", lambda x: 2 / x, 2 / X, "div", 1),
    ("x ** 3", lambda x: x**3, X**3, "pow", 0),
    ("x ** 0.5", lambda x: x**0.5, X**0.5, "pow", 0),
    ("x ** -2", lambda x: x**-2, X**-2, "pow", 0),
    ("2 ** x", lambda x: 2**x, 2**X, "pow_value", 1),
    ("2.5 ** x", lambda x: 2.5**x, 2.5**X, "pow_value", 1),
    ("-x", lambda x: -x, -X, "neg", 0),
    ("x + 0.25 (float)", lambda x: x + 0.25, X + 0.25, "add", 0),
]


@pytest.mark.parametrize("name, build, expected, op, position", BINARY, ids=[row[0] for row in BINARY])
def test_operators_with_numbers(name, build, expected, op, position):
    x = Value(X)
    out = build(x)
    assert isinstance(out, Value)
    assert math.isclose(out.data, expected, rel_tol=1e-15)
    assert out.op.name == op
    assert out.inputs[position] is x
    for i, other in enumerate(out.inputs):
        if i != position:
            assert other.op is None  # the number became a constant leaf


def test_value_exponent_records_pow_value():
    x, y = Value(2.0), Value(3.0)
    out = x**y
    assert out.op.name == "pow_value"
    assert out.inputs == (x, y)
    assert out.data == 8.0


def test_unary_plus_returns_the_same_value():
    x = Value(1.0)
    assert +x is x


@pytest.mark.parametrize("other", ["2", None, [1.0], True, 1j])
def test_operators_reject_non_numbers(other):
    x = Value(1.0)
    with pytest.raises(TypeError):
        x + other
    with pytest.raises(TypeError):
        other * x


METHODS = [
    ("relu", 0.7, 0.7),
    ("relu", -0.7, 0.0),
    ("tanh", 0.7, math.tanh(0.7)),
    ("sigmoid", 0.7, 1 / (1 + math.exp(-0.7))),
    ("exp", 0.7, math.exp(0.7)),
    ("log", 0.7, math.log(0.7)),
    ("sqrt", 0.7, math.sqrt(0.7)),
    ("abs", -0.7, 0.7),
]


@pytest.mark.parametrize("method, x, expected", METHODS)
def test_methods(method, x, expected):
    v = Value(x)
    out = getattr(v, method)()
    assert math.isclose(out.data, expected, rel_tol=1e-15)
    assert out.op.name == method
    assert out.inputs == (v,)


def test_builtin_abs_records_abs():
    v = Value(-2.0)
    assert abs(v).op.name == "abs"
    assert abs(v).data == 2.0


def test_squared_error_is_one_node():
    y, t = Value(0.8), Value(1.0)
    e = squared_error(y, t)
    assert e.op.name == "squared_error"
    assert e.inputs == (y, t)
    assert math.isclose(e.data, 0.5 * (1.0 - 0.8) ** 2, rel_tol=1e-15)
    e.backward()
    assert math.isclose(y.grad, 0.8 - 1.0, rel_tol=1e-15)  # (1.6): dE/dy = y - t


def test_squared_error_accepts_numbers_and_rejects_others():
    y = Value(2.0)
    e = squared_error(y, 1)
    assert e.data == 0.5
    assert e.inputs[0] is y and e.inputs[1].op is None
    assert squared_error(3, y).data == 0.5
    with pytest.raises(TypeError, match="str"):
        squared_error(y, "1")


def test_sum_of_and_dot_are_single_nodes():
    xs = [Value(1.0), Value(2.0), Value(3.0)]
    s = sum_of(xs + [4])
    assert s.op.name == "sum" and s.data == 10.0 and s.inputs[:3] == tuple(xs) and len(s.inputs) == 4
    d = dot(xs, [2, 3, 4])
    assert d.op.name == "dot" and d.data == 20.0 and len(d.inputs) == 6 and d.inputs[:3] == tuple(xs)


def test_sum_of_and_dot_argument_errors():
    with pytest.raises(ValueError):
        sum_of([])
    with pytest.raises(ValueError):
        dot([Value(1.0)], [1.0, 2.0])
    with pytest.raises(ValueError):
        dot([], [])
    with pytest.raises(TypeError, match="str"):
        sum_of([Value(1.0), "x"])


def test_repr_of_a_value_gradient_shows_only_its_data():
    x = Value(2.0)
    (x * x).backward(create_graph=True)
    assert repr(x) == "Value(data=2.0, grad=Value(data=4.0))"


def test_lift_all_lifts_numbers_and_names_the_caller_only_on_error():
    from autograd_mini.value import lift_all

    named = []

    def caller():
        named.append(True)
        return "MLP(2, [1])"

    a = Value(2.0)
    items = lift_all((a, 3, 0.5), caller, "input {}")
    assert items[0] is a and [v.data for v in items] == [2.0, 3.0, 0.5] and not named
    with pytest.raises(TypeError, match=r"^MLP\(2, \[1\]\): input 2 must be a Value, int or float, got str$"):
        lift_all([a, 1.0, "x"], caller, "input {}")
    with pytest.raises(TypeError, match=r"^mse: ys\[0\] must be a Value, int or float, got bool$"):
        lift_all([True], "mse", "ys[{}]")
    with pytest.raises(TypeError, match=r"^sum_of: item 1 must be a Value"):
        lift_all([a, None], "sum_of")


def test_requires_grad_is_the_type_of_inputs_and_survives_copy_and_assignment():
    c, x = Value(2.0, requires_grad=False), Value(3.0)
    lifted = (x * 4.0).inputs[1]
    assert c.inputs is lifted.inputs is NO_INPUTS  # every constant leaf shares the one empty marker
    assert isinstance(c.inputs, ConstantInputs) and c.inputs == () and not c.inputs
    node = c * c
    assert not node.requires_grad and node.inputs == (c, c) and isinstance(node.inputs, ConstantInputs)
    assert (c * x).requires_grad and type((c * x).inputs) is tuple
    assert ConstantInputs(()) is NO_INPUTS
    deep = copy.deepcopy(node + 1.0)
    assert not deep.requires_grad and deep.inputs[0].inputs[0].inputs is NO_INPUTS
    x.requires_grad = False
    assert x.inputs is NO_INPUTS and not x.requires_grad
    node.requires_grad = True
    assert node.requires_grad and type(node.inputs) is tuple and node.inputs == (c, c)
    with pytest.raises(TypeError, match="requires_grad"):
        x.requires_grad = "yes"


def test_every_operator_and_function_is_a_documented_method_of_the_class_body():
    """Readers and checkers see each op where they look: `def` in `class Value`, with a docstring."""
    import inspect

    from autograd_mini.ops import UNARY_FUNCTIONS

    source = inspect.getsource(Value)
    operators = ["add", "sub", "mul", "truediv"]
    names = [f"__{o}__" for o in operators] + [f"__r{o}__" for o in operators]
    names += ["__pow__", "__rpow__", "__neg__", "__pos__", "__abs__", "__lt__", "__float__", "step", "sign"]
    for name in names + list(UNARY_FUNCTIONS):
        method = Value.__dict__[name]
        assert method.__qualname__ == f"Value.{name}", name
        assert f"    def {name}(self" in source, name
        assert name.startswith("__l") or method.__doc__, name
