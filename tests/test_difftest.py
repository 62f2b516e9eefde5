"""The differential tester in the suite: random rulebooks and case files, the product against the
independent interpreter (tests/ruleinterp.py), with fixed seeds. scripts/difftest.py runs the
same comparison for any number of pairs; a disagreement there is shrunk and printed."""
from __future__ import annotations

import pytest
from differential import run


def _check(seed: int, pairs: int) -> None:
    tally = run(seed, pairs)
    assert not tally.disagreements, "\n".join(d.report() for d in tally.disagreements)
    # the comparison is not vacuous: most rulebooks load and are scored
    assert tally.refused < pairs / 3, tally


def test_a_handful_of_random_rulebooks_agree():
    _check(seed=7, pairs=120)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1000, 2000])
def test_thousands_of_random_rulebooks_agree(seed):
    _check(seed, pairs=2500)
