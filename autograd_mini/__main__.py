"""`python -m autograd_mini`: the same command line as `autograd-mini`.

(The package itself is imported before this file runs, so only the console
script, `_autograd_mini_cli`, can also guard that import against Ctrl-C.)
"""

import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line's modules load: no traceback
    print("autograd-mini: error: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
