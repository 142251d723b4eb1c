'''The exercise: `autograd-mini check --template > engine.py` writes `TEMPLATE`.

A micrograd-sized engine whose forward passes are written and whose backward
rules and `backward()` are TODOs. Graded as it is, the checker says that no
gradient flows; each TODO filled in turns one finding into a pass, until
`autograd-mini check engine.py:Value` exits with 0.
'''

from __future__ import annotations

TEMPLATE = '''\
"""My autodiff engine. Fill in every TODO, then run:  autograd-mini check engine.py:Value"""
import math


class Value:
    """A scalar that remembers how it was computed."""

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None  # adds out.grad * d(out)/d(input) into each input's .grad
        self._prev = tuple(_children)  # a tuple, not a set: in a * a the input is there twice
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            pass  # TODO: d(out)/d(self) = 1 and d(out)/d(other) = 1; add (+=), never assign (=)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            pass  # TODO: d(out)/d(self) = other.data and d(out)/d(other) = self.data
        out._backward = _backward
        return out

    def __pow__(self, n):
        assert isinstance(n, (int, float)), "only a number exponent"
        out = Value(self.data ** n, (self,), f"**{n}")

        def _backward():
            pass  # TODO: d(out)/d(self) = n * self.data ** (n - 1)
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            pass  # TODO: d(out)/d(self) = 1 - t ** 2
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            pass  # TODO: d(out)/d(self) = out.data
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():
            pass  # TODO: d(out)/d(self) = 1 if self.data > 0 else 0
        out._backward = _backward
        return out

    def backward(self):
        # TODO: list every node once, inputs before the nodes that use them (a topological
        # order), with a loop and a stack: a recursive function fails on a deep graph.
        topo = []
        # TODO: zero the .grad of every node that has inputs (so that a second backward()
        # does not start from the last one's), then seed self.grad = 1.0.
        for v in reversed(topo):
            v._backward()

    def __neg__(self):  # -self
        return self * -1.0

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __rsub__(self, other):  # other - self
        return other + (-self)

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):  # self / other
        return self * other ** -1.0

    def __rtruediv__(self, other):  # other / self
        return other * self ** -1.0

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"
'''
