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
import re
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path

from pydantic import ValidationError

from scoring.base.errors import InputError, Problem, closest
from scoring.base.files import FileError, decode_text, read_file
from scoring.base.i18n import N_, _, pgettext
from scoring.base.library_text import library_message, pydantic_message
from scoring.domain.cases import Case, as_of_case, assigned_on, case_model, domain_of, natural_key
from scoring.domain.spec import Domain, default_domain

from .departments import Departments, similar_pairs
from .limits import MAX_CASE_CHARACTERS, MAX_CASES, MAX_DEPARTMENTS, MAX_DEPTH, MAX_EVENTS, MAX_LINES, MAX_TEXT

NO_DECLARATION = Departments()


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
    aliased: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (as written, department) -> case ids
    similar: list[tuple[str, str, str]] = field(default_factory=list)  # (name, name, why): undeclared near-duplicates

    def as_of(self, day) -> CaseFile:
        """The file as it stood at the end of `day`: the cases assigned by then, with their events up to then."""
        cases = [known for case in self.cases if (known := as_of_case(case, day)) is not None]
        return dataclasses.replace(self, cases=cases)

    def assigned_within(self, first, last) -> tuple[CaseFile, int]:
        """The cases first assigned from `first` to `last` (inclusive), and how many others were left out."""
        cases = [case for case in self.cases if (day := assigned_on(case)) is not None and first <= day <= last]
        kept = {case.id for case in cases}
        aliased = {key: ids for key, all_ids in self.aliased.items() if (ids := [i for i in all_ids if i in kept])}
        return dataclasses.replace(self, cases=cases, aliased=aliased), len(self.cases) - len(cases)

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


def load_cases(path: str | Path, skip_invalid: bool = False, departments: Departments = NO_DECLARATION,
               domain: Domain | None = None) -> CaseFile:
    return parse_cases(read_file(path, "case file"), str(path), skip_invalid, departments, domain)


XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx workbook is a zip archive


def parse_cases(raw: bytes, source: str, skip_invalid: bool = False, departments: Departments = NO_DECLARATION,
                domain: Domain | None = None) -> CaseFile:
    """The cases of a file's bytes (as read from disk or kept in the run store); source names it in messages.

    JSON Lines or a JSON array; an Excel register (.xlsx, recognised by its content so that a
    stored run replays it too) is read with the default mapping (scoring.inputs.register).
    Department names are checked against what the rulebook declares (scoring.inputs.departments), the cases
    against the rulebook's domain (default: proposals)."""
    if raw.startswith(XLSX_MAGIC):
        from .register import parse_register  # openpyxl is slow to import: only for registers
        return parse_register(raw, source, skip_invalid=skip_invalid, departments=departments, domain=domain)
    text = decode_text(raw, source)

    unreadable: list[Problem] = []  # the file as a whole: no case after such a problem can be read
    records = list(json_records(text, source, unreadable))
    if not records and not unreadable:
        unreadable.append(Problem(source, None, "", _("the file holds no cases")))

    parsed: list[tuple[int, Case | None, str | None, list[Problem]]] = []
    aliased: dict[tuple[str, str], list[str]] = {}
    for line, obj in records:
        if isinstance(obj, Problem):  # a line that is not JSON: a record whose case is unknown
            parsed.append((line, None, None, [obj]))
            continue
        case_id = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None
        case, case_problems, renamed = validate_case(obj, source, line, case_id, departments, domain)
        parsed.append((line, case, case_id, case_problems))
        for pair in renamed:
            aliased.setdefault(pair, []).append(case_id)

    lines_by_id: dict[str, list[int]] = {}
    for line, _case, case_id, _problems in parsed:
        if case_id is not None:
            lines_by_id.setdefault(case_id, []).append(line)

    valid: list[Case] = []
    skipped: list[SkippedCase] = []
    problems: list[Problem] = []
    for line, case, case_id, case_problems in parsed:
        seen_at = lines_by_id.get(case_id, [])
        if case_id is not None and len(seen_at) > 1:
            case_problems.append(Problem(source, line, _("case {case}").format(case=case_id),
                                         _("duplicate case id (also on line {lines})").format(lines=_others(seen_at, line))))
        if case_problems or case is None:
            skipped.append(SkippedCase(case_id, line, tuple(case_problems)))
            problems.extend(case_problems)
        else:
            valid.append(case)
    if unreadable:  # whatever --skip-invalid says: the cases after it would be lost without a word
        raise InputError(unreadable + problems, _("{file}: the file cannot be read as a whole; nothing was scored").format(
            file=source))
    return collect_cases(source, raw, valid, skipped, problems, skip_invalid, departments, aliased)


def _others(lines: list[int], line: int, shown: int = 5) -> str:
    """The other lines of a duplicate id: a few, and how many more (a file of one id repeated stays readable)."""
    others = [n for n in lines if n != line]
    more = f" and {len(others) - shown} more" if len(others) > shown else ""
    return ", ".join(str(n) for n in others[:shown]) + more


def collect_cases(source: str, raw: bytes, valid: list[Case], skipped: list[SkippedCase], problems: list[Problem],
                  skip_invalid: bool, departments: Departments, aliased: dict[tuple[str, str], list[str]]) -> CaseFile:
    """The case file of the valid cases; any problem stops it unless skip_invalid (and then some case must be valid).

    aliased: the aliases replaced in each case (those of valid cases are kept, for the ledger). Without
    a declared list of departments, names that look like one department are compared (CaseFile.similar)."""
    if problems and not skip_invalid:
        summary = (_("{file}: {n} problem(s) in {cases} case(s); nothing was scored") if skipped else
                   _("{file}: {n} problem(s) in the case(s); nothing was scored"))
        raise InputError(problems, summary.format(file=source, n=len(problems), cases=len(skipped)))
    if not valid:
        raise InputError(problems or [Problem(source, None, "", _("no valid cases"))],
                         _("{file}: no valid case to score").format(file=source))
    valid.sort(key=lambda c: natural_key(c.id))
    names = {handler.department for case in valid for handler in case.handlers}
    if len(names) > MAX_DEPARTMENTS:  # (each name is compared with each)
        raise InputError([Problem(source, None, "", _("{n:,} departments are named; one file may name at most "
                                                      "{most:,} (are the names written consistently?)").format(
            n=len(names), most=MAX_DEPARTMENTS))])
    kept = {case.id for case in valid}
    scored = {pair: [i for i in ids if i in kept] for pair, ids in sorted(aliased.items())}
    return CaseFile(source, valid, skipped, hashlib.sha256(raw).hexdigest(), {pair: ids for pair, ids in scored.items() if ids},
                    [] if departments.assessed else similar_pairs(names))


def json_records(text: str, source: str, problems: list[Problem]):
    """Yield (line, object) for each record of JSON Lines, or of one JSON array.

    A line of JSON Lines that is not JSON, or too long to be one case, is yielded as (line, Problem):
    a record that cannot be read, as a case with problems is. What stops the reading of the rest
    (the array broken, text after it) goes to problems; more records than a file may hold is an
    InputError at once, before any record is checked.

    The text is never split into a list of lines (a file of millions of short lines would take
    gigabytes): each line is found, checked and sliced out when its turn comes."""
    if (text[:4096].lstrip() or text.lstrip()).startswith("["):  # (a regular expression took 0.7 s over 255 MB of spaces)
        records = _array_records(text, source, problems)
    else:
        lines = text.count("\n")  # (at C speed: every line is walked below)
        if lines > MAX_LINES:
            raise FileError([Problem(source, None, "", _("{n:,} lines; a file of JSON Lines may have at most "
                                                          "{most:,}, blank ones included: nothing was read").format(
                n=lines, most=MAX_LINES))])
        if sum(1 for _ in islice(_record_lines(text), MAX_CASES + 1)) > MAX_CASES:  # counted before any is decoded
            raise _too_many(source, None)
        records = _line_records(text, source)
    for count, record in enumerate(records, start=1):
        if count > MAX_CASES:  # (an array: counted as it is read)
            raise _too_many(source, record[0])
        yield record


_NOT_SPACE = re.compile(r"\S")
_JSON_SPACE = re.compile(r"[ \t\r\n]*")


def _too_many(source: str, line: int | None) -> FileError:
    message = (_("record {n:,}: more than {most:,} records; a file may hold at most {most:,}: nothing was read") if line
               else _("more than {most:,} records; a file may hold at most {most:,}: nothing was read"))
    return FileError([Problem(source, line, "", message.format(n=MAX_CASES + 1, most=MAX_CASES))])


def _record_lines(text: str):
    """(number, start, end) of each line that is not blank, split as base.files.text_lines splits (at \n only,
    a \r before it dropped), without copying any."""
    start, number, size = 0, 0, len(text)
    while start < size:
        number += 1
        end = text.find("\n", start)
        end = size if end < 0 else end
        following = end + 1
        if end > start and text[end - 1] == "\r":
            end -= 1
        if _NOT_SPACE.search(text, start, end):
            yield number, start, end
        start = following


def _line_records(text: str, source: str):
    for number, start, end in _record_lines(text):
        if end - start > MAX_CASE_CHARACTERS:  # not sliced nor decoded: its size is known before its cost is paid
            yield number, Problem(source, number, "", _too_long(end - start))
            continue
        try:
            yield number, _DECODER.decode(text[start:end])
        except ValueError as exc:
            yield number, Problem(source, number, "", _not_json(exc))
        except RecursionError:
            yield number, Problem(source, number, "", _(_TOO_DEEP))


def _too_long(characters: int) -> str:
    return _("a record of {n:,} characters; one case may take at most {most:,}").format(n=characters, most=MAX_CASE_CHARACTERS)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list) -> dict:
    """A JSON object; a key given twice is refused (json keeps the last value and drops the first silently)."""
    found = dict(pairs)
    if len(found) < len(pairs):
        seen = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _DuplicateKey(_('the key "{key}" is given twice in one object (only one value can be meant)').format(key=key))
    return found


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)
_TOO_DEEP = N_("not valid JSON: nested too deeply")


def _not_json(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return _("not valid JSON: {reason} (column {column})").format(reason=library_message(exc.msg), column=exc.colno)
    return _("not valid JSON: {reason}").format(reason=exc)


def _array_records(text: str, source: str, problems: list[Problem]):
    # raw_decode element by element, so that each case keeps the line it starts on; lines are
    # counted from the previous element on (counting from the start would be quadratic).
    position = text.index("[") + 1
    line, counted = 1, 0

    def line_at(where: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, where)
        counted = where
        return line

    while True:
        position = _skip_space(text, position)
        if position < len(text) and text[position] == "]":
            break
        start, began = line_at(position), position
        try:
            obj, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            problems.append(Problem(source, exc.lineno, "", _not_json(exc)))
            return
        except ValueError as exc:
            problems.append(Problem(source, start, "", _not_json(exc)))
            return
        except RecursionError:
            problems.append(Problem(source, start, "", _(_TOO_DEEP)))
            return
        yield start, obj if position - began <= MAX_CASE_CHARACTERS else Problem(source, start, "",
                                                                                   _too_long(position - began))
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position >= len(text) or text[position] != "]":
            problems.append(Problem(source, line_at(position), "", _("expected \",\" or \"]\" in the array of cases")))
            return
    rest = _skip_space(text, position + 1)
    if rest < len(text):
        # two files joined, or a second array: what follows would be dropped without a word
        problems.append(Problem(source, line_at(rest), "", _("more text after the closing \"]\" of the array of cases "
                                                             "(two files joined?): a case file holds one array, or one "
                                                             "case per line")))


def _skip_space(text: str, position: int) -> int:
    return _JSON_SPACE.match(text, position).end()


def validate_case(obj, source: str, line: int, case_id: str | None, departments: Departments = NO_DECLARATION,
                  domain: Domain | None = None) -> tuple[Case | None, list[Problem], list[tuple[str, str]]]:
    """The case, its problems, and the aliases replaced in it ((as written, department) for its handlers)."""
    where = _("case {case}").format(case=case_id) if case_id else pgettext("a case whose id is unknown", "case")
    if not isinstance(obj, dict):
        return None, [Problem(source, line, where, _("a case must be a JSON object, not {type}").format(
            type=type(obj).__name__))], []
    oversized = _oversized(obj)
    if oversized:  # refused before validation, whose cost grows with it (and matching faster than events)
        return None, [Problem(source, line, f"{where}{', ' + path if path else ''}", message) for path, message in oversized], []
    renamed = _replace_aliases(obj, departments)
    try:
        case = case_model(domain or default_domain()).model_validate(obj)
    except ValidationError as exc:
        return None, [Problem(source, line, f"{where}, {_path(obj, err['loc'])}", _message(err)) for err in exc.errors()], []
    refused = [Problem(source, line, _("case {case}").format(case=case.id) + f", handlers[{index}].department", message)
               for index, handler in enumerate(case.handlers) if (message := departments.refusal(handler.department))]
    return case, _cross_check(case, source, line) + refused, renamed


MAX_LISTED = 10  # problems of one kind listed for one case; the rest are counted


def _oversized(obj: dict) -> list[tuple[str, str]]:
    """(field path, message) for what goes beyond a limit of one case: its events, a text (or a key), its nesting.

    At most MAX_LISTED of them, then how many more: a case of a megabyte can nest a hundred thousand
    lists too deep, and its error must stay readable."""
    found = []
    events = obj.get("events")
    if isinstance(events, list) and len(events) > MAX_EVENTS:
        found.append(("events", _("{n:,} events; a case may have at most {most:,}").format(n=len(events), most=MAX_EVENTS)))
    stack = [("", obj, 1)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str) and len(value) > MAX_TEXT:
            found.append((path, _("a text of {n:,} characters; a text may hold at most {most:,}").format(
                n=len(value), most=MAX_TEXT)))
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                found.append((path, _("nested deeper than {n} levels").format(n=MAX_DEPTH)))
                continue
            if isinstance(value, dict):
                found += [(_child(path, key), _("a key of {n:,} characters; a text may hold at most {most:,}").format(
                    n=len(key), most=MAX_TEXT))
                          for key in value if len(key) > MAX_TEXT]
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack += [(_child(path, key), item, depth + 1) for key, item in items]
    found.sort()
    if len(found) > MAX_LISTED:
        found[MAX_LISTED:] = [("", _("and {n:,} more such problems").format(n=len(found) - MAX_LISTED))]
    return found


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = key if len(key) <= 40 else f"{key[:20]}…({len(key):,} characters)"
    return f"{path}.{key}" if path else key


def _replace_aliases(obj: dict, departments: Departments) -> list[tuple[str, str]]:
    """Each alias in the case's handlers and events replaced by its department, before validation (so that
    a department listed twice under two names is found as listed twice)."""
    renamed = set()
    for key in ("handlers", "events"):
        items = obj.get(key)
        for item in items if isinstance(items, list) else []:
            written = item.get("department") if isinstance(item, dict) else None
            if isinstance(written, str) and written in departments.aliases:
                item["department"] = departments.aliases[written]
                if key == "handlers":
                    renamed.add((written, item["department"]))
    return sorted(renamed)


def _cross_check(case: Case, source: str, line: int) -> list[Problem]:
    """What the field-by-field model cannot see: references between handlers and events, the roles an
    event type may come from (the domain's from_roles / not_from_roles), each handler's assignment."""
    problems = []
    domain = domain_of(case)

    def problem(where: str, message: str):
        problems.append(Problem(source, line, _("case {case}").format(case=case.id) + f", {where}", message))

    roles: dict[str, str] = {}
    for index, handler in enumerate(case.handlers):
        if handler.department in roles:
            problem(f"handlers[{index}]", _('department "{department}" is listed twice').format(department=handler.department))
        roles.setdefault(handler.department, handler.role)

    assigning = domain.assigning_for(case.kind)
    assigned = set()
    event_ids: dict[str, int] = {}
    for index, event in enumerate(case.events):
        where = f"events[{index}] ({event.id})"
        if event.id in event_ids:
            problem(where, _('duplicate event id "{event}" (also events[{index}])').format(event=event.id,
                                                                                         index=event_ids[event.id]))
        event_ids.setdefault(event.id, index)
        role = roles.get(event.department)
        if role is None:
            problem(where, _('department "{department}" is not a handler of this case{hint}').format(
                department=event.department, hint=closest(event.department, roles)))
            continue
        if event.type == assigning:
            assigned.add(event.department)
        spec = domain.events[event.type]
        if (spec.from_roles and role not in spec.from_roles) or role in spec.not_from_roles:
            # a shipped domain's message is in the catalog (scripts/messages.py reads the domain files)
            problem(where, _(spec.role_message or 'a "{type}" event cannot come from a handler whose role is {role}').format(
                type=event.type, department=event.department, role=role))
        if spec.after and not any(e.type in spec.after and e.department == event.department and e.date <= event.date
                                  for e in case.events):
            problem(where, _('a "{type}" event needs an earlier "{after}" event of "{department}"').format(
                type=event.type, after="/".join(spec.after), department=event.department))

    for index, handler in enumerate(case.handlers):
        if handler.department not in assigned:
            problem(f"handlers[{index}]", _('"{department}" has no "{event}" event').format(
                department=handler.department, event=assigning))
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
        return _("required field is missing")
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        options = [part.strip(" '") for part in expected.replace(" or ", ",").split(",") if part.strip(" '")]
        return _("unknown value {value}{hint}; expected one of {expected}").format(
            value=json.dumps(value, ensure_ascii=False), hint=closest(value, options), expected=expected)
    return pydantic_message(err)
