"""copy.deepcopy of a graph: iterative (deep graphs work), shares op rows, keeps sharing."""

import copy
import sys

from autograd_mini import Value
from autograd_mini.nn import MLP


def test_deepcopy_of_a_deep_graph_needs_no_recursion():
    x = Value(2.0, label="x")
    y = x
    for _ in range(20_000):
        y = y * 1.0000001
    assert 20_000 > sys.getrecursionlimit()
    clone = copy.deepcopy(y)
    assert clone.data == y.data and clone is not y
    clone.backward()
    assert x.grad == 0.0  # the original leaf is untouched: the clone has its own
    leaf = clone
    while leaf.inputs:
        leaf = leaf.inputs[0]
    assert leaf is not x and leaf.label == "x"
    assert abs(leaf.grad - 1.0000001**20_000) < 1e-9


def test_deepcopy_keeps_shared_nodes_shared_and_op_rows_identical():
    a = Value(3.0)
    b = a * a
    c = b + b
    clone = copy.deepcopy(c)
    assert clone.inputs[0] is clone.inputs[1]
    assert clone.inputs[0].inputs[0] is clone.inputs[0].inputs[1]
    assert clone.inputs[0] is not b and clone.op is c.op


def test_deepcopy_of_a_model_gives_independent_parameters():
    model = MLP(2, [3, 1], seed=0)
    twin = copy.deepcopy(model)
    assert twin([0.5, -1.0]).data == model([0.5, -1.0]).data
    twin.parameters()[0].data += 1.0
    assert twin([0.5, -1.0]).data != model([0.5, -1.0]).data
