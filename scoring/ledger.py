"""The ledger: the complete, explained result of a run, as JSON or CSV.

Same inputs, same rulebook, same engine version: the same bytes. Nothing in the ledger
depends on where or when it was made (no paths, no clock); departments, cases and lines
come in a defined order, and numbers are rounded once, half up, to 2 decimals (the
department total to the rulebook's `decimals`).
"""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version

from .compiler import CompiledRulebook
from .departments import DepartmentRecords
from .evaluate import HandlerResult, Line
from .ingest import CaseFile
from .lang import values as V
from .rollup import DepartmentResult

FORMAT = "scoring-ledger/1"


def engine_versions() -> dict:
    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"
    return {"scoring": installed("scoring"), "durable_rules": installed("durable-rules")}


def number(value, places: int = 2):
    """A JSON number: rounded half up; whole numbers without a fraction part."""
    rounded = V.round_half_up(value, places) if not isinstance(value, Decimal) else value
    if rounded == rounded.to_integral_value():
        return int(rounded)
    return float(rounded)


def build(compiled: CompiledRulebook, case_file: CaseFile, departments: list[DepartmentResult],
          failures: list | None = None, records: DepartmentRecords | None = None) -> dict:
    scored_cases = {r.case for d in departments for r in d.cases}
    entry_input = {"sha256": case_file.sha256, "cases": len(scored_cases),
                   "handlers": sum(len(d.cases) for d in departments), "skipped": skipped_entries(case_file, failures)}
    if records is not None:  # only when a department records file was given: other ledgers keep their bytes
        entry_input["departments_sha256"] = records.sha256
    return {
        "format": FORMAT,
        "engine": engine_versions(),
        "rulebook": rulebook_entry(compiled),
        "input": entry_input,
        "departments": [department_entry(compiled, d) for d in departments],
    }


def department_entry(compiled: CompiledRulebook, d: DepartmentResult) -> dict:
    spec = compiled.book.spec
    criteria = {c.id: c for c in spec.criterion}
    entry = {"department": d.department}
    if spec.ranking.group is not None:
        entry["group"] = d.group
    entry.update({
        "rank": d.rank,
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
                     for (category, cid), points in d.criteria.items()],
        "lines": [line_entry(line, with_case=True) for line in d.lines],
        "cases": [case_entry(r) for r in d.cases],
    })
    return entry


def rulebook_entry(compiled: CompiledRulebook) -> dict:
    info = compiled.book.spec.rulebook
    entry = {"id": info.id, "version": info.version, "title": info.title, "sha256": compiled.book.sha256}
    if info.derived_from is not None:  # an effective rulebook: the base, overlays and --set it was made from
        entry["derived_from"] = plain(info.derived_from.model_dump())
    return entry


def plain(value):
    """JSON-ready rule data: decimals (from TOML) as numbers, dates as text; tables and lists inside too."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        # a JSON number when the float says the same decimal, else the exact text
        return float(value) if Decimal(repr(float(value))) == value else str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def skipped_entries(case_file: CaseFile, failures: list | None) -> list[dict]:
    """The cases left out (--skip-invalid): invalid in the file, or failing a rule."""
    # no file name in the problems: the ledger does not depend on where the file was read from
    skipped = [{"case": s.case_id, "line": s.line, "problems": [f"{p.where}: {p.message}" if p.where else p.message
                                                                 for p in s.problems]} for s in case_file.skipped]
    return skipped + [{"case": f.case, "line": None, "problems": [f"{f.kind}: {f.message}"]} for f in failures or []]


def case_entry(result: HandlerResult) -> dict:
    entry = {"case": result.case, "kind": result.kind, "title": result.title, "role": result.role, "rubric": result.rubric}
    if result.category is not None:
        entry["category"] = result.category
    entry["total"] = None if result.total is None else number(result.total)
    entry["lines"] = [line_entry(line) for line in result.lines]
    return entry


def line_entry(line: Line, with_case: bool = False) -> dict:
    data = {"criterion": line.criterion, "rule": line.rule, "kind": line.kind, "points": number(line.points)}
    if line.category is not None:
        data["category"] = line.category
    if with_case:
        data["case"] = line.case
    data["evidence"] = list(line.evidence)
    data["text"] = line.text
    return data


def to_json(ledger: dict) -> str:
    return json.dumps(ledger, ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = ["department", "rank", "grade", "department_total", "case", "kind", "title", "role", "case_total",
               "criterion", "rule", "line_kind", "points", "evidence", "text"]


def to_csv(ledger: dict) -> str:
    """One row per ledger line: department lines first, then each case's lines.

    With categories a last column names the category a line counts in (an item such as
    urging can count in each category's subtotal, so criterion alone is ambiguous)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    categories = any("categories" in d for d in ledger["departments"])
    writer.writerow(CSV_COLUMNS + (["category"] if categories else []))

    def row(line: dict) -> list:
        return ([line["criterion"] or "", line["rule"] or "", line["kind"], line["points"], " ".join(line["evidence"]), line["text"]]
                + ([line.get("category") or ""] if categories else []))

    for d, case, line in ledger_lines(ledger):
        head = [d["department"], d["rank"], d["grade"], d["total"]]
        if case is None:
            writer.writerow(head + [line["case"] or "", "", "", "", ""] + row(line))
        else:
            writer.writerow(head + [case["case"], case["kind"], case["title"], case["role"], case["total"]] + row(line))
    return out.getvalue()


def ledger_lines(ledger: dict):
    """(department, case or None, line) for every line: a department's own lines first, then its cases'."""
    for d in ledger["departments"]:
        for line in d["lines"]:
            yield d, None, line
        for case in d["cases"]:
            for line in case["lines"]:
                yield d, case, line
