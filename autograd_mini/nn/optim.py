"""Optimizers: update parameters in place from their `.grad` after `backward()`.

They read `p.grad` and write `p.data`, recording nothing in the graph. Each rule
is written once, on arrays (`_update`), and `train.fit` steps these same objects:

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(100):
        opt.zero_grad(); loss = ...; loss.backward(); opt.step()
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import NumericOverflowError
from ..params import check_params
from ..value import Value

Array = NDArray[np.float64]
State = dict[str, Any]


class Optimizer:
    """Holds the parameters; `zero_grad()` resets their gradients, `step()` updates them.

    Subclasses implement `_update(data, grads)`, the rule on arrays.
    """

    lr: float

    def __init__(self, params: Iterable[Value]) -> None:
        self.params = check_params(params, type(self).__name__)

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its current `.grad`.

        All or nothing: if any new value would not be finite, NumericOverflowError
        is raised before any parameter or any state changes.
        """
        grads = self._grads()
        self.step_arrays(np.array([p.data for p in self.params], dtype=float), grads)

    def step_arrays(self, data: Array, grads: Array, write: bool = True) -> Array:
        """`step()` on arrays already gathered (finite gradients, in the parameters' order).

        Returns the new values and writes them into `.data` when `write`. `train.fit`
        calls it with the tape's arrays, so a step touches no attribute of the
        parameters (fit writes them back at the end).
        """
        with np.errstate(all="ignore"):  # checked just below
            new, state = self._update(data, grads)
        if not np.isfinite(new).all():
            i = int(np.flatnonzero(~np.isfinite(new))[0])
            raise NumericOverflowError(f"{type(self).__name__}.step: parameter {i} would become {float(new[i])!r}")
        for name, array in state.items():
            setattr(self, name, array)
        if write:
            for p, x in zip(self.params, new.tolist(), strict=True):
                p.data = x
        return new

    def _update(self, data: Array, grads: Array) -> tuple[Array, State]:
        """(new parameter values, new state attributes) from the current ones; no side effects."""
        raise NotImplementedError

    def _grads(self) -> Array:
        """The parameters' `.grad` as a float array, each checked to be a finite number."""
        grads = [p.grad for p in self.params]
        if not set(map(type, grads)) <= {float}:  # the common case costs one pass
            self._check_grad_types(grads)
        array = np.array(grads, dtype=float)
        if not np.isfinite(array).all():
            i = int(np.flatnonzero(~np.isfinite(array))[0])
            raise NumericOverflowError(f"{type(self).__name__}.step: parameter {i} has a non-finite grad {grads[i]!r}")
        return array

    def _check_grad_types(self, grads: list[Any]) -> None:
        """TypeError naming the first parameter whose grad is not a number (in order,
        so an earlier non-finite grad is reported first, as one loop would)."""
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if isinstance(g, Value) or isinstance(g, bool) or not isinstance(g, (int, float)):
                raise TypeError(
                    f"{type(self).__name__}.step: parameter {i} ({p.label or 'unlabelled'}) has grad "
                    f"{g!r}; expected a float (use backward() without create_graph)"
                )
            if not math.isfinite(g):
                raise NumericOverflowError(f"{type(self).__name__}.step: parameter {i} has a non-finite grad {g!r}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball) momentum.

    v <- momentum * v + grad;  p <- p - lr * v   (plain SGD when momentum = 0).
    `lr` may be changed between steps (a schedule).
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.lr = check_real(lr, "SGD", "lr", low=0.0, low_open=True)
        self.momentum = check_real(momentum, "SGD", "momentum", low=0.0, high=1.0)
        self.velocity = np.zeros(len(self.params))

    def __repr__(self) -> str:
        return f"SGD({len(self.params)} parameters, lr={self.lr!r}, momentum={self.momentum!r})"

    def _update(self, data: Array, grads: Array) -> tuple[Array, State]:
        """p <- p - lr * (momentum * v + grad)."""
        velocity = self.momentum * self.velocity + grads
        return data - self.lr * velocity, {"velocity": velocity}


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with bias-corrected moment estimates.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    `lr` may be changed between steps (a schedule).
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr = check_real(lr, "Adam", "lr", low=0.0, low_open=True)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = check_real(betas[0], "Adam", "betas[0]", low=0.0, high=1.0)
        self.beta2 = check_real(betas[1], "Adam", "betas[1]", low=0.0, high=1.0)
        self.eps = check_real(eps, "Adam", "eps", low=0.0, low_open=True)
        self.t = 0
        self.m = np.zeros(len(self.params))
        self.v = np.zeros(len(self.params))

    def __repr__(self) -> str:
        betas = (self.beta1, self.beta2)
        return f"Adam({len(self.params)} parameters, lr={self.lr!r}, betas={betas!r}, eps={self.eps!r}, t={self.t})"

    def _update(self, data: Array, grads: Array) -> tuple[Array, State]:
        """One Adam update of every parameter."""
        t = self.t + 1
        c1 = 1.0 - self.beta1**t
        c2 = 1.0 - self.beta2**t
        m = self.beta1 * self.m + (1.0 - self.beta1) * grads
        v = self.beta2 * self.v + (1.0 - self.beta2) * grads * grads
        return data - self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps), {"t": t, "m": m, "v": v}


def check_real(
    x: object, owner: str, name: str, low: float, high: float | None = None, low_open: bool = False
) -> float:
    """x as a float in [low, high) (or (low, ...) when low_open), else TypeError/ValueError
    naming `owner` and `name`: the optimizers' hyperparameters and fit's learning rates."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{owner}: {name} must be a number, got {x!r}")
    value = float(x)
    too_low = value <= low if low_open else value < low
    if not math.isfinite(value) or too_low or (high is not None and value >= high):
        interval = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'})"
        raise ValueError(f"{owner}: {name} must be finite and in {interval}, got {x!r}")
    return value
