"""An .xlsx workbook measured before openpyxl reads it: its size, each sheet's extent, formulas without a value.

openpyxl reads a whole workbook into memory (in full mode, the only one that knows merged
cells) and walks a sheet from its first row to its last cell. So a 5 KB workbook with one
value on row 1,048,576 took 71 s and 3.3 GB, and a 1 MB archive that unpacks to a gigabyte
5.5 GB. `scan_workbook` reads the archive's directory (the sizes its parts unpack to: a
part cannot unpack to more than its declared size) and streams each sheet's XML once,
stopping at the first limit crossed (scoring.inputs.limits), so such a workbook is refused
in milliseconds with the sheet and cell.

It also finds the formula cells that have no saved value. openpyxl reads what the
spreadsheet program last calculated; a workbook written by a program that does not
calculate (a script, an export) holds only the formula, which reads as blank: a date
entered as =DATE(2020,3,10) would be lost without a word. The register names such cells.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from scoring.base.errors import InputError, Problem

from .limits import MAX_SHEET_CELLS, MAX_SHEET_COLUMNS, MAX_SHEET_ROWS, MAX_UNPACKED_BYTES

_OFFICE_DOCUMENT = "officeDocument"  # the relationship type (its last part) of the workbook part
_CELL = re.compile(r"([A-Z]+)(\d+)")


@dataclass
class SheetExtent:
    """Where a sheet's values are: its last row and column holding one, and its formulas without a value."""

    rows: int = 0
    columns: int = 0
    unsaved: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column), 1-based -> "=FORMULA"


class NotAWorkbook(Exception):
    """The bytes are not an .xlsx archive openpyxl could read (the register says so in its own words)."""


def scan_workbook(raw: bytes, source: str) -> dict[str, SheetExtent]:
    """Each sheet's extent by its title; InputError when the workbook is beyond a limit."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise NotAWorkbook(str(exc)) from None
    with archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise InputError([Problem(source, None, "", f"the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than a "
                                                        f"register may ({MAX_UNPACKED_BYTES // 2**20} MB): nothing was read")])
        try:
            return {title: _scan_sheet(archive, part, title, source) for title, part in _sheet_parts(archive)}
        except (KeyError, ParseError, zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise NotAWorkbook(str(exc)) from None


def _sheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(title, part name) of each worksheet, from the package's relationships."""
    workbook = next((target for kind, target in _relations(archive, "_rels/.rels", "") if kind == _OFFICE_DOCUMENT), None)
    if workbook is None:
        raise NotAWorkbook("no workbook part")
    folder = posixpath.dirname(workbook)
    rels = posixpath.join(folder, "_rels", posixpath.basename(workbook) + ".rels")
    targets = dict(_relations(archive, rels, folder, by_id=True))
    parts = []
    for _, element in iterparse(archive.open(workbook)):
        if _local(element.tag) == "sheet":
            rid = next((value for key, value in element.attrib.items() if _local(key) == "id"), None)
            if rid in targets:  # a chart sheet has no worksheet part of this kind: openpyxl skips it too
                parts.append((element.get("name", ""), targets[rid]))
    return parts


def _relations(archive: zipfile.ZipFile, name: str, folder: str, by_id: bool = False) -> list[tuple[str, str]]:
    """(type or id, target part) of a relationships part; targets resolved against folder."""
    found = []
    for _, element in iterparse(archive.open(name)):
        if _local(element.tag) == "Relationship":
            target = element.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found.append((element.get("Id") if by_id else element.get("Type", "").rsplit("/", 1)[-1], target))
    return found


def _scan_sheet(archive: zipfile.ZipFile, part: str, title: str, source: str) -> SheetExtent:
    extent = SheetExtent()
    row = column = written = 0
    rows = None  # the sheetData element: rows read are dropped from it, so memory stays flat

    def beyond(message: str) -> InputError:
        return InputError([Problem(source, None, f"sheet {title}", f"{message}: nothing was read")])

    for event, element in iterparse(archive.open(part), events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag in ("row", "c"):
                written += 1
                if written > MAX_SHEET_CELLS:
                    raise beyond(f"more than {MAX_SHEET_CELLS:,} rows and cells are written in it (a register sheet "
                                 f"has at most {MAX_SHEET_ROWS:,} rows of {MAX_SHEET_COLUMNS} columns)")
            if tag == "row":
                row = int(element.get("r") or row + 1)
                column = 0
            elif tag == "c":
                reference = _CELL.fullmatch(element.get("r") or "")
                column = column_index_from_string(reference[1]) if reference else column + 1
            elif tag == "sheetData":
                rows = element
            continue
        if tag == "c":
            children = {_local(child.tag): child for child in element}
            value = children.get("v")
            has_value = (value is not None and value.text) or "is" in children
            if "f" in children and not has_value:
                formula = children["f"].text
                extent.unsaved[(row, column)] = f"={formula}" if formula else "a shared formula"
            if has_value or "f" in children:
                if row > MAX_SHEET_ROWS:
                    raise beyond(f"cell {get_column_letter(column)}{row} holds a value on row {row:,}; a register sheet "
                                 f"has at most {MAX_SHEET_ROWS:,} rows (delete the rows below the register)")
                if column > MAX_SHEET_COLUMNS:
                    raise beyond(f"cell {get_column_letter(column)}{row} holds a value in column {column:,}; a register "
                                 f"sheet has at most {MAX_SHEET_COLUMNS} columns (delete the columns after the register)")
                extent.rows, extent.columns = max(extent.rows, row), max(extent.columns, column)
            element.clear()
        elif tag == "row" and rows is not None:
            rows.clear()
    return extent


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
