"""`rules test`'s report as a table (per rulebook each fixture PASS or FAIL with every mismatch, then
coverage) and as its JSON document."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

from wcwidth import wcswidth

from scoring.base.i18n import _
from scoring.ledger.document import plain, printed
from scoring.ledger.shapes import RULE_TESTS, RuleTestsDocument

if TYPE_CHECKING:  # the report's shape; renderers never load what made it
    from scoring.checks.ruletests import Failure, RuleTestReport


def document(report: RuleTestReport, min_coverage=0) -> RuleTestsDocument:
    suites = []
    for result in report.suites:
        suites.append({
            "rulebook": str(result.suite.rulebook),
            "fixtures": [{"file": str(r.fixture.path), "title": r.fixture.title, "passed": r.passed,
                          "failures": [f.document() for f in r.failures]} for r in result.fixtures],
            "coverage": {"covered": len(result.covered), "total": len(result.paths),
                         "percent": plain(result.percent),
                         "missing": [{"path": str(p), "description": p.description} for p in result.missing]},
        })
    fixtures = sum(len(s.fixtures) for s in report.suites)
    return {"format": RULE_TESTS, "rulebooks": suites,
            "summary": {"fixtures": fixtures, "passed": fixtures - report.failed, "failed": report.failed,
                        "min_coverage": plain(Decimal(str(min_coverage))),
                        "below_min_coverage": [str(s.suite.rulebook) for s in report.below(min_coverage)]}}


def to_json(report: RuleTestReport, min_coverage=0) -> str:
    return json.dumps(document(report, min_coverage), ensure_ascii=False, indent=2) + "\n"


def render(report: RuleTestReport, min_coverage=0) -> str:
    """The table: per rulebook each fixture PASS/FAIL with every mismatch, then coverage and what it misses."""
    out: list[str] = []
    for result in report.suites:
        suite = result.suite
        out.append(str(suite.rulebook))
        if not result.fixtures:
            where = _("empty directory {path}") if suite.has_tests_dir else _("no directory {path}")
            out.append("  " + _("no fixtures ({where})").format(where=where.format(path=suite.tests_dir)))
        for fixture_result in result.fixtures:
            fixture = fixture_result.fixture
            status = _("PASS") if fixture_result.passed else _("FAIL")
            out.append(f"  {status}  {fixture.path.name}  {fixture.title}")
            for failure in fixture_result.failures:
                out.extend("        " + line for line in _failure_lines(failure))
        percent = result.percent
        out.append("  " + _("coverage {covered}/{total} ({percent})").format(
            covered=len(result.covered), total=len(result.paths), percent=_percent(percent))
                   + (_("; not covered:") if result.missing else ""))
        width = max((wcswidth(p) for p in result.missing), default=0)
        out.extend(f"    {_pad(p, width)}  {p.description}" for p in result.missing)
        out.append("")
    fixtures = sum(len(s.fixtures) for s in report.suites)
    summary = _("{fixtures} fixture(s) of {rulebooks} rulebook(s): {passed} passed, {failed} failed").format(
        fixtures=fixtures, rulebooks=len(report.suites), passed=fixtures - report.failed, failed=report.failed)
    out.append(summary)
    below = report.below(min_coverage)
    if below:
        out.append(_("coverage below {percent}: {rulebooks}").format(
            percent=_percent(Decimal(str(min_coverage))),
            rulebooks=", ".join(f"{s.suite.rulebook} ({_percent(s.percent)})" for s in below)))
    return "\n".join(out) + "\n"


def _failure_lines(failure: Failure) -> list[str]:
    if failure.case is not None:
        who = _("case {case}").format(case=failure.case) + (f" ({failure.department})" if failure.department else "")
    else:
        who = _("department {department}").format(department=failure.department)
    if failure.field == "run":
        return failure.message.splitlines()
    if failure.field in ("department", "case", "items"):
        return [f"{who}: {failure.message}"]
    if failure.field not in ("lines", "indicator_lines"):
        return [_("{who}: {field}: expected {expected}, actual {actual}").format(
            who=who, field=failure.field, expected=_shown(failure.expected), actual=_shown(failure.actual))]
    lines = [_("{who}: {field} differ (- expected, + actual):").format(who=who, field=failure.field)]
    width = max((wcswidth(d["line"]) for d in failure.diff), default=0)
    for entry in failure.diff:
        text = f"  # {entry['text']}" if entry["text"] else ""
        lines.append(f"  {entry['op']} {_pad(entry['line'], width) if text else entry['line']}{text}")
    return lines


def _shown(value) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return value
    return printed(value)


def _percent(value: Decimal) -> str:
    value = value.normalize() if value == value.to_integral_value() else value
    return f"{value:f}%"


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - max(wcswidth(text), 0))
