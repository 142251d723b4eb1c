"""Which array module a tape replays with: numpy, or the inputs' own Array API namespace."""

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
