"""Run the benchmark scripts the way issue 14 asks: a bare process and a heavy one (torch and
matplotlib imported first), under every Python given, one after the other (never in parallel).

Run:  python benchmarks/run_all.py                                   (this Python, all three scripts)
      python benchmarks/run_all.py --python /path/to/py3.13/bin/python  (add another interpreter;
                                                                     it needs numpy, micrograd and
                                                                     autograd_mini installed)
      python benchmarks/run_all.py --script bench_tape.py --quick    (one script, few repeats)

Each run is a fresh process; its output is printed under a header naming the interpreter and
the process kind. Options after the known ones are passed to every script.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_engine.py", "bench_nn.py", "bench_tape.py", "bench_forward.py")


def main(argv: Sequence[str] | None = None) -> int:
    """Run every (python, script, process kind) in turn; returns the worst exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--python", action="append", default=[], help="another interpreter (repeatable)")
    parser.add_argument("--script", action="append", choices=SCRIPTS, help="only this script (repeatable)")
    args, passed = parser.parse_known_args(argv)
    worst = 0
    for python in [sys.executable, *args.python]:
        for script in args.script or SCRIPTS:
            for heavy in (False, True):
                command = [python, str(HERE / script), *passed, *(["--heavy"] if heavy else [])]
                print(f"\n===== {script} | {python} | {'heavy' if heavy else 'bare'} process", flush=True)
                worst = max(worst, subprocess.run(command, check=False).returncode)
    return worst


if __name__ == "__main__":
    sys.exit(main())
