"""The expression language: valid text gives the same Value graph as building it by
hand; everything outside the language is rejected with a caret under the culprit."""

from __future__ import annotations

import builtins
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import DomainError, NumericOverflowError, Value, gradients, ops
from autograd_mini.cli.expression import ParseError
from autograd_mini.cli.parser import (
    MAX_DEPTH,
    MAX_LENGTH,
    evaluate,
    functions,
    parse,
    parse_assignment,
    parse_assignments,
)
from autograd_mini.nn.losses import squared_error
from autograd_mini.ops import OPS, UNARY_FUNCTIONS

NAMES = ("x", "y", "z")

# --- the hypothesis oracle: the same expression as text and as direct Value calls ---------------
# Each strategy yields (text, build) where build(leaves) makes the same graph with Value ops.


def _number_text(c: float) -> str:
    return f"({c!r})" if math.copysign(1.0, c) < 0 else repr(c)


numbers = st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False).map(
    lambda c: (_number_text(c), lambda leaves, c=c: Value(c))
)
variables = st.sampled_from(NAMES).map(lambda n: (n, lambda leaves, n=n: leaves[n]))


def _binary(op: str, a, b):
    (ta, fa), (tb, fb) = a, b
    ops = {
        "+": lambda p, q: p + q,
        "-": lambda p, q: p - q,
        "*": lambda p, q: p * q,
        "/": lambda p, q: p / q,
    }
    return f"({ta} {op} {tb})", lambda leaves: ops[op](fa(leaves), fb(leaves))


def _extend(children):
    exponents = st.sampled_from([2.0, 3.0, -1.0, 0.5, -2.0, 1.5])
    positive = st.floats(0.1, 3.0)
    unary = st.sampled_from(["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu"])
    return st.one_of(
        st.builds(_binary, st.sampled_from("+-*/"), children, children),
        children.map(lambda a: (f"(-{a[0]})", lambda leaves, f=a[1]: -f(leaves))),
        st.builds(lambda name, a: (f"{name}({a[0]})", _method(name, a[1])), unary, children),
        st.builds(
            lambda a, n: (f"({a[0]} ** {_number_text(n)})", lambda leaves: a[1](leaves) ** n), children, exponents
        ),
        st.builds(lambda c, a: (f"({c!r} ** {a[0]})", lambda leaves: Value(c) ** a[1](leaves)), positive, children),
        st.builds(
            lambda a, b: (f"squared_error({a[0]}, {b[0]})", lambda leaves: squared_error(a[1](leaves), b[1](leaves))),
            children,
            children,
        ),
    )


def _method(name: str, build):
    return lambda leaves: getattr(build(leaves), name)()


expressions = st.recursive(st.one_of(numbers, variables), _extend, max_leaves=12)
environments = st.fixed_dictionaries({n: st.floats(-3.0, 3.0, allow_nan=False) for n in NAMES})


def _outcome(build, env):
    """('ok', value, gradients) or ('error', error type) for build(leaves)."""
    leaves = {n: Value(v, label=n) for n, v in env.items()}
    try:
        root = build(leaves)
        return "ok", root.data, gradients(root, [leaves[n] for n in NAMES])
    except (DomainError, NumericOverflowError) as exc:
        return "error", type(exc)


@given(expressions, environments)
def test_parsed_text_evaluates_like_the_same_expression_built_with_value(expr, env):
    text, build = expr
    parsed = parse(text)
    assert _outcome(parsed.evaluate, env) == _outcome(build, env)


# --- the language ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("-x**2", -9.0),  # unary minus binds looser than ** (as in Python)
        ("2**3**2", 512.0),  # ** is right-associative
        ("2**-1", 0.5),
        ("1 - 2 - 3", -4.0),  # - and / are left-associative
        ("8 / 4 / 2", 1.0),
        ("-2 * x", -6.0),
        ("x * (x + 1)", 12.0),
        ("+x", 3.0),
        ("1e-3 * x + .5", 0.503),
        ("squared_error(x, 1)", 2.0),
        ("x ** 0.5", math.sqrt(3.0)),
        ("(-8) ** 2", 64.0),  # a number exponent allows a negative base
    ],
)
def test_precedence_and_associativity_follow_python(text, expected):
    assert evaluate(text, {"x": 3.0}).data == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("name", UNARY_FUNCTIONS)
def test_each_unary_row_of_the_table_is_a_function(name):
    x = Value(0.7, label="x")
    via_text = evaluate(f"{name}(x)", {"x": x})
    assert via_text.op is OPS[name]
    assert via_text.data == OPS[name].forward(0.7)
    assert via_text.inputs == (x,)


def test_the_result_is_a_real_graph_with_labelled_leaves_used_twice():
    expression = parse("x * x + y")
    leaves = expression.leaves({"x": 3.0, "y": 1.0})
    root = expression.evaluate(leaves)
    product = root.inputs[0]
    assert product.inputs == (leaves["x"], leaves["x"])  # one leaf, two uses
    assert [leaf.label for leaf in leaves.values()] == ["x", "y"]
    root.backward()
    assert leaves["x"].grad == 6.0 and leaves["y"].grad == 1.0


def test_variables_are_listed_in_order_of_first_use():
    assert parse("b * a + sigmoid(b) - c").variables == ("b", "a", "c")
    assert parse("2 + 3").variables == ()


def test_a_number_exponent_uses_pow_and_a_variable_exponent_uses_pow_value():
    assert evaluate("x ** 2", {"x": -3.0}).op.name == "pow"
    assert evaluate("x ** (1 + 1)", {"x": -3.0}).op.name == "pow"  # constant: still a number exponent
    assert evaluate("2 ** x", {"x": 3.0}).op.name == "pow_value"
    with pytest.raises(DomainError):
        evaluate("x ** y", {"x": -3.0, "y": 2.0})  # d/dy needs log(x)


def test_numbers_are_floats_from_the_start():
    program = parse("9 ** 9").program
    assert all(type(step.arg) is float for step in program if step.kind == "number")
    assert evaluate("9 ** 9", {}).data == 387420489.0


def test_domain_errors_keep_their_type_and_point_at_the_subexpression():
    with pytest.raises(DomainError) as info:
        evaluate("1 + log(x - 1)", {"x": 1.0})
    message = str(info.value)
    assert "log(0.0)" in message
    assert message.splitlines()[-2:] == ["    1 + log(x - 1)", "        ^^^^^^^^^^"]


def test_parsing_never_calls_eval_exec_or_compile(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the parser must not run Python code")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    assert evaluate("sigmoid(x) * 2 ** x", {"x": 1.0}).data == pytest.approx(2 / (1 + math.exp(-1)))


# --- rejected input -------------------------------------------------------------------------------
HOSTILE = [
    ("__import__('os')", "unknown function '__import__'"),
    ("__import__('os').system('ls')", "unknown function '__import__'"),
    ("().__class__", "unexpected ')'"),
    ("x.data", "attribute access"),
    ("x.__class__.__bases__", "attribute access"),
    ("[1]", "subscripts and lists"),
    ("x[0]", "subscripts and lists"),
    ("lambda: 1", "'lambda' is a Python keyword"),
    ("x if x else y", "'if' is a Python keyword"),
    ('"a"', "strings are not allowed"),
    ("'a' * 10**9", "strings are not allowed"),
    ("1j", "complex numbers"),
    ("True", "'True' is a Python keyword"),
    ("None", "'None' is a Python keyword"),
    ("[x for x in y]", "subscripts and lists"),
    ("{1: 2}", "sets and dicts"),
    ("x == 1", "'=' is not allowed"),
    ("x < 1", "comparisons"),
    ("exp(x=1)", "'=' is not allowed"),
    ("exp(*x)", "unexpected '*'"),
    ("x ^ 2", "write powers as x ** n"),
    ("x // 2", "'//' is not allowed"),
    ("x % 2", "'%' is not allowed"),
    ("x; y", "';' is not allowed"),
    ("x # comment", "comments"),
    ("2x", "write products with '*'"),
    ("print(x)", "unknown function 'print'"),
    ("exp", "exp is a function"),
    ("exp(x, x)", "exp takes 1 argument, got 2"),
    ("squared_error(x)", "squared_error takes 2 arguments, got 1"),
    ("exp()", "exp() needs an argument"),
    ("(x", "'(' is never closed"),
    ("x)", "unexpected ')'"),
    ("x +", "unexpected end of the expression"),
    ("x y", "unexpected 'y'"),
    ("", "empty expression"),
    ("   ", "empty expression"),
    ("1e999", "too large for a float64"),
    ("1" * 400, "too large for a float64"),
    ("α * 2", "unexpected character 'α'"),
    ("f'{x}'", "strings are not allowed"),
]


@pytest.mark.parametrize("text, message", HOSTILE)
def test_text_outside_the_language_is_rejected_with_a_clear_message(text, message):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


# --- only ASCII digits are digits ---------------------------------------------------------------
# str.isdigit() and a Unicode \d accept '²' and '٣'; the tokenizer used to crash on
# the first (an AssertionError) and read the second as 3.
@pytest.mark.parametrize(
    "text, column, character",
    [("²", 0, "²"), ("x²", 1, "²"), ("3²", 1, "²"), ("٣*x", 0, "٣"), ("x*٣", 2, "٣"),
     ("1.٣", 2, "٣"), (".٣", 0, "."), ("½", 0, "½"), ("x**²", 3, "²")],
)
def test_digits_outside_0_to_9_are_a_parse_error_at_the_character(text, column, character):
    with pytest.raises(ParseError) as info:
        parse(text)
    *_, line, caret = str(info.value).splitlines()
    assert line.strip() == text
    assert caret == "    " + " " * column + "^"
    assert repr(character) in str(info.value) or character == "."


@pytest.mark.parametrize("pair", ["x=٣", "x=²", "x=１", "x=1_0", "x=1e٣"])
def test_assignment_values_use_ascii_digits_only(pair):
    with pytest.raises(ParseError, match="is not a number"):
        parse_assignment(pair)


@given(st.text())
def test_any_unicode_text_parses_or_raises_parse_error(text):
    try:
        expression = parse(text)
    except ParseError:
        return
    # What parses is made of the language's ASCII characters only.
    assert expression.source == text and text.isascii()


@given(st.text())
def test_any_unicode_assignment_parses_or_raises_parse_error(text):
    try:
        name, value = parse_assignment(text)
    except ParseError:
        return
    assert name.isidentifier() and math.isfinite(value)


@pytest.mark.parametrize(
    "text, column, width",
    [("x.data", 1, 1), ("1 + foo(x)", 4, 3), ("exp(x, x)", 0, 9), ("x +", 3, 1), ("lambda: 1", 0, 6)],
)
def test_the_caret_points_at_the_offending_part(text, column, width):
    with pytest.raises(ParseError) as info:
        parse(text)
    source_line, caret_line = str(info.value).splitlines()[-2:]
    assert source_line == "    " + text
    assert caret_line == " " * (4 + column) + "^" * width


def test_huge_powers_overflow_at_once_instead_of_computing_big_integers():
    with pytest.raises(NumericOverflowError, match="pow"):
        evaluate("9**9**9", {})
    with pytest.raises(NumericOverflowError):
        evaluate("x ** 9 ** 9", {"x": 10.0})
    with pytest.raises(NumericOverflowError):
        evaluate("(10 ** 300) * 10 ** 300", {})


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000 + "x" + ")" * 10_000,
        "-" * 50_000 + "x",
        "2" + "**2" * 30_000,
        "exp(" * 5_000 + "x" + ")" * 5_000,
    ],
)
def test_deep_nesting_is_a_parse_error_not_a_crash(text):
    with pytest.raises(ParseError, match=f"deeper than {MAX_DEPTH} levels"):
        parse(text)


def test_nesting_up_to_the_limit_parses():
    depth = MAX_DEPTH - 1
    assert evaluate("(" * depth + "x" + ")" * depth, {"x": 2.0}).data == 2.0


def test_very_long_input_is_rejected_and_long_flat_sums_work():
    with pytest.raises(ParseError, match=f"the limit is {MAX_LENGTH}"):
        parse("x+" * MAX_LENGTH + "x")
    terms = 20_000  # a flat sum is a loop in the parser and on the stack machine
    root = evaluate("+".join(["x"] * terms), {"x": 1.0})
    assert root.data == float(terms)


def test_function_names_cannot_be_variables():
    with pytest.raises(ParseError, match="function"):
        parse("sigmoid + 1")
    with pytest.raises(ParseError, match="'exp' is a function name"):
        parse_assignment("exp=1")


# --- name=value pairs -----------------------------------------------------------------------------
def test_assignments_parse_to_floats_in_order():
    assert parse_assignments(["x=1.5", "y=-2", " z = 1e-3 "]) == {"x": 1.5, "y": -2.0, "z": 0.001}
    assert all(type(v) is float for v in parse_assignments(["n=3"]).values())


@pytest.mark.parametrize(
    "pair, message",
    [
        ("x", "no '='"),
        ("=1", "is not a valid variable name"),
        ("1x=1", "is not a valid variable name"),
        ("x.y=1", "is not a valid variable name"),
        ("lambda=1", "is not a valid variable name"),
        ("x=", "is not a number"),
        ("x=abc", "is not a number"),
        ("x=1+1", "is not a number"),
        ("x=nan", "finite number"),
        ("x=inf", "finite number"),
        ("x=-Infinity", "finite number"),
        ("x=" + "9" * 400, "finite number"),
        ("relu=1", "function name"),
    ],
)
def test_malformed_assignments_are_rejected(pair, message):
    with pytest.raises(ParseError, match=message):
        parse_assignment(pair)


def test_a_name_given_twice_is_rejected():
    with pytest.raises(ParseError, match="x is given twice"):
        parse_assignments(["x=1", "x=2"])


def test_leaves_require_every_variable_and_nothing_else():
    expression = parse("x * y")
    with pytest.raises(ParseError, match="no value for y") as info:
        expression.leaves({"x": 1.0})
    assert str(info.value).splitlines()[-1] == "        ^"
    with pytest.raises(ParseError, match="z given but not used: the expression uses x, y"):
        expression.leaves({"x": 1.0, "y": 2.0, "z": 3.0})
    with pytest.raises(ParseError, match="no value for y"):
        expression.evaluate({"x": 1.0})


def test_the_functions_are_the_tables_elementary_functions_and_squared_error():
    assert list(functions()) == [*UNARY_FUNCTIONS, "squared_error"]
    assert {"exp", "log", "sqrt", "sin", "cos", "abs", "tanh", "sigmoid", "relu"} <= set(functions())
    assert all(functions()[name] is OPS[name] for name in functions())


def test_a_row_listed_as_a_function_is_callable_without_touching_the_parser(monkeypatch):
    from autograd_mini.extend import defop

    name = "parser_test_cube"
    if name not in OPS:
        defop(name, forward=lambda x: x * x * x, vjp=lambda g, out, x: (g * 3.0 * x * x,))
    with pytest.raises(ParseError, match=f"unknown function '{name}'"):
        parse(f"{name}(x)")
    monkeypatch.setattr(ops, "UNARY_FUNCTIONS", (*UNARY_FUNCTIONS, name))
    root = evaluate(f"{name}(x) + 1", {"x": 2.0})
    assert root.data == 9.0 and root.inputs[0].op is OPS[name]
    assert gradients(root, [root.inputs[0].inputs[0]]) == [12.0]


# --- messages stay short and printable ----------------------------------------------------------
def test_a_huge_literal_gets_a_short_message_with_a_clamped_caret():
    with pytest.raises(ParseError, match="too large for a float64") as info:
        parse("1" * 100_000)
    message = str(info.value)
    assert len(message) < 400
    line, caret = message.splitlines()[-2:]
    assert line.endswith("...") and set(caret.strip()) == {"^"}
    assert line.index("1") == caret.index("^")  # the caret starts under the literal


def test_the_caret_window_follows_the_culprit_on_a_long_line():
    text = "x + " * 5_000 + "x.data"
    with pytest.raises(ParseError, match="attribute access") as info:
        parse(text)
    line, caret = str(info.value).splitlines()[-2:]
    assert len(line) < 200 and line.startswith("    ...")
    assert line[caret.index("^")] == "."


@pytest.mark.parametrize("text", ["x \x1b[31m", "x\x07", "x +\x00", "x\ry )"])
def test_control_characters_are_escaped_in_messages(text):
    with pytest.raises(ParseError) as info:
        parse(text)
    message = str(info.value)
    assert message.isprintable() or set(message) - set(filter(str.isprintable, message)) == {"\n"}
    line, caret = message.splitlines()[-2:]
    assert len(caret) <= len(line)


@pytest.mark.parametrize("pair", ["x=\x1b[2J", "\x1b=1", "x\x07"])
def test_control_characters_in_assignments_are_escaped(pair):
    with pytest.raises(ParseError) as info:
        parse_assignment(pair)
    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value)


def test_a_name_given_twice_shows_both_values_formatted_the_same():
    with pytest.raises(ParseError) as info:
        parse_assignments(["x=1", "x=2"])
    assert "(x=1.0 and x=2.0)" in str(info.value)


# --- hints for near misses (issue 19, item 13) ---------------------------------------------------
@pytest.mark.parametrize(("text", "meant"), [("sigmod(x)", "sigmoid"), ("tanhh(x)", "tanh"), ("Exp(x)", "exp"),
                                             ("squared_eror(x, 1)", "squared_error")])
def test_an_unknown_function_close_to_a_known_one_gets_a_did_you_mean(text, meant):
    with pytest.raises(ParseError, match=rf"did you mean {meant}\? the functions are"):
        parse(text)


def test_an_unknown_function_far_from_every_known_one_only_lists_them():
    with pytest.raises(ParseError) as caught:
        parse("frobnicate(x)")
    assert "did you mean" not in str(caught.value) and "the functions are" in str(caught.value)


def test_a_value_given_in_another_case_is_pointed_out():
    with pytest.raises(ParseError) as caught:
        parse("x * y").leaves({"X": 3.0, "y": 1.0})
    assert "no value for x: give x=<number> (X=3.0 was given: names are case-sensitive)" in str(caught.value)


def test_a_variable_in_another_case_that_the_expression_uses_is_no_hint():
    with pytest.raises(ParseError) as caught:
        parse("x * X").leaves({"X": 3.0})
    assert "case-sensitive" not in str(caught.value)
