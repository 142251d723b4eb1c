"""The arrays a tape replays on: their namespace (numpy, or the inputs' own Array API
namespace, such as torch's), and the checks that turn user input into them."""

from __future__ import annotations

from typing import Any

import numpy as np


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
            import array_api_compat

            return array_api_compat.array_namespace(x)
        except ImportError:
            import torch

            return torch
    return np


def real_array(data: Any, what: str) -> np.ndarray:
    """`data` as a float array; complex numbers (or anything not real) are refused, never cast."""
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be real numbers: {exc}") from None
    if array.dtype.kind == "c":
        raise TypeError(f"{what} must be real numbers, got complex values (dtype {array.dtype}); the tape "
                        "does not cast them to real")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{what} must be real numbers, got dtype {array.dtype}")
    return array.astype(float, copy=False)


def to_numpy(array: Any) -> np.ndarray:
    """Another namespace's array (torch, on any device) as a numpy array."""
    for step in ("detach", "cpu"):
        if hasattr(array, step):
            array = getattr(array, step)()
    return np.asarray(array)


def batch_of(inputs: Any, n_inputs: int) -> np.ndarray:
    """The inputs (rows of examples, or one array per input) as an (n_inputs, batch) float
    array; ValueError naming the shape, or the first input that is not finite."""
    if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(c, np.ndarray) for c in inputs):
        columns = [real_array(c, "Tape: inputs") for c in inputs]
        if len(columns) != n_inputs or any(c.ndim != 1 or c.shape != columns[0].shape for c in columns):
            shapes = [c.shape for c in columns]
            raise ValueError(f"Tape: expected {n_inputs} input arrays of shape (batch,), got shapes {shapes}")
        batch = np.stack(columns)
    else:
        rows = real_array(inputs, "Tape: inputs")
        if rows.ndim == 1 and n_inputs == 1:
            rows = rows[:, None]
        if rows.ndim != 2 or rows.shape[1] != n_inputs:
            raise ValueError(f"Tape: inputs must have shape (batch, {n_inputs}), got {rows.shape}")
        batch = rows.T
    if batch.shape[1] == 0:
        raise ValueError("Tape: the batch is empty")
    if not np.isfinite(batch).all():
        example, number = (int(i[0]) for i in np.nonzero(~np.isfinite(batch.T)))
        bad = float(batch[number, example])
        value = "NaN" if bad != bad else repr(bad)
        raise ValueError(f"Tape: input {number} of example {example} is {value}; inputs must be finite")
    return batch


def foreign_batch_of(inputs: Any, n_inputs: int) -> Any:
    """`batch_of` for another namespace's array (a torch tensor), checked on its device:
    anything wrong is reported by `batch_of` on a numpy copy."""
    kind = str(inputs.dtype)
    if "complex" in kind:
        raise TypeError(f"Tape: inputs must be real numbers, got complex values (dtype {kind}); the tape "
                        "does not cast them to real")
    xp = namespace(inputs)
    batch = (xp.astype(inputs, xp.float64) if hasattr(xp, "astype") else inputs.to(xp.float64)).T
    if batch.ndim == 1 and n_inputs == 1:
        batch = batch[None]
    if batch.ndim != 2 or batch.shape[0] != n_inputs or batch.shape[1] == 0 or not bool(xp.all(xp.isfinite(batch))):
        batch_of(to_numpy(inputs), n_inputs)  # raises the numpy path's error
    return batch


def param_array(param_values: Any, params: list[Any]) -> np.ndarray:
    """The parameters' values (their `.data`, or `param_values` of shape (P,), numpy or not)
    as a finite float array; ValueError naming a bad one (NaN named NaN) and its label."""
    if param_values is None:
        values = np.array([p.data for p in params], dtype=float)
    else:
        values = real_array(param_values if namespace(param_values) is np else to_numpy(param_values),
                            "Tape: param_values")
        if values.shape != (len(params),):
            raise ValueError(f"Tape: param_values must have shape ({len(params)},), got {values.shape}")
    if not np.isfinite(values).all():
        i = int(np.flatnonzero(~np.isfinite(values))[0])
        value = "NaN" if values[i] != values[i] else repr(float(values[i]))
        raise ValueError(f"Tape: parameter {i} ({params[i].label or 'unlabelled'}) is {value}; "
                         "parameters must be finite")
    return values
