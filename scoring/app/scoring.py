"""The scoring commands as library functions: score, explain, self-check, bulletin.

Each takes a Request (and what the command adds: a department, a date, a month), scores
through one session, and returns one result object for the renderers. Problems are raised
as ScoringError with the exit status they mean; what is worth saying on the side (cases
skipped, a worker that died, the rulebook chosen from a directory) goes to `notify`.
"""
from __future__ import annotations

import datetime as dt

from scoring.base.errors import Note, UsageError, closest
from scoring.base.i18n import _
from scoring.checks import bulletin as monthly
from scoring.checks.selfcheck import SelfCheck
from scoring.engine.session import Run, assessment_end, end_reason
from scoring.ledger.build import with_exclusions
from scoring.rulebook.periods import kind_name

from .figures import figures
from .inputs import Inputs, Notify, Request, open_inputs, silent
from .results import BulletinResult, ExplainResult, ScoreResult, SelfCheckResult


def score(request: Request, notify: Notify = silent) -> ScoreResult:
    """Every department's total, grade, rank and ledger."""
    with open_inputs(request, notify) as inputs:
        return ScoreResult(inputs, run(inputs))


def explain(request: Request, department: str, case: str | None = None, notify: Notify = silent) -> ExplainResult:
    """One department's ledger (or one of its cases)."""
    with open_inputs(request, notify) as inputs:
        ledger = run(inputs).ledger
    department = inputs.compiled.departments.canonical(department)
    names = [d["department"] for d in ledger["departments"]]
    if department not in names:
        raise UsageError(_('no department "{department}" in the scored cases{hint}; known: {known}').format(
            department=department, hint=closest(department, names), known=", ".join(names)))
    entry = next(d for d in ledger["departments"] if d["department"] == department)
    known = [c["case"] for c in entry["cases"]]
    if case is not None and case not in known:
        raise UsageError(_('{department} has no case "{case}"{hint}').format(department=department, case=case,
                                                                             hint=closest(case, known)))
    return ExplainResult(inputs, ledger, entry, case)


def self_check(request: Request, department: str, as_of: dt.date | None = None, notify: Notify = silent) -> SelfCheckResult:
    """A department's standing on a date (default: today, or the assessment's end once it is past):
    the floor, the ceiling, what is at stake."""
    with open_inputs(request, notify) as inputs:
        department = inputs.compiled.departments.canonical(department)
        if as_of is None:
            end = assessment_end(inputs.compiled, inputs.case_file, inputs.session.period)
            as_of = today()
            if end is not None and as_of > end:
                as_of = end
                notify(Note(_("as of {date}, the end of the assessment ({reason})").format(
                    date=end, reason=end_reason(inputs.compiled, inputs.session.period))))
        check = SelfCheck(inputs.session, inputs.case_file, department, as_of, inputs.records, inputs.skip_invalid)
        document = with_decisions(check.document(), inputs)
    tell_skipped(document["input"]["skipped"], inputs.case_file.path, notify)
    return SelfCheckResult(inputs, document, as_of)


def bulletin(request: Request, month: str, notify: Notify = silent, issuer: str | None = None,
             issued: dt.date | None = None) -> BulletinResult:
    """The monthly bulletin: the ranking at the month's end, its movement, deadlines missed and coming.
    The issuer and the date of issue are printed under the title of the Word document and the workbook."""
    with open_inputs(request, notify) as inputs:
        if inputs.session.period is not None:
            raise UsageError(_("the monthly bulletin ranks a year's cases; rulebook {rulebook} is assessed per {kind}: "
                               "score each period with score --period").format(
                rulebook=inputs.compiled.book.spec.rulebook.id, kind=kind_name(inputs.session.period.period.kind)))
        document, month_end = monthly.build_month(inputs.session, inputs.case_file, month, inputs.records,
                                                  inputs.skip_invalid)
        document = with_decisions(document, inputs)
    tell_skipped(document["input"]["skipped"], inputs.case_file.path, notify)
    return BulletinResult(inputs, document, figures(month_end), issuer or inputs.compiled.book.spec.rulebook.issuer, issued)


def with_decisions(document: dict, inputs: Inputs) -> dict:
    """A self-check or bulletin of cases some decisions took out of the assessment says which decisions."""
    if inputs.exclusions is not None:
        document["input"]["exclusions_sha256"] = inputs.exclusions.sha256
    return document


def today() -> dt.date:
    return dt.date.today()


def run(inputs: Inputs) -> Run:
    """The inputs scored and rolled up, saying what was recovered or skipped. With exclusions, the files as given
    are scored too: the ledger says what the granted decisions changed."""
    done = inputs.session.run(inputs.case_file, inputs.records, inputs.skip_invalid)
    if inputs.exclusions is not None:
        whole_file, whole_records = inputs.whole
        whole = inputs.session.run(whole_file, whole_records, inputs.skip_invalid)
        done.ledger = with_exclusions(done.ledger, inputs.compiled, inputs.exclusions, whole_file, done.departments,
                                      whole.departments)
    if done.after_closing and inputs.session.period is not None:
        inputs.notify(_("{n} event(s) dated after {date}, the end of period {period}'s assessment, are not scored").format(
            n=done.after_closing, date=done.as_of, period=inputs.session.period.period.label))
    elif done.after_closing:
        inputs.notify(_("{n} event(s) dated after the closing date {date} are not scored").format(
            n=done.after_closing, date=done.as_of))
    if done.recovered:
        inputs.notify(_("warning: a worker process died while scoring {cases}; each was scored again alone and "
                        "completed").format(cases=", ".join(done.recovered)))
    tell_skipped(done.ledger["input"]["skipped"], inputs.case_file.path, inputs.notify)
    return done


def tell_skipped(skipped: list[dict], source: str, notify: Notify) -> None:
    """The cases left out (--skip-invalid), each with its file and line (none for a case a rule failed on):
    the output itself lists them too."""
    for entry in skipped:
        where = f"{source}:{entry['line']}: " if entry["line"] else ""
        notify(_("skipped: {where}case {case}: {problems}").format(where=where, case=entry["case"] or "?",
                                                                  problems="; ".join(entry["problems"])))
