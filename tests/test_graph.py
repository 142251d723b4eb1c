"""graph.depending_on: the one "which nodes depend on x" that checking, explain and viz use."""

from __future__ import annotations

from autograd_mini import Value
from autograd_mini.graph import depending_on, reverse_topological_order


def test_nodes_on_some_path_from_wrt_to_root_root_first() -> None:
    x, y, z = Value(1.0, label="x"), Value(2.0, label="y"), Value(3.0, label="z")
    a = x * y
    b = y + z
    c = z.tanh()  # depends on z only
    root = a * b + c
    found = depending_on(root, x)
    assert found[0] is root and found[-1] is x
    assert set(found) == {root, root.inputs[0], a, x}
    order = reverse_topological_order(root)
    assert [n for n in order if n in set(found)] == found  # same order as backward's
    assert set(depending_on(root, y)) == {root, root.inputs[0], a, b, y}
    assert c not in depending_on(root, y)


def test_not_in_the_graph_gives_empty_and_root_gives_itself() -> None:
    x, other = Value(1.0), Value(5.0)
    root = (x * 2.0).exp()
    assert depending_on(root, other) == []
    assert depending_on(root, root) == [root]
    assert depending_on(x, x) == [x]


def test_a_given_order_is_used_and_deep_graphs_do_not_recurse() -> None:
    x = Value(0.5)
    y = x
    for _ in range(50_000):
        y = y * 1.0
    order = reverse_topological_order(y)
    found = depending_on(y, x, order)
    assert len(found) == 50_001 and found[0] is y and found[-1] is x


def _lecture_like() -> tuple[Value, list[Value]]:
    """A graph whose leaves are met many times (shared weights) next to constants and a constant subgraph."""
    w = [Value(0.5, label=f"w{i}") for i in range(3)]
    k = Value(2.0, requires_grad=False)
    terms = [(w[i % 3] * x + w[(i + 1) % 3] * (k * 3.0)).tanh() for i, x in enumerate([0.1, -0.4, 0.7, 1.3])]
    return sum(terms, w[0] * w[0]), w


def test_leaves_apart_are_the_listed_leaves_each_once_and_the_interior_order_is_kept() -> None:
    from autograd_mini.grad_mode import ConstantInputs

    root, w = _lecture_like()
    for skip in (None, ConstantInputs):
        full = reverse_topological_order(root, skip=skip)
        leaves: list[Value] = []
        interior = reverse_topological_order(root, skip=skip, leaves=leaves)
        assert interior == [n for n in full if n.inputs]
        assert len(set(leaves)) == len(leaves) and set(leaves) == {n for n in full if not n.inputs}
    constant_free: list[Value] = []
    reverse_topological_order(root, skip=ConstantInputs, leaves=constant_free)
    assert set(constant_free) == set(w)  # the lifted numbers and k are not walked


def test_roots_and_stop_walk_several_outputs_and_not_below_the_stops() -> None:
    from autograd_mini.graph import Roots

    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    h = (x * y).exp()  # stop here: x, y and x*y belong to an outer computation
    o1, o2 = h + 1.0, h * y
    order = reverse_topological_order(Roots([o1, o2]), stop=[h])
    assert isinstance(order[0], Roots) and {o1, o2} <= set(order)
    assert h not in order and x not in order and h.inputs[0] not in order
    assert y in order  # also an input of o2 directly
    position = {n: i for i, n in enumerate(order)}
    assert all(position[n] < position[i] for n in order[1:] for i in n.inputs if i in position)
