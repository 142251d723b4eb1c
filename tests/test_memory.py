"""Graphs hold no reference cycles: reference counting alone frees them.

A node refers to its inputs only, never to its consumers, so dropping the root
frees the whole graph at once, without waiting for the cycle collector. The
tests run with the collector disabled to prove it.
"""

import gc
import weakref
from contextlib import contextmanager

from autograd_mini import Value, dot, gradients, no_grad, sum_of
from autograd_mini.nn.losses import squared_error


@contextmanager
def collector_disabled():
    """Run the block with the cyclic GC off, after clearing earlier garbage."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def small_network(w):
    """A two-neuron chain with shared subexpressions and every kind of op."""
    x = 0.5
    h = dot([w[0], w[1]], [x, 1.0]).sigmoid()
    g = (h * h + h.tanh() - (w[2] / 2.0) ** 2).relu() + abs(w[1]).sqrt() + (h + 1.0).log()
    y = sum_of([g * w[2], h.exp(), 2 ** w[0], (abs(w[1]) + 0.1) ** w[2]]).sigmoid()
    return squared_error(y, 1.0), h


def test_dropping_the_root_frees_consumers_immediately():
    with collector_disabled():
        w = [Value(0.3), Value(-0.7), Value(1.1)]
        loss, h = small_network(w)
        consumer = weakref.ref(h)  # a node that consumes the leaves w[0] and w[1]
        del h
        assert consumer() is not None  # still reachable from the loss
        loss.backward()
        del loss
        assert consumer() is None  # freed by reference counting, not by gc
        assert all(v.grad != 0.0 for v in w)  # the leaves are untouched


def test_gradients_leave_no_reference_to_the_graph():
    with collector_disabled():
        w = [Value(0.3), Value(-0.7), Value(1.1)]
        loss, h = small_network(w)
        consumer = weakref.ref(h)
        del h
        grads = gradients(loss, w)
        del loss
        assert consumer() is None
        assert len(grads) == 3


def test_gc_finds_no_unreachable_objects_after_dropping_a_graph():
    with collector_disabled():
        w = [Value(0.3), Value(-0.7), Value(1.1)]
        for _ in range(5):
            loss, _ = small_network(w)
            loss.backward()
            with no_grad():
                update = [v - 0.1 * v.grad for v in w]
            w = [Value(u.data) for u in update]
            del loss, update
        found = gc.collect()
    assert found == 0


def test_a_leaf_does_not_keep_its_consumers_alive():
    with collector_disabled():
        a = Value(2.0)
        b = a * a
        ref = weakref.ref(b)
        del b
        assert ref() is None
        assert a.data == 2.0


def test_create_graph_gradients_leave_no_cycle():
    with collector_disabled():
        x = Value(0.7)
        y = (x * x).tanh() * x
        (g,) = gradients(y, [x], create_graph=True)
        (gg,) = gradients(g, [x])
        consumer = weakref.ref(y)
        del x, y, g
        assert consumer() is None
        assert gc.collect() == 0
    assert isinstance(gg, float)
