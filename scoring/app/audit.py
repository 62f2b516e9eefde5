"""The auditor's commands as library functions: record, replay, diff, verify, and the run store.

Run store paths: `store` as given, else $SCORING_STORE, else ./scoring-runs.db
(scoring.audit.store.default_path). Commands that only read never create a store.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scoring.audit import runs
from scoring.audit.compare import diff_document, differences
from scoring.audit.store import RunStore, StoredRun, default_path
from scoring.base.errors import Note, UsageError
from scoring.base.files import read_file
from scoring.base.i18n import _
from scoring.checks import selfcheck
from scoring.engine.compiler import compile_rulebook
from scoring.engine.session import as_assessed
from scoring.ledger.document import to_json
from scoring.ledger.shapes import LEDGER, SELF_CHECK
from scoring.rulebook.load import parse_rulebook
from scoring.rulebook.overlay import RuleSources

from .inputs import Inputs, Notify, Request, Source, checked_inputs, open_inputs, read_source, silent
from .results import DiffResult, ReplayResult, ScoreResult, VerifyResult, is_ledger
from .scoring import run, with_decisions


@contextmanager
def open_store(path: str | None, create: bool = False) -> Iterator[RunStore]:
    with RunStore(path or default_path(), create) as store:
        yield store


def record(store: str | None, result: ScoreResult, command: list[str], replayed_from: str | None = None) -> StoredRun:
    """Keep a scored run in the store: its rulebook and sources, its inputs' bytes, its ledger."""
    inputs = result.inputs
    entry, blobs = runs.new_record(command, inputs.sources, inputs.compiled.book, inputs.case_file, inputs.case_bytes,
                                   result.ledger, inputs.skip_invalid, replayed_from, inputs.records_file,
                                   inputs.exclusions_file)
    with open_store(store, create=True) as opened:
        stored = opened.record(entry, blobs)
    inputs.notify(Note(_("recorded run {run} in {store}").format(run=stored.id, store=opened.path)))
    return stored


def replay(run_id: str, store: str | None = None, rules: Source | None = None, overlays=(), sets=(), jobs: int | None = None,
           notify: Notify = silent) -> ReplayResult:
    """A recorded run scored again: unchanged, whether it is reproduced byte for byte; changed, the impact.

    Changes apply on top of the run's own rulebook: `rules` instead of its base, overlays after
    its overlays, settings after its settings."""
    with open_store(store) as opened:
        stored = opened.get(run_id)
        recorded = runs.inputs_of(opened, stored)
        old_ledger = opened.ledger(stored)
    added = tuple(read_source(path, "overlay") for path in overlays)
    sources = RuleSources(read_source(rules, "rulebook") if rules else recorded.sources.base,
                          recorded.sources.overlays + added, recorded.sources.sets + tuple(sets))
    changed = bool(rules or overlays or sets)
    book = sources.effective() if changed else parse_rulebook(recorded.effective, f"run {stored.id}: rulebook")
    compiled = compile_rulebook(book)

    def named(file: tuple[str, bytes] | None) -> tuple[str, bytes] | None:
        return None if file is None else (f"run {stored.id}: {file[0]}", file[1])

    with checked_inputs(compiled, sources, named((recorded.case_name, recorded.case_bytes)), named(recorded.departments),
                        named(recorded.exclusions), recorded.skip_invalid, jobs, notify, period_of(old_ledger)) as inputs:
        new = ScoreResult(inputs, run(inputs))
    document = diff_document((f"run {stored.id}", old_ledger, recorded.effective.decode("utf-8")),
                             ("replay", new.ledger, book.text))
    reproduced = None if changed else to_json(new.ledger).encode("utf-8") == recorded.ledger
    document["replay"] = {"run": stored.id, "changed_rules": changed, "reproduced": reproduced}
    return ReplayResult(stored.id, stored.record["ledger"]["sha256"], changed, reproduced, old_ledger, new, document)


def diff(a: str, b: str, store: str | None = None, runs: bool = False) -> DiffResult:
    """What moved from A to B, each a run id or a ledger JSON file; runs: both are run ids, never files."""
    sides = _side(a, store, runs), _side(b, store, runs)
    return DiffResult(_comparing(lambda: diff_document(*sides), f"{a} or {b}"))


def verify(ledger: str, request: Request, notify: Notify = silent) -> VerifyResult:
    """Score again and confirm a published ledger or a self-assessment, or list every difference."""
    raw = read_file(ledger, "ledger")
    try:
        claimed = json.loads(raw)
        kind = claimed["format"]
    except (ValueError, TypeError, KeyError, RecursionError):
        raise UsageError(_("{file}: not a ledger (expected the JSON of `scoring score --format json` or "
                           "`self-check --format json`)").format(file=ledger)) from None
    if (not isinstance(claimed, dict) or not isinstance(claimed.get("rulebook"), dict)
            or not isinstance(claimed.get("input"), dict)):
        raise UsageError(_("{file}: not a complete ledger (rulebook and input are missing or not tables)").format(file=ledger))
    if kind not in (LEDGER, SELF_CHECK):
        raise UsageError(_('{file}: format "{format}" is not a ledger this tool can verify ({formats})').format(
            file=ledger, format=kind, formats=f"{LEDGER}, {SELF_CHECK}"))
    if request.period is None and period_of(claimed) is not None:  # a quarter's or month's ledger: that period again
        request = dataclasses.replace(request, period=period_of(claimed))
    with open_inputs(request, notify) as inputs:
        _same_rulebook(ledger, claimed["rulebook"], inputs)
        # a ledger's input is the file as scored: without the events after the assessment's end
        scored = as_assessed(inputs.compiled, inputs.case_file, inputs.session.period)[0] if kind == LEDGER \
            else inputs.case_file
        if claimed["input"].get("sha256") != scored.sha256:
            raise UsageError(_("{file}: made from other case histories than {cases} (input sha256 {claimed} in the "
                               "ledger, {found} here); nothing to compare").format(
                file=ledger, cases=request.cases, claimed=str(claimed["input"].get("sha256"))[:12],
                found=scored.sha256[:12]))
        if kind == SELF_CHECK:
            try:
                day = dt.date.fromisoformat(claimed["as_of"])
                check = selfcheck.SelfCheck(inputs.session, inputs.case_file, claimed["department"], day, inputs.records,
                                            inputs.skip_invalid)
            except (KeyError, ValueError, TypeError):
                raise UsageError(_("{file}: the self-assessment lacks a valid department or as_of").format(
                    file=ledger)) from None
            found = with_decisions(check.document(), inputs)
        else:
            found = run(inputs).ledger
    identical = to_json(found).encode("utf-8") == raw
    rows = [] if identical else _comparing(lambda: differences(claimed, found), ledger)
    return VerifyResult(ledger, claimed, found, identical, rows)


def period_of(ledger: dict) -> str | None:
    """The quarter or month a ledger scored (input.period), None for a year's; what is not a period is left to the
    checks that read the period."""
    period = ledger.get("input", {}).get("period") if isinstance(ledger.get("input"), dict) else None
    label = period.get("period") if isinstance(period, dict) else None
    return label if isinstance(label, str) else None


def _same_rulebook(ledger: str, claimed: dict, inputs: Inputs) -> None:
    info, sha = inputs.compiled.book.spec.rulebook, inputs.compiled.book.sha256
    if claimed.get("id") != info.id:
        raise UsageError(_('{file}: made with rulebook "{claimed}", not "{found}"; nothing to compare').format(
            file=ledger, claimed=claimed.get("id"), found=info.id))
    if claimed.get("version") != info.version:
        raise UsageError(_("{file}: made with {rulebook} version {claimed}, not version {found}; score with that "
                           "version's rulebook (and its overlays) to verify it").format(
            file=ledger, rulebook=info.id, claimed=claimed.get("version"), found=info.version))
    if claimed.get("sha256") != sha:
        raise UsageError(_("{file}: made with a rulebook text (sha256 {claimed}) other than this one ({found}), although "
                           "both say {rulebook} {version}: the rules were edited without a new version").format(
            file=ledger, claimed=str(claimed.get("sha256"))[:12], found=sha[:12], rulebook=info.id, version=info.version))


def _side(ref: str, store: str | None, run: bool = False) -> tuple[str, dict, str | None]:
    """A side of a diff: a ledger JSON file, or a recorded run (which also has its rulebook's text)."""
    if not run and Path(ref).is_file():
        try:
            ledger = json.loads(read_file(ref, "ledger"))
        except ValueError as exc:
            raise UsageError(_("{file}: not JSON ({reason})").format(file=ref, reason=exc)) from None
        except RecursionError:
            raise UsageError(_("{file}: not a ledger (JSON nested too deeply)").format(file=ref)) from None
        if not is_ledger(ledger):
            raise UsageError(_("{file}: not a ledger of `scoring score --format json` (format {format})").format(
                file=ref, format=LEDGER))
        return ref, ledger, None
    if not re.fullmatch(r"[0-9a-fA-F]+", ref) or (not run and Path(ref).exists()):
        raise UsageError(_("{file}: no such ledger file (and not a run id, which is hexadecimal)").format(file=ref))
    with open_store(store) as opened:
        stored = opened.get(ref)
        ledger = opened.ledger(stored)
        text = opened.blob(stored.rulebook["sha256"], _("effective rulebook")).decode("utf-8")
    return f"run {stored.id}", ledger, text


def _comparing(compare, what: str):
    """Run a comparison of ledgers; a ledger missing parts or holding the wrong kind of value is named, not a traceback."""
    try:
        return compare()
    except (KeyError, TypeError, AttributeError, ArithmeticError, ValueError) as exc:
        detail = (_('the key "{key}" is missing').format(key=exc.args[0]) if isinstance(exc, KeyError)
                  else _("a value of the wrong kind ({reason})").format(reason=exc))
        raise UsageError(_("{file}: not a complete ledger: {detail}").format(file=what, detail=detail)) from None


# ---------------------------------------------------------------- the run store
def list_runs(store: str | None = None) -> list[dict]:
    """Every recorded run, oldest first, as `runs list` shows it (scoring.audit.runs.summary)."""
    with open_store(store) as opened:
        return [runs.summary(run) for run in opened.runs()]


def show_run(run_id: str, store: str | None = None) -> tuple[StoredRun, dict]:
    """A run's record and its ledger."""
    with open_store(store) as opened:
        stored = opened.get(run_id)
        return stored, opened.ledger(stored)


def export_run(run_id: str, out: str, store: str | None = None) -> tuple[list[str], str]:
    """A run's files written into a new directory: the names, and the command that verifies them there."""
    with open_store(store) as opened:
        names = runs.export(opened, opened.get(run_id), out)
    return names, json.loads((Path(out) / "run.json").read_text(encoding="utf-8"))["verify"]


def check_store(store: str | None = None) -> tuple[str, list[str], list[StoredRun]]:
    """(the store's path, every problem found, the runs when there is none)."""
    with open_store(store) as opened:
        problems = opened.check()
        return opened.path, problems, [] if problems else opened.runs()

