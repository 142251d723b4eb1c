"""Text for the terminal: the stream the commands print to, its width, and lines fitted to it.

Prose and reports wrap at spaces with a hanging indent; a table decides itself how
to fit (the demo's stacks its columns when the terminal is narrow).
"""

from __future__ import annotations

import shutil
import textwrap
from typing import Protocol

MIN_WIDTH = 40
"""Narrowest width text is fitted to; below it wrapping helps no one."""


class TextOutput(Protocol):
    """Where a command prints: `print(..., file=out, flush=True)` needs `write` and `flush`."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


def width() -> int:
    """The terminal's width in columns: $COLUMNS, else the terminal's, else 80 (at least MIN_WIDTH)."""
    return max(MIN_WIDTH, shutil.get_terminal_size((80, 24)).columns)


def fit_lines(text: str, columns: int, indent: str = "") -> str:
    """`text` with `indent` before each line, every line longer than `columns` wrapped at spaces.

    A wrapped line's continuation gets the indent too, and two spaces more than the line's
    own, so a report's structure still shows; a word longer than a line is left whole.
    """
    room = max(columns - len(indent), MIN_WIDTH // 2)
    lines = []
    for line in text.splitlines() or [""]:
        own = " " * (len(line) - len(line.lstrip(" ")))
        pieces = [line] if len(line) <= room else textwrap.wrap(
            line, room, subsequent_indent=own + "  ", break_long_words=False, break_on_hyphens=False)
        lines += [(indent + piece).rstrip() for piece in pieces or [line]]
    return "\n".join(lines)
