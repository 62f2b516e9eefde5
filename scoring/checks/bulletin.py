"""The monthly bulletin (月度通报): the ranking at a month's end, how it moved, what was missed, what falls due.

一月一调度、一月一排名、一月一通报: each month the supervisor ranks the departments on the
cases as they stood at the end of the month, and names the deadlines missed in the month and
the ones coming up in the next.

- The ranking: each department's self-check as of the month's end, on the case file as it stood
  then (every event after it removed, handlers not yet assigned removed): departments are ranked
  by what they can still reach (the ceiling: points already lost are gone, every item not yet due
  counts as done in time), with what they have secured (the floor, which is `score` on that file).
  A part-year total that counts every item not yet due as lost would give everyone the lowest grade
  in spring; so grades are given only when the month's end is the assessment's end, and that last
  bulletin is `score`'s result. The same at the end of the month before gives the change.
- Missed and due: from the same self-checks, the items whose deadline fell in the month and that
  fell short of their points (what is lost for good, and what a late step can still recover),
  and the items still open whose deadline falls in the next month (what meeting it would gain).
  The self-check sees the items that declare both a `due` date and the `step` that completes
  them; items with a due date but no step are named in the document (`untracked`) so that an
  empty list is not read as "none missed".
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal

from scoring.base.errors import InputError, Problem
from scoring.base.i18n import N_
from scoring.domain.cases import assigned_on, domain_of, natural_key
from scoring.engine.rollup import rank, ranked_value, ranking_order
from scoring.engine.session import Run, Session, assessment_end, check_records, end_reason
from scoring.inputs.case_file import CaseFile
from scoring.inputs.records import DepartmentRecords
from scoring.ledger.build import rulebook_entry, skipped_entries
from scoring.ledger.document import engine_versions, number
from scoring.ledger.shapes import BULLETIN, BulletinDocument, BulletinDue, BulletinMissed

from .selfcheck import SelfCheck

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_end(month: str, source: str = "--month") -> dt.date:
    """The last day of a month written YYYY-MM."""
    found = _MONTH.match(month)
    if not found or not 1 <= int(found[2]) <= 12:
        raise InputError([Problem(source, None, "", f'"{month}" is not a month; write it as YYYY-MM, such as 2020-06')])
    year, number_ = int(found[1]), int(found[2])
    return dt.date(year, number_, calendar.monthrange(year, number_)[1])


def build(session: Session, case_file: CaseFile, month: str, records: DepartmentRecords | None = None,
          skip_invalid: bool = False) -> BulletinDocument:
    """The bulletin document of `month` (YYYY-MM)."""
    return build_month(session, case_file, month, records, skip_invalid)[0]


def build_month(session: Session, case_file: CaseFile, month: str, records: DepartmentRecords | None = None,
                skip_invalid: bool = False) -> tuple[BulletinDocument, Run]:
    """The bulletin document of `month` and the month-end run it ranks (what the city-wide figures are read from)."""
    compiled = session.compiled
    end = month_end(month)
    first = end.replace(day=1)
    closing = assessment_end(compiled, case_file)
    if closing is not None and first > closing:
        raise InputError([Problem(case_file.path, None, "--month",
                                  f"{month} is after the end of the assessment ({closing}, {end_reason(compiled)}); its last "
                                  f"bulletin is {closing:%Y-%m}, and `scoring score` gives the result")])
    if closing is not None and end > closing:
        end = closing  # the assessment's last month: as of its end
    previous_end = first - dt.timedelta(days=1)
    next_end = month_end(f"{(end + dt.timedelta(days=1)):%Y-%m}")
    check_records(compiled, records, case_file)  # against the whole file

    now_file = case_file.as_of(end)
    if not now_file.cases:
        first_day = min((assigned_on(c) for c in case_file.cases), default=None)
        raise InputError([Problem(case_file.path, None, "--month",
                                  f"no case was assigned by {end}" + (f" (the first on {first_day})" if first_day else ""))])
    def present(cut: CaseFile) -> DepartmentRecords | None:  # the records of the departments with a case by then
        return None if records is None else records.for_cases(cut.cases)

    now = session.run(now_file, present(now_file), skip_invalid, end)
    before_file = case_file.as_of(previous_end)
    before = session.run(before_file, present(before_file), skip_invalid, previous_end) if before_file.cases else None

    missed, due, failures = [], [], list(now.failures)
    names = [d["department"] for d in now.ledger["departments"]]
    titles = {case.id: domain_of(case).case_title(case) for case in case_file.cases}

    def check(name: str):
        done = SelfCheck(session, now_file, name, end, present(now_file), skip_invalid, scored=now, end=closing)
        return done.document(), done.failures, done.ceiling

    checked = session.map(check, names, stage=N_("month-end checks"))
    for name, (document, found, _) in zip(names, checked):
        failures += [f for f in found if f.case not in {g.case for g in failures}]
        missed += [_entry(name, i, titles, "cost", "recoverable", "record") for i in document["missed"]
                   if first.isoformat() <= i["due"] <= end.isoformat()]
        due += [_entry(name, i, titles, "workdays_left", "points", "missing") for i in document["at_risk"]
                if end.isoformat() < i["due"] <= next_end.isoformat()]

    final = end == closing  # nothing can happen after the assessment's end: the ranking is the result
    secured = {d.department: d for d in now.departments}

    def figure(d) -> Decimal:  # what the ranking compares: the total, or the item it is by ([ranking] by)
        return ranked_value(compiled, d)
    if final:
        standing = now.departments
    else:
        standing = [ceiling for _, _, ceiling in checked]
        rank(compiled, standing)
    previous = {}
    if before is not None:
        before_names = [d.department for d in before.departments]

        def reachable_before(name: str):
            return SelfCheck(session, before_file, name, previous_end, present(before_file), skip_invalid, scored=before,
                             end=closing, ceiling_only=True).ceiling

        reached = session.map(reachable_before, before_names, stage=N_("month-before checks"))
        rank(compiled, reached)
        previous = {d.department: d for d in reached}

    rows = []
    for d in sorted(standing, key=ranking_order):
        old = previous.get(d.department)
        ranked = old is not None and old.rank is not None and d.rank is not None
        rows.append({"department": d.department, **({"group": d.group} if compiled.group is not None else {}),
                     "rank": d.rank, "reachable": number(figure(d)), "secured": number(figure(secured[d.department])),
                     "grade": d.grade if final else None, "cases": len(d.cases),
                     "previous": None if old is None else {"rank": old.rank, "reachable": number(figure(old))},
                     # an unranked department (too few cases) still has a figure that moved
                     "change": None if old is None else {"reachable": number(figure(d) - figure(old)),
                                                         "rank": old.rank - d.rank if ranked else None},
                     "missed": sum(1 for m in missed if m["department"] == d.department),
                     "due_next_month": sum(1 for m in due if m["department"] == d.department)})
    order = lambda e: (e["due"], natural_key(e["case"]), e["department"], e["criterion"])  # noqa: E731
    rank_by = next(({"criterion": c.id, "title": c.title} for c in compiled.criteria
                    if c.id == compiled.book.spec.ranking.by), None)
    return {
        "format": BULLETIN,
        "engine": engine_versions(),
        "rulebook": rulebook_entry(compiled),
        "input": {"sha256": case_file.sha256, "cases": now.ledger["input"]["cases"],
                  "skipped": skipped_entries(case_file, failures)},
        "month": month,
        "as_of": end.isoformat(),
        "previous_as_of": previous_end.isoformat(),
        "final": final,
        **({"rank_by": rank_by} if rank_by else {}),
        "grades": compiled.book.spec.grade_names(),
        "departments": rows,
        "missed": sorted(missed, key=order),
        "due_next_month": sorted(due, key=order),
        "untracked": [{"criterion": c.id, "title": c.title} for c in compiled.criteria if c.due is not None and c.step is None],
        "dated_items": sum(1 for c in compiled.criteria if c.due is not None),
    }, now


def _entry(department: str, item: dict, titles: dict, *keys: str) -> BulletinMissed | BulletinDue:
    return {"department": department, "case": item["case"], "case_title": titles[item["case"]],
            "criterion": item["criterion"], "title": item["title"], "due": item["due"], **{k: item[k] for k in keys}}
