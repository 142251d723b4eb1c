"""`autograd-mini check ENGINE.py:Value`: the check from the command line.

Prints the report (or `--json`, or `--table` in Markdown), writes `--junit
FILE` and `--draw FILE` (the first failure's graph) on request. Exit codes: 0
when everything agrees, 1 when something does not, 2 for a usage error (no
such file or class, a syntax or import error, a class that raises when making
a Value) with a one-line message. `--template` prints the exercise skeleton.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from typing import Any, TextIO

from ..files import atomic_write
from .checker import EXAMPLES, check_engine
from .loading import EngineLoadError, load_engine
from .template import TEMPLATE

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register the `check` command on an argparse subparsers object."""
    p: argparse.ArgumentParser = commands.add_parser(
        "check",
        help="test your own autodiff engine against autograd_mini: traps, random graphs, a diagnosis",
        description="Load ENGINE (a file path/to/engine.py:Value or a module pkg.module:Value; loading runs that "
        "file and nothing else), test its forward values and gradients against autograd_mini, and print "
        "what is wrong with the smallest expression that shows it. Exit code 0 when everything agrees, "
        "1 when something does not, 2 for a usage error.",
        allow_abbrev=False,
    )
    p.add_argument("engine", nargs="?", metavar="ENGINE",
                   help="FILE.py:CLASS or package.module:CLASS (or the name of an Adapter instance in it)")
    p.add_argument("--template", action="store_true", help="print an engine skeleton with TODOs to fill in")
    p.add_argument("--seed", type=int, default=0, help="seed of the random search (default: 0)")
    p.add_argument("--examples", type=int, default=EXAMPLES, metavar="N",
                   help=f"random programs per search round (default: {EXAMPLES})")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--table", action="store_true", help="print the per-check table in Markdown")
    p.add_argument("--junit", metavar="FILE", help="also write the report as JUnit XML to FILE")
    p.add_argument("--draw", metavar="FILE",
                   help="draw the first failure's graph to FILE (.svg, .png, .dot; .html: an explorer page)")
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace, out: TextIO) -> int:
    """The `check` command; returns the exit code."""
    if args.template:
        if args.engine:
            return _usage("--template takes no ENGINE")
        out.write(TEMPLATE)
        return EXIT_OK
    if not args.engine:
        return _usage("give the engine to check: autograd-mini check path/to/engine.py:Value (or --template)")
    if args.examples < 1:
        return _usage(f"--examples must be at least 1, got {args.examples}")
    learner_output = io.StringIO()  # what the learner's code prints must not mix with the report
    try:
        with contextlib.redirect_stdout(learner_output):
            engine = load_engine(args.engine)
            report = check_engine(engine, seed=args.seed, examples=args.examples)
    except EngineLoadError as exc:
        return _usage(str(exc))
    if report.failures and report.failures[0].kind == "engine":
        return _usage(f"{args.engine}: {report.failures[0].cause}")
    if args.junit:
        atomic_write(args.junit, report.junit())
    if args.draw:
        drawable = [f for f in report.failures if f.program is not None and f.program.loop is None]
        if drawable and args.draw.lower().endswith((".html", ".htm")):
            drawable[0].page().save(args.draw)
        elif drawable:
            drawable[0].drawing().save(args.draw)
        else:
            print(f"autograd-mini check: nothing drawn to {args.draw}: no failure has a small graph", file=sys.stderr)
    text = report.to_json() if args.json else report.table() if args.table else str(report)
    out.write(text + "\n")
    return EXIT_OK if report.ok else EXIT_FAILED


def _usage(message: str) -> int:
    print(f"autograd-mini check: error: {message}", file=sys.stderr)
    return EXIT_USAGE
