"""backward() and gradients(): the chain rule over whole graphs.

Oracles: the hand-written products of local derivatives of (1.9) and (1.10),
central finite differences on hypothesis-generated DAGs with shared
subexpressions, and exact arithmetic on a million-node chain.
"""

import gc
import math
import sys
import weakref

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_mini import DomainError, Value, dot, gradients, sum_of
from autograd_mini.engine import backpropagate
from autograd_mini.graph import reverse_topological_order
from autograd_mini.nn.losses import squared_error
from autograd_mini.testing import expressions


# --- the worked example: a chain of single sigmoid neurons, (1.9) and (1.10) ----------------
def phi(z):
    """(1.2), written out independently of the library."""
    return 1.0 / (1.0 + math.exp(-z))


def test_chain_of_neurons_matches_equations_1_9_and_1_10():
    x, t = 0.5, 1.0
    w1, w2, w3 = Value(0.3, label="w1"), Value(-1.2, label="w2"), Value(0.8, label="w3")
    o1 = (w1 * x).sigmoid()
    o2 = (w2 * o1).sigmoid()
    y = (w3 * o2).sigmoid()
    e = squared_error(y, t)
    e.backward()

    # forward values by hand: O_j = phi(net_j), (1.1)
    O1 = phi(0.3 * x)
    O2 = phi(-1.2 * O1)
    Y = phi(0.8 * O2)
    assert math.isclose(e.data, 0.5 * (t - Y) ** 2, rel_tol=1e-14)

    dE_dy = Y - t                          # (1.6)
    dy_dnet3 = Y * (1 - Y)                 # (1.3)
    dnet3_dw3 = O2                         # dnet_j / dw_ij = O_i, (1.5)
    dnet3_dO2 = 0.8                        # = w3
    dO2_dnet2 = O2 * (1 - O2)              # (1.3)
    dnet2_dw2 = O1
    dnet2_dO1 = -1.2                       # = w2
    dO1_dnet1 = O1 * (1 - O1)              # (1.3)
    dnet1_dw1 = x

    # (1.9): the weight into the output neuron
    assert math.isclose(w3.grad, dE_dy * dy_dnet3 * dnet3_dw3, rel_tol=1e-13)
    # (1.10): one layer further back, dE/dO_{j-1} = dE/dO_j * dO_j/dnet_j * dnet_j/dO_{j-1} (1.8)
    dE_dO2 = dE_dy * dy_dnet3 * dnet3_dO2
    assert math.isclose(w2.grad, dE_dO2 * dO2_dnet2 * dnet2_dw2, rel_tol=1e-13)
    # and the same recursion once more
    dE_dO1 = dE_dO2 * dO2_dnet2 * dnet2_dO1
    assert math.isclose(w1.grad, dE_dO1 * dO1_dnet1 * dnet1_dw1, rel_tol=1e-13)
    # the interior nodes hold their own partial derivatives
    assert math.isclose(y.grad, dE_dy, rel_tol=1e-15)
    assert math.isclose(o2.grad, dE_dO2, rel_tol=1e-13)
    assert math.isclose(o1.grad, dE_dO1, rel_tol=1e-13)


# --- random DAGs with shared subexpressions vs finite differences -------------------------
# Each step combines earlier nodes (picked by index, so a node can be used twice by one op:
# a*a, or by many later ops: diamonds). The ops keep values bounded and smooth.
STEPS = {
    "add":     (2, lambda a, b: a + b),
    "sub":     (2, lambda a, b: a - b),
    "mul":     (2, lambda a, b: a * b),
    "div":     (2, lambda a, b: a / (1.5 + b * b)),
    "tanh":    (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "exp":     (1, lambda a: (a.tanh() * 2).exp()),
    "log":     (1, lambda a: (1 + a * a).log()),
    "sqrt":    (1, lambda a: (0.5 + a * a).sqrt()),
    "pow":     (1, lambda a: a**3),
    "rpow":    (1, lambda a: 2 ** a.tanh()),
    "powv":    (2, lambda a, b: (1 + a * a) ** b.tanh()),
    "neg":     (1, lambda a: -a),
    "sum":     (3, lambda a, b, c: sum_of([a, b, c, 1.0])),
    "dot":     (4, lambda a, b, c, d: dot([a, b], [c, d])),
    "sqerr":   (2, lambda a, b: squared_error(a, b)),
}


@st.composite
def dags(draw, max_leaves=4, max_steps=14):
    """(leaf values, recipe): recipe steps are (op name, indices of earlier nodes)."""
    leaves = draw(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=max_leaves))
    n_steps = draw(st.integers(1, max_steps))
    recipe = []
    for k in range(n_steps):
        name = draw(st.sampled_from(sorted(STEPS)))
        arity = STEPS[name][0]
        pool = len(leaves) + k
        # bias towards recent nodes so graphs get deep, while old ones stay reusable
        index = st.one_of(st.integers(max(0, pool - 3), pool - 1), st.integers(0, pool - 1))
        picks = draw(st.lists(index, min_size=arity, max_size=arity))
        recipe.append((name, tuple(picks)))
    # the output mixes a few nodes, so several of them have more than one consumer
    outputs = draw(st.lists(st.integers(0, len(leaves) + n_steps - 1), min_size=1, max_size=3))
    return leaves, recipe, outputs


def replay(leaf_values, recipe, outputs):
    """Build the DAG on fresh leaves; return (output, leaves, every node)."""
    leaves = [Value(x) for x in leaf_values]
    nodes = list(leaves)
    for name, picks in recipe:
        nodes.append(STEPS[name][1](*[nodes[i] for i in picks]))
    out = nodes[outputs[0]]
    for i in outputs[1:]:
        out = out + nodes[i]
    if out.op is None:  # a bare leaf: give it one op so backward has a graph
        out = out * 1.0
    return out, leaves, nodes


def central_difference(leaf_values, recipe, outputs, i):
    h = 1e-6 * max(1.0, abs(leaf_values[i]))
    up, down = list(leaf_values), list(leaf_values)
    up[i] += h
    down[i] -= h
    return (replay(up, recipe, outputs)[0].data - replay(down, recipe, outputs)[0].data) / (up[i] - down[i])


@given(dag=dags())
def test_random_dag_gradients_match_finite_differences(dag):
    leaf_values, recipe, outputs = dag
    out, leaves, nodes = replay(leaf_values, recipe, outputs)
    assume(all(abs(n.data) < 1e3 for n in nodes) and abs(out.data) < 1e3)
    out.backward()
    for i, leaf in enumerate(leaves):
        numeric = central_difference(leaf_values, recipe, outputs, i)
        assert math.isclose(leaf.grad, numeric, rel_tol=1e-4, abs_tol=1e-5 * max(1.0, abs(out.data))), (
            i,
            leaf.grad,
            numeric,
        )


@given(dag=dags())
def test_gradients_function_agrees_with_backward(dag):
    out, leaves, _ = replay(*dag)
    functional = gradients(out, leaves)
    assert all(v.grad == 0.0 for v in leaves)  # gradients() leaves .grad alone
    out.backward()
    assert functional == [v.grad for v in leaves]


# --- the float fast path against the reference backward (engine.backpropagate) ----------------
@given(expr=expressions(max_leaves=3, max_ops=10), old=st.sampled_from([0.0, 0.5, -2.0]),
       seed=st.sampled_from([1.0, -0.25]), constant=st.booleans())
def test_the_fast_path_gives_the_reference_backwards_gradients_on_every_node(expr, old, seed, constant):
    """backward() (in place, rollback, identity tests) equals backpropagate (a dict, the idea).

    Every node that requires a gradient gets the reference's gradient exactly (the same rules
    summed in the same order); leaves add it to what they held; constants keep their .grad.
    """
    out, slots, _ = expr.build(expr.inputs)
    leaves = slots[: expr.n_inputs]
    if constant:
        leaves[0].requires_grad = False  # a constant input: it and what only it feeds get nothing
    for leaf in leaves:
        leaf.grad = old
    reference = backpropagate(out, seed)
    out.backward(seed)
    for node in reverse_topological_order(out):
        before = old if node in leaves else 0.0
        if not node.requires_grad:
            assert node.grad == before
        elif node.inputs:
            assert node.grad == reference.get(node, 0.0)
        else:
            assert node.grad == before + reference.get(node, 0.0)


@given(dag=dags())
def test_reverse_topological_order_puts_consumers_first(dag):
    out, _, _ = replay(*dag)
    order = reverse_topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    assert order[0] is out
    assert len(position) == len(order)  # each node once
    for node in order:
        for x in node.inputs:
            assert position[x] > position[node]


# --- shared subexpressions by hand ---------------------------------------------------------
def test_diamond():
    a = Value(2.0)
    b = a * 3.0
    c = a + 1.0
    d = b * c  # a reaches d along two paths: sum them (1.8)
    d.backward()
    assert a.grad == 3.0 * c.data + b.data * 1.0 == 15.0  # d/da (3a (a + 1)) = 6a + 3
    assert b.grad == 3.0 and c.grad == 6.0


def test_stacked_diamonds_sum_paths_once():
    a = Value(1.0)
    x = a
    for _ in range(20):
        x = x * 0.5 + x * 0.5  # value and derivative unchanged, 2**20 paths
    x.backward()
    assert x.data == 1.0
    assert a.grad == 1.0


# --- a million-node chain ------------------------------------------------------------------
def test_million_deep_chain_backward_and_deallocation():
    limit = sys.getrecursionlimit()
    n = 1_000_000
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        x0 = Value(1.0, label="x0")
        x = x0 + 1.0
        first = weakref.ref(x)
        for _ in range(n - 1):
            x = x + 1.0
        assert x.data == n + 1.0
        x.backward()
        assert x0.grad == 1.0  # exact: every local derivative on the path is 1
        assert first().grad == 1.0
        del x  # freeing a 1e6-deep chain must not overflow the C stack
        assert first() is None  # freed by reference counting alone
    finally:
        if gc_was_enabled:
            gc.enable()
    assert sys.getrecursionlimit() == limit


# --- backward twice ------------------------------------------------------------------------
def fan_out_graph():
    a, b = Value(1.5, label="a"), Value(-0.5, label="b")
    c = a * b  # interior, used three times
    d = c * c + c.tanh()
    e = d * a + d  # d used twice
    return a, b, [c, d, e], e


def test_backward_twice_doubles_leaves_and_keeps_interior():
    a, b, interior, root = fan_out_graph()
    root.backward()
    first_leaves = (a.grad, b.grad)
    first_interior = [n.grad for n in interior]
    assert first_interior[-1] == 1.0
    root.backward()
    assert (a.grad, b.grad) == (2 * first_leaves[0], 2 * first_leaves[1])
    assert [n.grad for n in interior] == first_interior
    for _ in range(8):
        root.backward()
    assert math.isclose(a.grad, 10 * first_leaves[0], rel_tol=1e-14)  # not 3x or 10x compounded
    assert math.isclose(b.grad, 10 * first_leaves[1], rel_tol=1e-14)
    assert [n.grad for n in interior] == first_interior


def test_zeroing_leaves_between_passes_gives_the_same_gradient():
    a, b, _, root = fan_out_graph()
    root.backward()
    first = (a.grad, b.grad)
    a.grad = b.grad = 0.0
    root.backward()
    assert (a.grad, b.grad) == first


def test_a_pass_failing_late_restores_written_and_zeroed_grads_alike():
    # x starts nonzero (saved and zeroed by the walk), w at 0.0 (written in place, not saved),
    # the interior nodes hold the previous pass's gradients; the sqrt rule fails after x and w got theirs.
    x, w = Value(4.0), Value(2.0)
    h = x * w
    s = (w - 2.0).sqrt()
    y = h + h * s
    with pytest.raises(DomainError, match="sqrt"):
        y.backward()
    assert [n.grad for n in (x, w, h, s, y)] == [0.0, 0.0, 0.0, 0.0, 0.0]
    s.data = 1.0
    y.backward()  # dy/dh = 1 + s = 2, dy/ds = h = 8; x.grad = 2 * w, w.grad = 2 * x + 8 * 0.5 / s
    assert [n.grad for n in (x, w, h, s, y)] == [4.0, 12.0, 2.0, 8.0, 1.0]
    x.grad = 5.0
    w.grad = 0.0
    s.data = 0.0  # a failure again, now with a nonzero leaf and nonzero interior grads
    with pytest.raises(DomainError, match="sqrt"):
        y.backward()
    assert [n.grad for n in (x, w, h, s, y)] == [5.0, 0.0, 2.0, 8.0, 1.0]
    s.data = 1.0
    y.backward()
    assert [n.grad for n in (x, w, h, s, y)] == [9.0, 12.0, 2.0, 8.0, 1.0]


def test_backward_from_a_leaf():
    a = Value(3.0)
    a.backward()
    assert a.grad == 1.0


def test_backward_needs_a_value():
    from autograd_mini.engine import backward

    with pytest.raises(TypeError, match="float"):
        backward(1.0)
    with pytest.raises(TypeError, match="int"):
        gradients(3, [])


# --- gradients() -------------------------------------------------------------------------
def test_gradients_basics():
    x, y, unused = Value(2.0), Value(3.0), Value(7.0)
    z = x * y + x
    gx, gy, gu, gz = gradients(z, [x, y, unused, z])
    assert (gx, gy, gu, gz) == (4.0, 2.0, 0.0, 1.0)
    assert all(type(g) is float for g in (gx, gy, gu, gz))
    assert (x.grad, y.grad, z.grad) == (0.0, 0.0, 0.0)


def test_gradients_of_an_interior_node():
    x = Value(2.0)
    h = x * x
    out = h.exp()
    (gh,) = gradients(out, [h])
    assert math.isclose(gh, math.exp(4.0), rel_tol=1e-15)


# --- second derivatives (light: higher order has its own tests) -------------------------------
SECOND = [
    # build, x, f'(x), f''(x)
    (lambda x: x**3, 1.5, 3 * 1.5**2, 6 * 1.5),
    (lambda x: x.exp(), 0.7, math.exp(0.7), math.exp(0.7)),
    (lambda x: x.log(), 0.7, 1 / 0.7, -1 / 0.7**2),
    (lambda x: x.tanh(), 0.4, 1 - math.tanh(0.4) ** 2, -2 * math.tanh(0.4) * (1 - math.tanh(0.4) ** 2)),
    (lambda x: x.sigmoid(), 0.4, phi(0.4) * (1 - phi(0.4)), phi(0.4) * (1 - phi(0.4)) * (1 - 2 * phi(0.4))),
    (lambda x: x.sqrt(), 2.0, 0.5 / math.sqrt(2.0), -0.25 * 2.0**-1.5),
    (lambda x: 1 / x, 2.0, -0.25, 0.25),
]


@pytest.mark.parametrize("build, x0, d1, d2", SECOND)
def test_gradients_create_graph_second_derivative(build, x0, d1, d2):
    x = Value(x0)
    (g,) = gradients(build(x), [x], create_graph=True)
    assert isinstance(g, Value)
    assert math.isclose(g.data, d1, rel_tol=1e-13)
    (gg,) = gradients(g, [x])
    assert math.isclose(gg, d2, rel_tol=1e-12)


def test_backward_create_graph_gives_differentiable_grads():
    x = Value(1.5)
    y = x**3 + x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert math.isclose(x.grad.data, 3 * 1.5**2 + 2 * 1.5, rel_tol=1e-15)
    (second,) = gradients(x.grad, [x])
    assert math.isclose(second, 6 * 1.5 + 2, rel_tol=1e-15)


def test_second_derivative_matches_finite_difference_of_first():
    def first(x0):
        x = Value(x0)
        return gradients((x * x.sigmoid()).tanh() * x, [x])[0]

    x = Value(0.8)
    (g,) = gradients((x * x.sigmoid()).tanh() * x, [x], create_graph=True)
    (gg,) = gradients(g, [x])
    h = 1e-6
    assert math.isclose(gg, (first(0.8 + h) - first(0.8 - h)) / (2 * h), rel_tol=1e-6)


def test_deep_chain_through_gradients_and_create_graph():
    limit = sys.getrecursionlimit()
    x0 = Value(0.5)
    x = x0
    for _ in range(100_000):
        x = x * 1.0 + 0.0
    assert gradients(x, [x0]) == [1.0]
    (g,) = gradients(x, [x0], create_graph=True)
    assert g.data == 1.0
    assert sys.getrecursionlimit() == limit


def test_a_constant_node_keeps_its_grad_and_raises_nothing_in_a_pass_good_or_failed():
    # c is a node of constants only: what would flow to it (1e10 * 1e300) overflows, and is dropped.
    k = Value(1e-300, requires_grad=False)
    c = k * 1.0
    c.grad = 7.0
    x = Value(1e300)
    y = x * c
    y.backward(1e10)
    assert (x.grad, c.grad, k.grad) == (1e10 * 1e-300, 7.0, 0.0)
    s = (x - 1e300).sqrt()
    with pytest.raises(DomainError, match="sqrt"):
        (x * c + x * s).backward()
    assert (x.grad, c.grad, k.grad) == (1e10 * 1e-300, 7.0, 0.0)
