"""The ledger of a run, built from the engine's results (see document.py for the document itself).

Reads the results by their attributes only: the engine's types are named for the reader and
the type checker, and importing this module loads neither the engine nor pydantic.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING

from .document import engine_versions, number, plain
from .shapes import (
    LEDGER,
    CaseEntry,
    CaseLine,
    DepartmentEntry,
    DepartmentLine,
    ExclusionEffect,
    LedgerDocument,
    LedgerInput,
    RulebookEntry,
    Skipped,
)

if TYPE_CHECKING:
    from scoring.engine.compiler import CompiledRulebook
    from scoring.engine.evaluate import HandlerResult, Line
    from scoring.engine.rollup import DepartmentResult
    from scoring.engine.session import PeriodSlice
    from scoring.inputs.case_file import CaseFile
    from scoring.inputs.exclusions import Exclusions
    from scoring.inputs.records import DepartmentRecords


def build(compiled: CompiledRulebook, case_file: CaseFile, departments: list[DepartmentResult],
          failures: list | None = None, records: DepartmentRecords | None = None, as_of: dt.date | None = None,
          after_closing: int = 0, period: PeriodSlice | None = None) -> LedgerDocument:
    scored_cases = {r.case for d in departments for r in d.cases}
    entry_input: LedgerInput = {"sha256": case_file.sha256, "cases": len(scored_cases),
                                 "handlers": sum(len(d.cases) for d in departments),
                                 "skipped": skipped_entries(case_file, failures)}
    # each only when it applies: other ledgers keep their bytes
    if records is not None:
        entry_input["departments_sha256"] = records.sha256
    if case_file.aliased:
        entry_input["aliases"] = [{"alias": alias, "department": department, "cases": cases}
                                  for (alias, department), cases in case_file.aliased.items()]
    if case_file.similar:
        counts = Counter(handler.department for case in case_file.cases for handler in case.handlers)
        entry_input["similar_departments"] = [{"departments": [a, b], "cases": [counts[a], counts[b]], "why": why}
                                              for a, b, why in case_file.similar]
    if compiled.reads_as_of:
        entry_input["as_of"] = None if as_of is None else as_of.isoformat()
    if after_closing:
        entry_input["after_closing"] = after_closing
    if period is not None:  # a quarter or a month of a file (engine.session.PeriodSlice)
        entry_input["period"] = {"period": period.period.label, "first": period.period.first.isoformat(),
                                 "last": period.period.last.isoformat(), "ends": as_of.isoformat(),
                                 "outside": period.outside}
    return {
        "format": LEDGER,
        "engine": engine_versions(),
        "rulebook": rulebook_entry(compiled),
        "input": entry_input,
        "departments": [department_entry(compiled, d) for d in departments],
    }


def with_exclusions(ledger: LedgerDocument, compiled: CompiledRulebook, exclusions: Exclusions, whole_file: CaseFile,
                    departments: list[DepartmentResult], whole: list[DepartmentResult]) -> LedgerDocument:
    """The ledger with its decisions file: every decision, and each department a granted decision took cases from,
    with its total and rank as scored and as they would be with every case of the file (`whole`)."""
    places = compiled.book.spec.department.decimals
    excluded = exclusions.removed(whole_file)
    now, before = {d.department: d for d in departments}, {d.department: d for d in whole}

    def effect(name: str) -> ExclusionEffect:
        scored, all_cases = now.get(name), before.get(name)
        return {"department": name, "excluded": excluded[name],
                "total": None if scored is None else number(scored.total, places),
                "rank": None if scored is None else scored.rank,
                "total_without": None if all_cases is None else number(all_cases.total, places),
                "rank_without": None if all_cases is None else all_cases.rank}

    entry = {"sha256": exclusions.sha256, "decisions": [d.entry() for d in exclusions.in_order()],
             "effect": [effect(name) for name in sorted(excluded)]}
    head = {key: value for key, value in ledger.items() if key != "departments"}
    return {**head, "exclusions": entry, "departments": ledger["departments"]}


def department_entry(compiled: CompiledRulebook, d: DepartmentResult) -> DepartmentEntry:
    spec = compiled.book.spec
    criteria = {c.id: c for c in spec.criterion}
    entry = {"department": d.department}
    if spec.ranking.group is not None:
        entry["group"] = d.group
    entry["rank"] = d.rank
    if spec.ranking.by is not None:  # the rank is by this item's points, not by the total
        entry["rank_by"] = spec.ranking.by
    entry.update({
        "total": number(d.total, spec.department.decimals),
        "grade": d.grade,
        "cases_scored": len(d.cases),
        "base": number(d.base),
        "rubrics": [{"rubric": r.rubric, "title": r.title, "cases": r.count,
                     "mean": None if r.mean is None else number(r.mean),
                     "weight": None if r.weight is None else number(r.weight, 4)} for r in d.rubrics],
    })
    if d.categories:
        entry["categories"] = [{"category": c.category, "title": c.title, "cases": c.count, "subtotal": number(c.subtotal),
                                "weight": number(c.weight, 4)} for c in d.categories]
    if d.scorers:
        entry["scorers"] = [{"scorer": s.scorer, "title": s.title, "score": number(s.score), "weight": number(s.weight, 4)}
                            for s in d.scorers]
    entry.update({
        "criteria": [({"category": category} if category is not None else {}) |
                     {"criterion": cid, "title": criteria[cid].title, "level": criteria[cid].level, "points": number(points)}
                     | ({} if criteria[cid].in_total else {"in_total": False})
                     for (category, cid), points in d.criteria.items()],
        "lines": [line_entry(line, with_case=True) for line in d.lines],
    })
    if d.indicators:  # only with items outside the total: other ledgers keep their bytes
        entry["indicator_lines"] = [line_entry(line, with_case=True) for line in d.indicators]
    entry["cases"] = [case_entry(r) for r in d.cases]
    return entry


def rulebook_entry(compiled: CompiledRulebook) -> RulebookEntry:
    info = compiled.book.spec.rulebook
    entry = {"id": info.id, "version": info.version, "title": info.title, "sha256": compiled.book.sha256}
    if info.derived_from is not None:  # an effective rulebook: the base, overlays and --set it was made from
        entry["derived_from"] = plain(info.derived_from.model_dump())
    return entry


def skipped_entries(case_file: CaseFile, failures: list | None) -> list[Skipped]:
    """The cases left out (--skip-invalid): invalid in the file, or failing a rule."""
    # no file name in the problems: the ledger does not depend on where the file was read from
    skipped = [{"case": s.case_id, "line": s.line, "problems": [f"{p.where}: {p.message}" if p.where else p.message
                                                                 for p in s.problems]} for s in case_file.skipped]
    return skipped + [{"case": f.case, "line": None, "problems": [f"{f.kind}: {f.message}"]} for f in failures or []]


def case_entry(result: HandlerResult) -> CaseEntry:
    entry = {"case": result.case, "kind": result.kind, "title": result.title, "role": result.role, "rubric": result.rubric}
    if result.category is not None:
        entry["category"] = result.category
    entry["total"] = None if result.total is None else number(result.total)
    entry["lines"] = [line_entry(line) for line in result.lines]
    return entry


def line_entry(line: Line, with_case: bool = False) -> CaseLine | DepartmentLine:
    data = {"criterion": line.criterion, "rule": line.rule, "kind": line.kind, "points": number(line.points)}
    if line.category is not None:
        data["category"] = line.category
    if with_case:
        data["case"] = line.case
    data["evidence"] = list(line.evidence)
    data["text"] = line.text
    return data
