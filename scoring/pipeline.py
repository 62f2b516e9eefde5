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

from .cases import Case
from .compiler import CompiledRulebook, compile_rulebook
from .evaluate import HandlerResult
from .errors import EngineError, InputError, Problem
from .ingest import CaseFile, load_cases
from .ledger import build
from .rollup import DepartmentResult, roll_up
from .overlay import load_effective
from .runner import CaseFailure, default_jobs, score_cases


@dataclass
class Run:
    compiled: CompiledRulebook
    case_file: CaseFile
    departments: list[DepartmentResult]
    failures: list[CaseFailure]
    recovered: list[str]
    ledger: dict


def load_compiled(rules: str | Path, overlays=(), sets=()) -> CompiledRulebook:
    """The rulebook file, with overlays and --set name=value applied when given, compiled."""
    return compile_rulebook(load_effective(rules, overlays, sets))


def run(rules: str | Path | CompiledRulebook, cases: str | Path | CaseFile, skip_invalid: bool = False,
        jobs: int | None = None) -> Run:
    compiled = rules if isinstance(rules, CompiledRulebook) else load_compiled(rules)
    case_file = cases if isinstance(cases, CaseFile) else load_cases(cases, skip_invalid=skip_invalid)
    results, failures, recovered = score(compiled, case_file.cases, case_file.path, skip_invalid, jobs)
    if not results:
        raise InputError([Problem(case_file.path, None, "", "no case could be scored")])
    departments = roll_up(compiled, results)
    return Run(compiled, case_file, departments, failures, recovered,
               build(compiled, case_file, departments, failures))


def score(compiled: CompiledRulebook, cases: list[Case], source: str, skip_invalid: bool = False,
          jobs: int | None = None) -> tuple[list[HandlerResult], list[CaseFailure], list[str]]:
    """Every handler result of the cases, in case order; failures stop the run unless skip_invalid."""
    rules = compiled.book.path
    # the workers compile the very text checked here, not the file read again
    outcome = score_cases(compiled.book.text.encode("utf-8"), rules, cases, default_jobs() if jobs is None else jobs)
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
