"""Department records: facts about a department that are not case events.

A leadership meeting held, a year summary submitted and when, the checklist elements in
place, the scores peers or assessors gave, the department's peer group. The rulebook
declares the fields it reads and their kinds (`[department_fields]`); the records file
holds one JSON object per department (JSON Lines, or a JSON array):

    {"department": "市市场监管局", "group": "经济", "meeting_held": true, "summary_on": "2021-01-12"}

Every problem is reported with the file, the line and the field, as for case files: an
unknown field (with the closest declared one), a value of the wrong kind, a department
listed twice or not found in the case file, a number outside the range the rulebook
declares. A field left out is null, except a list (texts, numbers), which is empty: a checklist
of a department without a record has nothing in it, and `"x" not in department.materials`
holds, where `not in null` would be false and silently deduct nothing.

Rules see a department as `department`: its declared fields, its name, and the number of
cases it handles in the case file (`cases`, and by role `lead`, `split`, `co`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from scoring.base.errors import InputError, Problem, closest
from scoring.base.files import decode_text, read_file
from scoring.base.i18n import _
from scoring.domain.cases import Case, domain_of
from scoring.domain.records import FieldSpec, department_counts
from scoring.lang import values as V

from .case_file import NO_DECLARATION, json_records
from .departments import Departments

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class DepartmentRecords:
    path: str
    values: dict[str, dict] = field(default_factory=dict)  # department -> field -> value (language kinds)
    lines: dict[str, int] = field(default_factory=dict)
    sha256: str = ""  # of the content, independent of the order of lines and keys

    def for_cases(self, cases: list[Case]) -> DepartmentRecords:
        """The records of the departments that handle these cases (a file cut at a date has fewer)."""
        present = {h.department for case in cases for h in case.handlers}
        return dataclasses.replace(self, values={k: v for k, v in self.values.items() if k in present})

    def check_departments(self, cases: list[Case]) -> None:
        """Every record must name a department of the case file: a misspelt name would be silently unused."""
        known = sorted({h.department for case in cases for h in case.handlers})
        problems = [Problem(self.path, self.lines[name], _("department {department}").format(department=name),
                            _("no case of this department in the case file{hint}").format(hint=closest(name, known)))
                    for name in self.values if name not in known]
        if problems:
            raise InputError(problems, _("{file}: {n} record(s) name a department without cases").format(
                file=self.path, n=len(problems)))


def load_departments(path: str | Path, fields: dict[str, FieldSpec],
                     departments: Departments = NO_DECLARATION) -> DepartmentRecords:
    return parse_departments(read_file(path, "department records"), str(path), fields, departments)


def parse_departments(raw: bytes, source: str, fields: dict[str, FieldSpec],
                      departments: Departments = NO_DECLARATION) -> DepartmentRecords:
    """The records of a file; a department named by an alias the rulebook declares is its department."""
    text = decode_text(raw, source)
    problems: list[Problem] = []
    records = DepartmentRecords(source)
    for line, obj in json_records(text, source, problems):
        if isinstance(obj, Problem):  # not JSON
            problems.append(obj)
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(source, line, "", _("a department record must be a JSON object, not {type}").format(
                type=type(obj).__name__)))
            continue
        name = obj.get("department")
        if not isinstance(name, str) or not name:
            problems.append(Problem(source, line, "department", _("required: the department's name, as in the case file")))
            continue
        name = departments.canonical(name)
        if name in records.values:
            problems.append(Problem(source, line, _("department {department}").format(department=name),
                                    _("listed twice (also on line {line})").format(line=records.lines[name])))
            continue
        values = {}
        for key, value in obj.items():
            if key == "department":
                continue
            if key not in fields:
                known = sorted(fields)
                hint = closest(key, known)
                message = (_("not a field the rulebook declares{hint}; declared: {fields}").format(
                    hint=hint, fields=", ".join(known))
                           if known else _("not a field the rulebook declares{hint}; the rulebook declares no "
                                           "[department_fields]").format(hint=hint))
                problems.append(Problem(source, line, _("department {department}, {field}").format(department=name, field=key),
                                        message))
                continue
            try:
                values[key] = _value(value, fields[key])
            except ValueError as exc:
                problems.append(Problem(source, line, _("department {department}, {field}").format(department=name, field=key),
                                        str(exc)))
        records.values[name] = values
        records.lines[name] = line
    if problems:
        raise InputError(problems, _("{file}: {n} problem(s) in the department records; nothing was scored").format(
            file=source, n=len(problems)))
    canonical = json.dumps(dict(sorted(records.values.items())), ensure_ascii=False,
                           sort_keys=True, default=_plain)
    records.sha256 = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return records


def _plain(value):
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _value(value, spec: FieldSpec):
    """A JSON value as the declared kind, within the declared range; ValueError says what is wrong."""
    found = _of_kind(value, spec.kind)
    numbers = found if isinstance(found, list) else [] if found is None else [found]  # min/max: number kinds only
    for number in numbers:
        if spec.min is not None and number < V.from_data(spec.min):
            raise ValueError(_("{value} is below the declared minimum {min}").format(value=V.format_value(number), min=spec.min))
        if spec.max is not None and number > V.from_data(spec.max):
            raise ValueError(_("{value} is above the declared maximum {max}").format(value=V.format_value(number), max=spec.max))
    return found


def _of_kind(value, kind: str):
    if value is None:
        return None
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(_("must be true or false, not {value}").format(value=json.dumps(value, ensure_ascii=False)))
        return value
    if kind == "number":
        return _number(value)
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(_("must be a text, not {value}").format(value=json.dumps(value, ensure_ascii=False)))
        return value
    if kind == "date":
        return _date(value)
    if not isinstance(value, list):
        raise ValueError(_("must be a list ({kind}), not {value}").format(kind=kind, value=json.dumps(value, ensure_ascii=False)))
    item = _number if kind == "numbers" else _text
    return [item(v) for v in value]


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        raise ValueError(_("must be a number, not {value}").format(value=json.dumps(value, ensure_ascii=False)))
    return V.from_data(value)


def _text(value):
    if not isinstance(value, str):
        raise ValueError(_("must be a list of texts; {value} is not a text").format(value=json.dumps(value, ensure_ascii=False)))
    return value


def _date(value):
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(_("must be a date YYYY-MM-DD, not {value}").format(value=json.dumps(value, ensure_ascii=False)))
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(_('"{value}" is not a valid date ({reason})').format(value=value, reason=_(str(exc)))) from None


def department_values(cases: list[Case], records: DepartmentRecords | None, fields: dict[str, FieldSpec]) -> dict[str, dict]:
    """Each department's record as rules see it: counts from the case file, then the declared fields
    (a list left out is empty, see the module's docstring)."""
    counts: dict[str, dict] = {}
    for case in cases:
        counted = department_counts(domain_of(case))[1:]
        for handler in case.handlers:
            entry = counts.setdefault(handler.department, {"name": handler.department, **dict.fromkeys(counted, 0)})
            entry["cases"] += 1
            entry[handler.role] += 1
    given = records.values if records is not None else {}

    def value(name: str, field_name: str):
        found = given.get(name, {}).get(field_name)
        return [] if found is None and fields[field_name].kind in ("texts", "numbers") else found

    return {name: {**entry, **{f: value(name, f) for f in fields}} for name, entry in counts.items()}
