"""Read case histories: JSON Lines (or a JSON array), validated, every problem reported.

Each problem names the file, the line, the case id and the field path. By default any
problem stops the run (InputError); with skip_invalid the valid cases go on and the bad
ones are listed. A case id used twice skips every case with that id: which one is right
cannot be known, and guessing would silently change a score.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import ValidationError

from scoring.base.errors import InputError, Problem, closest
from scoring.base.files import decode_text, read_file
from scoring.domain.cases import Case, Role, as_of_case, natural_key


@dataclass(frozen=True)
class SkippedCase:
    case_id: str | None
    line: int
    problems: tuple[Problem, ...]


@dataclass
class CaseFile:
    path: str
    cases: list[Case]  # the valid cases, in natural id order
    skipped: list[SkippedCase] = field(default_factory=list)
    file_sha256: str = ""  # the bytes of the file as read

    def as_of(self, day) -> CaseFile:
        """The file as it stood at the end of `day`: the cases assigned by then, with their events up to then."""
        cases = [known for case in self.cases if (known := as_of_case(case, day)) is not None]
        return dataclasses.replace(self, cases=cases)

    def last_event(self):
        """The date of the latest event (None in a file without events)."""
        return max((event.date for case in self.cases for event in case.events), default=None)

    @cached_property
    def sha256(self) -> str:
        """Hash of the scored content, independent of the order of cases, handlers and events."""
        digest = hashlib.sha256()
        for case in self.cases:
            digest.update(canonical_case_json(case).encode("utf-8"))
            digest.update(b"\n")
        return digest.hexdigest()


def canonical_case_json(case: Case) -> str:
    data = case.model_dump(mode="json", exclude_none=True)
    data["handlers"] = sorted(data["handlers"], key=lambda h: h["department"])
    data["events"] = sorted(data["events"], key=lambda e: natural_key(e["id"]))
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def load_cases(path: str | Path, skip_invalid: bool = False) -> CaseFile:
    return parse_cases(read_file(path, "case file"), str(path), skip_invalid)


XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx workbook is a zip archive


def parse_cases(raw: bytes, source: str, skip_invalid: bool = False) -> CaseFile:
    """The cases of a file's bytes (as read from disk or kept in the run store); source names it in messages.

    JSON Lines or a JSON array; an Excel register (.xlsx, recognised by its content so that a
    stored run replays it too) is read with the default mapping (scoring.xlsx_cases)."""
    if raw.startswith(XLSX_MAGIC):
        from .register import parse_register  # openpyxl is slow to import: only for registers
        return parse_register(raw, source, skip_invalid=skip_invalid)
    text = decode_text(raw, source)

    problems: list[Problem] = []
    records = list(json_records(text, source, problems))
    if not records and not problems:
        problems.append(Problem(source, None, "", "the file holds no cases"))

    parsed: list[tuple[int, Case | None, str | None, list[Problem]]] = []
    for line, obj in records:
        case_id = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None
        case, case_problems = validate_case(obj, source, line, case_id)
        parsed.append((line, case, case_id, case_problems))

    lines_by_id: dict[str, list[int]] = {}
    for line, _case, case_id, _ in parsed:
        if case_id is not None:
            lines_by_id.setdefault(case_id, []).append(line)

    valid: list[Case] = []
    skipped: list[SkippedCase] = []
    for line, case, case_id, case_problems in parsed:
        seen_at = lines_by_id.get(case_id, [])
        if case_id is not None and len(seen_at) > 1:
            others = ", ".join(str(n) for n in seen_at if n != line)
            case_problems.append(Problem(source, line, f"case {case_id}", f"duplicate case id (also on line {others})"))
        if case_problems or case is None:
            skipped.append(SkippedCase(case_id, line, tuple(case_problems)))
            problems.extend(case_problems)
        else:
            valid.append(case)
    return collect_cases(source, raw, valid, skipped, problems, skip_invalid)


def collect_cases(source: str, raw: bytes, valid: list[Case], skipped: list[SkippedCase], problems: list[Problem],
                  skip_invalid: bool) -> CaseFile:
    """The case file of the valid cases; any problem stops it unless skip_invalid (and then some case must be valid)."""
    if problems and not skip_invalid:
        raise InputError(problems, f"{source}: {len(problems)} problem(s) in {len(skipped) or 'the'} case(s); nothing was scored")
    if not valid:
        raise InputError(problems or [Problem(source, None, "", "no valid cases")], f"{source}: no valid case to score")
    valid.sort(key=lambda c: natural_key(c.id))
    return CaseFile(source, valid, skipped, hashlib.sha256(raw).hexdigest())


def json_records(text: str, source: str, problems: list[Problem]):
    """Yield (line, object) for each record; JSON Lines, or one JSON array."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _array_records(text, source, problems)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(source, number, "", f"not valid JSON: {exc.msg} (column {exc.colno})"))


def _array_records(text: str, source: str, problems: list[Problem]):
    # raw_decode element by element, so that each case keeps the line it starts on.
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    while True:
        position = _skip_space(text, position)
        if position < len(text) and text[position] == "]":
            return
        line = text.count("\n", 0, position) + 1
        try:
            obj, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            problems.append(Problem(source, exc.lineno, "", f"not valid JSON: {exc.msg} (column {exc.colno})"))
            return
        yield line, obj
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position >= len(text) or text[position] != "]":
            problems.append(Problem(source, text.count("\n", 0, position) + 1, "",
                                    "expected \",\" or \"]\" in the array of cases"))
            return


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def validate_case(obj, source: str, line: int, case_id: str | None) -> tuple[Case | None, list[Problem]]:
    where = f"case {case_id}" if case_id else "case"
    if not isinstance(obj, dict):
        return None, [Problem(source, line, where, f"a case must be a JSON object, not {type(obj).__name__}")]
    try:
        case = Case.model_validate(obj)
    except ValidationError as exc:
        return None, [Problem(source, line, f"{where}, {_path(obj, err['loc'])}", _message(err)) for err in exc.errors()]
    return case, _cross_check(case, source, line)


def _cross_check(case: Case, source: str, line: int) -> list[Problem]:
    """What the field-by-field model cannot see: references between handlers and events."""
    problems = []

    def problem(where: str, message: str):
        problems.append(Problem(source, line, f"case {case.id}, {where}", message))

    roles: dict[str, str] = {}
    for index, handler in enumerate(case.handlers):
        if handler.department in roles:
            problem(f"handlers[{index}]", f'department "{handler.department}" is listed twice')
        roles.setdefault(handler.department, handler.role)

    assigned = set()
    event_ids: dict[str, int] = {}
    for index, event in enumerate(case.events):
        where = f"events[{index}] ({event.id})"
        if event.id in event_ids:
            problem(where, f'duplicate event id "{event.id}" (also events[{event_ids[event.id]}])')
        event_ids.setdefault(event.id, index)
        role = roles.get(event.department)
        if role is None:
            problem(where, f'department "{event.department}" is not a handler of this case{closest(event.department, roles)}')
            continue
        if event.type == "assigned":
            assigned.add(event.department)
        if event.type == "co_reply" and role != Role.co.value:
            problem(where, f'a co_reply comes from a co-handler, but "{event.department}" is {role}')
        if event.type in ("reply", "feedback") and role == Role.co.value:
            problem(where, f'a co-handler sends its opinion as co_reply; "{event.department}" has a {event.type}')

    for index, handler in enumerate(case.handlers):
        if handler.department not in assigned:
            problem(f"handlers[{index}]", f'"{handler.department}" has no "assigned" event')
    return problems


def _path(obj, loc) -> str:
    """A readable field path; an event is also named by its id."""
    parts: list[str] = []
    node = obj
    for key in loc:
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str) and parts[-1].startswith("events"):
                parts[-1] += f" ({node['id']})"
        else:
            # pydantic names the failing member of a union or a validator; not a field
            if key.startswith("function-") or key in ("str", "int", "bool"):
                continue
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "(case)"


def _message(err: dict) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        options = [part.strip(" '") for part in expected.replace(" or ", ",").split(",") if part.strip(" '")]
        return f"unknown value {json.dumps(value, ensure_ascii=False)}{closest(value, options)}; expected one of {expected}"
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return message
