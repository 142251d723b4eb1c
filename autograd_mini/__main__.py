"""`python -m autograd_mini`: the same command line as `autograd-mini`."""

import sys

from .cli import main

sys.exit(main())
