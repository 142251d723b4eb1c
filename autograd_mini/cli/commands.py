"""What each `autograd-mini` command does; `app` parses the arguments and owns the edges.

Each `*_command` takes the parsed arguments and the output stream and returns an exit
code; bad input raises `UsageError`, `ParseError` or the engine's typed errors, which
`app.main` turns into a one-line message.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import gradients, local_derivatives
from ..errors import AutogradMiniError
from ..graph import depending_on, reverse_topological_order
from ..value import Value
from .expression import ParsedExpression, ParseError, Span
from .parser import parse, parse_assignments
from .terminal import TextOutput

if TYPE_CHECKING:
    from ..views.draw import Drawing

PROG = "autograd-mini"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
"""Success; a failure of the machine or a bug (or a wrong quiz answer); bad usage or input; Ctrl-C."""
Formatter = Callable[[float], str]
DRAW_SUFFIXES = (".svg", ".png", ".dot", ".gv")
PAGE_SUFFIXES = (".html", ".htm")


class UsageError(Exception):
    """Bad input found by the CLI itself (a file that cannot be written, an unknown name...)."""


# --- commands -------------------------------------------------------------------------------------
def grad_command(args: argparse.Namespace, out: TextOutput) -> int:
    """`grad`: value, first (and with --order 2 second) derivatives, optional report and graph."""
    expression, leaves, root, spans = _build(args.expression, args.values)
    wrt = _names_in(expression, args.wrt, "--wrt") if args.wrt else list(leaves)
    if args.explain is not None:
        _names_in(expression, [args.explain], "--explain")
    if args.svg is not None:
        _check_suffix(args.svg, "--svg")
        _check_max_nodes(root, args.max_nodes)
    inputs = [leaves[name] for name in wrt]
    fmt = _formatter(args.digits)
    rows: list[tuple[str, str]] = [("value", fmt(root.data))]
    with _blaming(expression, spans, root, leaves.values()):
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
        from ..views.explain import explain

        print(f"\n{explain(root, leaves[args.explain])}", file=out)
    if args.svg is not None:
        _save_drawing(root, args.svg, {"max_nodes": args.max_nodes}, out)
    return EXIT_OK


def _second_derivatives(names: list[str], inputs: list[Value], first: list[Value],
                        fmt: Formatter) -> list[tuple[str, str]]:
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
def _blaming(expression: ParsedExpression, spans: dict[Value, Span], root: Value,
             leaves: Iterable[Value]) -> Iterator[None]:
    """Report a derivative that fails in the block at the user's subexpression whose rule
    fails there, with a caret, rather than at an op of the engine's derivative graph
    (`sqrt(x)` at 0 with --order 2 fails in `div(1.0, 0.0)` of the rule 1 / (2 sqrt x)).
    Only subexpressions of the variables are suspects: constants are not differentiated."""
    try:
        yield
    except AutogradMiniError as exc:
        order = reverse_topological_order(root)
        suspects = {node for leaf in leaves for node in depending_on(root, leaf, order)}
        for node in order:
            if node in suspects and node.op is not None:
                try:
                    local_derivatives(node)
                except AutogradMiniError as found:
                    where = spans.get(node)
                    raise type(found)(f"{found}\n{expression.caret(*where)}" if where else str(found)) from None
        raise exc


def draw_command(args: argparse.Namespace, out: TextOutput) -> int:
    """`draw`: the expression's graph (after backward, so nodes show gradients), or with
    `-o FILE.html` the interactive explorer page stepping through both passes."""
    expression, leaves, root, spans = _build(args.expression, args.values)
    highlight = None
    if args.highlight is not None:
        highlight = leaves[_names_in(expression, [args.highlight], "--highlight")[0]]
    if args.output is not None:
        _check_suffix(args.output, "-o", DRAW_SUFFIXES + PAGE_SUFFIXES)
    _check_max_nodes(root, args.max_nodes)
    with _blaming(expression, spans, root, leaves.values()):
        root.backward()
    if args.output is not None and Path(args.output).suffix.lower() in PAGE_SUFFIXES:
        return _save_page(root, args, out)
    options = {"show_derivatives": args.derivatives, "highlight": highlight,
               "show_order": args.show_order, "rankdir": args.rankdir or "LR", "max_nodes": args.max_nodes}
    if args.output is None:
        print(_drawing(root, options).source, file=out)
    else:
        _save_drawing(root, args.output, options, out)
    return EXIT_OK


def _save_page(root: Value, args: argparse.Namespace, out: TextOutput) -> int:
    """`draw -o FILE.html`: the explorer page (`autograd_mini.explore`) of the graph."""
    given = [flag for flag, on in (("--derivatives", args.derivatives), ("--highlight", args.highlight is not None),
                                   ("--show-order", args.show_order)) if on]
    if given:
        raise UsageError(f"{', '.join(given)}: for .svg, .png and .dot drawings; the .html explorer page "
                         "shows local derivatives and backward's order as it steps")
    from ..views.explorer.page import explore

    try:
        page = explore(root, max_nodes=args.max_nodes, rankdir=args.rankdir)
        written = page.save(args.output)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"explorer page written to {written} ({page.steps} steps; open it in a browser)", file=out)
    return EXIT_OK


def explore_command(args: argparse.Namespace, out: TextOutput) -> int:
    """`explore --serve`: the live explorer (views/explorer/serve.py) until Ctrl-C, expressions read by `parse`."""
    if not args.serve:
        raise UsageError("explore: give --serve for the live page (draw -o FILE.html writes a static page)")
    if not 0 <= args.port <= 65535 or args.max_nodes < 1:
        raise UsageError(f"--port must be 0-65535 and --max-nodes positive, got {args.port} and {args.max_nodes}")
    from ..views.explorer.serve import serve

    _, _, root, _ = _build(args.expression, args.values)  # the given names and values checked as `draw` checks them
    _check_max_nodes(root, args.max_nodes)  # over --max-nodes: said in the option's name, before serving
    try:
        serve(build_live, args.expression, parse_assignments(args.values), port=args.port,
              open_browser=not args.no_browser, max_nodes=args.max_nodes, out=out)
    except OSError as exc:
        raise UsageError(f"cannot serve on 127.0.0.1 port {args.port}: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. the graph is over --max-nodes; the parser's own errors pass through
        if isinstance(exc, ParseError):
            raise
        raise UsageError(str(exc)) from None
    return EXIT_OK


def build_live(text: str, values: Mapping[str, float]) -> Value:
    """The live page's expression box: `text` parsed by the safe grammar (never eval), on leaves with
    `values` (1.0 for a name not given, names not used dropped); ParseError's message goes to the page."""
    expression = parse(text)
    return _build(text, [f"{name}={values.get(name, 1.0)!r}" for name in expression.variables])[2]


def demo_command(args: argparse.Namespace, out: TextOutput) -> int:
    """`demo`: see `demo.run_demo`; an empty --out is refused (it would be the current folder)."""
    from .demo import run_demo

    if not args.out.strip():
        raise UsageError(f"--out {args.out!r}: give a folder name, e.g. --out autograd-mini-demo "
                         "(an empty name would write into the current folder)")
    try:
        run_demo(Path(args.out), out=out, progress=not args.no_progress)
    except OSError as exc:  # the demo's files only: stdout failures are OutputError
        raise UsageError(f"cannot write the demo's files into {args.out}: {exc.strerror or exc}") from None
    return EXIT_OK


def quiz_command(args: argparse.Namespace, out: TextOutput) -> int:
    """`quiz`: see `quiz.run_quiz`; the answer is read from standard input."""
    from .quiz import make_question, run_quiz

    if not 0.0 < args.tolerance < 1.0:
        raise UsageError(f"--tolerance must be between 0 and 1 (a relative error), got {args.tolerance}")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(100_000)
    right = run_quiz(make_question(seed), sys.stdin, out, args.tolerance)
    return EXIT_OK if right else EXIT_FAILURE


# --- helpers --------------------------------------------------------------------------------------
def _build(text: str, pairs: Sequence[str]) -> tuple[ParsedExpression, dict[str, Value], Value, dict[Value, Span]]:
    """Parse the expression and the name=value pairs; evaluate it on labelled leaves.

    Returns the expression, its leaves, the result and the text span of each node.
    """
    expression = parse(text)
    leaves = expression.leaves(parse_assignments(pairs))
    root, spans = expression.evaluate_with_spans(leaves)
    if root.label is None:
        root.label = "f"  # how graphs and explain's report name the result
    return expression, leaves, root, spans


def _names_in(expression: ParsedExpression, names: Sequence[str], option: str) -> list[str]:
    """`names` without repeats; UsageError naming `option` for one that is not a variable of the expression."""
    for name in names:
        if name not in expression.variables:
            uses = ", ".join(expression.variables) or "no variables"
            raise UsageError(f"{option} {name}: not a variable of the expression (it uses {uses})")
    return list(dict.fromkeys(names))


def _formatter(digits: int | None) -> Formatter:
    """How numbers are printed: repr (every digit), or `digits` significant digits."""
    if digits is None:
        return repr
    if not 1 <= digits <= 17:
        raise UsageError(f"--digits must be between 1 and 17, got {digits}")
    return lambda x: f"{x:.{digits}g}"


def _check_suffix(path: str, option: str, allowed: tuple[str, ...] = DRAW_SUFFIXES) -> None:
    """UsageError naming `option` unless `path` ends in one of the `allowed` suffixes."""
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise UsageError(f"{option} {path}: unknown file type {suffix or '(none)'!r}; use {', '.join(allowed)}")


def _check_max_nodes(root: Value, max_nodes: int) -> None:
    """Refuse, before any work, a graph with more boxes (Values and ops, as `draw` counts) than --max-nodes."""
    if max_nodes < 1:
        raise UsageError(f"--max-nodes must be a positive number, got {max_nodes}")
    from ..views.draw import drawn_node_count  # both callers go on to draw

    count = drawn_node_count(root)
    if count > max_nodes:
        raise UsageError(f"the graph has {count} nodes to draw (Values and ops), more than --max-nodes {max_nodes}; "
                         f"give --max-nodes {count} to draw it anyway")


def _drawing(root: Value, options: dict[str, Any]) -> Drawing:
    """draw(root, **options), its refusals as usage errors."""
    from ..views.draw import draw

    try:
        return draw(root, **options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _save_drawing(root: Value, path: str, options: dict[str, Any], out: TextOutput) -> None:
    """Draw and save to `path` (the suffix picks the format); a file that cannot be written is a UsageError."""
    drawing = _drawing(root, options)
    try:
        written = drawing.save(path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"graph written to {written}", file=out)
