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


def _is_column(x: Any) -> bool:
    """x is an array of one dimension or more, of numpy or another namespace (a torch tensor)."""
    if isinstance(x, np.ndarray):
        return x.ndim >= 1
    return not isinstance(x, np.generic) and namespace(x) is not np and getattr(x, "ndim", 0) >= 1


def read_batch(inputs: Any, n_inputs: int) -> Any:
    """The inputs as an (n_inputs, batch) float64 array in their own namespace (numpy, or
    torch & co., on their device): rows of examples, or a list of n_inputs arrays of shape
    (batch,), one per input. ValueError names a wrong shape or the first input not finite;
    TypeError a tensor the tape cannot read (complex, sparse, meta, requiring grad)."""
    if isinstance(inputs, (list, tuple)) and inputs and all(_is_column(c) for c in inputs):
        spaces = {id(namespace(c)): namespace(c) for c in inputs}
        if len(spaces) > 1:
            raise TypeError("Tape: the input arrays must all be of one kind (all numpy, or all torch), got "
                            + ", ".join(sorted({type(c).__name__ for c in inputs})))
        xp = next(iter(spaces.values()))
        if xp is np:
            return batch_of(inputs, n_inputs)
        for i, column in enumerate(inputs):
            _check_foreign(column, f"Tape: inputs[{i}]")
        if len(inputs) != n_inputs or any(tuple(c.shape) != (inputs[0].shape[0],) for c in inputs):
            batch_of([to_numpy(c) for c in inputs], n_inputs)  # raises the numpy path's error
        return foreign_batch_of(xp.stack([_as_float64(xp, c) for c in inputs]).T, n_inputs, inputs)
    if namespace(inputs) is np:
        return batch_of(inputs, n_inputs)
    _check_foreign(inputs, "Tape: inputs")
    return foreign_batch_of(_as_float64(namespace(inputs), inputs), n_inputs, inputs)


def _check_foreign(x: Any, what: str) -> None:
    """Refuse, naming `x`, an array of another namespace the replay cannot compute on."""
    kind = str(x.dtype)
    if "complex" in kind:
        raise TypeError(f"{what} must be real numbers, got complex values (dtype {kind}); the tape "
                        "does not cast them to real")
    if getattr(x, "requires_grad", False):
        # Detaching silently would cut the caller's torch graph at a distance: the results
        # carry no gradient back to the inputs (the tape differentiates its params only).
        raise TypeError(f"{what} is a tensor with requires_grad=True; the tape computes gradients for its "
                        "params only and records nothing into torch's autograd: pass inputs.detach()")
    layout = str(getattr(x, "layout", "strided"))
    if getattr(x, "is_sparse", False) or "sparse" in layout:
        raise TypeError(f"{what} is a sparse tensor (layout {layout}); the tape replays on dense arrays: "
                        "pass inputs.to_dense()")
    if getattr(x, "is_meta", False) or str(getattr(x, "device", "")) == "meta":
        raise TypeError(f"{what} is on the 'meta' device, which holds shapes but no numbers; "
                        "pass a tensor on a real device (cpu, cuda, ...)")


def _as_float64(xp: Any, x: Any) -> Any:
    return xp.astype(x, xp.float64) if hasattr(xp, "astype") else x.to(xp.float64)


def batch_of(inputs: Any, n_inputs: int) -> np.ndarray:
    """`read_batch` for numpy: the inputs (rows of examples, or one array per input) as an
    (n_inputs, batch) float array."""
    if isinstance(inputs, (list, tuple)) and inputs and all(_is_column(c) for c in inputs):
        columns = [real_array(c if isinstance(c, np.ndarray) else to_numpy(c), "Tape: inputs") for c in inputs]
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


def foreign_batch_of(rows: Any, n_inputs: int, inputs: Any) -> Any:
    """`read_batch` for another namespace's (batch, n_inputs) float64 array, checked on its
    device: anything wrong is reported by `batch_of` on a numpy copy of `inputs`."""
    xp = namespace(rows)
    batch = rows.T
    if batch.ndim == 1 and n_inputs == 1:
        batch = batch[None]
    if batch.ndim != 2 or batch.shape[0] != n_inputs or batch.shape[1] == 0 or not bool(xp.all(xp.isfinite(batch))):
        batch_of([to_numpy(c) for c in inputs] if isinstance(inputs, (list, tuple)) else to_numpy(inputs), n_inputs)
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
