"""A year made of periods: each department's quarter or month totals combined as the rulebook says.

A rulebook assessed per quarter or month declares how its periods make the year, `[combine]`:
`sum`, `mean` or `last` of the department's period totals, or an `expression` of them (`totals`,
a list in period order, and `params`). The totals are those the period ledgers publish (rounded),
taken for the periods the department has cases in; the combination is exact and rounded half up
once, to `[department] decimals`, then banded by the grades and ranked as the rulebook ranks
(`order`, `ties`; `min_cases` counts the department's cases over the periods combined). Every
period's ledger is cited by its sha256 (and its run id when recorded).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scoring.base.errors import InputError
from scoring.base.i18n import _
from scoring.lang import values as V
from scoring.ledger.build import rulebook_entry
from scoring.ledger.document import engine_versions, number
from scoring.ledger.shapes import COMBINED, CombinedDepartment, CombinedDocument, CombinedPart, CombinedPeriod

from .compiler import CompiledRulebook
from .rollup import grade_of


@dataclass(frozen=True)
class PeriodResult:
    """One period's run: its ledger, the sha256 of its JSON, its run id when recorded."""

    ledger: dict
    ledger_sha256: str
    run: str | None = None


METHOD_TEXTS = {"sum": "{n}个考核期得分之和：{parts}，合计{total}分",
                "mean": "{n}个考核期得分之平均：（{parts}）÷{n}={total}分",
                "last": "取最后一个考核期{last}的得分：{total}分",
                "expression": "{n}个考核期得分{parts}，按{expression}计{total}分"}


def combine(compiled: CompiledRulebook, year: int, results: Sequence[PeriodResult],
            without_cases: Sequence[str], cases_file_sha256: str) -> CombinedDocument:
    spec = compiled.book.spec
    how = spec.combine
    if how is None:
        raise InputError([compiled.book.problem(("rulebook", "period"), _(
            "the rulebook does not say how its periods make a year: declare [combine] method = \"sum\", \"mean\", "
            "\"last\" or \"expression\""))])
    places = spec.department.decimals
    parts: dict[str, list[CombinedPart]] = {}
    for result in results:
        for entry in result.ledger["departments"]:
            parts.setdefault(entry["department"], []).append(
                {"period": result.ledger["input"]["period"]["period"], "cases": len(entry["cases"]),
                 "total": entry["total"], "grade": entry["grade"], "rank": entry["rank"]})
    departments: list[CombinedDepartment] = []
    for name in sorted(parts, key=lambda n: _first_seen(results, n)):
        totals = [V.from_data(part["total"]) for part in parts[name]]
        exact = _combined(compiled, how.method, totals, name)
        total = V.round_half_up(exact, places)
        printed = [V.format_value(V.from_data(part["total"])) for part in parts[name]]
        text = (how.text or METHOD_TEXTS[how.method]).format(
            n=len(totals), parts="、".join(f"{p['period']} {t}" for p, t in zip(parts[name], printed)),
            total=V.format_number(total, places), last=parts[name][-1]["period"],
            expression=how.expression)
        departments.append({"department": name, "periods": parts[name], "total": number(total, places),
                            "grade": grade_of(compiled, total), "rank": None, "text": text})
    _rank([d for d in departments if sum(p["cases"] for p in d["periods"]) >= compiled.min_cases],
          spec.ranking.order, spec.ranking.ties)
    return {"format": COMBINED, "engine": engine_versions(), "rulebook": rulebook_entry(compiled), "year": year,
            "method": how.method, "expression": how.expression, "cases_file_sha256": cases_file_sha256,
            "periods": [_period_entry(result) for result in results], "without_cases": list(without_cases),
            "outside_every_period": _outside_every_period(results), "departments": departments}


def _first_seen(results: Sequence[PeriodResult], name: str) -> tuple[int, int]:
    """Departments in the order they first appear: the first period they have cases in, then its ledger's order."""
    for index, result in enumerate(results):
        for position, entry in enumerate(result.ledger["departments"]):
            if entry["department"] == name:
                return index, position
    return len(results), 0


def _combined(compiled: CompiledRulebook, method: str, totals: list, department: str):
    if method == "sum":
        return sum(totals, V.from_data(0))
    if method == "mean":
        return sum(totals, V.from_data(0)) / len(totals)
    if method == "last":
        return totals[-1]
    try:
        value = compiled.combine({"totals": totals})
    except V.EvalError as exc:
        raise InputError([compiled.book.problem(("combine", "expression"), _(
            "{department}: the expression failed on the totals {totals}: {reason}").format(
            department=department, totals=[V.format_value(t) for t in totals], reason=exc))]) from None
    if V.kind(value) != "number":
        raise InputError([compiled.book.problem(("combine", "expression"), _(
            "{department}: the expression must give a number, not {kind}").format(
            department=department, kind=V.kind(value)))])
    return value


def _rank(departments: list[CombinedDepartment], order: str, ties: str) -> None:
    """Ranks on the combined totals as published: equal totals share a rank (1, 2, 2, 4; dense: 1, 2, 2, 3); the
    departments not given are not ranked (too few cases)."""
    sign = -1 if order == "desc" else 1
    ranked = sorted(departments, key=lambda d: sign * V.from_data(d["total"]))
    distinct = 0
    for index, department in enumerate(ranked):
        if index and department["total"] == ranked[index - 1]["total"]:
            department["rank"] = ranked[index - 1]["rank"]
            continue
        distinct += 1
        department["rank"] = index + 1 if ties == "shared" else distinct


def _outside_every_period(results: Sequence[PeriodResult]) -> int:
    """The file's cases that no period scored: each period's cases and those outside it are the whole file."""
    first = results[0].ledger["input"]
    return first["cases"] + first["period"]["outside"] - sum(r.ledger["input"]["cases"] for r in results)


def _period_entry(result: PeriodResult) -> CombinedPeriod:
    period = result.ledger["input"]["period"]
    return {"period": period["period"], "first": period["first"], "last": period["last"], "ends": period["ends"],
            "cases": result.ledger["input"]["cases"], "outside": period["outside"],
            "ledger_sha256": result.ledger_sha256, "run": result.run}
