"""Shared timing helpers for the benchmark scripts (not a library module).

How a benchmark measures (see benchmarks/README.md for why):
- every contender of a workload runs once per round, rounds are repeated and
  the order is rotated each round (interleaving, so drift and warm-up hit all
  engines alike), and the median over rounds is reported;
- a timed run includes the freeing of the graph it built: each workload
  function builds its graph in local variables and returns plain floats, so
  the graph dies before the clock stops;
- a timed block is `steps` calls back to back (a training loop), reported per call;
- the cyclic garbage collector runs in one of three modes per contender
  (`GC_AUTO`, `GC_COLLECT`, `GC_OFF`); a full collection, untimed, happens
  before every block so no contender pays for another's garbage.

Ratios are always "how many times faster than the reference": the reference's
median divided by this contender's median.
"""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

GC_AUTO = "auto"        # collector enabled, collections happen as the allocator triggers them
GC_COLLECT = "collect"  # as GC_AUTO, plus a full gc.collect() after the run, inside the timing
GC_OFF = "off"          # collector disabled during each call; the cycles it leaks are collected untimed after it


@dataclass
class Contender:
    """One engine (in one gc mode) running one workload.

    run:             the timed call; builds, differentiates and drops a graph, and
                     returns plain numbers (compared across engines in the check column).
    setup:           untimed, before every timed block (reset weights, zero gradients).
    gc_mode:         GC_AUTO, GC_COLLECT (the default) or GC_OFF.
    recursion_limit: raised to this for the run only (micrograd's recursive topological sort).
    steps:           calls of `run` per timed block, back to back like a training loop;
                     `times` holds seconds per call.
    """

    name: str
    run: Callable[[], Any]
    setup: Callable[[], None] | None = None
    gc_mode: str = GC_COLLECT
    recursion_limit: int | None = None
    steps: int = 1
    times: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def median(self) -> float:
        """Median run time in seconds."""
        return statistics.median(self.times)


@contextlib.contextmanager
def recursion_limit(limit: int | None) -> Iterator[None]:
    """Raise the interpreter's recursion limit to `limit` inside the block (None: leave it)."""
    if limit is None:
        yield
        return
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, previous))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def time_once(contender: Contender, clock: Callable[[], float] = time.process_time) -> float:
    """Run `contender`'s block of `steps` calls and return the seconds per call, per its gc mode.

    The default clock is this process's CPU time, which other processes on a
    busy machine do not inflate; pass time.perf_counter for wall time.
    """
    if contender.setup is not None:
        contender.setup()
    was_enabled = gc.isenabled()
    gc.collect()  # start clean: nobody pays for garbage left by an earlier run
    try:
        with recursion_limit(contender.recursion_limit):
            if contender.gc_mode == GC_OFF:
                elapsed = _time_without_collector(contender, clock)
            else:
                start = clock()
                for _ in range(contender.steps):
                    contender.result = contender.run()
                if contender.gc_mode == GC_COLLECT:
                    gc.collect()
                elapsed = clock() - start
    finally:
        if was_enabled:
            gc.enable()
    gc.collect()
    return elapsed / contender.steps


def _time_without_collector(contender: Contender, clock: Callable[[], float]) -> float:
    """Each call timed with the collector disabled; what it leaked is collected between calls, untimed.

    Collecting between calls keeps a long block (a 100-step training run) from
    piling up gigabytes of leaked cycles, whose page faults would otherwise be
    billed to the engine.
    """
    elapsed = 0.0
    for _ in range(contender.steps):
        gc.disable()
        start = clock()
        contender.result = contender.run()
        elapsed += clock() - start
        gc.enable()
        gc.collect()
    return elapsed


def measure(contenders: Sequence[Contender], repeats: int, warmup: int = 1,
            clock: Callable[[], float] = time.process_time) -> None:
    """Time every contender `repeats` times, interleaved (order rotated each round), after `warmup` rounds."""
    for _ in range(warmup):
        for contender in contenders:
            time_once(contender, clock)
    for round_index in range(repeats):
        shift = round_index % len(contenders)
        for contender in list(contenders[shift:]) + list(contenders[:shift]):
            contender.times.append(time_once(contender, clock))


def bare_collection_ms(repeats: int = 5) -> float:
    """Median CPU cost of a full gc.collect() with nothing to free, in this process (context for GC_COLLECT)."""
    gc.collect()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        gc.collect()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def freeze_heap() -> int:
    """Move every object alive now into the collector's permanent generation; returns how many.

    Full collections then skip the modules imported so far (torch alone brings
    ~150,000 tracked objects), so each engine's collector cost is its own and
    does not depend on what else happens to be installed and imported.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def speedup(reference: Contender | None, contender: Contender) -> float | None:
    """How many times faster `contender` is than `reference` (None if there is no reference)."""
    if reference is None or not reference.times:
        return None
    return reference.median / contender.median


def format_ratio(ratio: float | None) -> str:
    """`12.3x`, or `-` when there is nothing to compare with."""
    return "-" if ratio is None else f"{ratio:.2f}x"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with left-aligned columns (markdown-friendly pipes)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def relative_difference(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|, 1e-300)."""
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def check_text(reference: Sequence[float] | None, result: Sequence[float] | None, tolerance: float = 1e-9) -> str:
    """`ok (rel 3e-16)` when every number agrees with the reference's to `tolerance`, else `DIFFERS`."""
    if reference is None or result is None:
        return "-"
    worst = max(relative_difference(a, b) for a, b in zip(reference, result))
    return f"{'ok' if worst <= tolerance else 'DIFFERS'} (rel {worst:.0e})"


@dataclass(frozen=True)
class Target:
    """A target ratio: `engine` at least `minimum` times better than `reference` on `workload`."""

    workload: str
    engine: str
    reference: str
    minimum: float

    def verdict(self, measured: float | None) -> str:
        """PASS / MISS / n/a (reference not measured)."""
        if measured is None:
            return "n/a"
        return "PASS" if measured >= self.minimum else "MISS"


def rss_bytes() -> int:
    """Current resident set size of this process, from /proc/self/statm (Linux) or ru_maxrss."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def environment_line() -> str:
    """Interpreter and library versions, for the header of a report (read from metadata: nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {sys.version.split()[0]}"]
    for name in ("autograd-mini", "micrograd", "torch"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} not installed")
    parts.append(f"gc thresholds {gc.get_threshold()}")
    return ", ".join(parts)
