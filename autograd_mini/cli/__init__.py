"""The `autograd-mini` command line: grad, draw, quiz and demo.

`app` parses the arguments and owns the process's edges; `commands` runs each command;
`parser`, `expression` and `quoting` read the expression language (never `eval`);
`demo` and `quiz` are the two lessons; `terminal` and `interrupts` serve them all.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (see `app.main`). Importing this package loads nothing else, so the
    entry points can hold Ctrl-C while the command line's modules (numpy among them) load."""
    from .app import main as run

    return run(argv)
