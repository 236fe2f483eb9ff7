"""Shared test set-up: Hypothesis profiles and small scenarios.

CI runs the ``ci`` profile: a fixed number of examples, derandomized, so a run is
bounded and repeatable. ``make test-deep`` selects ``deep``: many more examples,
random seeds, and the tests marked ``slow``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
# The Pact tests run the real mock server and verifier; they send no usage telemetry.
os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

settings.register_profile(
    "ci",
    max_examples=100,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=600,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def root() -> Path:
    """The repository's root folder."""
    return ROOT
