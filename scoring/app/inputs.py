"""What a scoring command is given, loaded one way for every command.

A `Request` is what the user named: the rulebook (a file, or a directory of yearly
rulebooks), overlays and settings, the case file (JSON Lines, a JSON array or an Excel
register), department records, exclusions and appeals, and how to score. `open_inputs` reads them in a fixed order
(the effective rulebook before the cases, which are checked against the departments it
declares; from a directory of rulebooks, the one whose period covers the cases' dates),
checks them, compiles the effective rulebook and opens the scoring session the command will use.

Each file is a path, or a `Content`: bytes with the name they go by in messages and run
records (the web workbench's uploads, whose names never become paths).
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scoring.base import i18n
from scoring.base.errors import Note
from scoring.base.files import read_file
from scoring.base.i18n import _
from scoring.engine.compiler import CompiledRulebook, compile_rulebook
from scoring.engine.session import Session, cut_to_period
from scoring.inputs.case_file import CaseFile, parse_cases
from scoring.inputs.exclusions import Exclusions, parse_exclusions
from scoring.inputs.records import DepartmentRecords, parse_departments
from scoring.rulebook.overlay import RuleSources
from scoring.rulebook.periods import period_for
from scoring.rulebook.versions import choose_rulebook

Notify = Callable[[str], None]  # says something to the user on the side (the CLI: standard error)


@dataclass(frozen=True)
class Content:
    """A file given by its content rather than its path: its name (in messages and run records) and its bytes."""

    name: str
    data: bytes


Source = str | Content  # a path, or the content itself


def read_source(source: Source, what: str) -> tuple[str, bytes]:
    """(name, bytes) of a file given either way; a path is read with the usual message when it cannot be."""
    if isinstance(source, Content):
        return source.name, source.data
    return str(source), read_file(source, what)


def silent(message: str) -> None:
    """The default `notify`: a library caller that wants to hear nothing."""


@dataclass(frozen=True)
class Request:
    rules: Source  # a rulebook file, or a directory of rulebooks (the one whose period covers the cases)
    cases: Source
    overlays: tuple[Source, ...] = ()
    sets: tuple[str, ...] = ()
    departments: Source | None = None  # department records (JSON Lines)
    exclusions: Source | None = None  # decisions taking cases out of the assessment (JSON Lines)
    skip_invalid: bool = False
    jobs: int | None = None  # None: automatic (see scoring.engine.session); 0: in this process
    period: str | None = None  # the quarter or month to score (2020-Q2, 2020-05), for a rulebook assessed per period


@dataclass
class Inputs:
    """A command's inputs, read and checked, and the session that scores them. With exclusions, case_file
    (and records) are the files with every granted decision carried out, `whole` the files as given."""

    case_file: CaseFile
    case_bytes: bytes
    sources: RuleSources
    compiled: CompiledRulebook
    records: DepartmentRecords | None
    records_bytes: bytes | None
    skip_invalid: bool
    session: Session
    notify: Notify = field(default=silent)
    exclusions: Exclusions | None = None
    exclusions_bytes: bytes | None = None
    whole: tuple[CaseFile, DepartmentRecords | None] | None = None  # with exclusions: the files as given

    @property
    def records_file(self) -> tuple[str, bytes] | None:
        """The department records file as recorded with a run: its name and bytes."""
        return None if self.records is None else (self.records.path, self.records_bytes)

    @property
    def exclusions_file(self) -> tuple[str, bytes] | None:
        """The exclusions and appeals file as recorded with a run: its name and bytes."""
        return None if self.exclusions is None else (self.exclusions.path, self.exclusions_bytes)


def rule_sources(rules: Source, overlays=(), sets=()) -> RuleSources:
    return RuleSources(read_source(rules, "rulebook"), tuple(read_source(o, "overlay") for o in overlays), tuple(sets))


def rulebook_for(rules: Source, case_bytes: bytes, cases: str, notify: Notify = silent) -> Source:
    """The rulebook file; for a directory, the version whose period covers the cases (those that can be
    read: the chosen rulebook's departments are needed to check them all)."""
    if isinstance(rules, Content) or not Path(rules).is_dir():
        return rules
    chosen = str(choose_rulebook(rules, lambda domain: parse_cases(case_bytes, cases, skip_invalid=True, domain=domain).cases,
                                 cases))
    notify(Note(_("rules: {rulebook} (its period covers every case)").format(rulebook=chosen)))
    return chosen


def tell_similar(case_file: CaseFile, notify: Notify) -> None:
    """Department names that look like one department written two ways (the ledger lists them too)."""
    counts = Counter(handler.department for case in case_file.cases for handler in case.handlers)
    for a, b, why in case_file.similar:
        notify(_("warning: {file}: departments {a} ({cases_a}) and {b} ({cases_b}) may be one department ({why}); "
                 "they are scored apart. Declare the departments assessed, or {a} as an alias of the other, in the "
                 "rulebook's [departments] (or an overlay)").format(
            file=case_file.path, a=a, b=b, why=why, cases_a=cases(counts[a]), cases_b=cases(counts[b])))


def cases(n: int) -> str:
    return _("{n} case(s)").format(n=n)


def parse_for_documents(raw: bytes, source: str, skip_invalid: bool, departments, domain) -> CaseFile:
    """The case file whose skipped cases (--skip-invalid) go into the documents (ledger, self-check,
    bulletin) with their problems: those are written in English whatever the language of the run, so that
    a document is the same bytes in any language (a replay or a verify in another language reproduces it).
    What is printed of them on the side is then English too; an error that stops the run is not."""
    case_file = parse_cases(raw, source, skip_invalid, departments, domain)
    if case_file.skipped and i18n.language() != "en":
        with i18n.speaking("en"):
            case_file = dataclasses.replace(case_file,
                                            skipped=parse_cases(raw, source, skip_invalid, departments, domain).skipped)
    return case_file


@contextmanager
def open_inputs(request: Request, notify: Notify = silent) -> Iterator[Inputs]:
    cases = read_source(request.cases, "case file")
    sources = rule_sources(rulebook_for(request.rules, cases[1], cases[0], notify), request.overlays, request.sets)
    compiled = compile_rulebook(sources.effective())
    departments = None if request.departments is None else read_source(request.departments, "department records")
    exclusions = None if request.exclusions is None else read_source(request.exclusions, "exclusions and appeals")
    with checked_inputs(compiled, sources, cases, departments, exclusions, request.skip_invalid, request.jobs,
                        notify, request.period) as inputs:
        yield inputs


@contextmanager
def checked_inputs(compiled: CompiledRulebook, sources: RuleSources, cases: tuple[str, bytes],
                   departments: tuple[str, bytes] | None, exclusions: tuple[str, bytes] | None, skip_invalid: bool,
                   jobs: int | None, notify: Notify, period: str | None = None) -> Iterator[Inputs]:
    """The files read for a compiled rulebook, each (name, bytes), checked against it and each other (the case file,
    then the department records and the exclusions, which name its departments and cases), with the session
    that will score them. `replay` starts here with a run's recorded files. For a rulebook assessed per quarter or
    month, the files are then cut to the period's cases (scoring.rulebook.periods)."""
    scope = period_for(compiled.book.spec.rulebook, period)  # a wrong period is said before the files are read
    case_file = parse_for_documents(cases[1], cases[0], skip_invalid, compiled.departments, compiled.domain)
    tell_similar(case_file, notify)
    records = None if departments is None else parse_departments(
        departments[1], departments[0], compiled.book.spec.department_fields, compiled.departments)
    decisions, whole = None, None
    if exclusions is not None:
        decisions = parse_exclusions(exclusions[1], exclusions[0], case_file, compiled.departments)
        if records is not None:  # against the file as given: a department may lose all its cases
            records.check_departments(case_file.cases)
        whole = (case_file, records)
        case_file = decisions.apply(case_file)
        records = None if records is None else records.for_cases(case_file.cases)
        tell_excluded(decisions, notify)
    in_period = None
    if scope is not None:
        if records is not None:  # against the whole year's file: a department may have no case in the period
            records.check_departments((whole or (case_file, None))[0].cases)
        case_file, records, in_period = cut_to_period(scope, case_file, records)
        if whole is not None:
            whole = cut_to_period(scope, *whole)[:2]
        notify(Note(_("{file}: {n} case(s) assigned outside {period} ({first} to {last}) are left out; {kept} "
                      "scored").format(file=case_file.path, n=in_period.outside, period=scope.label, first=scope.first,
                                       last=scope.last, kept=len(case_file.cases))))
    with Session(compiled, jobs, in_period) as session:
        yield Inputs(case_file, cases[1], sources, compiled, records, None if departments is None else departments[1],
                     skip_invalid, session, notify, decisions, None if exclusions is None else exclusions[1], whole)


def tell_excluded(exclusions: Exclusions, notify: Notify) -> None:
    granted = exclusions.granted()
    notify(Note(_("{file}: {granted} case(s) taken out of the assessment by decision, {rejected} request(s) rejected "
                  "(listed in the ledger)").format(file=exclusions.path, granted=len(granted),
                                                   rejected=len(exclusions.decisions) - len(granted))))
