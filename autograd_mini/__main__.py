"""`python -m autograd_mini`: the same command line as `autograd-mini`.

(The package itself is imported before this file runs, so only the console
script, `_autograd_mini_cli`, can also guard that import against Ctrl-C.)
"""

import signal
import sys

try:
    from .cli import main

    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: a Ctrl-C now cannot turn the exit into a traceback
except KeyboardInterrupt:  # while the command line's modules load, or right after main() returned
    print("autograd-mini: error: interrupted", file=sys.stderr)
    code = 130
sys.exit(code)
