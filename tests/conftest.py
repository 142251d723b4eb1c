"""Shared pytest setup: the hypothesis profiles every test file runs under.

HYPOTHESIS_PROFILE=ci (used by CI) is derandomized, so a failure reproduces
exactly; the default "dev" profile explores new examples on each run.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100, print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
