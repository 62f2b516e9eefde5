"""The whole repository passes `ruff check .` under the configuration in pyproject.toml.

ruff comes with the test extra (pinned to the versions this configuration was checked with:
a newer minor version may bring new rules). A finding fails the test with ruff's own report;
`ruff check --fix` or the report's hints show how to fix it, and a rule that does not fit goes
into [tool.ruff.lint] with its reason.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
from casekit import ROOT


def test_ruff_finds_nothing():
    # --no-cache: the test leaves no .ruff_cache in the checkout
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=300)
    if run.returncode != 0:
        pytest.fail(f"`ruff check .` exited with {run.returncode}:\n{run.stdout}{run.stderr}", pytrace=False)
