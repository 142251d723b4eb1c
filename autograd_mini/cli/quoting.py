"""Quoting user text in messages: control characters escaped, a caret under the culprit.

The parser, the CLI's error printer and the quiz show text a user typed; a
terminal escape in it must not reach the terminal, and a 100,000-character line
must not flood it, so the line is clamped to a window around the culprit.
"""

from __future__ import annotations

WINDOW = 60
"""Characters shown on each side of the culprit of a long line."""


def printable(text: str) -> str:
    """`text` with control and other non-printable characters escaped (\\x1b, \\t, ...)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def point_at(text: str, start: int, end: int | None = None) -> str:
    """The line of `text` holding `start` with carets under text[start:end], clamped and escaped."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = len(text) if text.find("\n", start) < 0 else text.find("\n", start)
    width = min(max(1, min(end or 0, line_end) - start), 2 * WINDOW)
    left, right = max(line_start, start - WINDOW), min(line_end, start + width + WINDOW)
    before = ("..." if left > line_start else "") + printable(text[left:start])
    shown = printable(text[start : start + width])
    after = printable(text[start + width : right]) + ("..." if right < line_end else "")
    return f"    {before}{shown}{after}\n    {' ' * len(before)}{'^' * max(1, len(shown))}"


def quote(text: str) -> str:
    """`text` as a Python literal ('...'), at most 2 * WINDOW characters of it, escaped."""
    return printable(repr(text[: 2 * WINDOW]))
