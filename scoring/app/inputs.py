"""What a scoring command is given, loaded one way for every command.

A `Request` is what the user named: the rulebook (a file, or a directory of yearly
rulebooks), overlays and settings, the case file (JSON Lines, a JSON array or an Excel
register), department records, and how to score. `open_inputs` reads them in a fixed order
(the case file first: a directory of rulebooks is chosen by the cases' dates), checks them,
compiles the effective rulebook and opens the scoring session the command will use.

Each file is a path, or a `Content`: bytes with the name they go by in messages and run
records (the web workbench's uploads, whose names never become paths).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scoring.base.files import read_file
from scoring.engine.compiler import CompiledRulebook, compile_rulebook
from scoring.engine.session import Session
from scoring.inputs.case_file import CaseFile, parse_cases
from scoring.inputs.records import DepartmentRecords, parse_departments
from scoring.rulebook.overlay import RuleSources
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
    skip_invalid: bool = False
    jobs: int | None = None  # None: automatic (see scoring.engine.session); 0: in this process


@dataclass
class Inputs:
    """A command's inputs, read and checked, and the session that scores them."""

    case_file: CaseFile
    case_bytes: bytes
    sources: RuleSources
    compiled: CompiledRulebook
    records: DepartmentRecords | None
    records_bytes: bytes | None
    skip_invalid: bool
    session: Session
    notify: Notify = field(default=silent)

    @property
    def records_file(self) -> tuple[str, bytes] | None:
        """The department records file as recorded with a run: its name and bytes."""
        return None if self.records is None else (self.records.path, self.records_bytes)


def read_cases(source: Source, skip_invalid: bool = False) -> tuple[CaseFile, bytes]:
    name, raw = read_source(source, "case file")
    return parse_cases(raw, name, skip_invalid), raw


def rule_sources(rules: Source, overlays=(), sets=()) -> RuleSources:
    return RuleSources(read_source(rules, "rulebook"), tuple(read_source(o, "overlay") for o in overlays), tuple(sets))


def rulebook_for(rules: Source, case_file: CaseFile, notify: Notify = silent) -> Source:
    """The rulebook file; for a directory, the version whose period covers the cases."""
    if isinstance(rules, Content) or not Path(rules).is_dir():
        return rules
    chosen = str(choose_rulebook(rules, case_file.cases, case_file.path))
    notify(f"rules: {chosen} (its period covers every case)")
    return chosen


@contextmanager
def open_inputs(request: Request, notify: Notify = silent) -> Iterator[Inputs]:
    case_file, case_bytes = read_cases(request.cases, request.skip_invalid)
    sources = rule_sources(rulebook_for(request.rules, case_file, notify), request.overlays, request.sets)
    compiled = compile_rulebook(sources.effective())
    records, records_bytes = None, None
    if request.departments is not None:
        name, records_bytes = read_source(request.departments, "department records")
        records = parse_departments(records_bytes, name, compiled.book.spec.department_fields)
    with Session(compiled, request.jobs) as session:
        yield Inputs(case_file, case_bytes, sources, compiled, records, records_bytes, request.skip_invalid, session, notify)
