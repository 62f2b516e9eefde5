"""The engine, running the shipped reference rulebook, against an independent implementation.

tests/reference_oracle.py implements the reference scheme in plain Python from its
specification, without the rule language or durable_rules. Any difference in any case
total or department total, grade or rank fails.
"""
import json

import pytest
import reference_oracle as oracle
from casekit import SAMPLE, departments, score
from randomcases import random_cases


def compare(cases):
    expected = oracle.score_departments(cases)
    results = score(cases)
    case_diffs = [(case_id, dept, r.total, expected[dept]["cases"][case_id]["total"])
                  for (case_id, dept), r in results.items() if r.total != expected[dept]["cases"][case_id]["total"]]
    assert case_diffs == []
    got = departments(cases)
    assert set(got) == set(expected)
    for name, result in got.items():
        assert (result.total, result.grade, result.rank) == (
            expected[name]["total"], expected[name]["grade"], expected[name]["rank"]), name
        assert result.base == expected[name]["base"]
    return got


def test_sample_year_matches_the_oracle():
    cases = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    got = compare(cases)
    assert len(got) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_random_years_match_the_oracle(seed):
    compare(random_cases(seed, 250))
