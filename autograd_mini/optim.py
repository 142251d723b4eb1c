"""Optimizers: update parameters in place from their `.grad` after `backward()`.

Both read `p.grad` (a float) and write `p.data`; they record nothing in the
graph. Typical loop:

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(100):
        opt.zero_grad()
        loss = ...
        loss.backward()
        opt.step()
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .errors import NumericOverflowError
from .value import Value


class Optimizer:
    """Holds the parameters; `zero_grad()` resets their gradients."""

    def __init__(self, params: Iterable[Value]) -> None:
        self.params = _check_params(params, type(self).__name__)

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its current `.grad`."""
        raise NotImplementedError

    def _grads(self) -> list[float]:
        grads = []
        for i, p in enumerate(self.params):
            g = p.grad
            if isinstance(g, Value) or isinstance(g, bool) or not isinstance(g, (int, float)):
                raise TypeError(
                    f"{type(self).__name__}.step: parameter {i} ({p.label or 'unlabelled'}) has grad "
                    f"{g!r}; expected a float (use backward() without create_graph)"
                )
            if not math.isfinite(g):
                raise NumericOverflowError(f"{type(self).__name__}.step: parameter {i} has a non-finite grad {g!r}")
            grads.append(float(g))
        return grads

    def _assign(self, p: Value, i: int, new: float) -> None:
        if not math.isfinite(new):
            raise NumericOverflowError(f"{type(self).__name__}.step: parameter {i} would become {new!r}")
        p.data = new


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball) momentum.

    v <- momentum * v + grad;  p <- p - lr * v   (plain SGD when momentum = 0).
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.lr = _check_real(lr, "SGD", "lr", low=0.0, low_open=True)
        self.momentum = _check_real(momentum, "SGD", "momentum", low=0.0, high=1.0)
        self.velocity = [0.0] * len(self.params)

    def step(self) -> None:
        """p <- p - lr * (momentum * v + grad)."""
        grads = self._grads()
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            v = self.momentum * self.velocity[i] + g
            self.velocity[i] = v
            self._assign(p, i, p.data - self.lr * v)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with bias-corrected moment estimates.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr = _check_real(lr, "Adam", "lr", low=0.0, low_open=True)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = _check_real(betas[0], "Adam", "betas[0]", low=0.0, high=1.0)
        self.beta2 = _check_real(betas[1], "Adam", "betas[1]", low=0.0, high=1.0)
        self.eps = _check_real(eps, "Adam", "eps", low=0.0, low_open=True)
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        """One Adam update of every parameter."""
        grads = self._grads()
        self.t += 1
        c1 = 1.0 - self.beta1**self.t
        c2 = 1.0 - self.beta2**self.t
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            m = self.beta1 * self.m[i] + (1.0 - self.beta1) * g
            v = self.beta2 * self.v[i] + (1.0 - self.beta2) * g * g
            self.m[i], self.v[i] = m, v
            self._assign(p, i, p.data - self.lr * (m / c1) / (math.sqrt(v / c2) + self.eps))


def _check_params(params: Iterable[Value], name: str) -> list[Value]:
    if isinstance(params, Value):
        raise TypeError(f"{name}: params must be an iterable of Values (e.g. model.parameters()), got one Value")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{name}: params must be an iterable of Values, got {type(params).__name__}") from None
    if not items:
        raise ValueError(f"{name}: params is empty; pass model.parameters()")
    seen = set()
    for i, p in enumerate(items):
        if not isinstance(p, Value):
            raise TypeError(f"{name}: params[{i}] must be a Value, got {type(p).__name__}")
        if id(p) in seen:
            raise ValueError(f"{name}: params[{i}] ({p.label or 'unlabelled'}) appears twice")
        seen.add(id(p))
    return items


def _check_real(
    x: object, owner: str, name: str, low: float, high: float | None = None, low_open: bool = False
) -> float:
    """x as a float in [low, high) (or (low, ...) when low_open), else TypeError/ValueError."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{owner}: {name} must be a number, got {x!r}")
    value = float(x)
    too_low = value <= low if low_open else value < low
    if not math.isfinite(value) or too_low or (high is not None and value >= high):
        interval = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'})"
        raise ValueError(f"{owner}: {name} must be finite and in {interval}, got {x!r}")
    return value
