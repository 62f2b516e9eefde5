"""Pick the rulebook version that applies to a case file, from a directory of rulebooks.

Schemes change every year. Keep each year's rulebook in one directory, each stating its
period (`valid_from`, `valid_until` in [rulebook]); `--rules DIR` then scores a case file
with the one rulebook whose period holds the assignment day of every case. None, or more
than one, is an error that lists the candidates and their periods.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from scoring.base.errors import InputError, Problem
from scoring.base.files import read_file
from scoring.base.tomlmodel import read_toml
from scoring.domain.cases import Case, assigned_on
from scoring.domain.spec import DEFAULT_DOMAIN, Domain, load_domain

from .model import RulebookInfo


def choose_rulebook(directory: str | Path, cases_of: Callable[[Domain], list[Case]], source: str) -> Path:
    """The rulebook of `directory` whose period covers every case (source: the case file's name, for messages).
    `cases_of(domain)`: the cases that can be read in a rulebook's domain."""
    days_in: dict[Domain, list] = {}  # the assignment days of the cases, read in each domain once
    unread: list[InputError] = []
    candidates = []
    for path in sorted(Path(directory).glob("*.toml")):
        try:  # read as every rule file is, within its limits (a file of arrays nested 100,000 deep was a traceback)
            _, data = read_toml(read_file(path, "rulebook"), str(path), "rulebook")
            info = RulebookInfo.model_validate(data.get("rulebook", {}))
            domain = load_domain(info.domain or DEFAULT_DOMAIN, str(path))
        except (InputError, ValidationError):
            continue  # not a rulebook (an overlay, a fixture); `scoring rules validate` reports broken ones
        if domain not in days_in:
            try:
                days_in[domain] = [day for case in cases_of(domain) if (day := assigned_on(case)) is not None]
            except InputError as exc:  # no case of the file is one of this domain's
                unread.append(exc)
                days_in[domain] = []
        candidates.append((path, info, days_in[domain]))
    if not candidates:
        raise InputError([Problem(str(directory), None, "", "no rulebook (*.toml with a [rulebook] table) in this directory")])
    # a rulebook whose domain reads none of the cases does not fit, unless no domain reads any
    readable = any(days_in.values())
    if not readable and unread:
        raise unread[0]  # the cases' problems, as the rulebook's domain finds them
    fitting = [(path, info) for path, info, days in candidates
               if (days or not readable) and all(info.covers(day) for day in days)]
    days = max(days_in.values(), key=len)  # for the message: the days of the domain that reads most cases
    if len(fitting) == 1:
        return fitting[0][0]
    span = f"{min(days)} to {max(days)}" if days else "no dates"
    listed = [Problem(str(path), None, "", f"{info.id} {info.version}: {info.validity()}") for path, info, _ in candidates]
    if not fitting:
        raise InputError(listed, f"no rulebook in {directory} covers every case of {source} (assigned {span})")
    raise InputError([p for p in listed if any(p.source == str(path) for path, _ in fitting)],
                     f"{len(fitting)} rulebooks in {directory} cover the cases of {source} (assigned {span}); "
                     "name one with --rules FILE")
