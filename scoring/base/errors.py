"""Errors a user can act on: each names the file, the line and what is wrong.

Input problems (case files, rulebooks) are collected, not raised one by one, so that a
user sees every problem of a file at once.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass


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


class ScoringError(Exception):
    """Base class of the errors the command line reports without a traceback."""

    exit_code = 1


class InputError(ScoringError):
    """One or more problems in an input file; nothing was scored."""

    exit_code = 2

    def __init__(self, problems: list[Problem], summary: str | None = None):
        self.problems = list(problems)
        self.summary = summary or f"{len(self.problems)} problem(s) found"
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join([self.summary + ":"] + [f"  {p}" for p in self.problems])

    def __reduce__(self):  # rebuilt from its problems when it crosses from a worker process
        return self.__class__, (self.problems, self.summary)


class UsageError(ScoringError):
    """A command given something it cannot use (an unknown department, a bad option value); nothing was done."""

    exit_code = 2


class EngineError(ScoringError):
    """The matching engine failed on a case (a bug or a crash, never bad input)."""

    exit_code = 3


def closest(name: str, candidates) -> str:
    """' (did you mean "x"?)' for the nearest candidate, or '' when none is close."""
    match = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""
