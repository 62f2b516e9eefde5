"""Read case histories from an Excel register (办理台账): the same validated cases as JSON input.

Departments keep their registers of deputies' suggestions and members' proposals in Excel.
This module turns such a register into case records (the dicts of the JSON format, cases.py)
and validates them exactly as ingest.py validates a JSON case file, so that skip_invalid
behaves the same: a case with any problem is skipped as a whole and listed.

Layout
    main sheet (办理台账): one row per case and handling unit. The case's columns (案号,
        类别, 标题, 提出人, 重点, 免面商 and extra ones such as 会议) may be filled on each
        of its rows or on one of them, also through cells merged over its rows; filled
        twice, they must agree. The unit's columns: 承办单位, 办理类型 (主办/承办: lead,
        分办: split, 会办/协办: co) and the first event of each type: 交办日期, 签收日期,
        答复日期 with 办理结果 (on a 会办 row: the date of its opinion, a co_reply),
        反馈日期 with 满意度, 公开日期.
    process sheet (办理过程), optional: one row per further event: 案号, 单位, 日期, 事项
        (any event type: 联系, 延期, 催办, 退办, 再次答复, 会办意见, ...), and as the type
        needs: 方式 (contact), 天数 (extension), 办理结果 (reply), 满意度 (feedback);
        extra event fields such as 备注 (note).

Mapping
    Which header names which field and what each written value means is data: the TOML
    file the domain names under [excel] (scoring/domains/registers/proposals.toml for the
    proposals domain), over which a user mapping can be laid (load_mapping). Which fields
    there are, how each cell is read and which events a main-sheet row gives come from the
    domain (register_model). Its layout, in short (its comments say more):

        [sheets]          main = [sheet names], process = [sheet names]
        [main]            required = [fields whose column must be there],
                          ignore = [headers of columns not to be read]
        [main.columns]    field = [headers of its column, synonyms]     (fields: MAIN_FIELDS)
        [main.extra]      case field = [headers]                        (kept in the case)
        [process], [process.columns], [process.extra]                   (fields: PROCESS_FIELDS)
        [values.<table>]  "as written" = value    (tables: kind role event mode outcome rating flag)

    A user mapping's tables merge key by key over the default; a value it gives (a list of
    headers, the meaning of a written value) replaces the default one. Headers and values
    are compared without spaces and case, with full-width characters read as half-width.

Cells
    Dates are date cells or text: 2020-03-10, 2020/3/10, 2020.3.10, 2020年3月10日. Event ids
    come from the optional 事件编号 columns (交办事件编号, ... on the main sheet), else are
    "<sheet>!<cell of the event's date>", e.g. "办理过程!C7": stable for a given workbook
    and leading back to the cell (the engine orders the events of one day by id, so
    with such ids as their cells lie: sheet, column, row). A header that names no field
    and is not listed under ignore is a problem (a renamed column would otherwise lose every
    value in it without a word); a column whose header cell is blank is not read.

Problems
    Each names the file, the row (as the line), the sheet, the column (header and letter)
    and the case, with the cell's value; all problems of the register are listed at once.
    A problem of the workbook, its sheets or headers stops the reading whatever
    skip_invalid says (the cells are still checked and listed); a problem of a row skips
    its case. Problems the validation of ingest.py finds are put on the row of the
    handler or event they name.

Use
    load_register(path, mapping_path, skip_invalid) -> CaseFile, as scoring.inputs.case_file.load_cases;
    read_register(path, mapping_path) -> Register, the records before validation;
    cases_to_jsonl(cases) -> the JSON Lines text of `scoring import`;
    load_mapping(mapping_path) -> Mapping, the default with the user's laid over it.

The workbook is read in full mode (not read_only): merged cells are only known there, and
clerks merge a case's cells over the rows of its units.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import io
import json
import re
import tomllib
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from scoring.base.dates import NotADate, parse_date
from scoring.base.errors import InputError, Problem, closest
from scoring.base.files import decode_text, read_file
from scoring.base.i18n import _
from scoring.base.library_text import toml_error
from scoring.base.tomlpos import key_lines, line_of
from scoring.domain.cases import Case, domain_of, natural_key, parse_moment
from scoring.domain.spec import Domain, FieldSpec, default_domain

from .case_file import NO_DECLARATION, CaseFile, SkippedCase, collect_cases, validate_case
from .departments import Departments
from .limits import MAX_TEXT
from .workbook import NotAWorkbook, SheetExtent, scan_workbook

HEADER_SEARCH_ROWS = 10  # a title row or two may stand above the header row


@dataclass(frozen=True)
class RegisterModel:
    """What a register of a domain's cases holds: the fields a sheet's columns can give and how a cell of
    each is read ("text", "date", "integer", "flag", or the [values] table that translates it), and the
    events on a main-sheet row."""

    domain: Domain
    main_fields: dict[str, str]
    process_fields: dict[str, str]
    case_fields: tuple[str, ...]  # one value per case, from any of its rows
    value_tables: dict[str, list]  # table -> the values it may translate to
    main_events: tuple  # (date field, event type, the field it needs, id field, {role: event type instead})
    dated_by: dict[str, str]  # a main-sheet column that means nothing without the date column of its event
    detail_owner: dict[str, str]  # event field -> the (first) event type that has it
    integers: dict[str, FieldSpec]  # integer fields (of events and cases), read with their bounds and unit
    layout: dict  # what a mapping file may hold (see _layout)


def _reader(field: FieldSpec) -> str:
    return {"text": "text", "bool": "flag", "date": "date", "integer": "integer", "number": "extra",
            "list": "extra"}.get(field.kind, field.name)  # an enum: the [values] table named for its field


@functools.lru_cache(maxsize=16)
def register_model(domain: Domain) -> RegisterModel:
    spec = domain.spec
    events = spec.excel.main_events if spec.excel else []
    case_fields = ("kind", *(f.name for f in spec.case_fields))
    main_fields = {"case": "text", "kind": "kind", **{f.name: _reader(f) for f in spec.case_fields},
                   "department": "text", "role": "role"}
    main_events = []
    when = "moment" if domain.timed else "date"  # how an event's date cell is read
    for event in events:
        detail = domain.required_fields.get(event.type)
        main_fields[event.column] = when
        if detail:
            main_fields[detail] = _reader(domain.event_fields[detail])
        main_events.append((event.column, event.type, detail, event.id_column, dict(event.instead)))
    main_fields.update({event.id_column: "text" for event in events if event.id_column})
    process_fields = {"case": "text", "department": "text", "date": when, "event": "event",
                      **{name: _reader(f) for name, f in domain.event_fields.items()}, "event_id": "text"}
    enums = [f for f in (*spec.case_fields, *domain.event_fields.values()) if f.kind == "enum"]
    value_tables = {"kind": list(domain.kinds), "role": list(domain.roles), "event": list(domain.events),
                    **{f.name: [v.value for v in f.values] for f in enums}, "flag": [True, False]}
    dated_by = {name: date_field for date_field, _, detail, id_field, _ in main_events for name in (detail, id_field) if name}
    detail_owner = {name: owners[0] for name, owners in domain.field_owners.items()}
    # integer fields of events and of cases (a report's year), read with their bounds and unit
    integers = {f.name: f for f in (*spec.case_fields, *domain.event_fields.values()) if f.kind == "integer"}
    event_names = ("id", "type", "date", "department", *domain.event_fields)
    layout = {
        "sheets": {"main": _names, "process": _names},
        "main": _sheet_layout(main_fields, [*case_fields, "id", "handlers", "events", *main_fields]),
        "process": _sheet_layout(process_fields, [*event_names, *process_fields]),
        "values": {table: {"*": _meaning_of(table, allowed)} for table, allowed in value_tables.items()},
    }
    return RegisterModel(domain, main_fields, process_fields, case_fields, value_tables, tuple(main_events), dated_by,
                         detail_owner, integers, layout)


# ----------------------------------------------------------------------------- mapping

@dataclass(frozen=True)
class SheetMapping:
    names: tuple[str, ...]  # the sheet's possible names
    required: tuple[str, ...]  # fields whose column must be there
    synonyms: dict[str, tuple[str, ...]]  # field (columns, then extra fields) -> its headers
    extra: tuple[str, ...]  # the extra fields, in mapping order
    headers: dict[str, str]  # normalized header -> field
    kinds: dict[str, str]  # field -> how its cells are read
    ignored: dict[str, str]  # normalized header -> as written: columns not to be read
    part: str  # "main" or "process": its tables in a mapping
    model: RegisterModel

    def label(self, name: str) -> str:
        return self.synonyms[name][0]


@dataclass(frozen=True)
class Mapping:
    main: SheetMapping
    process: SheetMapping
    values: dict[str, dict[str, tuple[str, Any]]]  # table -> normalized value -> (as written, meaning)
    model: RegisterModel


def load_mapping(mapping_path: str | Path | None = None, domain: Domain | None = None) -> Mapping:
    """The domain's default mapping (default: proposals), with the user's mapping file laid over it when given."""
    model = register_model(domain or default_domain())
    raw, name = model.domain.register_mapping()
    layers = [(_shown_path(name), decode_text(raw, name))]
    if mapping_path is not None:
        layers.append((str(mapping_path), decode_text(read_file(mapping_path, "mapping"), str(mapping_path))))
    problems: list[Problem] = []
    merged: dict = {}
    for source, text in layers:
        merged = _merge(merged, _read_layer(source, text, model.layout, problems))
    if not problems:
        mapping = _build_mapping(merged, layers[-1][0], model, problems)
    if problems:
        raise InputError(problems, _("{file}: {n} problem(s) in the register mapping").format(
            file=layers[-1][0], n=len(problems)))
    return mapping


def _shown_path(path: str) -> str:
    """A shipped mapping's path as messages show it: from the package's folder, not this machine's."""
    parts = Path(path).parts
    return "/".join(parts[len(parts) - 1 - parts[::-1].index("scoring"):]) if "scoring" in parts else path


def _read_layer(source: str, text: str, layout: dict, problems: list[Problem]) -> dict:
    """One mapping file, checked against the layout, with its written values normalized."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(source, None, "", _("not valid TOML: {reason}").format(reason=toml_error(exc))))
        return {}
    lines = key_lines(text)

    def problem(path: tuple, message: str):
        problems.append(Problem(source, line_of(lines, path), ".".join(_toml_key(k) for k in path), message))

    before = len(problems)
    _check(data, layout, (), problem)
    if len(problems) > before:
        return data  # not used: the problems stop the loading
    for table, values in data.get("values", {}).items():
        normalized: dict[str, tuple[str, Any]] = {}
        for written, meaning in values.items():
            earlier = normalized.setdefault(_norm(written), (written, meaning))
            if earlier[1] != meaning:
                problem(("values", table, written), _('reads as "{written}", which means {earlier}, not {meaning}').format(
                    written=earlier[0], earlier=repr(earlier[1]), meaning=repr(meaning)))
        values.clear()
        values.update(normalized)
    return data


def _names(value) -> str | None:
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return None
    return _('must be a list of names, such as ["承办单位", "办理单位"]')


def _ignored(value) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return None
    return _('must be a list of headers, such as ["序号", "备注"] (or [])')


def _fields_of(fields: dict) -> Callable:
    def check(value) -> str | None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return _("must be a list of field names")
        unknown = [v for v in value if v not in fields]
        return _('unknown field "{field}"{hint}').format(field=unknown[0], hint=closest(unknown[0], fields)) if unknown else None
    return check


def _meaning_of(table: str, allowed: list) -> Callable:
    flag = all(isinstance(value, bool) for value in allowed)

    def check(value) -> str | None:
        if value in allowed and isinstance(value, bool) == flag:
            return None
        return _("{value} is not one of {allowed}{hint}").format(
            value=repr(value), allowed=", ".join(json.dumps(a) for a in allowed), hint=closest(value, allowed))
    return check


def _reserved(value) -> str:
    return _("is a field of the case format or of the register; map its column under columns, not as an extra field")


def _sheet_layout(fields: dict, reserved: Iterable[str]) -> dict:
    return {"required": _fields_of(fields), "ignore": _ignored, "columns": dict.fromkeys(fields, _names),
            "extra": {**dict.fromkeys(reserved, _reserved), "*": _names}}


# What a mapping file may hold (RegisterModel.layout): a dict is a table of known keys ("*": any other
# key), a function checks a value and returns what is wrong with it.


def _check(node, layout, path: tuple, problem: Callable) -> None:
    if callable(layout):
        message = layout(node)
        if message:
            problem(path, message)
        return
    if not isinstance(node, dict):
        problem(path, _("must be a table"))
        return
    for key, value in node.items():
        inner = layout.get(key, layout.get("*"))
        if inner is None:
            problem(path + (key,), _("unknown key{hint}").format(hint=closest(key, [k for k in layout if k != "*"])))
        else:
            _check(value, inner, path + (key,), problem)


def _merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def _build_mapping(data: dict, source: str, model: RegisterModel, problems: list[Problem]) -> Mapping:
    sheets = data["sheets"]
    return Mapping(_sheet_mapping("main", sheets["main"], data["main"], model, model.main_fields, source, problems),
                   _sheet_mapping("process", sheets["process"], data["process"], model, model.process_fields, source,
                                  problems),
                   data["values"], model)


def _sheet_mapping(part: str, names: list[str], data: dict, model: RegisterModel, fields: dict, source: str,
                   problems: list[Problem]) -> SheetMapping:
    extra = data.get("extra", {})
    synonyms = {name: tuple(headers) for name, headers in [*data["columns"].items(), *extra.items()]}
    headers: dict[str, str] = {}
    for name, written in synonyms.items():
        for header in written:
            other = headers.setdefault(_norm(header), name)
            if other != name:
                problems.append(Problem(source, None, f"{part}.{name}", _('header "{header}" already names {field}').format(
                    header=header, field=other)))
    ignored: dict[str, str] = {}
    for header in data.get("ignore", []):
        if _norm(header) in headers:
            problems.append(Problem(source, None, f"{part}.ignore", _('header "{header}" names {field}; a column is either '
                                                                       "read or ignored").format(
                header=header, field=headers[_norm(header)])))
        ignored.setdefault(_norm(header), header)
    kinds = {**fields, **dict.fromkeys(extra, "extra")}
    return SheetMapping(tuple(names), tuple(data["required"]), synonyms, tuple(extra), headers, kinds, ignored, part, model)


_BARE_TOML_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_TOML_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


_SPACE = re.compile(r"\s+")


def _norm(text) -> str:
    """How headers and values are compared: no spaces, no case, full-width as half-width."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(text))).casefold()


# --------------------------------------------------------------------------- the rows

@dataclass(frozen=True)
class _Column:
    header: str  # as written, without spaces
    index: int  # 0-based

    @property
    def letter(self) -> str:
        return get_column_letter(self.index + 1)


@dataclass
class _Row:
    source: str
    sheet: str
    number: int
    columns: dict[str, _Column]  # the sheet's columns, by field
    cells: dict[str, Any]  # field -> the value of its cell, blank cells left out
    values: dict[str, Any] = field(default_factory=dict)  # field -> what the cell means, if it could be read
    case_id: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, name: str | None, message: str) -> None:
        parts = [_("sheet {sheet}").format(sheet=self.sheet)]
        if name in self.columns:
            parts.append(_("column {header} ({letter})").format(header=self.columns[name].header,
                                                                letter=self.columns[name].letter))
        if self.case_id:
            parts.append(_("case {case}").format(case=self.case_id))
        self.problems.append(Problem(self.source, self.number, ", ".join(parts), message))

    def cell_id(self, name: str) -> str:
        return f"{self.sheet}!{self.columns[name].letter}{self.number}"


@dataclass(frozen=True)
class _Unsaved:
    """A formula cell without a saved value (openpyxl reads it as blank): never taken for a blank cell."""

    formula: str

    def __str__(self) -> str:
        return self.formula


def _grid(worksheet, extent: SheetExtent, timed: bool = False) -> list[list]:
    """The sheet's cell values by row, up to its last value (formatted blank cells beyond it are not
    walked); a formula without a saved value as _Unsaved; a merged range's value in each of its cells.
    timed: a date cell shown without a time is its date (openpyxl gives midnight), so that a register
    whose events need a time says so rather than reading 00:00."""
    if not extent.rows:
        return []
    if timed:
        rows = [[_shown_date(cell) for cell in cells]
                for cells in worksheet.iter_rows(max_row=extent.rows, max_col=extent.columns)]
    else:
        rows = [list(values) for values in worksheet.iter_rows(max_row=extent.rows, max_col=extent.columns, values_only=True)]
    for (number, column), formula in extent.unsaved.items():
        if rows[number - 1][column - 1] is None:
            rows[number - 1][column - 1] = _Unsaved(formula)
    for merged in worksheet.merged_cells.ranges:
        if merged.min_row > len(rows) or merged.min_col > extent.columns:
            continue  # blank cells merged below or beside the values
        value = rows[merged.min_row - 1][merged.min_col - 1]
        for row in rows[merged.min_row - 1:merged.max_row]:
            for index in range(merged.min_col - 1, min(merged.max_col, len(row))):
                row[index] = value
    return rows


def _shown_date(cell):
    value = cell.value
    if isinstance(value, dt.datetime) and not re.search(r"[hHs]", re.sub(r'"[^"]*"|\[[^]]*\]', "", cell.number_format)):
        return value.date()
    return value


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_row(grid: list[list], spec: SheetMapping) -> int:
    """The first row naming the case column among the first rows; else row 1."""
    for number, row in enumerate(grid[:HEADER_SEARCH_ROWS], start=1):
        if any(spec.headers.get(_norm(value)) == "case" for value in row if not _blank(value)):
            return number
    return 1


def _columns(grid: list[list], number: int, spec: SheetMapping, sheet: str, source: str,
             problems: list[Problem]) -> dict[str, _Column]:
    """The header row's columns by field. A header the mapping neither reads nor ignores is a problem:
    a renamed column (网上公开日期 for 公开日期) would otherwise drop every value in it without a word."""
    columns: dict[str, _Column] = {}
    unknown: list[_Column] = []
    for index, value in enumerate(grid[number - 1] if grid else []):
        if _blank(value) or _norm(value) in spec.ignored:
            continue
        column = _Column(_SPACE.sub("", str(value)), index)
        name = spec.headers.get(_norm(value))
        if name is None:
            unknown.append(column)
        elif name in columns:
            first = columns[name]
            problems.append(Problem(source, number, _sheet_column(sheet, column),
                                    _('a second column for {field} (column {letter} "{header}" is one)').format(
                                        field=spec.label(name), letter=first.letter, header=first.header)))
        else:
            columns[name] = column
    for name in spec.required:
        if name not in columns:
            message, hinted = _missing_column(spec, name, unknown)
            problems.append(Problem(source, number, _("sheet {sheet}").format(sheet=sheet), message))
            unknown = [column for column in unknown if column is not hinted]  # named once
    for column in unknown:
        problems.append(Problem(source, number, _sheet_column(sheet, column), _unknown_header(spec, column)))
    for name, date_field in spec.model.dated_by.items():
        if name in columns and date_field not in columns and date_field in spec.kinds:
            column = columns[name]
            problems.append(Problem(source, number, _sheet_column(sheet, column),
                                    _("belongs with {field}, but the sheet has no {field} column (headers accepted: "
                                      "{headers})").format(field=spec.label(date_field),
                                                           headers=", ".join(spec.synonyms[date_field]))))
    return columns


def _sheet_column(sheet: str, column: _Column) -> str:
    """Where a problem of a header is: "sheet 办理台账, column 交办日期 (H)"."""
    return (_("sheet {sheet}").format(sheet=sheet) + ", "
            + _("column {header} ({letter})").format(header=column.header, letter=column.letter))


def _unknown_header(spec: SheetMapping, column: _Column) -> str:
    known = {header: name for name, headers in spec.synonyms.items() for header in headers}
    near = difflib.get_close_matches(column.header, [*known, *spec.ignored.values()], n=3, cutoff=0.6)
    ignored = _("ignored")
    hint = (_("; the closest known headers: {headers}").format(
        headers=", ".join(f"{h} ({known.get(h, ignored)})" for h in near)) if near else "")
    return _('no field of the mapping has the header "{header}"{hint}. Name its column under [{part}.columns] (or '
             '[{part}.extra]) in a mapping, or list the header in [{part}] ignore if the column is not to be read').format(
        header=column.header, hint=hint, part=spec.part)


def _missing_column(spec: SheetMapping, name: str, unknown: list[_Column]) -> tuple[str, _Column | None]:
    """The message, and the unknown column it names as the likely one."""
    message = _("no column {field} (required; headers accepted: {headers})").format(
        field=spec.label(name), headers=", ".join(spec.synonyms[name]))
    for column in unknown:
        hint = closest(column.header, spec.synonyms[name])
        if hint:
            return _('{message}; column {letter} is headed "{header}"{hint}').format(
                message=message, letter=column.letter, header=column.header, hint=hint), column
    return message, None


def _read_rows(grid: list[list], header: int, columns: dict[str, _Column], spec: SheetMapping, mapping: Mapping,
               sheet: str, source: str) -> list[_Row]:
    rows = []
    for number in range(header + 1, len(grid) + 1):
        line = grid[number - 1]
        cells = {name: line[column.index] for name, column in columns.items() if not _blank(line[column.index])}
        if not cells:
            continue  # a blank row, or one with only columns the mapping does not name
        row = _Row(source, sheet, number, columns, cells)
        case = cells.get("case")
        if _too_long(case):
            row.problem("case", _too_long(case))
        elif case is not None and not isinstance(case, _Unsaved):
            row.case_id = row.values["case"] = _text(case)
        elif "case" in columns and case is None:  # (a missing column is a problem of the header)
            row.problem("case", _("no {field}: the row belongs to no case").format(field=spec.label("case")))
        for name, value in cells.items():
            if isinstance(value, _Unsaved):
                row.problem(name, _("cell {cell} holds the formula {formula} but no value saved with it (the workbook was "
                                    "written by a program that does not calculate): open and save it in Excel or WPS, or "
                                    "write the value itself").format(cell=f"{row.columns[name].letter}{number}", formula=value))
            elif name != "case":
                _read_cell(row, name, value, spec, mapping)
        rows.append(row)
    return rows


def _too_long(value) -> str | None:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return _("a text of {n:,} characters; a text may hold at most {most:,}").format(n=len(value), most=MAX_TEXT)
    return None


def _read_cell(row: _Row, name: str, value, spec: SheetMapping, mapping: Mapping) -> None:
    if _too_long(value):
        row.problem(name, _too_long(value))
        return
    kind = spec.kinds[name]
    try:
        if kind in mapping.model.value_tables:
            row.values[name] = _lookup(mapping, kind, spec.label(name), value)
        elif kind == "integer":
            row.values[name] = _integer(value, mapping.model.integers[name])
        else:
            row.values[name] = _READERS[kind](value)
    except ValueError as exc:
        row.problem(name, f"{_show(value)} {exc}")


# ------------------------------------------------------------------------------ cells

def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def _date(value) -> str:
    """An ISO date from a date cell or from text in one of the accepted forms."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(_("is a number, not a date: format the cell as a date, or write 2020-03-10"))
    try:
        return parse_date(str(value)).isoformat()
    except NotADate as exc:
        raise NotADate(_("{problem}, or use a date cell").format(problem=exc)) from None


def _moment(value) -> str:
    """A local date-time to the minute, "2023-05-04T09:15", from a date-time cell or from text."""
    if isinstance(value, dt.datetime):
        if value.second or value.microsecond:
            raise ValueError(_("has seconds: a time is kept to the minute"))
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        raise ValueError(_("is a date without a time: write 2023-05-04 09:15, or use a date-time cell"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(_("is a number, not a date-time: format the cell as a date-time, or write 2023-05-04 09:15"))
    try:
        return parse_moment(str(value).strip()).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        raise ValueError(_("is not a date-time to the minute: write 2023-05-04 09:15, or use a date-time cell")) from None


_WHOLE = re.compile(r"(-?\d+)(\D*)")


def _integer(value, field: FieldSpec) -> int:
    """A whole number, from a number cell or text (with the field's unit after it: "30天")."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and (match := _WHOLE.fullmatch(_norm(value))) and match[2] in ("", *field.units):
        number = int(match[1])
    else:
        raise ValueError(_('is not a whole number (such as 30 or "{example}")').format(example=f"30{field.units[0]}")
                         if field.units else _("is not a whole number (such as 30)"))
    if field.ge is not None and number < field.ge:
        raise ValueError(_("is below {min}").format(min=field.ge))
    if field.le is not None and number > field.le:
        raise ValueError(_("is above {max}").format(max=field.le))
    return number


def _extra(value):
    """An extra field keeps its cell's value: text, number, yes/no; a date as YYYY-MM-DD."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (dt.date, dt.time)):
        return _text(value)
    return value


_READERS = {"text": _text, "date": _date, "moment": _moment, "extra": _extra}


def _lookup(mapping: Mapping, table: str, label: str, value):
    if table == "flag" and isinstance(value, bool):
        return value
    known = mapping.values[table]
    found = known.get(_norm(_text(value)))
    if found is None:
        written = [w for w, _ in known.values()]
        raise ValueError(_("is not a known {field}{hint}: the mapping knows {known} (add it under [values.{table}] in a "
                           "mapping)").format(field=label, hint=closest(_text(value), written), known=", ".join(written),
                                              table=table))
    return found[1]


def _show(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


# ------------------------------------------------------------------------------ cases

@dataclass
class RegisterCase:
    """One case as read from the register: its record in the JSON form and the rows it came from."""

    case_id: str
    rows: list[_Row]  # main-sheet rows, then process rows, each in sheet order
    record: dict = field(default_factory=dict)  # complete only when there are no problems
    handler_rows: list[_Row] = field(default_factory=list)  # the row of each handler
    event_rows: list[_Row] = field(default_factory=list)  # the row of each event

    @property
    def line(self) -> int:
        return self.rows[0].number

    @property
    def problems(self) -> list[Problem]:
        return [p for row in self.rows for p in row.problems]

    def locate(self, problem: Problem) -> None:
        """Put a problem of the validation on the row of the handler or event it names."""
        match = _INDEXED.search(problem.where)
        rows = {"handlers": self.handler_rows, "events": self.event_rows}
        row = rows[match[1]][int(match[2])] if match else self.rows[0]
        sheet = _("sheet {sheet}").format(sheet=row.sheet)
        if problem.where.endswith("].department") and "department" in row.columns:  # a name the rulebook refuses
            sheet = _sheet_column(row.sheet, row.columns["department"])
        row.problems.append(Problem(problem.source, row.number, f"{sheet}, {problem.where}", problem.message))


_INDEXED = re.compile(r"\b(handlers|events)\[(\d+)\]")  # as ingest names them


def _build_case(case_id: str, main_rows: list[_Row], process_rows: list[_Row], mapping: Mapping) -> RegisterCase:
    case = RegisterCase(case_id, main_rows + process_rows)
    record = {"id": case_id, **_case_fields(main_rows, mapping.main), "handlers": [], "events": []}
    for row in main_rows:
        if _needs(row, mapping.main, "department", "role"):
            record["handlers"].append({"department": row.values["department"], "role": row.values["role"]})
            case.handler_rows.append(row)
            for event in _main_events(row, mapping.main):
                record["events"].append(event)
                case.event_rows.append(row)
    for row in process_rows:
        event = _process_event(row, mapping.process)
        if event:
            record["events"].append(event)
            case.event_rows.append(row)
    case.record = record
    return case


def _case_fields(rows: list[_Row], spec: SheetMapping) -> dict:
    """The case's own fields: from any of its rows, which must agree."""
    fields: dict[str, Any] = {}
    first: dict[str, _Row] = {}
    for name in spec.model.case_fields + spec.extra:
        for row in rows:
            if name not in row.values:
                continue
            if name not in first:
                first[name], fields[name] = row, row.values[name]
            elif row.values[name] != fields[name]:
                other = first[name]
                row.problem(name, _("{value} differs from {other} on row {row}").format(
                    value=_show(row.cells[name]), other=_show(other.cells[name]), row=other.number))
    if rows and "kind" not in fields and not any("kind" in row.cells for row in rows):
        rows[0].problem("kind", _("no {field} on any row of the case").format(field=spec.label("kind")))
    return fields


def _needs(row: _Row, spec: SheetMapping, *names: str) -> bool:
    """Whether the row gives all these fields; a problem for each blank one."""
    for name in names:
        if name not in row.cells:
            row.problem(name, _("no {field}").format(field=spec.label(name)))
    return all(name in row.values for name in names)


def _main_events(row: _Row, spec: SheetMapping) -> list[dict]:
    """The events of a unit's main-sheet row; a role may record another type instead (the domain's `instead`:
    a 会办 unit's 答复日期 is its opinion, a co_reply)."""
    events = []
    for date_field, event_type, detail, id_field, instead in spec.model.main_events:
        if row.values["role"] in instead:
            event_type = instead[row.values["role"]]
            if detail and detail not in spec.model.domain.events[event_type].fields_named:
                if detail in row.cells:
                    row.problem(detail, _("{value}: the opinion of a {role} unit (a {type}) has no {field}").format(
                        value=_show(row.cells[detail]), role=_show(row.cells["role"]), type=event_type,
                        field=spec.label(detail)))
                detail = None
        if date_field not in row.cells:
            for name in (detail, id_field):
                if name in row.cells:
                    row.problem(name, _("{value} is given, but {field} is blank").format(
                        value=_show(row.cells[name]), field=spec.label(date_field)))
            continue
        if detail and detail not in row.cells:
            row.problem(detail, _("no {field}, although {date} is given").format(field=spec.label(detail),
                                                                                   date=spec.label(date_field)))
        if date_field in row.values:
            events.append(_event(row, event_type, row.values[date_field], row.values.get(id_field) or row.cell_id(date_field),
                                 {detail: row.values.get(detail)} if detail else {}))
    return events


def _process_event(row: _Row, spec: SheetMapping) -> dict | None:
    """The event of a process-sheet row, with the field its type needs and no other."""
    if not _needs(row, spec, "department", "date", "event"):
        return None
    event_type = row.values["event"]
    event = spec.model.domain.events[event_type]
    written = _show(row.cells["event"])
    for detail, owner in spec.model.detail_owner.items():
        field = event.fields_named.get(detail)
        if field is not None and field.required and detail not in row.cells:
            row.problem(detail, _("no {field}: a {written} ({type}) needs it").format(
                field=spec.label(detail), written=written, type=event_type))
        elif field is None and detail in row.cells:
            row.problem(detail, _("{value}: {field} belongs to {owner} events, not to a {written} ({type})").format(
                value=_show(row.cells[detail]), field=spec.label(detail), owner=owner, written=written, type=event_type))
    extra = {name: row.values[name] for name in spec.extra if name in row.values}
    details = {name: row.values.get(name) for name, field in event.fields_named.items()
               if name in row.values or field.required}
    return _event(row, event_type, row.values["date"], row.values.get("event_id") or row.cell_id("date"), {**details, **extra})


def _event(row: _Row, event_type: str, date: str, event_id: str, more: dict) -> dict:
    return {"id": event_id, "type": event_type, "date": date, "department": row.values["department"], **more}


# ----------------------------------------------------------------------------- register

@dataclass
class Register:
    """What read_register read: the cases of the register and the problems found so far."""

    source: str
    cases: list[RegisterCase]  # in the order of the main sheet
    unassigned: list[_Row]  # rows without a case id
    rows: list[_Row]  # every row read, in sheet order
    problems: list[Problem]  # of the workbook, its sheets and headers: the register cannot be read as it is
    domain: Domain  # the case model the records are of

    def all_problems(self) -> list[Problem]:
        return self.problems + [p for row in self.rows for p in row.problems]


def read_register(path: str | Path, mapping_path: str | Path | None = None, domain: Domain | None = None) -> Register:
    """The register's cases as records of the JSON format, not yet validated, with the problems of their cells."""
    return _records(read_file(path, "register"), str(path), load_mapping(mapping_path, domain))


def _records(raw: bytes, source: str, mapping: Mapping) -> Register:
    workbook, extents = _open_workbook(raw, source)
    problems: list[Problem] = []
    main_sheet, process_sheet = _pick_sheets(workbook, extents, mapping, source, problems)
    main_rows = _sheet_rows(main_sheet, extents[main_sheet.title], mapping.main, mapping, source, problems)
    process_rows = (_sheet_rows(process_sheet, extents[process_sheet.title], mapping.process, mapping, source, problems)
                    if process_sheet else [])
    rows = main_rows + process_rows
    if not main_rows and not problems:
        problems.append(Problem(source, None, _("sheet {sheet}").format(sheet=main_sheet.title), _("the sheet holds no cases")))
    if problems:
        # the cells are checked, but without its sheets and columns right no case can be put together
        return Register(source, [], [], rows, problems, mapping.model.domain)

    by_case: dict[str, tuple[list[_Row], list[_Row]]] = {}
    for sheet_rows, side in ((main_rows, 0), (process_rows, 1)):
        for row in sheet_rows:
            if row.case_id is not None:
                by_case.setdefault(row.case_id, ([], []))[side].append(row)
    for mine, theirs in by_case.values():
        if not mine:
            for row in theirs:
                row.problem("case", _("the case is not on sheet {sheet}, which lists its units").format(sheet=main_sheet.title))
    cases = [_build_case(case_id, mine, theirs, mapping) for case_id, (mine, theirs) in by_case.items()]
    unassigned = [row for row in rows if row.case_id is None]
    return Register(source, cases, unassigned, rows, problems, mapping.model.domain)


def _open_workbook(raw: bytes, source: str):
    """The workbook and each sheet's extent by title, measured before openpyxl reads it (scoring.inputs.workbook)."""
    try:
        extents = scan_workbook(raw, source)
        # not read_only: merged cells are only known in full mode
        return load_workbook(io.BytesIO(raw), data_only=True), extents
    except (NotAWorkbook, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise InputError([Problem(source, None, "", _("cannot be read as an Excel workbook (.xlsx; an old .xls must be "
                                                      "saved as .xlsx first): {reason}").format(reason=exc))]) from None


def _pick_sheets(workbook, extents: dict[str, SheetExtent], mapping: Mapping, source: str, problems: list[Problem]):
    """The main sheet (by name, else the first) and the process sheet (by name, or None)."""
    by_name = {_norm(sheet.title): sheet for sheet in workbook.worksheets}
    main = next((by_name[_norm(n)] for n in mapping.main.names if _norm(n) in by_name), workbook.worksheets[0])
    process = next((by_name[_norm(n)] for n in mapping.process.names
                    if _norm(n) in by_name and by_name[_norm(n)] is not main), None)
    for sheet in workbook.worksheets:
        if sheet is not main and sheet is not process and _looks_like_process(sheet, extents[sheet.title], mapping.process):
            problems.append(Problem(source, None, _("sheet {sheet}").format(sheet=sheet.title),
                                    _("looks like process records but is not read: name it {name} "
                                      "or add its name to [sheets] process in a mapping").format(name=mapping.process.names[0])))
    return main, process


def _looks_like_process(sheet, extent: SheetExtent, spec: SheetMapping) -> bool:
    """Whether a sheet has a header row naming the case and the event columns."""
    for row in _grid(sheet, extent)[:HEADER_SEARCH_ROWS]:
        named = {spec.headers.get(_norm(value)) for value in row if not _blank(value)}
        if {"case", "event"} <= named:
            return True
    return False


def _sheet_rows(sheet, extent: SheetExtent, spec: SheetMapping, mapping: Mapping, source: str,
                problems: list[Problem]) -> list[_Row]:
    """The sheet's non-blank rows below its header, read cell by cell; header problems go to problems."""
    grid = _grid(sheet, extent, mapping.model.domain.timed)
    header = _header_row(grid, spec)
    columns = _columns(grid, header, spec, sheet.title, source, problems)
    return _read_rows(grid, header, columns, spec, mapping, sheet.title, source)


# ------------------------------------------------------------------------------ loading

def load_register(path: str | Path, mapping_path: str | Path | None = None, skip_invalid: bool = False,
                  domain: Domain | None = None) -> CaseFile:
    """The valid cases of a register, validated as a JSON case file would be.

    skip_invalid as in scoring.inputs.case_file.load_cases.
    """
    return parse_register(read_file(path, "register"), str(path), skip_invalid, mapping_path, domain=domain)


def parse_register(raw: bytes, source: str, skip_invalid: bool = False, mapping_path: str | Path | None = None,
                   departments: Departments = NO_DECLARATION, domain: Domain | None = None) -> CaseFile:
    """load_register on the workbook's bytes (case_file.parse_cases hands a workbook here)."""
    register = _records(raw, source, load_mapping(mapping_path, domain))
    valid: list[Case] = []
    skipped: list[SkippedCase] = []
    aliased: dict[tuple[str, str], list[str]] = {}
    for case in register.cases:
        model = None
        if not case.problems:
            model, found, renamed = validate_case(case.record, source, case.line, case.case_id, departments,
                                                  register.domain)
            for problem in found:
                case.locate(problem)
            for pair in renamed:
                aliased.setdefault(pair, []).append(case.case_id)
        if case.problems:
            skipped.append(SkippedCase(case.case_id, case.line, tuple(case.problems)))
        else:
            valid.append(model)
    skipped += [SkippedCase(None, row.number, tuple(row.problems)) for row in register.unassigned]
    problems = register.all_problems()
    if register.problems:  # sheets or headers wrong: no case can be trusted, whatever skip_invalid says
        raise InputError(problems, _("{file}: {n} problem(s) in the register; nothing was read").format(
            file=source, n=len(problems)))
    return collect_cases(source, raw, valid, skipped, problems, skip_invalid, departments, aliased)


def cases_to_jsonl(cases: Iterable[Case]) -> str:
    """The cases as JSON Lines, byte-stable: cases in natural id order, events in timeline order."""
    lines = []
    for case in sorted(cases, key=lambda c: natural_key(c.id)):
        data = case.model_dump(mode="json", exclude_none=True)
        if domain_of(case).timed:  # a timed event is written with its date-time as its date
            for event in data["events"]:
                event["date"] = event.pop("at")[:16]
        data["events"].sort(key=lambda e: (e["date"], natural_key(e["id"])))
        # extra case fields before the lists, as in the sample
        ordered = {k: v for k, v in data.items() if k not in ("handlers", "events")}
        ordered.update(handlers=data["handlers"], events=data["events"])
        lines.append(json.dumps(ordered, ensure_ascii=False, separators=(", ", ": ")) + "\n")
    return "".join(lines)
