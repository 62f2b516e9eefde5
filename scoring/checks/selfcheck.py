"""Self-assessment as of a date: the score secured so far, what is still reachable, what is at stake.

Floor: the department's score from the case file as it stood at the end of the check date:
every event dated after it removed, and the handlers not assigned by then removed
(`as_of_case`). It is exactly what `score` gives for that file.

Ceiling: the score if every remaining step is done in time. An item (criterion) of the
rulebook may declare its `step`: the event that completes it (a reply with outcome A, a
face-to-face contact, a publication...) and `when` it can still be taken. For each of the
department's handlers the self-check adds every step still possible, dated the day after the
check date (the earliest anything can still happen); a handler named in the file but not
yet assigned is assigned that day and given every step. Scoring that file gives the
ceiling. Items decided by others (`decided_by`, such as a member's rating) are shown apart,
with the ceiling reached by the department's own steps alone.

Per item, three scorings give the points now, if the step is taken tomorrow, and if it had
been taken at once (the item's full points). With the item's `due` date they give the items
at risk (not yet due), the deadlines missed and what they cost, and the missing evidence.
A rulebook whose rules read `as_of` can wait for a deadline before deducting for what is not
done (`as_of >= reply_due`): such a deduction is not in the points now, so a fourth scoring,
of the same cases judged at the assessment's end (nothing more happens), gives what an item
not yet due puts at stake.

The ceiling rests on one assumption, stated in the README: what happens after the check date
is dated after it and does no better than the declared steps (an extension, for instance, is
granted before the deadline it extends). The tests check it over the sample year, date by date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from scoring.base.errors import InputError, Problem, closest
from scoring.domain.cases import Case, Event, as_of_case, domain_of, models, natural_key
from scoring.domain.workdays import CalendarCoverageError
from scoring.engine.compiler import CompiledCriterion
from scoring.engine.evaluate import HandlerResult, ScoringSetting, case_events_of, case_record_of, handler_environment
from scoring.engine.rollup import DepartmentResult, roll_up
from scoring.engine.runner import CaseFailure
from scoring.engine.session import Run, Session, assessment_end, check_records, end_reason
from scoring.inputs.case_file import CaseFile
from scoring.inputs.records import DepartmentRecords, department_values
from scoring.lang import values as V
from scoring.ledger.build import case_entry, line_entry, rulebook_entry, skipped_entries
from scoring.ledger.document import engine_versions, number
from scoring.ledger.labels import event_name
from scoring.ledger.shapes import SELF_CHECK, MissingEvidence, SelfCheckDocument

STEP_ID = "~self-check-{}"  # ids of the events the self-check adds (sorted after same-day real ones)


@dataclass
class Item:
    """One item of one case, as of the check date."""

    case: str
    criterion: CompiledCriterion
    now: int | Fraction  # points as of the check date
    reachable: int | Fraction  # if its step is taken the day after
    full: int | Fraction  # if its step had been taken at once
    lapsed: int | Fraction  # if nothing more happens until the assessment ends (a deduction that waits)
    due: dt.date | None
    missing: str  # what the step would add
    record: str  # what the ledger says now

    @property
    def gain(self):
        return self.reachable - self.now

    @property
    def stake(self):
        """What taking the step gains against doing nothing: the gain, and a deduction that waits for the
        due date counted too."""
        return self.reachable - min(self.now, self.lapsed)


class SelfCheck:
    def __init__(self, session: Session, case_file: CaseFile, department: str, as_of: dt.date,
                 records: DepartmentRecords | None = None, skip_invalid: bool = False, scored: Run | None = None,
                 end: dt.date | None = None, ceiling_only: bool = False):
        """scored: a run of case_file as it stood at the end of as_of, when the caller has one (the
        bulletin does); its results are those the floor needs, so they are not scored again.
        end: the assessment's end, when case_file is already cut at as_of (the bulletin's).
        ceiling_only: the floor and the ceiling, not what is at stake item by item (the bulletin's
        ranking of the month before)."""
        self.session, self.compiled, self.scored = session, session.compiled, scored
        if session.compiled.reads_ranking:  # one department alone has no place among the others
            raise InputError([Problem(session.compiled.book.path, None, "ranking",
                                      "items or gates of this rulebook read the ranking, which a department's "
                                      "self-check (and the monthly bulletin built on it) cannot know: not supported "
                                      "yet; `scoring score` scores them")])
        self.end = end or assessment_end(session.compiled, case_file, session.period)
        self.case_file, self.department, self.as_of = case_file, department, as_of
        self.source = case_file.path
        self.assigning = self.compiled.domain.assigning_for  # kind of case -> the event type that assigns a handler
        self.event_model = models(self.compiled.domain).event
        check_records(self.compiled, records, case_file)
        self.departments = department_values(case_file.cases, records, self.compiled.book.spec.department_fields)
        self._check_date()
        # whole cases: a rule may read the other handlers' events (case_events: the lead's deadline for a
        # co-handler); only this department's handler is scored (see _score)
        mine = [case for case in case_file.cases if any(h.department == department for h in case.handlers)]
        if not mine:
            names = sorted({h.department for case in case_file.cases for h in case.handlers})
            raise InputError([Problem(self.source, None, "--department",
                                      f'no department "{department}" in the cases{closest(department, names)}; '
                                      f"known: {', '.join(names)}")])
        current = {case.id: as_of_case(case, as_of) if self._assigned(case) else None for case in mine}
        if not any(current.values()):
            first = min(e.date for case in mine for e in case.events if e.type == self.assigning(case.kind))
            raise InputError([Problem(self.source, None, "--as-of",
                                      f"{department} had no case assigned by {as_of} (its first assignment is on {first})")])
        self.skip_invalid = skip_invalid
        self.failures: list[CaseFailure] = []
        self.now = self._score([c for c in current.values() if c], "")
        # judged at the end, a deduction that waits for its deadline counts: what doing nothing costs
        lapsed = None
        if self.compiled.reads_as_of and not ceiling_only and self.end is not None and self.end > as_of:
            lapsed = self._score([c for c in current.values() if c], "judged at the assessment's end", judged=self.end)
        failed = {f.case for f in self.failures}
        mine = [case for case in mine if case.id not in failed]
        self.unassigned = [case for case in mine if current[case.id] is None]

        step_day = as_of + dt.timedelta(days=1)
        own, everything, at_once = [], [], []
        self.envs: dict[str, dict] = {}
        for case in mine:
            start = current[case.id] or self._assigned_tomorrow(case, step_day)
            prepared = self._prepare(start)
            if prepared is None:
                continue
            self.envs[case.id], possible, every = prepared
            everything.append(_add_steps(start, possible, step_day, department))
            mine_alone = [c for c in possible if c.decided_by is None]
            # the same case object when no step waits on others: scored once, for both ceilings
            own.append(everything[-1] if mine_alone == possible else _add_steps(start, mine_alone, step_day, department))
            if current[case.id] is not None and not ceiling_only:
                # the items' full points: every step taken on the day of the (first) assignment
                # (the other handlers' events stay: a deadline may depend on them)
                assignments = [e for e in start.events if e.type == self.assigning(start.kind) and e.department == department]
                others = [e for e in start.events if e.department != department]
                at_once.append(_add_steps(_with_events(start, others, assignments), every,
                                          min(_moment(e) for e in assignments), department))
        self.ceiling = self._score(everything, "with its remaining steps added")
        if ceiling_only:
            return
        self.ceiling_own = self._score(own, "with its remaining steps added", same_as=(everything, self.ceiling))
        full = {r.case: r for r in self._score(at_once, "with every step taken at once").cases}
        ideal = {r.case: r for r in self.ceiling.cases}
        failed = {f.case for f in self.failures}
        lapsed_results = {r.case: r for r in lapsed.cases} if lapsed is not None else {}
        self.items = [item for result in self.now.cases if result.case not in failed
                      for item in self._items(result, ideal[result.case], full[result.case],
                                              lapsed_results.get(result.case, result))]

    # ---------------------------------------------------------------- pieces
    def _handler(self, case: Case):
        return next(h for h in case.handlers if h.department == self.department)

    def _assigned(self, case: Case) -> bool:
        return any(e.type == self.assigning(case.kind) and e.department == self.department and e.date <= self.as_of
                   for e in case.events)

    def _assigned_tomorrow(self, case: Case, day: dt.date) -> Case:
        """A case not yet assigned to the department: as the others had it by the check date, and
        the department assigned the day after."""
        known = as_of_case(case, self.as_of)
        others = known.handlers if known is not None else []
        # the fields of its real assignment (a hotline dispatch's channel), moved to that day
        real = min((e for e in case.events if e.type == self.assigning(case.kind) and e.department == self.department),
                   key=_moment, default=None)
        fields = real.model_dump(exclude={"id", "type", "date", "department", "at"}, exclude_none=True) if real else {}
        return case.model_copy(update={"handlers": [*others, self._handler(case)],
                                       "events": [*(known.events if known is not None else []),
                                                  _event(self.event_model, self.assigning(case.kind), day, self.department,
                                                         fields)]})

    def _criteria_shown(self) -> list[tuple]:
        """((category, criterion id), criterion) of each item scored now or in the ceiling, in the rulebook's order."""
        keys = set(self.now.criteria) | set(self.ceiling.criteria)
        categories = [None] + [c.id for c in self.compiled.categories]
        return [((category, c.id), c) for category in categories for c in self.compiled.criteria if (category, c.id) in keys]

    def _check_date(self) -> None:
        dates = [e.date for case in self.case_file.cases for e in case.events]
        if not dates:
            raise InputError([Problem(self.source, None, "", "the cases have no events: there is nothing to check")])
        first = min(dates)
        end = self.end

        def wrong(message: str):
            raise InputError([Problem(self.source, None, "--as-of", message)])

        if self.as_of < first:
            wrong(f"{self.as_of} is before the first event of the cases ({first}): nothing had happened yet")
        if self.as_of > end:
            wrong(f"{self.as_of} is after the end of the assessment ({end}, {end_reason(self.compiled, self.session.period)}); "
                  "for its result use `scoring score`")
        for day, role in ((self.as_of, "the check date"), (self.as_of + dt.timedelta(days=1),
                                                            "the day after the check date (when remaining steps are dated)")):
            try:
                self.compiled.calendar.is_workday(day)
            except CalendarCoverageError as exc:
                raise InputError([Problem(self.compiled.book.path, None, "calendar", str(exc))],
                                 f"{role}, {day}, is outside the working-day calendar") from None

    def _criteria(self, case: Case) -> list[CompiledCriterion]:
        """The items that apply to the department's handler of the case: its rubric's, and the rubric-free ones."""
        rubric = self.compiled.rubric_of(self._handler(case).role)
        rubric_id = rubric.id if rubric else None
        return [c for c in self.compiled.criteria if c.rubric is None or c.rubric == rubric_id]

    def _prepare(self, case: Case):
        """The handler's environment as of the date, its items with a step still possible then, and
        all its items with a step; None if the case's data fails a rule (with --skip-invalid)."""
        where = ["lets"]
        try:
            record = V.Record("department", self.departments.get(self.department, {"name": self.department}))
            env = handler_environment(self.compiled, case_record_of(case), case_events_of(case), self._handler(case), where,
                                      record, self.as_of)[0]
            every, possible = [], []
            for criterion in self._criteria(case):
                step = criterion.step
                if step is None:
                    continue
                if criterion.rate is not None and step.when is None:
                    # without its own `when`, a rate's step is for the handlers the rate counts now; with one,
                    # wherever it holds (a rating step makes a case count in a rate of rated cases)
                    where[0] = f"{criterion.id} rate"
                    if not V.truthy(criterion.rate.of(env)):
                        continue
                every.append(criterion)
                where[0] = f"{criterion.id} step"
                if step.when is None or V.truthy(step.when(env)):
                    possible.append(criterion)
            return env, possible, every
        except V.EvalError as exc:
            message = f"{where[0]}: {exc}"
            if not self.skip_invalid:
                raise InputError([Problem(self.source, None, f"case {case.id}", message)]) from None
            self.failures.append(CaseFailure(case.id, "data", message))
            return None

    def _score(self, cases: list[Case], variant: str,
               same_as: tuple[list[Case], DepartmentResult] | None = None,
               judged: dt.date | None = None) -> DepartmentResult:
        """The department's result on these cases; failing cases are left out with --skip-invalid.

        As of the date (no variant) every handler is scored, so that a case fails here exactly when
        it fails `score` on the same file; the variants add the department's own steps, and only its
        handler is scored (another's rule failing on a step that has not happened is not its concern).
        same_as: cases scored already, in the same order, with their result: where a case is the very
        same object, its result is taken from there.
        judged: the date the cases are judged at (as_of in the rules), when not the check date."""
        reused: list[HandlerResult] = []
        if same_as is not None:
            known_cases, known = same_as
            same = {case.id for case, other in zip(cases, known_cases) if case is other}
            reused = [r for r in known.cases if r.case in same]
            cases = [case for case in cases if case.id not in same]
        if not variant and self.scored is not None:
            wanted = {case.id for case in cases}
            results = [r for d in self.scored.departments for r in d.cases if r.case in wanted]
            failures = [f for f in self.scored.failures if f.case in wanted]
        elif cases:
            only = self.department if variant else None
            setting = ScoringSetting(self.departments, only, judged or self.as_of)
            results, failures, _ = self.session.score(cases, self.source, self.skip_invalid, setting)
        else:
            results, failures = [], []
        results = reused + results
        results = [r for r in results if r.department == self.department]
        known = {f.case for f in self.failures}
        for failure in failures:
            if failure.case not in known:
                message = f"{failure.message} ({variant})" if variant else failure.message
                self.failures.append(CaseFailure(failure.case, failure.kind, message))
        if not results:
            raise InputError([Problem(self.source, None, "--department",
                                      f"no case of {self.department} could be scored {variant or 'as of ' + str(self.as_of)}")])
        (department,) = roll_up(self.compiled, results, self.departments, judged or self.as_of)
        return department

    def _items(self, now: HandlerResult, ideal: HandlerResult, full: HandlerResult,
               lapsed: HandlerResult) -> list[Item]:
        env = self.envs[now.case]
        items = []
        for criterion in self.compiled.criteria:
            if not _per_case_item(criterion, now.rubric):
                continue
            path = ("criterion", self.compiled.criteria.index(criterion))
            try:
                due = None if criterion.due is None else criterion.due(env)
                missing = self._missing(criterion, env, now)
            except V.EvalError as exc:
                raise InputError([self.compiled.book.problem(path, f"case {now.case}: {exc}")]) from None
            if due is not None and V.kind(due) != "date":
                raise InputError([self.compiled.book.problem(path + ("due",),
                                                             f"case {now.case}: gives {V.kind(due)}, not a date")])
            items.append(Item(now.case, criterion, _points(now, criterion.id), _points(ideal, criterion.id),
                              _points(full, criterion.id), _points(lapsed, criterion.id), due, missing,
                              "；".join(line.text for line in _lines(now, criterion.id) if line.text)))
        return items

    def _missing(self, criterion: CompiledCriterion, env: dict, now: HandlerResult) -> str:
        """What is missing for the item: the step's sentence, else the item's "otherwise" sentence."""
        if criterion.step is not None and criterion.step.missing is not None:
            return criterion.step.missing(env)
        otherwise = [line.text for line in now.lines if line.criterion == criterion.id and line.kind == "otherwise" and line.text]
        if otherwise:
            return otherwise[0]
        # the step's event in the domain's words (沟通（面对面）), never its internal values
        return event_name(self.compiled.domain.labels(), criterion.step.event) if criterion.step else criterion.title

    def _workdays(self, a: dt.date, b: dt.date) -> int | None:
        """Working days after a up to b; None (noted) where the calendar does not cover the year yet."""
        try:
            return self.compiled.calendar.workdays_between(a, b)
        except CalendarCoverageError as exc:
            self.uncovered.add(exc.year)
            return None

    # ---------------------------------------------------------------- the document
    def document(self) -> SelfCheckDocument:
        spec = self.compiled.book.spec
        decimals = spec.department.decimals
        items = sorted(self.items, key=lambda i: (-i.stake, i.due or dt.date.max, natural_key(i.case), i.criterion.id))
        mine = [i for i in items if i.criterion.decided_by is None]

        def item(i: Item, **extra) -> dict:
            return {"case": i.case, "criterion": i.criterion.id, "title": i.criterion.title, **extra,
                    "missing": i.missing if i.stake > 0 else None}

        self.uncovered: set[int] = set()
        # at risk: what the step gains against doing nothing, a deduction waiting for the due date included
        at_risk = [item(i, due=i.due.isoformat(), workdays_left=self._workdays(self.as_of, i.due),
                        days_left=(i.due - self.as_of).days, points=number(i.stake))
                   for i in mine if i.stake > 0 and i.due is not None and i.due > self.as_of]
        undated = [item(i, due=None, points=number(i.gain)) for i in mine if i.gain > 0 and i.due is None]
        missed = []
        for i in sorted(mine, key=lambda i: (i.due or dt.date.max, natural_key(i.case), i.criterion.id)):
            lost = i.full - max(i.now, i.reachable)
            if i.due is not None and i.due <= self.as_of and (lost > 0 or i.gain > 0):
                overdue = self._workdays(i.due, self.as_of) if i.gain > 0 else None
                missed.append(item(i, due=i.due.isoformat(), workdays_overdue=overdue,
                                   cost=number(max(lost, 0)), recoverable=number(i.gain), record=i.record))
        others = [item(i, decided_by=i.criterion.decided_by, points=number(i.gain))
                  for i in items if i.criterion.decided_by is not None and i.gain > 0]
        ideal = {r.case: r for r in self.ceiling.cases}
        return {
            "format": SELF_CHECK,
            "engine": engine_versions(),
            "rulebook": rulebook_entry(self.compiled),
            "input": {"sha256": self.case_file.sha256, "cases": len(self.now.cases),
                      "skipped": skipped_entries(self.case_file, self.failures)},
            "department": self.department,
            "as_of": self.as_of.isoformat(),
            "floor": number(self.now.total, decimals),
            "floor_grade": self.now.grade,
            "ceiling": number(self.ceiling.total, decimals),
            "ceiling_grade": self.ceiling.grade,
            "ceiling_own_steps": number(self.ceiling_own.total, decimals),
            "decided_by_others": others,
            # an item can show up only in the ceiling (a rubric whose first case is not assigned yet)
            "criteria": [({"category": key[0]} if key[0] is not None else {}) |
                         {"criterion": c.id, "title": c.title, "level": c.level,
                          "floor": _number_or_none(self.now.criteria.get(key)),
                          "ceiling": _number_or_none(self.ceiling.criteria.get(key))}
                         for key, c in self._criteria_shown()],
            "at_risk": at_risk,
            "undated": undated,
            "missed": missed,
            "missing_evidence": self._evidence(ideal),
            "not_yet_assigned": [{"case": c.id, "role": self._handler(c).role, "ceiling": number(ideal[c.id].total)}
                                 for c in self.unassigned if c.id in ideal and ideal[c.id].total is not None],
            "lines": [line_entry(line, with_case=True) for line in self.now.lines],
            "cases": [{**case_entry(r), "ceiling": _number_or_none(ideal[r.case].total if r.case in ideal else None)}
                      for r in self.now.cases],
            # years the calendar does not cover yet: due dates there get days_left but no workdays_left
            "uncovered_years": sorted(self.uncovered),
        }

    def _evidence(self, ideal: dict[str, HandlerResult]) -> list[MissingEvidence]:
        """The step events whose absence costs points: one entry per case and event."""
        gains = {(i.case, i.criterion.id): i for i in self.items if i.gain > 0}
        entries: dict[tuple, dict] = {}
        for result in self.now.cases:
            if result.case not in self.envs or result.case not in ideal:
                continue  # left out (--skip-invalid)
            for criterion in self.compiled.criteria:
                if criterion.step is None:
                    continue
                if criterion.rate is not None:
                    before, after = result.rates.get(criterion.id), ideal[result.case].rates.get(criterion.id)
                    if not (before and after and before.eligible and not before.hit and after.hit):
                        continue
                    text = self._missing(criterion, self.envs[result.case], result)
                elif (result.case, criterion.id) in gains:
                    text = gains[(result.case, criterion.id)].missing
                else:
                    continue
                entry = entries.setdefault((result.case, _describe(criterion.step.event)), {
                    "case": result.case, "event": dict(criterion.step.event), "criteria": [], "missing": []})
                entry["criteria"].append(criterion.id)
                if text not in entry["missing"]:
                    entry["missing"].append(text)
        return sorted(entries.values(), key=lambda e: (natural_key(e["case"]), e["criteria"][0]))


def _moment(event: Event):
    """When an event happened: its date-time in a domain dated to the minute, else its day."""
    return event.at if "at" in type(event).model_fields else event.date


def _with_events(case: Case, events: list[Event], added: list[Event]) -> Case:
    return case.model_copy(update={"events": list(events) + added})


def _event(model: type[Event], event_type: str, day: dt.date, department: str, fields: dict, n: int = 0) -> Event:
    """A step event on `day`; in a domain dated to the minute, at its moment (a date: at its start)."""
    if "at" in model.model_fields:
        written = (day if isinstance(day, dt.datetime) else dt.datetime.combine(day, dt.time())).strftime("%Y-%m-%dT%H:%M")
    else:
        written = day.isoformat()
    return model.model_validate({**fields, "type": event_type, "id": STEP_ID.format(n),
                                 "date": written, "department": department})


def _add_steps(case: Case, criteria: list[CompiledCriterion], day, department: str) -> Case:
    """The case with each distinct step event of the department's criteria added on `day`."""
    taken = {e.id for e in case.events}
    added, seen = [], set()
    for criterion in criteria:
        key = _describe(criterion.step.event)
        if key in seen:
            continue
        seen.add(key)
        n = len(taken) + len(added) + 1
        fields = {k: v for k, v in criterion.step.event.items() if k != "type"}
        added.append(_event(models(domain_of(case)).event, criterion.step.event["type"], day, department, fields, n))
    return _with_events(case, case.events, added)


def _describe(event: dict) -> str:
    return event["type"] + "".join(f" {k}={v}" for k, v in sorted(event.items()) if k != "type")


def _number_or_none(value):
    return None if value is None else number(value)


def _per_case_item(criterion: CompiledCriterion, rubric: str | None) -> bool:
    """An item the self-check follows case by case: a case item of the rubric, or a department item matched
    on cases that declares when it is due or what completes it (a deduction for a late reply)."""
    if criterion.level == "case":
        return criterion.rubric == rubric
    return criterion.rate is None and criterion.per == "case" and (criterion.due is not None or criterion.step is not None)


def _lines(result: HandlerResult, criterion: str) -> list:
    """A case's lines of an item: its own, or the department item's lines that come from the case."""
    return [line for line in result.lines + result.department_lines if line.criterion == criterion]


def _points(result: HandlerResult, criterion: str):
    return sum((line.points for line in _lines(result, criterion)), 0)
