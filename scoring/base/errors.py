"""Errors a user can act on: each names the file, the line and what is wrong.

Input problems (case files, rulebooks) are collected, not raised one by one, so that a
user sees every problem of a file at once.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from .i18n import _


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    source: str  # file path as the user gave it
    line: int | None  # 1-based line, when known
    where: str  # what is wrong: "case 2020-0668, events[3].type" or a rulebook key path
    message: str

    def __str__(self) -> str:
        location = f"{self.source}:{self.line}" if self.line else self.source
        return f"{location}: {self.where}: {self.message}" if self.where else f"{location}: {self.message}"


class Note(str):
    """A message on the side that says what was done ("wrote FILE"), not a warning or a problem:
    `scoring --quiet` leaves it out, whatever the language it is written in."""


class ScoringError(Exception):
    """Base class of the errors the command line reports without a traceback."""

    exit_code = 1


class InputError(ScoringError):
    """One or more problems in an input file; nothing was scored."""

    exit_code = 2

    def __init__(self, problems: list[Problem], summary: str | None = None):
        self.problems = list(problems)
        self.summary = summary or _("{n} problem(s) found").format(n=len(self.problems))
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join([_("{summary}:").format(summary=self.summary)] + [f"  {p}" for p in self.problems])

    def __reduce__(self):  # rebuilt from its problems when it crosses from a worker process
        return self.__class__, (self.problems, self.summary)


class UsageError(ScoringError):
    """A command given something it cannot use (an unknown department, a bad option value); nothing was done."""

    exit_code = 2


class Interrupted(ScoringError):
    """Stopped by the user (Ctrl-C). Output files are written whole or not at all, so none is half written."""

    exit_code = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C

    def __init__(self):
        super().__init__(_("interrupted (Ctrl-C)"))


class EngineError(ScoringError):
    """The matching engine failed on a case (a bug or a crash, never bad input)."""

    exit_code = 3


def closest(name: str, candidates) -> str:
    """' (did you mean "x"?)' for the nearest candidate, or '' when none is close.

    A candidate that differs only in how its numbers are padded, its letter case or its width
    (`2020-J002`, `2020-j0002`, full-width digits) is what was meant: it comes first. Otherwise
    the most similar one (difflib), ties going to the smallest, so the hint is the same on every run."""
    name, known = str(name), sorted({str(c) for c in candidates})
    same = [c for c in known if _natural(c) == _natural(name)]
    if same:
        return _(' (did you mean "{name}"?)').format(name=same[0])
    scored = [(difflib.SequenceMatcher(None, name, c).ratio(), c) for c in known]
    best = max((score for score, _ in scored), default=0.0)
    return _(' (did you mean "{name}"?)').format(name=min(c for score, c in scored if score == best)) if best >= 0.6 else ""


def _natural(text: str) -> tuple:
    """Text and numbers as a reader sees them: case and width folded, digits by their value."""
    parts = re.split(r"(\d+)", unicodedata.normalize("NFKC", text).casefold())
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))
