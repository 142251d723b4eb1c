"""The `autograd-mini` command line: `demo`, `grad`, `draw` and `quiz`.

    autograd-mini demo [--out DIR]
    autograd-mini grad "EXPR" x=1.5 y=-2 [--wrt x] [--explain x] [--svg g.svg] [--order 2]
    autograd-mini draw "EXPR" x=1.5 y=-2 [-o g.svg | -o g.html]
    autograd-mini quiz [--seed N] [--tolerance REL]

Expressions are read by `autograd_mini.parser` (a small grammar, never eval).
Exit codes: 0 on success, 2 for bad usage or input (a message, no traceback),
1 for an internal failure, a missing renderer, an unwritable stdout or a quiz
answer that is wrong or missing, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .engine import gradients, local_derivatives, reverse_topological_order
from .errors import AutogradMiniError
from .parser import Expression, ParseError, functions, parse, parse_assignments, printable
from .quiz import DEFAULT_TOLERANCE
from .value import Value
from .viz import DEFAULT_MAX_NODES

PROG = "autograd-mini"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DRAW_SUFFIXES = (".svg", ".png", ".dot", ".gv")
PAGE_SUFFIXES = (".html", ".htm")

_LANGUAGE = f"""\
expressions: numbers, variables, + - * / **, unary minus, parentheses and the
functions {", ".join(functions())}.
Precedence as in Python (-x**2 is -(x**2)). Give every variable a value as
name=value. An expression starting with '-' goes after '--':
    {PROG} grad -- "-x*y" x=1 y=2
"""


class UsageError(Exception):
    """Bad input found by the CLI itself (a file that cannot be written, an unknown name...)."""


class OutputError(Exception):
    """Standard output could not be written (a closed pipe, a full disk); the OSError is the cause."""


class _Output:
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


# --- the parser -----------------------------------------------------------------------------------
def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each command's parser, by command name."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A scalar reverse-mode autodiff engine that shows its work.",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    return parser, {
        "demo": _demo_parser(commands),
        "grad": _grad_parser(commands),
        "draw": _draw_parser(commands),
        "quiz": _quiz_parser(commands),
    }


def _demo_parser(commands: Any) -> argparse.ArgumentParser:
    p = commands.add_parser(
        "demo",
        help="the tour: the delta-rule check, a graph, a training run, a picture",
        description="Check backward() against the delta rule on a small sigmoid network, draw its graph, "
        "train MLP(2, [16, 16, 1]) on two moons with the compiled tape and plot the decision boundary.",
        allow_abbrev=False,
    )
    p.add_argument("--out", metavar="DIR", default="autograd-mini-demo",
                   help="folder for the files the demo writes (default: autograd-mini-demo, in the current folder)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while training")
    p.set_defaults(handler=run_demo)
    return p


def _quiz_parser(commands: Any) -> argparse.ArgumentParser:
    p = commands.add_parser(
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
    p.set_defaults(handler=run_quiz)
    return p


def _expression_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("expression", metavar="EXPR", help='the expression, quoted, e.g. "sigmoid(x*y) + x**2"')
    p.add_argument("values", metavar="NAME=VALUE", nargs="*", help="a value for each variable, e.g. x=1.5 y=-2")


def _grad_parser(commands: Any) -> argparse.ArgumentParser:
    p = commands.add_parser(
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
    p.set_defaults(handler=run_grad)
    return p


def _draw_parser(commands: Any) -> argparse.ArgumentParser:
    p = commands.add_parser(
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
    p.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="inputs on the left (LR) or on top (TB)")
    _max_nodes_argument(p)
    p.set_defaults(handler=run_draw)
    return p


def _max_nodes_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-nodes", type=int, default=DEFAULT_MAX_NODES, metavar="N",
                   help=f"refuse to draw graphs with more than N nodes (default: {DEFAULT_MAX_NODES})")


# --- commands -------------------------------------------------------------------------------------
def run_grad(args: argparse.Namespace, out: TextIO) -> int:
    """`grad`: value, first (and with --order 2 second) derivatives, optional report and graph."""
    expression, leaves, root, spans = _build(args.expression, args.values)
    wrt = _names_in(expression, args.wrt, "--wrt") if args.wrt else list(leaves)
    if args.explain is not None:
        _names_in(expression, [args.explain], "--explain")
    if args.svg is not None:
        _check_suffix(args.svg, "--svg")
        _check_size(root, args.max_nodes)
    inputs = [leaves[name] for name in wrt]
    fmt = _formatter(args.digits)
    rows = [("value", fmt(root.data))]
    with _blaming(expression, spans, root):
        if args.order == 1:
            rows += [(f"d/d{name}", fmt(g)) for name, g in zip(wrt, gradients(root, inputs), strict=True)]
        else:
            first = gradients(root, inputs, create_graph=True)
            rows += [(f"d/d{name}", fmt(g.data)) for name, g in zip(wrt, first, strict=True)]
            rows += _second_derivatives(wrt, inputs, first, fmt)
        if args.svg is not None:
            root.backward()  # the drawing shows .grad, which gradients() leaves untouched
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        print(f"{label:<{width}} = {text}", file=out)
    if args.explain is not None:
        from .explain import explain

        print(f"\n{explain(root, leaves[args.explain])}", file=out)
    if args.svg is not None:
        _save_drawing(root, args.svg, {"max_nodes": args.max_nodes}, out)
    return EXIT_OK


def _second_derivatives(names: list[str], inputs: list[Value], first: list[Value], fmt: Any) -> list[tuple[str, str]]:
    """d2/dxi dxj for i <= j: each first derivative (a Value graph) differentiated again."""
    rows = []
    for i, g in enumerate(first):
        try:
            row = gradients(g, inputs[i:])
        except AutogradMiniError as exc:
            raise type(exc)(f"{exc}\n(while differentiating d/d{names[i]} again: a second derivative "
                            "is infinite or undefined at these values)") from None
        for j, h in enumerate(row, start=i):
            label = f"d2/d{names[i]}2" if i == j else f"d2/d{names[i]} d{names[j]}"
            rows.append((label, fmt(h)))
    return rows


@contextmanager
def _blaming(expression: Expression, spans: dict[Value, tuple[int, int]], root: Value) -> Iterator[None]:
    """Report a derivative that fails in the block at the user's subexpression whose rule
    fails there, with a caret, rather than at an op of the engine's derivative graph
    (`sqrt(x)` at 0 with --order 2 fails in `div(1.0, 0.0)` of the rule 1 / (2 sqrt x))."""
    try:
        yield
    except AutogradMiniError as exc:
        for node in reverse_topological_order(root, leaves=False):
            try:
                local_derivatives(node)
            except AutogradMiniError as found:
                where = spans.get(node)
                raise type(found)(f"{found}\n{expression.caret(*where)}" if where else str(found)) from None
        raise exc


def run_draw(args: argparse.Namespace, out: TextIO) -> int:
    """`draw`: the expression's graph (after backward, so nodes show gradients), or with
    `-o FILE.html` the interactive explorer page stepping through both passes."""
    expression, leaves, root, spans = _build(args.expression, args.values)
    highlight = None
    if args.highlight is not None:
        highlight = leaves[_names_in(expression, [args.highlight], "--highlight")[0]]
    if args.output is not None:
        _check_suffix(args.output, "-o", DRAW_SUFFIXES + PAGE_SUFFIXES)
    _check_size(root, args.max_nodes)
    with _blaming(expression, spans, root):
        root.backward()
    if args.output is not None and Path(args.output).suffix.lower() in PAGE_SUFFIXES:
        return _save_page(root, args, out)
    options = {"show_derivatives": args.derivatives, "highlight": highlight,
               "show_order": args.show_order, "rankdir": args.rankdir, "max_nodes": args.max_nodes}
    if args.output is None:
        print(_drawing(root, options).source, file=out)
    else:
        _save_drawing(root, args.output, options, out)
    return EXIT_OK


def _save_page(root: Value, args: argparse.Namespace, out: TextIO) -> int:
    """`draw -o FILE.html`: the explorer page (`autograd_mini.explore`) of the graph."""
    given = [flag for flag, on in (("--derivatives", args.derivatives), ("--highlight", args.highlight is not None),
                                   ("--show-order", args.show_order)) if on]
    if given:
        raise UsageError(f"{', '.join(given)}: for .svg, .png and .dot drawings; the .html explorer page "
                         "shows local derivatives and backward's order as it steps")
    from .explore import explore

    try:
        page = explore(root, max_nodes=args.max_nodes)
        written = page.save(args.output)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"explorer page written to {written} ({page.steps} steps; open it in a browser)", file=out)
    return EXIT_OK


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    """`demo`: see `autograd_mini.demo.run`."""
    from .demo import run

    try:
        run(Path(args.out), out=out, progress=not args.no_progress)
    except OSError as exc:  # the demo's files only: stdout failures are OutputError
        raise UsageError(f"cannot write the demo's files into {args.out}: {exc.strerror or exc}") from None
    return EXIT_OK


def run_quiz(args: argparse.Namespace, out: TextIO) -> int:
    """`quiz`: see `autograd_mini.quiz`; the answer is read from standard input."""
    from . import quiz

    if not 0.0 < args.tolerance < 1.0:
        raise UsageError(f"--tolerance must be between 0 and 1 (a relative error), got {args.tolerance}")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(100_000)
    right = quiz.run(quiz.make_question(seed), sys.stdin, out, args.tolerance)
    return EXIT_OK if right else EXIT_FAILURE


# --- helpers --------------------------------------------------------------------------------------
def _build(text: str, pairs: Sequence[str]) -> tuple[Expression, dict[str, Value], Value, dict[Value, tuple[int, int]]]:
    """Parse the expression and the name=value pairs; evaluate it on labelled leaves.

    Returns the expression, its leaves, the result and the text span of each node.
    """
    expression = parse(text)
    leaves = expression.leaves(parse_assignments(pairs))
    root, spans = expression.evaluate_with_spans(leaves)
    if root.label is None:
        root.label = "f"  # how graphs and explain's report name the result
    return expression, leaves, root, spans


def _names_in(expression: Expression, names: Sequence[str], option: str) -> list[str]:
    for name in names:
        if name not in expression.variables:
            uses = ", ".join(expression.variables) or "no variables"
            raise UsageError(f"{option} {name}: not a variable of the expression (it uses {uses})")
    return list(dict.fromkeys(names))


def _formatter(digits: int | None) -> Any:
    if digits is None:
        return repr
    if not 1 <= digits <= 17:
        raise UsageError(f"--digits must be between 1 and 17, got {digits}")
    return lambda x: f"{x:.{digits}g}"


def _check_suffix(path: str, option: str, allowed: tuple[str, ...] = DRAW_SUFFIXES) -> None:
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise UsageError(f"{option} {path}: unknown file type {suffix or '(none)'!r}; use {', '.join(allowed)}")


def _check_size(root: Value, max_nodes: int) -> None:
    """Refuse, before any work, a graph with more boxes (Values and ops, as `draw` counts) than --max-nodes."""
    if max_nodes < 1:
        raise UsageError(f"--max-nodes must be a positive number, got {max_nodes}")
    nodes = reverse_topological_order(root)
    count = len(nodes) + sum(1 for v in nodes if v.op is not None)
    if count > max_nodes:
        raise UsageError(f"the graph has {count} nodes to draw (Values and ops), more than --max-nodes {max_nodes}; "
                         f"give --max-nodes {count} to draw it anyway")


def _drawing(root: Value, options: dict[str, Any]) -> Any:
    """draw(root, **options), its refusals as usage errors."""
    from .viz import draw

    try:
        return draw(root, **options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _save_drawing(root: Value, path: str, options: dict[str, Any], out: TextIO) -> None:
    drawing = _drawing(root, options)
    try:
        written = drawing.save(path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"graph written to {written}", file=out)


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
    parser, commands = build_parser()
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
    out = _Output(sys.stdout)
    try:
        try:
            args = _parse_arguments(list(sys.argv[1:] if argv is None else argv))
        except SystemExit as exc:  # argparse: --help, --version (0) or a usage error (2)
            out.flush()
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        code = args.handler(args, out)
        out.flush()
        return code
    except OutputError as exc:
        _close_stdout()
        if isinstance(exc.__cause__, BrokenPipeError):
            return EXIT_OK
        return _fail(f"cannot write the output: {exc}", EXIT_FAILURE)
    except (ParseError, UsageError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except AutogradMiniError as exc:
        from .render import RendererNotFoundError, RenderError

        if isinstance(exc, (RendererNotFoundError, RenderError)):  # the machine, not the input
            return _fail(str(exc), EXIT_FAILURE)
        return _fail(str(exc), EXIT_USAGE)  # DomainError, NumericOverflowError: the input's numbers
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception:  # a bug: show everything needed to report it
        traceback.print_exc()
        return _fail("internal error (the traceback above is a bug in autograd-mini; please report it)",
                     EXIT_FAILURE)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
