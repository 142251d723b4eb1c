"""The one check of a parameter list, shared by `optim` and `tape.trace`."""

from __future__ import annotations

from collections.abc import Iterable

from .value import Value


def check_params(params: Iterable[Value], owner: str, *, allow_empty: bool = False) -> list[Value]:
    """`params` as a list of distinct leaf Values, else TypeError / ValueError naming `owner` and the item."""
    if isinstance(params, Value):
        raise TypeError(f"{owner}: params must be a sequence of Values (e.g. model.parameters()), got one Value")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{owner}: params must be a sequence of Values, got {type(params).__name__}") from None
    if not items and not allow_empty:
        raise ValueError(f"{owner}: params is empty; pass model.parameters()")
    seen: set[int] = set()
    for i, p in enumerate(items):
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: params[{i}] must be a Value, got {type(p).__name__}")
        if p.op is not None:
            label = p.label or "unlabelled"
            raise ValueError(f"{owner}: params[{i}] ({label}) is not a leaf; parameters must be leaves")
        if id(p) in seen:
            raise ValueError(f"{owner}: params[{i}] ({p.label or 'unlabelled'}) appears twice")
        seen.add(id(p))
    return items
