"""The self-check's promises, for every shipped rulebook on its fixtures, on random dates:

- the floor is exactly the score of the file as it stood at the date, judged at the date;
- the floor is never above the ceiling;
- the ceiling is never below the final score.

The floor is not a lower bound of the final score: what happens after the date can cost points
(an urge, a dissatisfied rating, a deadline missed later), and the floor does not foresee it.
The ceiling holds only when the rulebook declares the step that completes each item a later
event can improve (README, "Due dates and steps"): a rulebook without steps sees no future. So
a rulebook listed below declares its steps, and a deduction for something not yet done waits for
its deadline (`as_of >= due`: from the end of the due date, when a step can only come late).
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
WITH_STEPS = ["proposal-handling", "county-2017", "shijiazhuang", "combined-2020", "fengyang-2015"]


def fixture_files(stem: str):
    for fixture in sorted((ROOT / "rules" / f"{stem}.tests").glob("*.toml")):
        spec = tomllib.loads(fixture.read_text(encoding="utf-8"))["fixture"]
        yield fixture.parent / spec["cases"], fixture.parent / spec["departments"] if "departments" in spec else None


def random_days(count: int, seed: int):
    def pick(first: dt.date, end: dt.date) -> list[dt.date]:
        rng = random.Random(seed)
        return sorted({first + dt.timedelta(days=rng.randrange((end - first).days + 1)) for _ in range(count)})
    return pick


def check_promises(stem: str, cases, departments, days) -> int:
    """days(first event, end of the assessment) -> the check dates."""
    compiled = load_compiled(ROOT / "rules" / f"{stem}.toml")
    session = Session(compiled, jobs=0)
    case_file = load_cases(cases)
    records = None if departments is None else load_departments(departments, compiled.book.spec.department_fields)
    final = {d.department: d.total for d in session.run(case_file, records).departments}
    first = min(e.date for case in case_file.cases for e in case.events)
    end = assessment_end(compiled, case_file)
    checked = 0
    for day in days(first, end):
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
    assert sum(check_promises(stem, cases, departments, random_days(8, seed=20201231))
               for cases, departments in fixture_files(stem)) > 20


@pytest.mark.slow
def test_floor_and_ceiling_on_the_sample_year():
    assert check_promises("proposal-handling", SAMPLE, None, random_days(4, seed=7)) > 40


# The day a deadline falls on, which random dates seldom hit: a step is dated the day after, already late, so a
# deduction for something not done must count by then (as_of >= due), or the floor is above the ceiling.
@pytest.mark.parametrize("stem, fixture, day", [
    ("county-2017", "floors", "2017-04-20"),      # opinions due: none counted yet (-4), one the day after late (-2)
    ("shijiazhuang", "workload", "2019-06-12"),   # replies due: none counted yet (-1), one the day after late (-1)
    ("fengyang-2015", "timeliness-cooperation", "2015-06-10"),  # opinions due: none (-0.1), late (-0.1)
    ("fengyang-2015", "deductions-stop-at-zero", "2015-07-31"),  # proposals' replies due: none (-0.1), late (-0.1)
    ("fengyang-2015", "deadline-days", "2015-06-30"),            # one reply that day, one the day after
    ("combined-2020", "deadline-days", "2020-07-10"),            # K02's publication due (P1 waits in the ceiling too)
    ("shijiazhuang", "deadline-days", "2019-06-12"),             # one reply that day, one the day after
    ("county-2017", "deadline-days", "2017-06-20"),              # one reply that day, one the day after
    ("county-2017", "deadline-days", "2017-07-19"),              # D02's publication due (P4 waits in the ceiling too)
])
def test_floor_and_ceiling_on_the_day_a_deadline_falls_on(stem, fixture, day):
    [(cases, departments)] = [(c, d) for c, d in fixture_files(stem) if c.stem == fixture]
    assert check_promises(stem, cases, departments, lambda first, end: [dt.date.fromisoformat(day)]) > 0


def self_check(stem: str, fixture: str, department: str, day: dt.date) -> dict:
    [(cases, departments)] = [(c, d) for c, d in fixture_files(stem) if c.stem == fixture]
    compiled = load_compiled(ROOT / "rules" / f"{stem}.toml")
    records = None if departments is None else load_departments(departments, compiled.book.spec.department_fields)
    return SelfCheck(Session(compiled, jobs=0), load_cases(cases), department, day, records).document()


# The deadline-days fixtures: of two cases, one completes the item on its due day, the other a day late. The day
# before, both are open and at stake (points > 0: what the step gains against doing nothing, a deduction that waits
# for the due date included), and none is missed; on the due day the one done that day is complete (the last day
# counts as in time: it costs less than the late one), the other is missed, and the ceiling no longer counts its
# step as in time.
@pytest.mark.parametrize("stem, department, criterion, due, on_time, late", [
    ("fengyang-2015", "县交通局", "T", "2015-06-30", "2015-D01", "2015-D02"),       # a reply: -0.1 when late or none
    ("fengyang-2015", "县水利局", "H", "2015-06-10", "2015-D01", "2015-D02"),       # the co-handler's opinion
    ("combined-2020", "市发展改革委", "L2", "2020-06-10", "2020-K01", "2020-K02"),  # a reply: 30, less 3 a working day
    ("combined-2020", "市财政局", "H1", "2020-05-21", "2020-K01", "2020-K02"),      # the opinion: 100, less 10 a day
    ("shijiazhuang", "市交通运输局", "C1", "2019-06-12", "2019-D01", "2019-D02"),   # a reply: -1 when late or none
    ("county-2017", "县交通运输局", "P2", "2017-03-23", "2017-D01", "2017-D02"),   # signing: -1 when late or never
    ("county-2017", "县交通运输局", "P3", "2017-06-20", "2017-D01", "2017-D02"),   # a reply: -2 late, -4 none
    ("county-2017", "县农业农村局", "Q3", "2017-04-20", "2017-D01", "2017-D02"),   # the opinion: -2 late, -4 none
    # a publication's due date follows its reply: only the late one is due that day (its one rule, late or never,
    # waits for as_of; with `as_of > due` it would be neither at risk nor missed on its due day)
    ("county-2017", "县交通运输局", "P4", "2017-07-19", None, "2017-D02"),
    ("combined-2020", "市发展改革委", "P1", "2020-07-10", None, "2020-K02"),
])
def test_the_day_before_a_deadline_and_the_deadline_day(stem, department, criterion, due, on_time, late):
    day = dt.date.fromisoformat(due)
    before = self_check(stem, "deadline-days", department, day - dt.timedelta(days=1))
    on = self_check(stem, "deadline-days", department, day)

    def entries(document: dict, key: str) -> dict:
        return {e["case"]: e for e in document[key] if e["criterion"] == criterion}

    cases = [c for c in (on_time, late) if c is not None]
    at_risk = entries(before, "at_risk")
    assert set(cases) <= set(at_risk) and late not in entries(before, "missed")
    assert all(at_risk[c]["due"] == due and at_risk[c]["days_left"] == 1 and at_risk[c]["points"] > 0 for c in cases)
    assert not set(cases) & set(entries(on, "at_risk"))
    missed = entries(on, "missed")  # in time can still fall short of the item's best (C1: finished 10 days early)
    assert late in missed and missed[late]["due"] == due and missed[late]["cost"] > missed.get(on_time, {"cost": 0})["cost"]
    assert on["ceiling"] < before["ceiling"]
