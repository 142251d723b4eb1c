"""The page's data with every repeated piece stored once (explorer.js `unshared` restores it).

The explain reports of a network's nodes repeat the same lines (one per edge of
a path, and paths share their edges) and the same typeset fractions, across
paths, examples and nodes: the lecture's 4-example loss repeats them ~4 times.
Here each string or list that occurs more than once is stored once in a table
and each occurrence becomes a reference; a report's text goes in as its lines
(so its lines are shared). The page restores the payload exactly as it was, so
nothing it shows changes.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

# Smaller pieces (as JSON) cost about as much as their reference {"@":123}: stored where they occur.
MIN_SHARED = 24
# Encodings of a piece, as one-key objects (no dict of the payload has these keys):
REF = "@"  # {"@": k}: the table's k-th entry
LINES = "\n"  # {"\n": [line, ...]}: the lines, joined with newlines

Json = Any  # a JSON value: dict, list, str, int, float, bool or None


def shared(payload: dict[str, Json]) -> dict[str, Json]:
    """{"shared": table, "data": payload with references}. A table entry may refer to earlier entries.

    The walks recurse over the payload's nesting (a formula is a few levels deep), never over the graph.
    """
    split = _split_lines(payload)
    counts: Counter[str] = Counter()
    _count(split, counts)
    table: list[Json] = []
    index: dict[str, int] = {}

    def build(value: Json) -> Json:
        if isinstance(value, dict):
            return {k: build(v) for k, v in value.items()}
        if not isinstance(value, (list, str)):
            return value
        key = _key(value)
        if counts[key] < 2 or len(key) < MIN_SHARED:
            return [build(v) for v in value] if isinstance(value, list) else value
        if key not in index:
            entry = [build(v) for v in value] if isinstance(value, list) else value
            index[key] = len(table)
            table.append(entry)
        return {REF: index[key]}

    return {"shared": table, "data": build(split)}


def unshared(packed: dict[str, Json]) -> dict[str, Json]:
    """The payload `shared` was given (explorer.js `unshared` does the same in the page)."""
    table: list[Json] = []

    def restore(value: Json) -> Json:
        if isinstance(value, list):
            return [restore(v) for v in value]
        if not isinstance(value, dict):
            return value
        if REF in value:
            return table[value[REF]]
        if LINES in value:
            return "\n".join(restore(value[LINES]))
        return {k: restore(v) for k, v in value.items()}

    for entry in packed["shared"]:
        table.append(restore(entry))
    restored: dict[str, Json] = restore(packed["data"])
    return restored


def _split_lines(value: Json) -> Json:
    """A copy with each string of several lines as {"\\n": its lines}."""
    if isinstance(value, dict):
        assert REF not in value and LINES not in value, "a payload key collides with the sharing encoding"
        return {k: _split_lines(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_split_lines(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return {LINES: value.split("\n")}
    return value


def _count(value: Json, counts: Counter[str]) -> None:
    """How often each string and list occurs, nested occurrences included."""
    if isinstance(value, dict):
        for v in value.values():
            _count(v, counts)
    elif isinstance(value, list):
        counts[_key(value)] += 1
        for v in value:
            _count(v, counts)
    elif isinstance(value, str):
        counts[_key(value)] += 1


def _key(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
