"""Shared fixtures: the reference rulebook compiled once, the sample year read once.

Tiers (pytest markers, declared in pyproject.toml): `slow` (whole-year property checks and
fuzz-like sweeps), `upstream` (durable_rules' own traps and crashes, valgrind), `browser`
(headless Chromium), `office` (LibreOffice, to print workbooks). Plain `pytest` leaves them out
(the developer loop); `pytest --all` runs everything (CI).
"""
from __future__ import annotations

import os

# The suite speaks English (its assertions were written in English); tests/test_i18n.py runs without
# this to check the default, Chinese. Set before the tool is imported, and inherited by every
# process a test starts.
os.environ["SCORING_LANG"] = "en"

import signal

# A suite started in the background of a shell (`pytest ... &`) inherits Ctrl-C ignored, and so would
# every process a test starts: the tests that press Ctrl-C (test_interrupt.py, the workbench server's
# stop) would see a command that cannot be interrupted, where a user at a terminal has the default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

import pytest
from casekit import REFERENCE, SAMPLE

from scoring.engine.compiler import load_compiled
from scoring.inputs.case_file import load_cases


@pytest.fixture(scope="session")
def reference_rules():
    """The reference rulebook, compiled."""
    return load_compiled(REFERENCE)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, installed by scripts/ensure-browser when missing (tier: browser)."""
    from browser import launched_browser  # playwright: only for the tests that use a browser
    yield from launched_browser()


@pytest.fixture(scope="session")
def office():
    """LibreOffice's soffice, headless, installed by scripts/ensure-office when missing (tier: office)."""
    import shutil
    import subprocess

    from casekit import ROOT
    done = subprocess.run([str(ROOT / "scripts" / "ensure-office")], capture_output=True, text=True)
    assert done.returncode == 0, f"scripts/ensure-office failed: {done.stderr}"
    return shutil.which("soffice")


@pytest.fixture(scope="session")
def sample_cases():
    """The sample year's case file, read and validated."""
    return load_cases(SAMPLE)


TIERS = ("slow", "upstream", "browser", "office")


def pytest_addoption(parser):
    parser.addoption("--all", action="store_true", dest="all_tiers",
                     help="run every tier (slow, upstream, browser): what CI runs; without it, the developer loop")


def pytest_collection_modifyitems(config, items):
    """Without --all (or an explicit -m), the tiered tests are deselected: the developer loop."""
    for item in items:
        for tier in ("browser", "office"):  # a test that needs the browser or LibreOffice is in that tier
            if tier in getattr(item, "fixturenames", ()):
                item.add_marker(tier)
    if config.getoption("all_tiers") or config.getoption("markexpr"):
        return
    kept, left = [], []
    for item in items:
        (left if any(item.get_closest_marker(tier) for tier in TIERS) else kept).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
