"""Every output a user sees is byte for byte what tests/golden/manifest.json pins (scripts/golden.py).

78 command lines over the samples and every shipped rulebook's fixtures: tables, JSON, CSV,
workbooks, HTML pages, explanations, self-checks, bulletins, diffs, verification, rule checks
and error messages. A deliberate change of an output rewrites the manifest in the same commit
(`python scripts/golden.py write`), so the change is seen in review.
"""
from __future__ import annotations

import importlib.util
import json

import pytest
from casekit import ROOT

SPEC = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
golden = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(golden)


EXPECTED = json.loads(golden.MANIFEST.read_text(encoding="utf-8"))
PARTS = 4  # the outputs in four parts, so that the test runs spread them over the cores


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
def test_every_output_is_what_the_manifest_pins(part):
    names = set(sorted(EXPECTED)[part::PARTS])
    found = golden.manifest_of(golden.outputs(only=names))
    assert golden.mismatches({name: EXPECTED[name] for name in names}, found) == []


def test_the_manifest_pins_every_output_the_script_makes():
    assert set(EXPECTED) == set(golden.commands()) | set(golden.chained()) | set(golden.failing())


def test_a_changed_byte_is_a_mismatch():
    expected = {"a": {"exit": 0, "bytes": 3, "sha256": "x"}}
    assert golden.mismatches(expected, {"a": {"exit": 0, "bytes": 3, "sha256": "y"}}) != []
    assert golden.mismatches(expected, {}) == ["a: not run"]
