"""Shared fixtures: the reference rulebook compiled once, the sample year read once.

Tiers (pytest markers, declared in pyproject.toml): `slow` (whole-year property checks and
fuzz-like sweeps), `upstream` (durable_rules' own traps and crashes, valgrind), `browser`
(headless Chromium). The developer loop is `pytest -m "not slow and not upstream and not browser"`;
CI runs everything.
"""
from __future__ import annotations

import pytest
from casekit import REFERENCE, SAMPLE

from scoring.engine.compiler import load_compiled
from scoring.inputs.case_file import load_cases


@pytest.fixture(scope="session")
def reference():
    """The reference rulebook, compiled."""
    return load_compiled(REFERENCE)


@pytest.fixture(scope="session")
def sample():
    """The sample year's case file, read and validated."""
    return load_cases(SAMPLE)
