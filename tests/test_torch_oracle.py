"""PyTorch (float64) as an independent oracle for values and gradients.

Every differentiable op, and random mixed expressions with shared
subexpressions, must agree with torch.autograd to about 1e-12 relative.
"""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_mini import Value, dot, sum_of
from autograd_mini.nn.losses import squared_error

torch = pytest.importorskip("torch")


def reals(lo=-10.0, hi=10.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def nonzero(lo=1e-3, hi=10.0):
    return st.tuples(reals(lo, hi), st.booleans()).map(lambda p: -p[0] if p[1] else p[0])


def close(ours, theirs, rel=1e-12, scale=1.0):
    """Relative agreement, with an absolute floor relative to `scale` for results near 0."""
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=1e-14 * scale)


def tensors(xs):
    return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]


# name: (strategy of inputs, our expression, torch expression); each takes the list of inputs
CASES = {
    "add":           (st.tuples(reals(), reals()), lambda v: v[0] + v[1], lambda t: t[0] + t[1]),
    "radd":          (st.tuples(reals()), lambda v: 2.5 + v[0], lambda t: 2.5 + t[0]),
    "sub":           (st.tuples(reals(), reals()), lambda v: v[0] - v[1], lambda t: t[0] - t[1]),
    "rsub":          (st.tuples(reals()), lambda v: 2.5 - v[0], lambda t: 2.5 - t[0]),
    "mul":           (st.tuples(reals(), reals()), lambda v: v[0] * v[1], lambda t: t[0] * t[1]),
    "square":        (st.tuples(reals()), lambda v: v[0] * v[0], lambda t: t[0] * t[0]),
    "div":           (st.tuples(reals(), nonzero(0.1)), lambda v: v[0] / v[1], lambda t: t[0] / t[1]),
    "rdiv":          (st.tuples(nonzero(0.1)), lambda v: 3.0 / v[0], lambda t: 3.0 / t[0]),
    "neg":           (st.tuples(reals()), lambda v: -v[0], lambda t: -t[0]),
    "pow_int":       (st.tuples(nonzero(0.1, 5.0), st.integers(-3, 4)),
                      lambda v: v[0] ** v[1].data, lambda t: t[0] ** t[1].item()),
    "pow_frac":      (st.tuples(reals(0.1, 5.0), reals(-2.5, 2.5)),
                      lambda v: v[0] ** v[1].data, lambda t: t[0] ** t[1].item()),
    "pow_value":     (st.tuples(reals(0.1, 5.0), reals(-3.0, 3.0)), lambda v: v[0] ** v[1], lambda t: t[0] ** t[1]),
    "rpow":          (st.tuples(reals(-5.0, 5.0)), lambda v: 2.5 ** v[0], lambda t: 2.5 ** t[0]),
    "sum":           (st.lists(reals(), min_size=1, max_size=6), sum_of, lambda t: torch.stack(t).sum()),
    "dot":           (st.integers(1, 4).flatmap(lambda n: st.lists(reals(), min_size=2 * n, max_size=2 * n)),
                      lambda v: dot(v[: len(v) // 2], v[len(v) // 2 :]),
                      lambda t: torch.dot(torch.stack(t[: len(t) // 2]), torch.stack(t[len(t) // 2 :]))),
    "exp":           (st.tuples(reals(-30.0, 30.0)), lambda v: v[0].exp(), lambda t: t[0].exp()),
    "log":           (st.tuples(reals(1e-3, 1e3)), lambda v: v[0].log(), lambda t: t[0].log()),
    "sqrt":          (st.tuples(reals(1e-3, 1e3)), lambda v: v[0].sqrt(), lambda t: t[0].sqrt()),
    "abs":           (st.tuples(reals()), lambda v: v[0].abs(), lambda t: t[0].abs()),
    "tanh":          (st.tuples(reals(-20.0, 20.0)), lambda v: v[0].tanh(), lambda t: t[0].tanh()),
    "sigmoid":       (st.tuples(reals(-40.0, 40.0)), lambda v: v[0].sigmoid(), lambda t: t[0].sigmoid()),
    "relu":          (st.tuples(reals()), lambda v: v[0].relu(), lambda t: t[0].relu()),
    "squared_error": (st.tuples(reals(), reals()), lambda v: squared_error(v[0], v[1]),
                      lambda t: 0.5 * (t[1] - t[0]) ** 2),
}


def compare(xs, ours_fn, theirs_fn, rel=1e-12):
    leaves = [Value(x) for x in xs]
    out = ours_fn(leaves)
    out.backward()
    ts = tensors(xs)
    ref = theirs_fn(ts)
    ref.backward()
    scale = max(1.0, abs(ref.item()))
    assert close(out.data, ref.item(), rel, scale), (out.data, ref.item())
    for leaf, t in zip(leaves, ts):
        expected = t.grad.item() if t.grad is not None else 0.0
        assert close(leaf.grad, expected, rel, max(1.0, abs(expected))), (leaf.grad, expected)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_op_matches_torch(name, data):
    strategy, ours, theirs = CASES[name]
    compare(list(data.draw(strategy, label="inputs")), ours, theirs)


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_kinks_use_torch_conventions(name):
    _, ours, theirs = CASES[name]
    compare([0.0], ours, theirs)  # derivative taken as 0 at 0, as torch does


@pytest.mark.parametrize("x", [-1000.0, -745.0, -700.0, 700.0, 1000.0])
def test_saturating_activations_match_torch(x):
    for name in ("sigmoid", "tanh"):
        _, ours, theirs = CASES[name]
        compare([x], ours, theirs)


# --- mixed expressions ------------------------------------------------------------------------
# Each step: (arity, our function, torch function), the same formula on both sides.
STEPS = {
    "add":     (2, lambda a, b: a + b, lambda a, b: a + b),
    "mul":     (2, lambda a, b: a * b, lambda a, b: a * b),
    "sub":     (2, lambda a, b: a - b, lambda a, b: a - b),
    "div":     (2, lambda a, b: a / (1.5 + b * b), lambda a, b: a / (1.5 + b * b)),
    "tanh":    (1, lambda a: a.tanh(), lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    "exp":     (1, lambda a: a.tanh().exp(), lambda a: a.tanh().exp()),
    "log":     (1, lambda a: (1.0 + a * a).log(), lambda a: (1.0 + a * a).log()),
    "sqrt":    (1, lambda a: (0.5 + a * a).sqrt(), lambda a: (0.5 + a * a).sqrt()),
    "cube":    (1, lambda a: a**3, lambda a: a**3),
    "powv":    (2, lambda a, b: (1.0 + a * a) ** b.tanh(), lambda a, b: (1.0 + a * a) ** b.tanh()),
    "sqerr":   (2, squared_error, lambda a, b: 0.5 * (b - a) ** 2),
    "dot":     (4, lambda a, b, c, d: dot([a, b], [c, d]), lambda a, b, c, d: a * c + b * d),
}


@st.composite
def expressions(draw):
    leaves = draw(st.lists(reals(-2.0, 2.0), min_size=1, max_size=4))
    recipe = []
    for k in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(sorted(STEPS)))
        pool = len(leaves) + k
        index = st.one_of(st.integers(max(0, pool - 3), pool - 1), st.integers(0, pool - 1))
        recipe.append((name, tuple(draw(st.lists(index, min_size=STEPS[name][0], max_size=STEPS[name][0])))))
    outputs = draw(st.lists(st.integers(0, len(leaves) + len(recipe) - 1), min_size=1, max_size=3))
    return leaves, recipe, outputs


def replay(leaves, recipe, outputs, side):
    """Build the expression with STEPS' function number `side` (1: ours, 2: torch)."""
    nodes = list(leaves)
    for name, picks in recipe:
        nodes.append(STEPS[name][side](*[nodes[i] for i in picks]))
    out = nodes[outputs[0]]
    for i in outputs[1:]:
        out = out + nodes[i]
    return out * 1.0, nodes


@given(expr=expressions())
def test_mixed_expressions_match_torch(expr):
    values, recipe, outputs = expr
    leaves = [Value(x) for x in values]
    out, nodes = replay(leaves, recipe, outputs, 1)
    assume(all(abs(n.data) < 1e6 for n in nodes))
    out.backward()
    ts = tensors(values)
    ref, _ = replay(ts, recipe, outputs, 2)
    ref.backward()
    assert close(out.data, ref.item(), 1e-12, max(1.0, abs(ref.item())))
    grad_scale = max([1.0] + [abs(t.grad.item()) for t in ts if t.grad is not None])
    for leaf, t in zip(leaves, ts):
        expected = t.grad.item() if t.grad is not None else 0.0
        # summing paths of opposite sign cancels: allow 1e-12 of the largest gradient
        assert math.isclose(leaf.grad, expected, rel_tol=1e-12, abs_tol=1e-12 * grad_scale), (leaf.grad, expected)


def test_chain_of_neurons_matches_torch():
    w = [0.3, -1.2, 0.8]
    ours = [Value(x) for x in w]
    o = Value(0.5)
    for wi in ours:
        o = (wi * o).sigmoid()
    e = squared_error(o, 1.0)
    e.backward()
    ts = tensors(w)
    ot = torch.tensor(0.5, dtype=torch.float64)
    for wt in ts:
        ot = (wt * ot).sigmoid()
    et = 0.5 * (1.0 - ot) ** 2
    et.backward()
    assert close(e.data, et.item())
    for v, t in zip(ours, ts):
        assert close(v.grad, t.grad.item())
