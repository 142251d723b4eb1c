"""Shared timing helpers for the benchmark scripts (not a library module).

How a benchmark measures (see benchmarks/README.md for why): the way a
training loop runs.
- every contender of a workload runs once per round, rounds are repeated and
  the order is rotated each round (interleaving, so drift and warm-up hit all
  engines alike, in one process), and the median over rounds is reported;
- a timed block is `steps` calls back to back (a training loop), reported per
  call; it includes the freeing of each graph (the workload functions return
  plain numbers, so the graph dies before the clock stops);
- the cyclic garbage collector: `GC_AUTO` (the default) leaves it enabled with
  its automatic collections only: nothing is forced inside the timing and
  nothing is frozen; `GC_OFF` disables it for each call (an engine's best
  case; the cycles it leaks are collected untimed after the call). Between
  blocks, untimed, one `gc.collect()` cleans up, so no contender's block
  collects another's garbage;
- `one_thread()` (called by each script before anything else) re-runs the
  script with numpy's BLAS on one thread, as torch is (`torch.set_num_threads(1)`);
- `import_heavy()` imports torch and matplotlib first, for the "heavy
  process" columns: a process with ~10^5 more tracked objects, where every
  full collection walks more; without it, torch is not imported at all.

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

GC_AUTO = "auto"  # collector enabled, collections happen as the allocator triggers them (a training loop)
GC_OFF = "off"    # collector disabled during each call; the cycles it leaks are collected untimed after it
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Contender:
    """One engine (in one gc mode) running one workload.

    run:             the timed call; builds, differentiates and drops a graph, and
                     returns plain numbers (compared across engines in the check column).
    setup:           untimed, before every timed block (reset weights, zero gradients).
    gc_mode:         GC_AUTO (the default) or GC_OFF.
    recursion_limit: raised to this for the run only (micrograd's recursive topological sort).
    steps:           calls of `run` per timed block, back to back like a training loop;
                     `times` holds seconds per call.
    warm:            one untimed call after the untimed collection that precedes a block, so
                     the block starts with warm caches, as the steps of a running loop do
                     (a full collection in a heavy process walks ~200,000 objects; the first
                     tape step after one measured 0.58 ms CPU, the next ones 0.16 ms).
    """

    name: str
    run: Callable[[], Any]
    setup: Callable[[], None] | None = None
    gc_mode: str = GC_AUTO
    recursion_limit: int | None = None
    steps: int = 1
    warm: bool = False
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
    gc.collect()  # untimed: nobody's block collects garbage left by an earlier block
    try:
        with recursion_limit(contender.recursion_limit):
            if contender.warm:
                contender.run()
            if contender.gc_mode == GC_OFF:
                elapsed = _time_without_collector(contender, clock)
            else:
                start = clock()
                for _ in range(contender.steps):
                    contender.result = contender.run()
                elapsed = clock() - start
    finally:
        if was_enabled:
            gc.enable()
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
    """Median CPU cost of a full gc.collect() with nothing to free, in this process (what one
    automatic full collection costs here: context for the bare and heavy processes)."""
    gc.collect()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        gc.collect()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def one_thread() -> None:
    """Re-run this script with numpy's BLAS on one thread unless it already is.

    The variables must be set before numpy loads its BLAS, so the process
    re-executes itself (once: the variables are then set). Call it first thing
    under `if __name__ == "__main__":`, never from an importer.
    """
    if all(os.environ.get(name) == "1" for name in THREAD_VARIABLES):
        return
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    os.execv(sys.executable, [sys.executable, *sys.argv])


def import_heavy() -> list[str]:
    """Import torch and matplotlib (pyplot, Agg) now, as a notebook would; returns what was imported."""
    imported = []
    try:
        import torch

        torch.set_num_threads(1)
        imported.append(f"torch {torch.__version__}")
    except ImportError:
        pass
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401

        imported.append(f"matplotlib {matplotlib.__version__}")
    except ImportError:
        pass
    return imported


def torch_if_imported() -> Any:
    """torch when this process imported it already (the heavy process), else None: a bare
    process must stay bare, so torch rows appear only in the heavy one."""
    return sys.modules.get("torch")


def process_line(heavy: list[str] | None) -> str:
    """One line saying which process this is, and how many objects the collector tracks."""
    kind = "bare process" if heavy is None else f"heavy process (imported first: {', '.join(heavy) or 'nothing'})"
    return (f"{kind}; {len(gc.get_objects()):,} objects tracked by the collector; a full gc.collect() costs"
            f" {bare_collection_ms():.1f} ms CPU here")


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
