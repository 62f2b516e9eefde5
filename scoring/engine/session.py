"""A scoring session: one compiled rulebook, and every scoring a command does with it.

A command opens one session and scores through it as often as it needs: `score` once,
`self-check` up to four times (now, the ceiling, the department's own steps, every step at
once; once more, judged at the assessment's end, when the rules read as_of), the monthly
bulletin twice for the ranking plus three (or four) times per department (its floor is the
month-end ranking's). Each scoring goes one of two ways:

* small inputs (fewer cases than one worker batch, which a pool could not share out
  anyway) in this process, with the session's one evaluator: its engine rules are
  registered once for the whole command;
* larger ones in worker processes (runner.py), which isolate a native crash of the
  engine to its case. Forked workers inherit the compiled rulebook and the cases from
  this process, so a pool costs a fork, never a compilation.

`jobs` forces the choice: 0 scores in this process, N > 0 in N workers whatever the size.
`map` shares out other work that scores through the session (the bulletin's self-check of each
department) over forked workers the same way.

Problems stop a run before anything is written: a rule failing on some case's data
(listed by case), or the engine failing (EngineError). With skip_invalid, bad cases are
left out and listed in the ledger instead.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from scoring.base.errors import EngineError, InputError, Problem
from scoring.base.i18n import _
from scoring.domain.cases import Case, assigned_on
from scoring.inputs.case_file import CaseFile
from scoring.inputs.records import DepartmentRecords, department_values
from scoring.ledger.build import build
from scoring.rulebook.periods import Period

from .compiler import CompiledRulebook
from .evaluate import CaseEvaluator, HandlerResult, ScoringSetting
from .rollup import DepartmentResult, roll_up
from .runner import BATCH_SIZE, CaseFailure, default_jobs, map_forked, score_cases

IN_PROCESS_BELOW = BATCH_SIZE  # cases; see the module's docstring


@dataclass(frozen=True)
class PeriodSlice:
    """The quarter or month a session scores (scoring.rulebook.periods), and how many cases of the given file were
    assigned outside it and left out."""

    period: Period
    outside: int


def cut_to_period(period: Period, case_file: CaseFile, records: DepartmentRecords | None
                  ) -> tuple[CaseFile, DepartmentRecords | None, PeriodSlice]:
    """The file cut to the cases first assigned in the period (the records to their departments), and the slice."""
    cut, outside = case_file.assigned_within(period.first, period.last)
    return cut, None if records is None else records.for_cases(cut.cases), PeriodSlice(period, outside)


@dataclass
class Run:
    compiled: CompiledRulebook
    case_file: CaseFile
    departments: list[DepartmentResult]
    failures: list[CaseFailure]
    recovered: list[str]  # cases in progress when a worker died, scored again alone
    ledger: dict
    records: DepartmentRecords | None = None
    as_of: dt.date | None = None  # the date the cases were judged at
    after_closing: int = 0  # events after the rulebook's closing date, left out


class Session:
    def __init__(self, compiled: CompiledRulebook, jobs: int | None = None, period: PeriodSlice | None = None):
        self.compiled = compiled
        self.jobs = jobs
        self.period = period  # a rulebook assessed per quarter or month: the period scored
        self._evaluator: CaseEvaluator | None = None
        self._evaluator_pid = 0  # a forked worker (map) makes its own: the parent's is the parent's

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def map(self, function, items: list, describe=str, stage: str | None = None) -> list:
        """[function(item) for item in items]: work that scores through this session (a department's
        self-check for the bulletin), shared out over worker processes unless the session is to
        stay in this process (jobs=0)."""
        workers = 0 if self.jobs == 0 else (self.jobs or default_jobs())
        parent = os.getpid()

        def in_worker(item):
            if os.getpid() != parent:
                # a forked worker scores in its own process: it is a daemon, which may not start workers
                # of its own (a department of 200 cases or more would ask for them)
                self.jobs = 0
            return function(item)
        return map_forked(in_worker, items, workers, describe, stage)

    def close(self) -> None:
        if self._evaluator is not None and self._evaluator_pid == os.getpid():
            self._evaluator.close()
            self._evaluator = None

    def workers(self, cases: int) -> int:
        """How many worker processes score this many cases (0: in this process)."""
        if self.jobs is not None:
            return self.jobs
        return 0 if cases < IN_PROCESS_BELOW else default_jobs()

    def run(self, case_file: CaseFile, records: DepartmentRecords | None = None, skip_invalid: bool = False,
            as_of: dt.date | None = None, period: PeriodSlice | None = None) -> Run:
        """Score a case file and roll it up: the whole result of one run, ledger included.

        as_of: the date the cases are judged at (a self-check's date, a bulletin's month end), the file
        being as it stood then; None for the assessment's result, judged at the rulebook's closing date
        (events after it are left out, and counted) or, without one, at the file's last event.
        period: the quarter or month the file was cut to, when not the session's (a rule test's)."""
        compiled = self.compiled
        period = period or self.period
        check_period(compiled, case_file)
        check_records(compiled, records, case_file)
        after_closing = 0
        if as_of is None:
            case_file, as_of, after_closing = as_assessed(compiled, case_file, period)
        values = department_values(case_file.cases, records, compiled.book.spec.department_fields)
        setting = ScoringSetting(values, None, as_of)
        results, failures, recovered = self.score(case_file.cases, case_file.path, skip_invalid, setting)
        if not results:
            raise InputError([Problem(case_file.path, None, "", _("no case could be scored"))])
        scored = roll_up(compiled, results, values, as_of)
        return Run(compiled, case_file, scored, failures, recovered,
                   build(compiled, case_file, scored, failures, records, as_of, after_closing, period), records,
                   as_of, after_closing)

    def score(self, cases: list[Case], source: str, skip_invalid: bool = False,
              setting: ScoringSetting | None = None) -> tuple[list[HandlerResult], list[CaseFailure], list[str]]:
        """Every handler result of the cases in their setting, in case order; failures stop the run unless
        skip_invalid."""
        rules = self.compiled.book.path
        setting = setting or ScoringSetting(department_values(cases, None, {}))
        workers = self.workers(len(cases))
        if workers == 0 and (self._evaluator is None or self._evaluator_pid != os.getpid()):
            self._evaluator, self._evaluator_pid = CaseEvaluator(self.compiled), os.getpid()
        outcome = score_cases(self.compiled, cases, workers, setting, evaluator=self._evaluator)
        failures = [outcome.failures[c.id] for c in cases if c.id in outcome.failures]
        calendar = [f for f in failures if f.kind == "calendar"]
        if calendar:
            # not a problem of one case: the rulebook's calendar lacks a year the data needs
            raise InputError([Problem(rules, None, "calendar", calendar[0].message)],
                             _("{n} case(s) fall outside the working-day calendar").format(n=len(calendar)))
        if failures and not skip_invalid:
            data = [f for f in failures if f.kind == "data"]
            broken = [f for f in failures if f.kind != "data"]
            if broken:
                raise EngineError("\n".join([_("the engine failed on {n} case(s); nothing was written:").format(
                    n=len(broken))] + ["  " + _("case {case}").format(case=f.case) + f": {f.kind}: {f.message}"
                                       for f in broken]))
            raise InputError(_failure_problems(source, data),
                             _("{n} case(s) could not be scored; nothing was written (--skip-invalid scores the "
                               "rest)").format(n=len(data)))
        results = [r for c in cases if c.id in outcome.results for r in outcome.results[c.id]]
        return results, failures, outcome.recovered


GROUPED = 3  # cases failing for one reason that are told as one problem, their ids listed after it
LISTED = 10  # of those, the ids shown


def _failure_problems(source: str, data: list[CaseFailure]) -> list[Problem]:
    """A problem per case; cases failing alike (a rule that reads a field the file does not have) as one,
    naming the first of them, so that a hundred cases do not bury what there is to fix."""
    alike: dict[str, list[CaseFailure]] = {}
    for failure in data:
        alike.setdefault(failure.reason or failure.message, []).append(failure)
    problems = []
    for reason, failures in alike.items():
        if len(failures) < GROUPED:
            problems += [Problem(source, None, _("case {case}").format(case=f.case), f.message) for f in failures]
            continue
        named = ", ".join(f.case for f in failures[:LISTED])
        more = _(" and {n} more").format(n=len(failures) - LISTED) if len(failures) > LISTED else ""
        problems.append(Problem(source, None, _("{n} cases ({cases}{more})").format(n=len(failures), cases=named, more=more),
                                reason))
    return problems


def assessment_end(compiled: CompiledRulebook, case_file: CaseFile, period: PeriodSlice | None = None) -> dt.date | None:
    """The day the assessment ends: for a quarter or a month, the period's end (Period.ends); else the rulebook's
    closing date; without one, the end of its period (valid_until, else 31 December of the cases' first year) or the
    file's last event, whichever is later. `score` judges the cases as of it; a self-check or a bulletin can look at
    any day up to it."""
    info = compiled.book.spec.rulebook
    if period is not None:
        return period.period.ends(info)
    if info.closing_date is not None:
        return info.closing_date
    last = case_file.last_event()
    if last is None:
        return None
    first = min(event.date for case in case_file.cases for event in case.events)
    return max(info.valid_until or dt.date(first.year, 12, 31), last)


def as_assessed(compiled: CompiledRulebook, case_file: CaseFile, period: PeriodSlice | None = None
                ) -> tuple[CaseFile, dt.date | None, int]:
    """The file `score` scores, the day it judges it at (assessment_end) and how many events were left out: with a
    closing date or for a period, the events after the assessment's end are not scored."""
    as_of = assessment_end(compiled, case_file, period)
    if compiled.book.spec.rulebook.closing_date is None and period is None:
        return case_file, as_of, 0
    after_closing = sum(1 for case in case_file.cases for event in case.events if event.date > as_of)
    return (case_file.as_of(as_of) if after_closing else case_file), as_of, after_closing


def end_reason(compiled: CompiledRulebook, period: PeriodSlice | None = None) -> str:
    """What the assessment's end is, in a message."""
    if period is not None:
        return f"the end of period {period.period.label}"
    if compiled.book.spec.rulebook.closing_date is not None:
        return "the rulebook's closing date"
    return "the end of the rulebook's period or of the cases' year, or their last event if later"


def check_records(compiled: CompiledRulebook, records: DepartmentRecords | None, case_file: CaseFile) -> None:
    """The department records a rulebook reads must be given, and name only departments of the case file."""
    fields = compiled.book.spec.department_fields
    if records is None:
        if fields:
            raise InputError([Problem(compiled.book.path, None, "department_fields", _(
                "the rulebook reads department records ({fields}); give them with --departments FILE").format(
                fields=", ".join(fields)))])
        return
    records.check_departments(case_file.cases)


MAX_LISTED = 10


def check_period(compiled: CompiledRulebook, case_file: CaseFile) -> None:
    """Every case must be assigned within the period the rulebook applies to."""
    info = compiled.book.spec.rulebook
    if info.valid_from is None and info.valid_until is None:
        return
    outside = [(case, day) for case in case_file.cases if (day := assigned_on(case)) and not info.covers(day)]
    if not outside:
        return
    problems = [Problem(case_file.path, None, _("case {case}").format(case=case.id), _("assigned on {day}").format(day=day))
                for case, day in outside[:MAX_LISTED]]
    if len(outside) > MAX_LISTED:
        problems.append(Problem(case_file.path, None, "", _("and {n} more case(s)").format(n=len(outside) - MAX_LISTED)))
    raise InputError(problems, _("{n} case(s) fall outside the period of rulebook {rulebook} {version} ({start} to {end}); "
                                 "score them with the rulebook of their year").format(
        n=len(outside), rulebook=info.id, version=info.version, start=info.valid_from or "…", end=info.valid_until or "…"))
