"""`scoring combine`: every quarter or month of a year scored as `score --period` scores it, and combined.

Each period with cases is scored on its own (the same inputs, cut to the period), its ledger hashed (the
sha256 of the JSON `score --period P --format json` writes) and, with --record, kept in the run store;
the combination (scoring.engine.combine) cites each.
"""
from __future__ import annotations

import dataclasses
import hashlib

from scoring.base.errors import UsageError
from scoring.base.i18n import _
from scoring.engine.combine import PeriodResult
from scoring.engine.combine import combine as combine_periods
from scoring.ledger.document import to_json
from scoring.rulebook.periods import kind_name, periods_of

from .audit import record
from .inputs import Notify, Request, open_inputs, read_source, rule_sources, rulebook_for, silent
from .results import CombineResult, ScoreResult
from .scoring import run


def combine(request: Request, year: int | None = None, notify: Notify = silent, store: str | None = None,
            command: list[str] | None = None) -> CombineResult:
    """The year of a rulebook assessed per period: every period with cases scored, then combined. With a command
    line (--record), each period's run is recorded in the store and cited by its id."""
    if request.period is not None:
        raise UsageError(_("combine scores every period of the year; --period is for score (give --year)"))
    name, data = read_source(request.cases, "case file")
    rules = rulebook_for(request.rules, data, name, notify)
    info = rule_sources(rules, request.overlays, request.sets).effective().spec.rulebook
    if info.period == "year":
        raise UsageError(_("rulebook {rulebook} {version} is assessed per year: combine makes a year of the quarters or "
                           "months of a rulebook assessed per period").format(rulebook=info.id, version=info.version))
    if year is None:
        if info.valid_from is None:
            raise UsageError(_("rulebook {rulebook} {version} has no valid_from: give the year with --year").format(
                rulebook=info.id, version=info.version))
        year = info.valid_from.year
    request = dataclasses.replace(request, rules=rules)
    periods = [p for p in periods_of(info.period, year) if info.covers(p.first) and info.covers(p.last)]
    if not periods:
        raise UsageError(_("no {kind} of {year} lies within the period of rulebook {rulebook} ({validity})").format(
            kind=kind_name(info.period), year=year, rulebook=info.id, validity=info.validity()))
    results, scored, without_cases, compiled = [], [], [], None
    for period in periods:
        with open_inputs(dataclasses.replace(request, period=period.label), notify) as inputs:
            compiled = inputs.compiled
            if not inputs.case_file.cases:
                without_cases.append(period.label)
                continue
            result = ScoreResult(inputs, run(inputs))
        run_id = None if command is None else record(store, result, command).id
        text = to_json(result.ledger).encode("utf-8")
        results.append(PeriodResult(result.ledger, hashlib.sha256(text).hexdigest(), run_id))
        scored.append(result)
    if not results:
        raise UsageError(_("{file}: no case is assigned in any {kind} of {year}").format(
            file=name, kind=kind_name(info.period), year=year))
    document = combine_periods(compiled, year, results, without_cases, hashlib.sha256(data).hexdigest())
    return CombineResult(document, scored)
