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
