"""One scoring run end to end: rulebook and cases in, ledger out.

Every command that scores goes through `run`, so they all read, check, score and roll up
the same way. Problems stop the run before anything is written: a bad rulebook or case
file (InputError, with every problem listed), a rule failing on some case's data (listed
by case), or the engine failing (EngineError). With skip_invalid, bad cases are left
out and listed in the ledger instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scoring.base.errors import EngineError, InputError, Problem
from scoring.domain.cases import Case, assigned_on
from scoring.inputs.case_file import CaseFile, load_cases
from scoring.inputs.records import DepartmentRecords, department_values, load_departments
from scoring.ledger.build import build
from scoring.rulebook.overlay import load_effective

from .compiler import CompiledRulebook, compile_rulebook
from .evaluate import HandlerResult
from .rollup import DepartmentResult, roll_up
from .runner import CaseFailure, default_jobs, score_cases


@dataclass
class Run:
    compiled: CompiledRulebook
    case_file: CaseFile
    departments: list[DepartmentResult]
    failures: list[CaseFailure]
    recovered: list[str]
    ledger: dict
    records: DepartmentRecords | None = None


def load_compiled(rules: str | Path, overlays=(), sets=()) -> CompiledRulebook:
    """The rulebook file, with overlays and --set name=value applied when given, compiled."""
    return compile_rulebook(load_effective(rules, overlays, sets))


def run(rules: str | Path | CompiledRulebook, cases: str | Path | CaseFile, skip_invalid: bool = False,
        jobs: int | None = None, departments: str | Path | DepartmentRecords | None = None) -> Run:
    compiled = rules if isinstance(rules, CompiledRulebook) else load_compiled(rules)
    case_file = cases if isinstance(cases, CaseFile) else load_cases(cases, skip_invalid=skip_invalid)
    check_period(compiled, case_file)
    records = read_records(compiled, departments, case_file)
    values = department_values(case_file.cases, records, compiled.book.spec.department_fields)
    results, failures, recovered = score(compiled, case_file.cases, case_file.path, skip_invalid, jobs, values)
    if not results:
        raise InputError([Problem(case_file.path, None, "", "no case could be scored")])
    scored = roll_up(compiled, results, values)
    return Run(compiled, case_file, scored, failures, recovered,
               build(compiled, case_file, scored, failures, records), records)


def read_records(compiled: CompiledRulebook, departments, case_file: CaseFile) -> DepartmentRecords | None:
    """The department records file, checked against the rulebook's [department_fields] and the case file."""
    fields = compiled.book.spec.department_fields
    if departments is None:
        if fields:
            raise InputError([Problem(compiled.book.path, None, "department_fields",
                                      f"the rulebook reads department records ({', '.join(fields)}); "
                                      "give them with --departments FILE")])
        return None
    records = departments if isinstance(departments, DepartmentRecords) else load_departments(departments, fields)
    records.check_departments(case_file.cases)
    return records


MAX_LISTED = 10


def check_period(compiled: CompiledRulebook, case_file: CaseFile) -> None:
    """Every case must be assigned within the period the rulebook applies to."""
    info = compiled.book.spec.rulebook
    if info.valid_from is None and info.valid_until is None:
        return
    outside = [(case, day) for case in case_file.cases if (day := assigned_on(case)) and not info.covers(day)]
    if not outside:
        return
    problems = [Problem(case_file.path, None, f"case {case.id}", f"assigned on {day}") for case, day in outside[:MAX_LISTED]]
    if len(outside) > MAX_LISTED:
        problems.append(Problem(case_file.path, None, "", f"and {len(outside) - MAX_LISTED} more case(s)"))
    raise InputError(problems, f"{len(outside)} case(s) fall outside the period of rulebook {info.id} {info.version} "
                               f"({info.period()}); score them with the rulebook of their year")


def score(compiled: CompiledRulebook, cases: list[Case], source: str, skip_invalid: bool = False,
          jobs: int | None = None, departments: dict | None = None) -> tuple[list[HandlerResult], list[CaseFailure], list[str]]:
    """Every handler result of the cases, in case order; failures stop the run unless skip_invalid."""
    rules = compiled.book.path
    if departments is None:
        departments = department_values(cases, None, {})
    # the workers compile the very text checked here, not the file read again
    outcome = score_cases(compiled.book.text.encode("utf-8"), rules, cases, default_jobs() if jobs is None else jobs,
                          departments=departments)
    failures = [outcome.failures[c.id] for c in cases if c.id in outcome.failures]
    calendar = [f for f in failures if f.kind == "calendar"]
    if calendar:
        # not a problem of one case: the rulebook's calendar lacks a year the data needs
        raise InputError([Problem(rules, None, "calendar", calendar[0].message)],
                         f"{len(calendar)} case(s) fall outside the working-day calendar")
    if failures and not skip_invalid:
        data = [f for f in failures if f.kind == "data"]
        broken = [f for f in failures if f.kind != "data"]
        if broken:
            raise EngineError("\n".join([f"the engine failed on {len(broken)} case(s); nothing was written:"] +
                                        [f"  case {f.case}: {f.kind}: {f.message}" for f in broken]))
        raise InputError([Problem(source, None, f"case {f.case}", f.message) for f in data],
                         f"{len(data)} case(s) could not be scored; nothing was written (--skip-invalid scores the rest)")
    results = [r for c in cases if c.id in outcome.results for r in outcome.results[c.id]]
    return results, failures, outcome.recovered
