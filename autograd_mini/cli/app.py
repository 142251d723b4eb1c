"""The `autograd-mini` command line's arguments and the process's edges; `commands` does the work.

The edges: errors become one-line messages and exit codes (`commands.EXIT_*`), a
standard output that cannot be written is an error (a closed pipe is not), and
Ctrl-C anywhere ends quietly with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TextIO

from .. import __version__
from ..check.command import add_parser as add_check_parser
from ..errors import AutogradMiniError
from ..views.draw import DEFAULT_MAX_NODES
from .commands import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    UsageError,
    demo_command,
    draw_command,
    explore_command,
    grad_command,
    quiz_command,
)
from .expression import ParseError
from .interrupts import ctrl_c_pressed, watching_ctrl_c
from .parser import functions
from .quiz import DEFAULT_TOLERANCE
from .quoting import printable
from .terminal import TextOutput

Handler = Callable[[argparse.Namespace, TextOutput], int]
"""A command: the parsed arguments and the output stream in, the exit code out."""
AddParser = Callable[..., argparse.ArgumentParser]
"""The `add_parser` method of `add_subparsers()`'s result."""

_LANGUAGE = f"""\
expressions: numbers, variables, + - * / **, unary minus, parentheses and the
functions {", ".join(functions())}.
Precedence as in Python (-x**2 is -(x**2)). Give every variable a value as
name=value. An expression starting with '-' goes after '--':
    {PROG} grad -- "-x*y" x=1 y=2
"""


class OutputError(Exception):
    """Standard output could not be written (a closed pipe, a full disk); the OSError is the cause."""


class StdoutWriter:
    """sys.stdout for the commands: a failed write raises OutputError, so it is never
    mistaken for a failure to write one of the command's own files."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc)) from exc


class _Writable(Protocol):
    def write(self, text: str, /) -> object: ...


# --- the argument parser ----------------------------------------------------------------------------
class _ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, except that help for standard output raises OutputError when it cannot be
    written (argparse ignores the failure, so `--help > /dev/full` would exit 0, having written nothing)."""

    def print_help(self, file: _Writable | None = None) -> None:
        _print_text(self.format_help(), file)

    def print_usage(self, file: _Writable | None = None) -> None:
        _print_text(self.format_usage(), file)


class _Version(argparse.Action):
    """--version: print the version to standard output (OutputError when that fails) and exit 0."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, version: str = "",
                 help: str = "show the version and exit") -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help)
        self.version = version

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        _print_text(f"{self.version}\n", None)
        parser.exit()


def _print_text(text: str, file: _Writable | None) -> None:
    """Write argparse's text to `file`: standard output (the default) through StdoutWriter; another
    stream (stderr, for a usage error) as argparse does, ignoring a failure: there is nowhere to report it."""
    if file is None or file is sys.stdout:
        writer = StdoutWriter(sys.stdout)
        writer.write(text)
        writer.flush()
        return
    try:
        file.write(text)
    except OSError:
        pass


def build_argument_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each command's parser, by command name."""
    parser = _ArgumentParser(
        prog=PROG,
        description="A scalar reverse-mode autodiff engine that shows its work.",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action=_Version, version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add = commands.add_parser
    return parser, {"demo": _demo_parser(add), "grad": _grad_parser(add), "draw": _draw_parser(add),
                    "explore": _explore_parser(add), "quiz": _quiz_parser(add), "check": add_check_parser(commands)}


def _demo_parser(add: AddParser) -> argparse.ArgumentParser:
    p = add(
        "demo",
        help="the tour: the delta-rule check, a graph, a training run, a picture",
        description="Check backward() against the delta rule on a small sigmoid network, draw its graph, "
        "train MLP(2, [16, 16, 1]) on two moons with the compiled tape and plot the decision boundary.",
        allow_abbrev=False,
    )
    p.add_argument("--out", metavar="DIR", default="autograd-mini-demo",
                   help="folder for the files the demo writes (default: autograd-mini-demo, in the current folder)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while training")
    p.set_defaults(handler=demo_command)
    return p


def _quiz_parser(add: AddParser) -> argparse.ArgumentParser:
    p = add(
        "quiz",
        help="an exercise: compute one delta or one dE/dw of a small sigmoid network by hand",
        description="Show a small random sigmoid network (weights, inputs, targets, the forward pass) and ask "
        "for one delta_j or one dE/dw_ij; read the answer from standard input and check it. A wrong answer "
        "gets the per-neuron delta table and the chain-rule report. Exit code 0 when right, 1 when not.",
        allow_abbrev=False,
    )
    p.add_argument("--seed", type=int, metavar="N", help="the question's seed, to ask the same question again "
                   "(default: a new one each time; the seed is printed)")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, metavar="REL",
                   help=f"relative tolerance of a right answer (default: {DEFAULT_TOLERANCE})")
    p.set_defaults(handler=quiz_command)
    return p


def _expression_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("expression", metavar="EXPR", help='the expression, quoted, e.g. "sigmoid(x*y) + x**2"')
    p.add_argument("values", metavar="NAME=VALUE", nargs="*", help="a value for each variable, e.g. x=1.5 y=-2")


def _grad_parser(add: AddParser) -> argparse.ArgumentParser:
    p = add(
        "grad",
        help="the value and the partial derivatives of an expression",
        description="Print an expression's value and its partial derivatives (computed by backward).",
        epilog=_LANGUAGE + f'\nexample:  {PROG} grad "sigmoid(x*y) + x**2" x=1.5 y=-2 --order 2',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    _expression_arguments(p)
    p.add_argument("--wrt", metavar="NAME", action="append",
                   help="print derivatives with respect to NAME only (repeat for several)")
    p.add_argument("--order", type=int, choices=(1, 2), default=1,
                   help="2 also prints the second derivatives (the Hessian's entries)")
    p.add_argument("--explain", metavar="NAME", help="print how the chain rule builds d EXPR / d NAME, path by path")
    p.add_argument("--svg", metavar="FILE", help="also draw the graph into FILE (.svg, .png or .dot)")
    p.add_argument("--digits", type=int, metavar="N",
                   help="print N significant digits (default: every digit, as Python's repr)")
    _max_nodes_argument(p)
    p.set_defaults(handler=grad_command)
    return p


def _draw_parser(add: AddParser) -> argparse.ArgumentParser:
    p = add(
        "draw",
        help="draw an expression's computation graph",
        description="Draw the computation graph of an expression, with each node's value and gradient.",
        epilog=_LANGUAGE + f'\nexample:  {PROG} draw "sigmoid(x*y) + x**2" x=1.5 y=-2 -o graph.svg',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    _expression_arguments(p)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write the graph; the suffix picks the format: .svg, .png, .dot, or .html for "
                   "an interactive page stepping through the forward and backward pass (default: print the DOT text)")
    p.add_argument("--derivatives", action="store_true", help="label each edge with its local derivative")
    p.add_argument("--highlight", metavar="NAME", help="draw every path from variable NAME to the result in red")
    p.add_argument("--show-order", action="store_true", help="number the nodes in backward's order")
    p.add_argument("--rankdir", choices=("LR", "TB"), default=None,
                   help="inputs on the left (LR, the default for drawings) or on top (TB); "
                   "an .html page picks whichever fits its window unless this is given")
    _max_nodes_argument(p)
    p.set_defaults(handler=draw_command)
    return p


def _explore_parser(add: AddParser) -> argparse.ArgumentParser:
    p = add(
                            "explore", help="the live explorer: change the numbers, see every value and gradient",
                            description="Serve the explorer page of an expression on 127.0.0.1 with a number input "
                            "and a slider per variable, a nudge and a predict mode; the engine recomputes on each "
                            "change. Ctrl-C stops it.", allow_abbrev=False)
    _expression_arguments(p)
    p.add_argument("--serve", action="store_true", help="serve the live page (the only mode so far; required)")
    p.add_argument("--port", type=int, default=0, metavar="N", help="the port (default: any free one)")
    p.add_argument("--no-browser", action="store_true", help="print the URL only, do not open a browser")
    _max_nodes_argument(p)
    p.set_defaults(handler=explore_command)
    return p


def _max_nodes_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-nodes", type=int, default=DEFAULT_MAX_NODES, metavar="N",
                   help=f"refuse to draw graphs with more than N nodes (default: {DEFAULT_MAX_NODES})")


def _fail(message: str, code: int) -> int:
    """Print `message` as an error (control characters from the input escaped); return `code`."""
    text = "\n".join(printable(line) for line in message.splitlines())
    print(f"{PROG}: error: {text}", file=sys.stderr)
    return code


def _close_stdout() -> None:
    """Point a stdout that failed (closed pipe, full disk) at the null device, so the
    interpreter's last flush at exit cannot fail again and print a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test's StringIO): nothing to silence
        pass


def _parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse argv; commands accept options between their NAME=VALUE pairs."""
    parser, commands = build_argument_parser()
    if argv and argv[0] in commands:
        command = commands[argv[0]]
        # parse_intermixed_args mishandles "--" (needed before an expression like "-x"),
        # so after "--" the plain parser reads the rest.
        args = command.parse_args(argv[1:]) if "--" in argv else command.parse_intermixed_args(argv[1:])
        args.command = argv[0]
        return args
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]); returns the exit code.

    0 success; 2 bad usage or input; 1 a failure of the machine (no renderer,
    stdout not writable) or a bug (with its traceback); 130 interrupted. A reader
    that closes the pipe early (`... | head`) ends the command quietly with 0.
    """
    try:
        with watching_ctrl_c():
            return _run(list(sys.argv[1:] if argv is None else argv), StdoutWriter(sys.stdout))
    except KeyboardInterrupt:  # anywhere, even while another error is being reported
        try:
            return _fail("interrupted", EXIT_INTERRUPTED)
        except KeyboardInterrupt:  # a second Ctrl-C while saying so
            return EXIT_INTERRUPTED


def _run(argv: list[str], out: StdoutWriter) -> int:
    """Parse `argv`, run the command, and turn its errors into messages and exit codes."""
    try:
        try:
            args = _parse_arguments(argv)
        except SystemExit as exc:  # argparse: --help, --version (0) or a usage error (2)
            out.flush()
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        handler: Handler = args.handler
        code = handler(args, out)
        out.flush()
        return code
    except Exception as exc:
        if ctrl_c_pressed():  # a library turned the KeyboardInterrupt into this (numpy's import: ImportError)
            raise KeyboardInterrupt from None
        return _report(exc)


def _report(exc: Exception) -> int:
    """Say what failed, in one line (a bug: with its traceback); return the exit code."""
    if isinstance(exc, OutputError):
        _close_stdout()
        if isinstance(exc.__cause__, BrokenPipeError):  # the reader left (`| head`): nothing to say
            return EXIT_OK
        return _fail(f"cannot write the output: {exc}", EXIT_FAILURE)
    if isinstance(exc, (ParseError, UsageError)):
        return _fail(str(exc), EXIT_USAGE)
    if isinstance(exc, AutogradMiniError):
        from ..views.render import RendererNotFoundError, RenderError

        if isinstance(exc, (RendererNotFoundError, RenderError)):  # the machine, not the input
            return _fail(str(exc), EXIT_FAILURE)
        return _fail(str(exc), EXIT_USAGE)  # DomainError, NumericOverflowError: the input's numbers
    traceback.print_exception(exc)  # a bug: show everything needed to report it
    return _fail("internal error (the traceback above is a bug in autograd-mini; please report it)", EXIT_FAILURE)
