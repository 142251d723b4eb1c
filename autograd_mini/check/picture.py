"""A failure's graph drawn by `autograd_mini.draw`, with both numbers on every node.

The graph is autograd_mini's own (rebuilt from the failure's program, so the
drawing owns it); each node's label carries the learner's numbers beside the
expected ones that `draw` shows (where they differ), and the paths from the first wrong node to
the output are drawn in red.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..value import Value
from ..views.draw import Drawing, draw
from ..views.explorer.page import Explorer, explore
from .program import Program
from .run import run_reference

Yours = tuple[float | None, float | None, bool]
"""A node's numbers in the learner's engine: (data, grad, differs from the expected)."""


def failure_drawing(program: Program, yours: Mapping[str, Yours], first_wrong: str | None,
                    backward_calls: int = 1) -> Drawing:
    """The program drawn by `draw`, whose cells show the expected data and grad; a node where the
    learner's numbers differ is labelled "name ✗ yours: data d, grad g; expected:", one that agrees
    "name ✓". The paths from `first_wrong` to the output are red, and each node has its backward step."""
    root, first = _labelled(program, yours, first_wrong, backward_calls)
    return draw(root, highlight=first, show_order=True, rankdir="LR")


def failure_page(program: Program, yours: Mapping[str, Yours], first_wrong: str | None,
                 backward_calls: int = 1) -> Explorer:
    """The same labelled graph as `failure_drawing`, as an `explore` page stepping through backward."""
    root, _ = _labelled(program, yours, first_wrong, backward_calls)
    return explore(root)


def _labelled(program: Program, yours: Mapping[str, Yours], first_wrong: str | None,
              backward_calls: int) -> tuple[Value, Value | None]:
    """autograd_mini's graph of the program, each node labelled with the learner's numbers."""
    if program.loop is not None:
        raise ValueError("this failure's graph is a long loop: there is no small graph to draw")
    _, nodes = run_reference(program, backward_calls=backward_calls)
    first = None
    for slot, node in enumerate(nodes):
        name = program.name(slot)
        if name not in yours:
            continue
        data, grad, wrong = yours[name]
        shown = ["-" if x is None else f"{x:.4g}" for x in (data, grad)]
        node.label = f"{name} ✗ yours: data {shown[0]}, grad {shown[1]}; expected:" if wrong else f"{name} ✓"
        if name == first_wrong:
            first = node
    return nodes[-1], first
