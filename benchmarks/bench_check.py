"""How long `check_engine` takes on a micrograd-sized engine (issue 20: fast enough to run on every save).

Run:  python benchmarks/bench_check.py           (5 runs per engine, the default settings)
      python benchmarks/bench_check.py --quick   (1 run, 20 random programs a round: checks it runs)

Engines: micrograd 0.1.0 as installed (fails the deep chain and backward() twice, so it
also pays for two diagnoses), micrograd with an iterative topological sort (passes every
check: the whole random search runs), and PyTorch float64 scalars through `TorchAdapter`
(when torch is installed). Wall-clock seconds of one `check_engine(engine)` call, the
time a learner waits; the median of the runs and the fastest are printed. No timing is
asserted anywhere.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from autograd_mini.check import TorchAdapter, check_engine
from autograd_mini.check.checker import EXAMPLES


def engines() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    try:
        from micrograd.engine import Value
    except ModuleNotFoundError:
        print("micrograd not installed: its rows are skipped")
    else:
        found.append(("micrograd 0.1.0", Value))
        found.append(("micrograd, iterative topo", _iterative(Value)))
    try:
        found.append(("torch scalars (adapter)", TorchAdapter()))
    except ModuleNotFoundError:
        print("torch not installed: its row is skipped")
    return found


def _iterative(base: type) -> type:
    """A fresh copy of micrograd's engine module whose Value.backward sorts with a loop, not recursion."""
    import importlib.util

    spec = importlib.util.find_spec(base.__module__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # its own Value class: the ops make nodes of the patched class

    def backward(self: Any) -> None:
        topo, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif v not in seen:
                seen.add(v)
                stack.append((v, True))
                stack.extend((child, False) for child in v._prev)
        for v in topo:
            if v._prev:
                v.grad = 0  # interior gradients start afresh: no compounding on a second call
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    module.Value.backward = backward
    engine: type = module.Value
    return engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run, 20 random programs a round")
    args = parser.parse_args(argv)
    repeats, examples = (1, 20) if args.quick else (5, EXAMPLES)
    print(f"check_engine(engine, examples={examples}), {repeats} run(s) each; Python {sys.version.split()[0]}")
    rows = []
    for name, engine in engines():
        times, report = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            report = check_engine(engine, examples=examples)
            times.append(time.perf_counter() - start)
        assert report is not None
        verdict = "ok" if report.ok else f"{len(report.failures)} finding(s)"
        rows.append((name, f"{statistics.median(times):.2f}", f"{min(times):.2f}", verdict))
    widths = [max(len(r[i]) for r in [("engine", "median s", "min s", "report"), *rows]) for i in range(4)]
    for row in [("engine", "median s", "min s", "report"), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
