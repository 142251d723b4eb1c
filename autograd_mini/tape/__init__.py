"""The compiled tape: record a scalar program once, replay it on a batch with numpy (or torch).

`trace` (the public `trace` and `Tape`) -> `replay` (forward and backward by groups) ->
`schedule` (the records it reads, built by `planner`); `reference` is the plain replay the
fast one is tested against. How it reads, file by file: docs/tape.md.
"""

from .failures import ArrayRuleError, TraceError
from .trace import REDUCTIONS, Tape, TapeResult, trace

__all__ = ["REDUCTIONS", "ArrayRuleError", "Tape", "TapeResult", "TraceError", "trace"]
