"""The figures a report opens with: every rate the rulebook scores, pooled over all departments.

A rate item ([criterion.rate]) gives each department points from its own rate; the ledger
keeps that rate as a sentence. A supervisor quotes the whole city's: the hits of every
department over the cases of every department, exact (a Fraction), with the two counts. That
is read here from the scored cases' rate marks, the marks the roll-up counts, so the city's
figure and the departments' add up to the same hits and cases.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from scoring.engine.session import Run


@dataclass(frozen=True)
class PooledRate:
    criterion: str  # the rate item's id
    name: str  # what it is called: the item's title without the heading before "：" (办理程序：面商率 -> 面商率)
    hits: int | Fraction  # a ratio of sums: the sum of the numerators
    cases: int | Fraction  # the cases the rate counts (its `of`), or the sum of a ratio's denominators; 0: none

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.hits, self.cases) if self.cases else None


@dataclass(frozen=True)
class Figures:
    """What a report says first: the cases and departments counted and the pooled rates (none: counts only)."""

    cases: int
    departments: int
    rates: list[PooledRate]


def figures(run: Run) -> Figures:
    """The run's cases, departments and every rate item's hits and cases over all departments. A rate item of a
    category counts that category's cases only, as the roll-up does; with categories, a case in none counts for none."""
    categorised = bool(run.compiled.categories)
    rates = []
    for criterion in run.compiled.criteria:
        if criterion.rate is None:
            continue
        marks = [case.rates[criterion.id] for department in run.departments for case in department.cases
                 if criterion.id in case.rates and criterion.category in (None, case.category)
                 and not (categorised and case.category is None)]
        eligible = [mark for mark in marks if mark.eligible]
        if criterion.rate.hit_rule is None:  # a ratio of sums: the numerators over the denominators
            hits, cases = sum(m.numerator for m in eligible), sum(m.denominator for m in eligible)
        else:
            hits, cases = sum(mark.hit for mark in eligible), len(eligible)
        rates.append(PooledRate(criterion.id, criterion.title.rpartition("：")[2] or criterion.title, hits, cases))
    return Figures(run.ledger["input"]["cases"], len(run.ledger["departments"]), rates)
