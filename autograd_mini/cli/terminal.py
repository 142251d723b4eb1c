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

    A wrapped line's continuation is indented two more than the line itself, so a
    report's structure (its own indentation) still shows.
    """
    lines = []
    for line in text.splitlines():
        line = indent + line if line else indent.rstrip()
        if len(line) <= columns:
            lines.append(line)
            continue
        own = " " * (len(line) - len(line.lstrip(" ")))
        lines += textwrap.wrap(line, columns, initial_indent="", subsequent_indent=own + "  ",
                               break_long_words=False, break_on_hyphens=False, drop_whitespace=True) or [line]
    return "\n".join(lines)
