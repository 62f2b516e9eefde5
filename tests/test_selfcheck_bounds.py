"""The self-check's promises, for every shipped rulebook on its fixtures, on random dates:

- the floor is exactly the score of the file as it stood at the date, judged at the date;
- the floor is never above the ceiling;
- the ceiling is never below the final score.

The floor is not a lower bound of the final score: what happens after the date can cost points
(an urge, a dissatisfied rating, a deadline missed later), and the floor does not foresee it.
The ceiling holds only when the rulebook declares the step that completes each item a later
event can improve (README, "Due dates and steps"): a rulebook without steps sees no future.
"""
from __future__ import annotations

import datetime as dt
import random
import tomllib

import pytest
from casekit import ROOT, SAMPLE

from scoring.base.errors import InputError
from scoring.checks.selfcheck import SelfCheck
from scoring.engine.compiler import load_compiled
from scoring.engine.session import Session, assessment_end
from scoring.inputs.case_file import load_cases
from scoring.inputs.records import load_departments

# the shipped rulebooks whose steps let the self-check see every later improvement
WITH_STEPS = ["proposal-handling", "county-2017"]


def fixture_files(stem: str):
    for fixture in sorted((ROOT / "rules" / f"{stem}.tests").glob("*.toml")):
        spec = tomllib.loads(fixture.read_text(encoding="utf-8"))["fixture"]
        yield fixture.parent / spec["cases"], fixture.parent / spec["departments"] if "departments" in spec else None


def check_promises(stem: str, cases, departments, days: int, seed: int) -> int:
    compiled = load_compiled(ROOT / "rules" / f"{stem}.toml")
    session = Session(compiled, jobs=0)
    case_file = load_cases(cases)
    records = None if departments is None else load_departments(departments, compiled.book.spec.department_fields)
    final = {d.department: d.total for d in session.run(case_file, records).departments}
    first = min(e.date for case in case_file.cases for e in case.events)
    end = assessment_end(compiled, case_file)
    rng = random.Random(seed)
    checked = 0
    for day in sorted({first + dt.timedelta(days=rng.randrange((end - first).days + 1)) for _ in range(days)}):
        cut = case_file.as_of(day)
        present = None if records is None else records.for_cases(cut.cases)
        floor = {d.department: d.total for d in session.run(cut, present, as_of=day).departments} if cut.cases else {}
        for department in sorted(final):
            try:
                check = SelfCheck(session, case_file, department, day, records)
            except InputError as error:
                assert "had no case assigned by" in str(error) and department not in floor, (department, day)
                continue
            where = (stem, cases.name, department, day)
            assert check.now.total == floor[department], where
            assert check.now.total <= check.ceiling.total, where
            assert check.ceiling.total >= final[department], where
            checked += 1
    return checked


@pytest.mark.slow
@pytest.mark.parametrize("stem", WITH_STEPS)
def test_floor_and_ceiling_on_every_fixture(stem):
    assert sum(check_promises(stem, cases, departments, days=8, seed=20201231)
               for cases, departments in fixture_files(stem)) > 20


@pytest.mark.slow
def test_floor_and_ceiling_on_the_sample_year():
    assert check_promises("proposal-handling", SAMPLE, None, days=4, seed=7) > 40
