"""The rule author's commands and the register import as library functions."""
from __future__ import annotations

from scoring.base.i18n import _
from scoring.checks import ruletests
from scoring.checks.validate import ValidationReport, validate
from scoring.domain.spec import DEFAULT_DOMAIN, load_domain
from scoring.engine.compiler import compile_rulebook
from scoring.rulebook.load import Rulebook

from .inputs import Notify, Source, rule_sources, silent, tell_similar


def effective_rulebook(rulebook: Source, overlays=(), sets=()) -> Rulebook:
    """The rulebook with the overlays and settings applied, compiled to check it: what gets scored and hashed."""
    return compile_rulebook(rule_sources(rulebook, overlays, sets).effective()).book


def validate_rulebooks(paths) -> list[ValidationReport]:
    return [validate(path) for path in paths]


def test_rulebooks(target: str) -> ruletests.RuleTestReport:
    return ruletests.run_tests(target)


def import_register(path: str, mapping: str | None = None, skip_invalid: bool = False, notify: Notify = silent,
                    domain: str = DEFAULT_DOMAIN) -> str:
    """An Excel register (台账) of a domain's cases (a shipped domain's name or a domain file) as a case file
    (JSON Lines)."""
    from scoring.inputs.register import cases_to_jsonl, load_register  # openpyxl is slow to import: only here

    case_file = load_register(path, mapping, skip_invalid, load_domain(domain))
    for skipped in case_file.skipped:
        notify(_("skipped: case {case} (row {row}): {problems}").format(
            case=skipped.case_id or "?", row=skipped.line, problems="; ".join(str(p) for p in skipped.problems)))
    tell_similar(case_file, notify)
    return cases_to_jsonl(case_file.cases)
