"""The differential tester in the suite: random rulebooks and case files, the product against the
independent interpreter (tests/ruleinterp.py), from a fixed seed: a few seconds, in every tier
(a larger sweep costs more than the suite can spare: 1,000 pairs take 5 to 15 seconds on two
shared cores). scripts/difftest.py runs the same comparison for any number of pairs (tens of
thousands before a release, a few minutes); a disagreement there is shrunk and printed."""
from __future__ import annotations

from differential import run


def test_a_few_hundred_random_rulebooks_agree():
    tally = run(seed=7, pairs=300)
    assert not tally.disagreements, "\n".join(d.report() for d in tally.disagreements)
    # the comparison is not vacuous: most rulebooks load and are scored, and rules fire
    assert tally.refused < tally.pairs / 3, tally
    assert tally.fired > tally.pairs, tally
