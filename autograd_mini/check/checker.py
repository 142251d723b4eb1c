"""`check_engine`: test a learner's engine against autograd_mini and say what is wrong.

The order: probe which ops the engine has; test each op alone (forward, local
derivative, accumulation); run the named traps (`traps`); then search random
DAGs over the ops that passed alone, shrunk to the smallest that fails
(`search`). Every failing graph is diagnosed (`diagnose`) and reported with
its code in the learner's API (`report`). Nothing is printed.
"""

from __future__ import annotations

import numbers
import struct
import time
import warnings
from typing import Any

from .adapter import Adapter, as_adapter
from .diagnose import Diagnosis, diagnose
from .program import BASES, REQUIRED, SPECS, Program
from .report import CheckRow, Failure, NodeRow, Report
from .rules import Unit, accumulates, alone, points, unit, with_sums
from .run import (
    FLOAT32_TOL,
    SECONDS,
    EngineTimeout,
    Expected,
    Run,
    agrees,
    close,
    grad_close,
    guard,
    run_learner,
    run_reference,
    session,
    )
from .traps import Trap, traps

EXAMPLES = 300
"""Random programs tried per search round by default (a second or so on a micrograd-sized engine)."""
SEARCH_SECONDS = 20.0
"""The random search stops looking after this long (a slow engine: what was found so far is shrunk and kept)."""
GUARDED = (Exception, SystemExit, EngineTimeout)
"""What a call into the learner's engine may raise that the checker reports (a KeyboardInterrupt stops it)."""


class _Checker:
    """One run's state: the engine, the ops alone (cached), and the check rows, failures and notes found so far."""

    def __init__(self, adapter: Adapter, seed: int, examples: int) -> None:
        self.adapter = adapter
        self.seed = seed
        self.examples = examples
        self.units: dict[str, Unit] = {}
        self.accumulating: dict[str, bool] = {}
        self.checks: list[CheckRow] = []
        self.failures: list[Failure] = []
        self.notes: list[str] = []
        self.supported: set[str] = set(SPECS)

    def unit(self, op: str) -> Unit:
        """The op alone (cached); an op the engine does not have counts as passing (nothing to blame)."""
        if op not in self.supported:
            return Unit(op)
        if op not in self.units:
            self.units[op] = unit(self.adapter, op)
        return self.units[op]

    def accumulates(self, op: str) -> bool:
        if op not in self.accumulating:
            self.accumulating[op] = accumulates(self.adapter, op)
        return self.accumulating[op]

    # --- running and recording ------------------------------------------------------------------
    def judge(self, check: str, program: Program, backward_calls: int = 1) -> Failure | None:
        """Run `program` on both engines; a Failure (diagnosed) if they disagree."""
        expected, reference = run_reference(program, backward_calls)
        hung = next((self.units[op] for op in sorted(program.ops())
                     if op in self.units and self.units[op].kind == "timeout"), None)
        if hung is not None:  # an op that ran out of time alone is not waited for again
            mine = Run([None] * program.size, [None] * program.size, hung.error)
            return self.failure(check, program, Diagnosis(hung.op, hung.kind, hung.cause, None), mine, expected,
                                backward_calls)
        mine = run_learner(self.adapter, program, backward_calls)
        if agrees(program, mine, expected):
            return None
        found = diagnose(program, mine, expected, reference, self.unit, self.accumulates)
        return self.failure(check, program, found, mine, expected, backward_calls)

    def failure(self, check: str, program: Program, found: Diagnosis, mine: Run, expected: Expected,
                backward_calls: int = 1) -> Failure:
        n = len(program.leaves)

        def wrong(s: int) -> bool:
            if not close(mine.values[s], expected.values[s]):
                return True
            got = mine.grads[s]
            if backward_calls == 2 and s >= n and got is not None:  # interior: one pass or two, both fine
                return not (close(got, expected.grads[s]) or close(got, 2 * expected.grads[s]))
            return not grad_close(program, s, mine.grads[s], expected.grads[s])

        def code(s: int) -> str:
            return self.adapter.leaf_code(program.leaves[s]) if s < n else program.step_code(s - n, self.adapter.codes)

        rows = [] if program.loop is not None else [
            NodeRow(program.name(s), code(s), expected.values[s], mine.values[s], expected.grads[s], mine.grads[s],
                    wrong(s))
            for s in range(program.size - 1, -1, -1)]
        # The diagnosed node, else the first differing one in backward order (the rows' order).
        first = program.name(found.first_wrong) if found.first_wrong is not None else next(
            (row.name for row in rows if row.wrong), None)
        return Failure(check, found.op, found.kind, found.cause, self.adapter.code(program, backward_calls),
                       expected.values[-1], mine.values[-1],
                       {program.name(i): expected.grads[i] for i in range(n)},
                       {program.name(i): mine.grads[i] for i in range(n)},
                       rows, first, program)

    def record(self, name: str, catches: str, failures: list[Failure]) -> None:
        """A check row; each failure with a cause not reported yet joins the report's failures."""
        if not failures:
            self.checks.append(CheckRow(name, catches, "ok"))
            return
        known = {(f.op, f.kind) for f in self.failures}
        numbers = []
        for failure in failures:
            if (failure.op, failure.kind) not in known:
                self.failures.append(failure)
                known.add((failure.op, failure.kind))
            numbers.append(next(i for i, f in enumerate(self.failures, 1)
                                if (f.op, f.kind) == (failure.op, failure.kind)))
        detail = "; ".join(dict.fromkeys(f"#{k} {self.failures[k - 1].op}: {self.failures[k - 1].kind}"
                                         for k in numbers))
        self.checks.append(CheckRow(name, catches, "FAIL", detail))


# --- the stages: each records its check rows, failures and notes on the checker ---
def _probe(checker: _Checker) -> tuple[list[str], dict[str, str]]:
    """Which ops the engine has: an op that is missing or raises when applied is not tested."""
    tested, untested = [], {}
    for op in SPECS:
        x, y, c = points(op)[0]
        program = alone(op, x, y, c)
        try:
            with guard(SECONDS):
                leaves = [checker.adapter.leaf(v) for v in program.leaves]
                out = checker.adapter.apply(op, leaves, c)
                if isinstance(out, numbers.Number) and not isinstance(leaves[0], numbers.Number):
                    untested[op] = (f"it returns a plain {type(out).__name__}, not a "
                                    f"{checker.adapter.class_name}: no gradient can flow through it")
                    continue
                checker.adapter.data(out)
        except GUARDED as exc:  # an op that raises is an op the engine does not have
            untested[op] = _why(exc)
            continue
        tested.append(op)
    return tested, untested


def _check_ops_alone(checker: _Checker, tested: list[str]) -> None:
    # Base ops first (see program.BASES), so that an op built on a wrong one is reported as such.
    for op in sorted(tested, key=lambda op: 0 if op not in BASES else 1 if op == "neg" else 2):
        found = checker.unit(op)
        rule = ", ".join(SPECS[op].rules)
        catches = f"{SPECS[op].code.format('x', 'y', c='c')} alone: forward, derivative {rule}"
        failures = []
        base = next((b for b in BASES.get(op, ()) if b in checker.units and not checker.units[b].ok), None)
        if not found.ok and base is not None:
            known = [i for i, f in enumerate(checker.failures, 1) if f.op in (base, "backward")]
            detail = f"#{known[0]} " if known else ""
            checker.checks.append(CheckRow(f"op {op}", catches, "FAIL",
                                        f"{detail}{base} ({_code(op)} is probably built on {_code(base)})"))
            continue
        if not found.ok and found.program is not None:
            mine = run_learner(checker.adapter, found.program)
            expected, _ = run_reference(found.program)
            blamed = "backward" if found.kind == "seed" or found.cause.startswith("backward()") else op
            failures.append(checker.failure(f"op {op}", found.program,
                                         Diagnosis(blamed, found.kind, found.cause, None), mine, expected))
        elif checker.unit("add").ok and not checker.accumulates(op):  # op(x, y) + x + y needs a working add
            program = with_sums(op, *points(op)[0])
            judged = checker.judge(f"op {op}", program)
            if judged is not None:
                failures.append(judged)
        checker.record(f"op {op}", catches, failures)


def _run_trap(checker: _Checker, trap: Trap) -> None:
    if trap.kind == "convention":
        _relu_convention(checker, trap)
        return
    failures = []
    for program in trap.programs:
        judged = checker.judge(trap.name, program)
        if judged is None and trap.kind == "twice":
            judged = _backward_twice(checker, trap, program)
        if judged is not None:
            failures.append(judged)
    checker.record(trap.name, trap.catches, failures)


def _backward_twice(checker: _Checker, trap: Trap, program: Program) -> Failure | None:
    """backward() a second time: leaves must hold twice the one-pass gradient."""
    mine = run_learner(checker.adapter, program, backward_calls=2)
    once, _ = run_reference(program)
    if mine.error is not None:
        checker.notes.append(f"a second backward() raises ({mine.error}); PyTorch does too unless "
                          "retain_graph=True")
        return None
    n = len(program.leaves)
    ratios = [(mine.grads[i] or 0.0) / once.grads[i] for i in range(n) if once.grads[i] != 0.0]
    if all(close(r, 2.0) for r in ratios):
        return None
    if all(close(r, 1.0) for r in ratios):
        checker.notes.append("backward() resets the leaves' gradients: after two calls they hold one pass "
                          "(PyTorch adds them up)")
        return None
    expected, _ = run_reference(program, backward_calls=2)
    times = ", ".join(f"{program.name(i)} {(mine.grads[i] or 0.0) / once.grads[i]:.4g}x"
                      for i in range(n) if once.grads[i] != 0.0)
    cause = (f"after two backward() calls the leaves hold {times} their one-pass gradient instead of 2x: "
             "the second pass starts from the interior .grad values the first left behind, so interior "
             "gradients compound; zero every interior node's .grad at the start of backward() "
             "(or require zero_grad() before each backward())")
    return checker.failure(trap.name, program, Diagnosis("backward", "compounding", cause, None), mine, expected, 2)


def _relu_convention(checker: _Checker, trap: Trap) -> None:
    program = trap.programs[0]
    mine = run_learner(checker.adapter, program)
    expected, _ = run_reference(program)
    if mine.error is not None or not close(mine.values[-1], expected.values[-1]):
        checker.record(trap.name, trap.catches, [checker.judge(trap.name, program) or checker.failure(
            trap.name, program, Diagnosis("relu", "forward", "relu(0) is not 0", None), mine, expected)])
        return
    checker.checks.append(CheckRow(trap.name, trap.catches, "note",
                                f"yours: relu'(0) = {mine.grads[0]!r} (PyTorch and autograd_mini: 0.0)"))


def _random_search(checker: _Checker, tested: list[str]) -> None:
    """Random DAGs over the ops that passed alone; each round leaves out the op blamed before."""
    try:
        from .search import smallest_failure
    except ModuleNotFoundError:  # hypothesis is an optional dependency
        checker.checks.append(CheckRow("random DAGs", "anything else, shrunk", "skipped",
                                    "needs hypothesis (pip install hypothesis)"))
        return
    names = [op for op in tested if checker.unit(op).ok]
    if "add" not in names:
        checker.checks.append(CheckRow("random DAGs", "anything else, shrunk", "skipped",
                                    "x + y does not pass alone yet"))
        return
    failures: list[Failure] = []
    started, tried, stopped = time.monotonic(), [0], [False]

    def fails(program: Program) -> bool:
        if time.monotonic() - started > SEARCH_SECONDS:  # keep what was found, shrink no further
            stopped[0] = True
            return False
        tried[0] += 1
        mine = run_learner(checker.adapter, program)
        expected, _ = run_reference(program)
        return not agrees(program, mine, expected)

    for round_ in range(3):
        if "add" not in names:
            break
        program = smallest_failure(names, fails, seed=checker.seed + round_, examples=checker.examples)
        if program is None:
            break
        judged = checker.judge("random DAGs", program)
        if judged is None:
            break
        failures.append(judged)
        if judged.op not in names or judged.op == "add":
            break
        names.remove(judged.op)
    if stopped[0]:
        checker.notes.append(f"the random search stopped after {SEARCH_SECONDS:g} s ({tried[0]} programs run): "
                          "your engine is slow on small graphs, so fewer programs were tried than asked")
    checker.record("random DAGs", f"up to {checker.examples} programs a round, shrunk to the smallest failing one",
                failures)


def check_engine(engine: Any, *, seed: int = 0, examples: int = EXAMPLES) -> Report:
    """Test a learner's autodiff engine against autograd_mini's exact gradients.

    engine:   a micrograd-style class (`Value(float)`, `.data`, `.grad`,
              `.backward()`, operators and whichever of relu, tanh, exp, log,
              sigmoid it has), or an `Adapter` for another API.
    seed:     the random search's seed: the same seed gives the same report.
    examples: random programs tried per search round.

    Returns a `Report`: `.ok`, `.failures` (each with `.op` blamed,
    `.expression` the smallest failing graph in the engine's own code, the
    expected and actual values and gradients), `.tested` and `.untested`.
    """
    adapter = as_adapter(engine)
    with warnings.catch_warnings():  # an engine's numpy overflow warnings are not the report's business
        warnings.simplefilter("ignore")
        try:
            with guard(SECONDS):
                data = adapter.data(adapter.leaf(1.5))
                tenth = adapter.data(adapter.leaf(0.1))
        except GUARDED as exc:  # the engine cannot even make a leaf
            hint = (": the checker makes each leaf as Value(x), so give your other parameters defaults "
                    "(_children=(), _op=''), or check it through an Adapter (see docs/check.md)"
                    if isinstance(exc, TypeError) else
                    ": the checker reads .data and .grad and calls .backward(); for other names, check it "
                    "through an Adapter (see docs/check.md)" if isinstance(exc, AttributeError) else "")
            return _broken(adapter, seed, f"{adapter.leaf_code(1.5)} raised {_why(exc)}{hint}")
        if not close(data, 1.5):
            return _broken(adapter, seed, f"{adapter.leaf_code(1.5)}.data is {data!r}, not 1.5")
        single = tenth != 0.1 and tenth == struct.unpack("f", struct.pack("f", 0.1))[0]
        with session(FLOAT32_TOL, FLOAT32_TOL) if single else session():
            report = _check(adapter, seed, examples, single)
        if single:
            report.notes.insert(0, f"{adapter.leaf_code(0.1)}.data is {tenth!r}: your engine computes in float32, "
                                f"so every number is compared within a relative {FLOAT32_TOL:g} (not 1e-9)")
        return report


def _check(adapter: Adapter, seed: int, examples: int, single: bool) -> Report:
    checker = _Checker(adapter, seed, examples)
    tested, untested = _probe(checker)
    checker.supported = set(tested)
    for op in REQUIRED:
        if op not in tested:
            checker.failures.append(Failure("ops", op, "missing op", f"x {'+' if op == 'add' else '*'} y between "
                                            f"two Values is needed for every check: {untested[op]}", ""))
    if checker.failures:
        return Report(adapter.name, seed, _codes(tested), _reasons(untested), checker.checks, checker.failures)
    _check_ops_alone(checker, tested)
    for trap in traps(frozenset(tested), float32=single):
        _run_trap(checker, trap)
    _random_search(checker, tested)
    return Report(adapter.name, seed, _codes(tested), _reasons(untested), checker.checks, checker.failures,
                  checker.notes)


def assert_engine_ok(engine: Any, *, seed: int = 0, examples: int = EXAMPLES) -> Report:
    """For a course's test suite: `check_engine`, raising AssertionError with the whole report unless ok."""
    report = check_engine(engine, seed=seed, examples=examples)
    if not report.ok:
        raise AssertionError("\n" + str(report))
    return report


def _broken(adapter: Adapter, seed: int, cause: str) -> Report:
    return Report(adapter.name, seed, [], {}, [], [Failure("leaf", "engine", "engine", cause, "")])


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:120] if text else type(exc).__name__


def _code(op: str) -> str:
    return SPECS[op].code.format("x", "y", c="2.0")


def _codes(ops: list[str]) -> list[str]:
    return [_code(op) for op in ops]


def _reasons(untested: dict[str, str]) -> dict[str, str]:
    return {_code(op): why for op, why in untested.items()}
