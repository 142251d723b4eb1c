"""The compiled tape: record a scalar program once, replay it on a batch with numpy (or torch).

`trace` records and checks the program; `schedule` groups its rows for batched
replay; `replay` runs them forward and backward; `failures` re-states a
non-finite replay in the eager engine's words; `arrays` reads user batches.
"""

from .failures import ArrayRuleError, TraceError
from .trace import REDUCTIONS, Tape, TapeResult, trace

__all__ = ["REDUCTIONS", "ArrayRuleError", "Tape", "TapeResult", "TraceError", "trace"]
