"""`python -m autograd_mini`: the same command line as `autograd-mini` (see _autograd_mini_cli.py).

Python imports the package before this file runs, so only that import is unguarded here.
"""

import signal
import sys

try:
    from .cli.interrupts import held_interrupts

    with held_interrupts():  # numpy's import turns a Ctrl-C into an ImportError
        from .cli.app import main
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: a Ctrl-C now cannot turn the exit into a traceback
except KeyboardInterrupt:  # while the modules load, or right after main() returned
    print("autograd-mini: error: interrupted", file=sys.stderr)
    code = 130
sys.exit(code)
