"""The `autograd-mini` command line: grad, draw, explain, explore, quiz and demo.

`app` builds the argument parser and turns errors into one-line messages;
`commands` runs each subcommand; `parser`, `expression` and `quoting` read the
safe expression grammar (never `eval`); `demo` and `quiz` are the two lessons.
"""

from .app import main

__all__ = ["main"]
