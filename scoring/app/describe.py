"""What an input file holds, read and checked as a command reads it: the web workbench's check of an upload.

A problem is raised as the commands raise it (InputError, every problem with its file and
line, or sheet, row and column), so an upload is judged exactly as the same file on the
command line.
"""
from __future__ import annotations

from scoring.base.errors import InputError, Problem
from scoring.base.files import decode_text
from scoring.base.i18n import _
from scoring.engine.compiler import compile_rulebook
from scoring.inputs.case_file import json_records, parse_cases
from scoring.rulebook.load import parse_rulebook
from scoring.rulebook.overlay import parse_overlay

from .inputs import Source, read_source
from .results import CasesInfo, DepartmentsInfo, RulesInfo


def describe_cases(source: Source) -> CasesInfo:
    """A case file or an Excel register: how many cases, which departments, which dates."""
    name, raw = read_source(source, "case file")
    case_file = parse_cases(raw, name)  # the departments a rulebook declares are checked when it is scored
    dates = [event.date for case in case_file.cases for event in case.events]
    departments = sorted({handler.department for case in case_file.cases for handler in case.handlers})
    return CasesInfo(case_file.path, len(case_file.cases), departments, min(dates, default=None), max(dates, default=None),
                     case_file.sha256)


def describe_rulebook(source: Source) -> RulesInfo:
    """A rulebook, loaded and compiled (every expression checked): what `score --rules` would accept."""
    name, raw = read_source(source, "rulebook")
    book = compile_rulebook(parse_rulebook(raw, name)).book
    info = book.spec.rulebook
    return RulesInfo(name, info.id, info.version, info.title, None, sorted(book.spec.department_fields), book.sha256)


def describe_overlay(source: Source) -> RulesInfo:
    """An overlay, read on its own (it is checked against its base when applied)."""
    name, raw = read_source(source, "overlay")
    overlay = parse_overlay(raw, name)
    info = overlay.spec.overlay
    return RulesInfo(name, info.id, info.version, info.title, f"{info.base.id} {info.base.version}",
                     sorted(overlay.spec.department_fields), overlay.sha256)


def describe_departments(source: Source) -> DepartmentsInfo:
    """Department records, read without their rulebook: JSON Lines, an object naming a department a line.
    The fields are checked against the rulebook that reads them, when it does."""
    name, raw = read_source(source, "department records")
    problems: list[Problem] = []
    found = []
    for line, obj in json_records(decode_text(raw, name), name, problems):
        if not isinstance(obj, dict) or not isinstance(obj.get("department"), str) or not obj["department"]:
            problems.append(Problem(name, line, "department", "each line must be a JSON object naming its department"))
        else:
            found.append(obj["department"])
    if not found and not problems:
        problems.append(Problem(name, None, "", "the file holds no department records"))
    if problems:
        raise InputError(problems, _("{file}: {n} problem(s) in the department records").format(file=name, n=len(problems)))
    return DepartmentsInfo(name, found)
