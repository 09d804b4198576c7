"""The fuzz tier's settings: hypothesis over every parser of outside input, on a budget.

Imported by every tests/fuzz module (not a conftest.py: tests/conftest.py is imported by
name as `conftest`, and a second one would take its place).

Budget (CI): each test runs a fixed number of examples (`budget(n)`: 50 for the ELF
tests, whose examples cost ~50 ms, up to 200 for the fault parsers), derandomized so a CI
run is reproducible, with a per-example deadline of 3 s; the whole tier takes about 40 s
on one core. For a longer campaign: FWH_FUZZ_EXAMPLES=5000 FWH_FUZZ_SEED=random (every
test then runs that many).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = os.environ.get("FWH_FUZZ_EXAMPLES")

settings.register_profile(
    "fwharden",
    deadline=3000,                 # ms per example: a slow path is a failure, not a wait
    derandomize=os.environ.get("FWH_FUZZ_SEED") != "random",
    database=None,                 # nothing written into the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)
settings.load_profile("fwharden")


def budget(examples: int) -> settings:
    """The test's example count in CI, or FWH_FUZZ_EXAMPLES for a campaign."""
    return settings(max_examples=int(EXAMPLES) if EXAMPLES else examples)
