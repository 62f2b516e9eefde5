"""Exclusions and appeals: cases taken out of a department's assessment by a decision, audited.

A scheme lets a unit ask for a case to be left out of its assessment (剔除: outside its remit,
a malicious repeat complaint, a case assigned to it by mistake) and appeal a published result
(申诉). The supervisor decides; the decisions file (JSON Lines, or a JSON array) holds one
decision per line:

    {"case": "2020-J0002", "department": "市教育局", "kind": "exclusion", "decision": "approved",
     "reason": "不属于本单位职责", "decided_by": "市政府督查室", "decided_on": "2020-07-01"}

`department` left out: the case is left out for every department handling it. `kind` is
"exclusion" (approved or rejected) or "appeal" (upheld or rejected). A granted decision (approved,
upheld) takes the department out of the case before anything is scored, as if it had never
handled it: its events go too, and so does the case when no handler is left. A rejected one
changes nothing and is listed, so that the ledger shows every request and its outcome.

Every problem is reported with the file, the line and the field: an unknown field (with the
closest known one), a case id not in the case file (with the closest id), a department that does
not handle the case, a decision the kind cannot have, a date in no accepted form or impossible, a case granted twice
for the same department.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from scoring.base.dates import parse_date
from scoring.base.errors import InputError, Problem, closest
from scoring.base.files import decode_text
from scoring.base.i18n import _
from scoring.domain.cases import Case, natural_key

from .case_file import NO_DECLARATION, CaseFile, json_records
from .departments import Departments

DECISIONS = {"exclusion": ("approved", "rejected"), "appeal": ("upheld", "rejected")}
GRANTED = {"approved", "upheld"}
FIELDS = ("case", "department", "kind", "decision", "reason", "decided_by", "decided_on")
REQUIRED = ("case", "kind", "decision", "reason", "decided_by", "decided_on")
MAX_HINTS = 10  # unknown case ids given the closest id of the file


@dataclass(frozen=True)
class Decision:
    line: int
    case: str
    department: str | None  # None: every department handling the case
    kind: str
    decision: str
    reason: str
    decided_by: str
    decided_on: dt.date

    @property
    def granted(self) -> bool:
        return self.decision in GRANTED

    def covers(self, case: str, department: str) -> bool:
        return self.granted and self.case == case and self.department in (None, department)

    def entry(self) -> dict:
        """As the ledger lists it."""
        return {"case": self.case, "department": self.department, "kind": self.kind, "decision": self.decision,
                "reason": self.reason, "decided_by": self.decided_by, "decided_on": self.decided_on.isoformat()}


@dataclass(frozen=True)
class Exclusions:
    path: str
    decisions: tuple[Decision, ...]
    sha256: str  # of the decisions, independent of the order of lines and keys

    def granted(self) -> list[Decision]:
        return [d for d in self.decisions if d.granted]

    @cached_property
    def _granted_by_case(self) -> dict[str, list[Decision]]:
        found: dict[str, list[Decision]] = {}
        for decision in self.granted():
            found.setdefault(decision.case, []).append(decision)
        return found

    def taken_out(self, case: Case) -> set[str]:
        """The departments of a case that granted decisions take out of it."""
        decisions = self._granted_by_case.get(case.id, ())
        return {h.department for h in case.handlers if any(d.covers(case.id, h.department) for d in decisions)}

    def removed(self, case_file: CaseFile) -> Counter:
        """Department -> how many of its cases granted decisions take out."""
        return Counter(department for case in case_file.cases if case.id in self._granted_by_case
                       for department in self.taken_out(case))

    def in_order(self) -> list[Decision]:
        """By case (as people order ids), department, date: the same whatever the order of the file."""
        return sorted(self.decisions, key=lambda d: (natural_key(d.case), d.department or "", d.decided_on, d.kind,
                                                     d.decision, d.reason, d.decided_by))

    def apply(self, case_file: CaseFile) -> CaseFile:
        """The case file with every granted decision carried out: the department out of the case (and its
        events), the case out of the file when no handler is left."""
        if not self._granted_by_case:
            return case_file
        cases = []
        for case in case_file.cases:
            gone = self.taken_out(case) if case.id in self._granted_by_case else set()
            if not gone:
                cases.append(case)
            elif len(gone) < len(case.handlers):
                cases.append(case.model_copy(update={
                    "handlers": [h for h in case.handlers if h.department not in gone],
                    "events": [e for e in case.events if e.department not in gone]}))
        return dataclasses.replace(case_file, cases=cases)


def parse_exclusions(raw: bytes, source: str, case_file: CaseFile, departments: Departments = NO_DECLARATION) -> Exclusions:
    """The decisions of a file, checked against the case file they are about; a department named by an alias
    the rulebook declares is its department."""
    text = decode_text(raw, source)
    handlers = {case.id: [h.department for h in case.handlers] for case in case_file.cases}
    problems: list[Problem] = []
    decisions: list[Decision] = []
    granted_at: dict[tuple[str, str | None], int] = {}
    hints = iter(range(MAX_HINTS))

    def suggest(case: str) -> str:
        # each hint compares the id with every id of the file: only the first few get one, so that a
        # file of many unknown ids cannot take hours
        return closest(case, handlers) if next(hints, None) is not None else ""

    for line, obj in json_records(text, source, problems):
        if isinstance(obj, Problem):  # not JSON
            problems.append(obj)
            continue
        found = _decision(obj, line, source, handlers, departments, problems, suggest)
        if found is None:
            continue
        if found.granted:
            # the same department granted twice, or once alone and once with the whole case: which decision
            # the ledger should cite cannot be known
            clashes = [granted_at[key] for key in ((found.case, found.department), (found.case, None))
                       if key in granted_at] if found.department is not None else \
                [at for (case, _), at in granted_at.items() if case == found.case]
            if clashes:
                problems.append(Problem(source, line, _("case {case}").format(case=found.case),
                                        _("already taken out of the assessment by the decision on line {line}").format(
                                            line=min(clashes))))
                continue
            granted_at[(found.case, found.department)] = line
        decisions.append(found)
    if problems:
        raise InputError(problems, _("{file}: {count} problem(s) in the exclusions and appeals; nothing was scored").format(
            file=source, count=len(problems)))
    canonical = json.dumps(sorted((d.entry() for d in decisions), key=lambda e: json.dumps(e, sort_keys=True)),
                           ensure_ascii=False, sort_keys=True)
    return Exclusions(source, tuple(decisions), hashlib.sha256(canonical.encode("utf-8")).hexdigest())


def _decision(obj, line: int, source: str, handlers: dict[str, list[str]], departments: Departments,
              problems: list[Problem], suggest) -> Decision | None:
    """One line's decision, or None with its problems added."""
    if not isinstance(obj, dict):
        problems.append(Problem(source, line, "",
                                _("a decision must be a JSON object, not {kind}").format(kind=type(obj).__name__)))
        return None
    before = len(problems)
    where = _("case {case}").format(case=obj["case"]) if isinstance(obj.get("case"), str) and obj["case"] else ""

    def problem(field: str, message: str) -> None:
        problems.append(Problem(source, line, f"{where}, {field}" if where else field, message))

    for key in obj:
        if key not in FIELDS:
            problem(key, _("not a field of a decision{hint}; the fields: {fields}").format(
                hint=closest(key, FIELDS), fields=", ".join(FIELDS)))
    for key in REQUIRED:
        if key not in obj:
            problem(key, _("required"))
    for key in FIELDS:
        if key in obj and not (isinstance(obj[key], str) and obj[key].strip()) and not (key == "department" and obj[key] is None):
            problem(key, _("must be a text that is not empty, not {value}").format(
                value=json.dumps(obj[key], ensure_ascii=False)))
    if len(problems) > before:
        return None
    case, kind, decision = obj["case"], obj["kind"], obj["decision"]
    department = None if obj.get("department") is None else departments.canonical(obj["department"])
    if case not in handlers:
        problem("case", _("no case {case} in the case file{hint}").format(case=case, hint=suggest(case)))
    elif department is not None and department not in handlers[case]:
        problem("department", _("{department} does not handle case {case}; its handlers: {handlers}").format(
            department=department, case=case, handlers=", ".join(handlers[case])))
    if kind not in DECISIONS:
        problem("kind", _('"{kind}" is not a kind of decision; write "exclusion" (剔除) or "appeal" (申诉)').format(kind=kind))
    elif decision not in DECISIONS[kind]:
        problem("decision", _('an {kind} is {first} or {second}, not "{decision}"').format(kind=kind, first=DECISIONS[kind][0],
                                                                         second=DECISIONS[kind][1], decision=decision))
    decided_on = None
    try:
        decided_on = parse_date(obj["decided_on"])
    except ValueError as exc:
        problem("decided_on", f'"{obj["decided_on"]}" {exc}')
    if len(problems) > before:
        return None
    return Decision(line, case, department, kind, decision, obj["reason"].strip(), obj["decided_by"].strip(), decided_on)
