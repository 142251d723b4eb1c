"""The `autograd-mini` console script: `autograd_mini.cli.app.main` behind a Ctrl-C guard.

It lives outside the package because importing `autograd_mini` is most of the command's
start-up, and an interrupt during that import would otherwise end with a traceback: code
inside the package cannot catch it.
"""

import signal
import sys


def main() -> int:
    """Import the command line and run it; Ctrl-C while importing or exiting ends quietly with 130."""
    try:
        from autograd_mini.cli.interrupts import held_interrupts

        with held_interrupts():  # numpy's import turns a Ctrl-C into an ImportError
            from autograd_mini.cli.app import main as run
        code = run()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: a Ctrl-C now cannot turn the exit into a traceback
    except KeyboardInterrupt:
        print("autograd-mini: error: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
