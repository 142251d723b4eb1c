"""The arrays a tape replays on: their library (numpy, or the inputs' own Array API namespace,
such as torch's) and the value and gradient matrices a replay reuses."""

from __future__ import annotations

from typing import Any

import numpy as np

from .schedule import Schedule

Array = Any
"""A float64 array of numpy or of another Array API namespace (a torch tensor, on its device)."""


def namespace(x: Any) -> Any:
    """numpy for numpy arrays, scalars and lists; otherwise the array's Array API namespace:
    `x.__array_namespace__()`, array-api-compat's when it is installed (an optional
    dependency), or torch itself for a torch tensor (its functions cover what the replay uses)."""
    if type(x) is np.ndarray or isinstance(x, (np.ndarray, np.generic)):
        return np
    get = getattr(x, "__array_namespace__", None)
    if get is not None:
        return get()
    if type(x).__module__.startswith("torch"):
        try:
            import array_api_compat  # type: ignore[import-not-found]  # optional, and ships no types

            return array_api_compat.array_namespace(x)
        except ImportError:
            import torch

            return torch
    return np


def to_numpy(array: Any) -> np.ndarray[Any, Any]:
    """Another namespace's array (torch, on any device) as a numpy array."""
    for step in ("detach", "cpu"):
        if hasattr(array, step):
            array = getattr(array, step)()
    return np.asarray(array)


def zeros(xp: Any, shape: tuple[int, ...], like: Array) -> Array:
    """Zeros of float64 in `like`'s namespace and on its device."""
    return np.zeros(shape) if xp is np else xp.zeros(shape, dtype=xp.float64, device=like.device)


def concat(xp: Any, parts: list[Array], axis: int = 0) -> Array:
    """Join arrays along `axis` (numpy < 2 has no `concat`)."""
    return np.concatenate(parts, axis=axis) if xp is np else xp.concat(parts, axis=axis)


def finite(array: Array) -> bool:
    """Every entry of `array` is finite (one reduction, in the array's namespace)."""
    if type(array) is np.ndarray:
        return bool(np.isfinite(array).all())
    return bool(namespace(array).isfinite(array).all())


class Buffers:
    """The value and gradient matrices, reused between replays of one batch size (a fresh
    matrix per step would be page-faulted in again at every large batch)."""

    def __init__(self, plan: Schedule, n_params: int, constants: list[float]) -> None:
        self.n_shared, self.n_batched = plan.n_shared, plan.n_batched
        self.n_params = n_params
        self.constants = np.array(constants, dtype=float)
        self.added_rows = plan.added_rows
        self._values: dict[tuple[int, type, Any], tuple[Array, Array]] = {}
        self._grads: tuple[Array, Array] | None = None

    def values(self, b: int, like: Array) -> tuple[Array, Array]:
        """(batched (n_batched, b), shared (n_shared, 1)) in `like`'s namespace, constants written."""
        key = (b, type(like), getattr(like, "device", None))
        if key not in self._values:
            xp = namespace(like)
            values = zeros(xp, (self.n_batched, b), like)
            shared = zeros(xp, (self.n_shared, 1), like)
            shared[self.n_params : self.n_params + len(self.constants), 0] = (
                self.constants if xp is np else xp.asarray(self.constants, device=like.device))
            self._values = {key: (values, shared)}
            self._grads = None
        return self._values[key]

    def current(self) -> tuple[Array, Array]:
        """The value matrices of the replay under way."""
        return next(iter(self._values.values()))

    def gradients(self, values: Array, handing_over: bool) -> tuple[Array, Array]:
        """The gradient matrices, zeroed. `handing_over`: only the batched rows gradients
        are added into are zeroed (`Schedule.added_rows`); the others are handed over whole."""
        if self._grads is None or self._grads[0].shape != values.shape:
            xp = namespace(values)
            self._grads = (xp.zeros_like(values), zeros(xp, (self.n_shared,), values))
        elif handing_over:
            g_values, g_shared = self._grads
            for rows in self.added_rows:
                g_values[rows] = 0.0
            g_shared[...] = 0.0
        else:
            for matrix in self._grads:
                matrix[...] = 0.0
        return self._grads
