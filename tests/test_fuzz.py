"""The mutation fuzzer (scripts/fuzz.py) on the rule files, from a fixed seed: no traceback, no exit
status outside 0-3, no signal, no hang. `python scripts/fuzz.py --inputs N` runs longer, and on case
files and registers too."""
from __future__ import annotations

import importlib.util
import sys

import pytest
from forkrun import ROOT

spec = importlib.util.spec_from_file_location("fuzz", ROOT / "scripts" / "fuzz.py")
fuzz = sys.modules["fuzz"] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
spec.loader.exec_module(fuzz)


@pytest.mark.slow
def test_mutated_rule_files_give_no_finding(tmp_path):
    said = []
    counts = fuzz.fuzz(inputs=25, seed=20240601, seconds=30, out=tmp_path, targets=("rules",), echo=said.append)
    assert counts["inputs"] == 25
    assert counts["traceback"] + counts["exit status"] + counts["signal"] + counts["hang"] == 0, "\n".join(said)
