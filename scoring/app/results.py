"""What each command's library function returns: one object that carries all its renderers need.

A renderer (scoring.reports) takes one of these and reads the document in it (the ledger,
the self-check, the bulletin, the diff) and what the document does not hold: the dates of the
events cited as evidence, each item's range of points (a form's 分值), the rubric whose cases
an item scores, the grade names.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from scoring.engine.compiler import CompiledRulebook
from scoring.engine.session import Run
from scoring.inputs.case_file import CaseFile
from scoring.ledger.shapes import (
    LEDGER,
    VERIFY,
    BulletinDocument,
    DiffDocument,
    ExplainDocument,
    LedgerDocument,
    ReplayDocument,
    SelfCheckDocument,
    VerifyDocument,
)

from .figures import Figures, figures
from .inputs import Inputs


@dataclass
class Scored:
    """The inputs a result was scored from, and what renderers look up in them."""

    inputs: Inputs

    @property
    def compiled(self) -> CompiledRulebook:
        return self.inputs.compiled

    @property
    def case_file(self) -> CaseFile:
        return self.inputs.case_file

    @cached_property
    def item_ranges(self) -> dict[str, tuple]:
        """Criterion id -> (lowest, highest) points: the same analysis as `rules validate`."""
        from scoring.checks.validate import item_ranges
        return item_ranges(self.compiled.book)

    @cached_property
    def deducting_items(self) -> frozenset[str]:
        """The items whose rules only take points away: those with a base (the rules deduct from it) and those that
        can give nothing above 0. A line "otherwise" (no rule fired) of such an item means nothing was deducted;
        of any other item, that its points were not earned. (A base item whose rules also add is read as deducting.)"""
        highest = {cid: high for cid, (_, high) in self.item_ranges.items()}
        return frozenset(c.id for c in self.compiled.book.spec.criterion
                         if c.base is not None or (highest.get(c.id) is not None and highest[c.id] <= 0))

    @cached_property
    def item_rubrics(self) -> dict[str, str | None]:
        """Criterion id -> the rubric whose cases it scores (None: the department's own item)."""
        return {c.id: c.rubric for c in self.compiled.book.spec.criterion}

    @cached_property
    def event_dates(self) -> dict[tuple[str, str], dt.date]:
        """(case id, event id) -> the event's date: what explanations show next to their evidence."""
        return self._event_dates()

    def _event_dates(self, until: dt.date | None = None) -> dict[tuple[str, str], dt.date]:
        return {(case.id, event.id): event.date for case in self.case_file.cases for event in case.events
                if until is None or event.date <= until}

    @property
    def grades(self) -> list[str]:
        return self.compiled.book.spec.grade_names()

    @property
    def labels(self) -> dict[str, dict]:
        """The words of the rulebook's domain for kinds, roles, event types and values (scoring.ledger.labels)."""
        return self.compiled.domain.labels()


@dataclass
class ScoreResult(Scored):
    run: Run

    @property
    def ledger(self) -> LedgerDocument:
        return self.run.ledger

    @cached_property
    def figures(self) -> Figures:
        """The cases, departments and city-wide rates the report opens with."""
        return figures(self.run)

    @property
    def issuer(self) -> str | None:
        """The office that issues the results (the rulebook's [rulebook] issuer), under the report's title."""
        return self.compiled.book.spec.rulebook.issuer

    @property
    def year(self) -> int | None:
        """The year assessed: the first of the rulebook's period, else of the cases' first event."""
        start = self.compiled.book.spec.rulebook.valid_from
        first = min((event.date for case in self.case_file.cases for event in case.events), default=None)
        found = start or first
        return found.year if found else None


@dataclass
class ExplainResult(Scored):
    ledger: dict
    department: dict  # the department's entry of the ledger
    case: str | None  # only this case, when given

    def document(self) -> ExplainDocument:
        """The explanation as JSON: the ledger's head and the department (with only the case, when given)."""
        entry = self.department
        if self.case is not None:
            entry = {**entry, "cases": [c for c in entry["cases"] if c["case"] == self.case],
                     "lines": [line for line in entry["lines"] if line["case"] == self.case]}
        head = {key: self.ledger[key] for key in ("format", "engine", "rulebook", "input")}
        if "exclusions" in self.ledger:  # the department's own
            name, found = entry["department"], self.ledger["exclusions"]
            handled = {case.id for case in self.inputs.whole[0].cases if any(h.department == name for h in case.handlers)}
            head["exclusions"] = {"sha256": found["sha256"],
                                  "decisions": [d for d in found["decisions"] if d["department"] in (None, name)
                                                and d["case"] in handled],
                                  "effect": [e for e in found["effect"] if e["department"] == name]}
        return {**head, "department": entry}


@dataclass
class SelfCheckResult(Scored):
    document: SelfCheckDocument
    as_of: dt.date

    @cached_property
    def event_dates(self) -> dict[tuple[str, str], dt.date]:
        """Only the events up to the check date: the self-check does not see later ones."""
        return self._event_dates(until=self.as_of)


@dataclass
class BulletinResult(Scored):
    document: BulletinDocument
    figures: Figures  # the cases, departments and city-wide rates at the month's end
    issuer: str | None = None  # who issues it: the option, else the rulebook's [rulebook] issuer
    issued: dt.date | None = None  # the date of issue printed under the title (never the clock: the bytes must repeat)


@dataclass
class VerifyResult:
    ledger: str  # the file verified, as named
    claimed: dict
    found: dict
    byte_identical: bool
    differences: list[dict]

    @property
    def confirmed(self) -> bool:
        return not self.differences

    @property
    def exit_code(self) -> int:
        return 0 if self.confirmed else 1

    def document(self) -> VerifyDocument:
        return {"format": VERIFY, "ledger": self.ledger, "confirmed": self.confirmed,
                "byte_identical": self.byte_identical, "differences": self.differences}


@dataclass
class ReplayResult:
    run: str  # the id of the run replayed
    ledger_sha256: str  # of its recorded ledger
    changed_rules: bool
    reproduced: bool | None  # None when the rules were changed: there is nothing to reproduce
    old_ledger: dict
    new: ScoreResult
    document: ReplayDocument  # the diff of the recorded ledger and the replay's (scoring-diff/1, with "replay")

    @property
    def exit_code(self) -> int:
        return 1 if self.reproduced is False else 0


@dataclass
class DiffResult:
    document: DiffDocument


@dataclass
class CasesInfo:
    """A case file or register as read (scoring.app.describe)."""

    name: str
    cases: int
    departments: list[str]
    first: dt.date | None  # the earliest event
    last: dt.date | None  # the latest event
    sha256: str  # of the scored content, as ledgers report it


@dataclass
class RulesInfo:
    """A rulebook or an overlay as read (scoring.app.describe)."""

    name: str
    id: str
    version: str
    title: str
    base: str | None  # an overlay's base rulebook, "id version"; None for a rulebook
    department_fields: list[str]  # the department records it reads
    sha256: str


@dataclass
class DepartmentsInfo:
    """Department records as read without a rulebook (scoring.app.describe)."""

    name: str
    departments: list[str]  # in the file's order


def is_ledger(document: dict) -> bool:
    return isinstance(document, dict) and document.get("format") == LEDGER and all(
        isinstance(document.get(key), dict) for key in ("rulebook", "input"))


@dataclass
class CombineResult:
    """A year made of its periods (scoring.engine.combine): the document, and each period's scored result."""

    document: dict
    periods: list  # the ScoreResult of each period with cases, in order
