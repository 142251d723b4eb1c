"""Check anyone's backprop: test a learner's own engine against autograd_mini.

    from autograd_mini import check_engine
    report = check_engine(Value)          # a micrograd-style class, taken as it is
    print(report)                         # what was tested, each trap, each failure diagnosed

`check_engine` discovers the engine's ops, tests each alone, runs named traps
(a + a, a reused non-leaf, a diamond, a 5000-op chain, backward() twice, ...)
and random DAGs shrunk by hypothesis to the smallest failing expression, and
names the cause: a wrong local derivative, = instead of +=, no topological
order, a missing seed, a wrong forward value. See docs/check.md.
"""

from __future__ import annotations

from .adapter import Adapter, TorchAdapter
from .checker import assert_engine_ok, check_engine
from .report import CheckRow, Failure, NodeRow, Report

__all__ = ["Adapter", "CheckRow", "Failure", "NodeRow", "Report", "TorchAdapter", "assert_engine_ok", "check_engine"]
