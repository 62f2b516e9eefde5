"""Pick the rulebook version that applies to a case file, from a directory of rulebooks.

Schemes change every year. Keep each year's rulebook in one directory, each stating its
period (`valid_from`, `valid_until` in [rulebook]); `--rules DIR` then scores a case file
with the one rulebook whose period holds the assignment day of every case. None, or more
than one, is an error that lists the candidates and their periods.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from scoring.base.errors import InputError, Problem
from scoring.base.files import read_file
from scoring.base.tomlmodel import read_toml
from scoring.domain.cases import Case, assigned_on

from .model import RulebookInfo


def choose_rulebook(directory: str | Path, cases: list[Case], source: str) -> Path:
    """The rulebook of `directory` whose period covers every case (source: the case file's name, for messages)."""
    days = [day for case in cases if (day := assigned_on(case)) is not None]
    candidates = []
    for path in sorted(Path(directory).glob("*.toml")):
        try:  # read as every rule file is, within its limits (a file of arrays nested 100,000 deep was a traceback)
            _, data = read_toml(read_file(path, "rulebook"), str(path), "rulebook")
            info = RulebookInfo.model_validate(data.get("rulebook", {}))
        except (InputError, ValidationError):
            continue  # not a rulebook (an overlay, a fixture); `scoring rules validate` reports broken ones
        candidates.append((path, info))
    if not candidates:
        raise InputError([Problem(str(directory), None, "", "no rulebook (*.toml with a [rulebook] table) in this directory")])
    fitting = [(path, info) for path, info in candidates if all(info.covers(day) for day in days)]
    if len(fitting) == 1:
        return fitting[0][0]
    span = f"{min(days)} to {max(days)}" if days else "no dates"
    listed = [Problem(str(path), None, "", f"{info.id} {info.version}: {info.period()}") for path, info in candidates]
    if not fitting:
        raise InputError(listed, f"no rulebook in {directory} covers every case of {source} (assigned {span})")
    raise InputError([p for p in listed if any(p.source == str(path) for path, _ in fitting)],
                     f"{len(fitting)} rulebooks in {directory} cover the cases of {source} (assigned {span}); "
                     "name one with --rules FILE")
