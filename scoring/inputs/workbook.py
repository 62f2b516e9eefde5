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
from xml.parsers.expat import ExpatError, ParserCreate

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from scoring.base.errors import Problem
from scoring.base.files import FileError

from .limits import (
    MAX_SHEET_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_UNPACKED_BYTES,
    MAX_WORKBOOK_CELLS,
    MAX_WORKBOOK_ELEMENTS,
    MAX_WORKBOOK_PARTS,
)

_OFFICE_DOCUMENT = "officeDocument"  # the relationship type (its last part) of the workbook part
_CELL = re.compile(r"([A-Z]+)(\d+)")
_CENTRAL_ENTRY = b"PK\x01\x02"  # the signature of an entry of a zip archive's central directory


@dataclass
class SheetExtent:
    """Where a sheet's values are: its last row and column holding one, and its formulas without a value."""

    rows: int = 0
    columns: int = 0
    unsaved: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column), 1-based -> "=FORMULA"


class NotAWorkbook(Exception):
    """The bytes are not an .xlsx archive openpyxl could read (the register says so in its own words)."""


def scan_workbook(raw: bytes, source: str) -> dict[str, SheetExtent]:
    """Each sheet's extent by its title; FileError (an InputError) when the workbook is beyond a limit."""
    entries = raw.count(_CENTRAL_ENTRY)  # (at most: the signature may also occur inside compressed data)
    if entries > MAX_WORKBOOK_PARTS:  # zipfile makes an object per entry: millions fit in 256 MB
        raise FileError([Problem(source, None, "", f"the archive lists {entries:,} parts; a register has at most "
                                                    f"{MAX_WORKBOOK_PARTS:,}: nothing was read")])
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise NotAWorkbook(str(exc)) from None
    with archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise FileError([Problem(source, None, "", f"the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than a "
                                                        f"register may ({MAX_UNPACKED_BYTES // 2**20} MB): nothing was read")])
        counts = [0, 0]  # XML elements, and rows and cells, in the workbook: openpyxl reads every sheet
        try:
            return {title: _scan_sheet(archive, part, title, source, counts) for title, part in _sheet_parts(archive)}
        except (KeyError, ParseError, ExpatError, zipfile.BadZipFile, EOFError, ValueError) as exc:
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


@dataclass
class _Cell:
    """A cell while its XML is read."""

    depth: int  # of the element being read, inside the cell (0: the cell itself)
    has_value: bool = False
    formula: str | None = None
    reading: str = ""  # "v" or "f" while the cell's value or formula is read


_FORMULA_SHOWN = 200  # characters of a formula kept to name it in a message


def _scan_sheet(archive: zipfile.ZipFile, part: str, title: str, source: str, counts: list[int]) -> SheetExtent:
    """The sheet's extent, from its XML read once by expat: no element is kept (ElementTree's iterparse
    built one per element, so a 60 KB sheet of 15 million empty elements took over a minute and 1.3 GB).
    The end and text handlers are set only while a cell is read: outside cells, an element costs one call."""
    extent = SheetExtent()
    row = column = 0
    cell: _Cell | None = None
    parser = ParserCreate(namespace_separator=" ")

    def beyond(message: str) -> FileError:
        return FileError([Problem(source, None, f"sheet {title}", f"{message}: nothing was read")])

    def start(name: str, attributes: dict) -> None:
        nonlocal row, column, cell
        counts[0] += 1
        if counts[0] > MAX_WORKBOOK_ELEMENTS:
            raise beyond(f"more than {MAX_WORKBOOK_ELEMENTS:,} XML elements in the workbook's sheets, up to row "
                         f"{row:,} of this one (a register's hold about three per cell)")
        tag = name.rsplit(" ", 1)[-1]
        if cell is not None:  # inside a cell: its value, formula or inline text
            cell.depth += 1
            if cell.depth == 1:
                cell.reading = tag
                if tag == "f" and cell.formula is None:
                    cell.formula = ""
                elif tag == "is":
                    cell.has_value = True
            return
        if tag in ("row", "c"):
            counts[1] += 1
            if counts[1] > MAX_WORKBOOK_CELLS:
                raise beyond(f"more than {MAX_WORKBOOK_CELLS:,} rows and cells are written in the workbook, up to "
                             f"row {row:,} of this sheet (a register sheet has at most {MAX_SHEET_ROWS:,} rows of "
                             f"{MAX_SHEET_COLUMNS} columns)")
        if tag == "row":
            row = int(attributes.get("r") or row + 1)
            column = 0
        elif tag == "c":
            reference = _CELL.fullmatch(attributes.get("r") or "")
            column = column_index_from_string(reference[1]) if reference else column + 1
            cell = _Cell(0)
            parser.EndElementHandler, parser.CharacterDataHandler = end, text

    def text(data: str) -> None:
        if cell.depth != 1:
            return
        if cell.reading == "v" and data:
            cell.has_value = True
        elif cell.reading == "f" and len(cell.formula) < _FORMULA_SHOWN:
            cell.formula += data[:_FORMULA_SHOWN]

    def end(name: str) -> None:
        nonlocal cell
        if cell.depth == 0:  # the cell itself
            found, cell = cell, None
            parser.EndElementHandler = parser.CharacterDataHandler = None
            _cell_ended(found, row, column, extent, beyond)
            return
        if cell.depth == 1:
            cell.reading = ""
        cell.depth -= 1

    parser.StartElementHandler = start
    parser.buffer_text = True
    with archive.open(part) as stream:
        parser.ParseFile(stream)
    return extent


def _cell_ended(cell: _Cell, row: int, column: int, extent: SheetExtent, beyond) -> None:
    if cell.formula is not None and not cell.has_value:
        formula = cell.formula[:_FORMULA_SHOWN] + ("…" if len(cell.formula) > _FORMULA_SHOWN else "")
        extent.unsaved[(row, column)] = f"={formula}" if formula else "a shared formula"
    if cell.has_value or cell.formula is not None:
        if row > MAX_SHEET_ROWS:
            raise beyond(f"cell {get_column_letter(column)}{row} holds a value on row {row:,}; a register sheet "
                         f"has at most {MAX_SHEET_ROWS:,} rows (delete the rows below the register)")
        if column > MAX_SHEET_COLUMNS:
            raise beyond(f"cell {get_column_letter(column)}{row} holds a value in column {column:,}; a register "
                         f"sheet has at most {MAX_SHEET_COLUMNS} columns (delete the columns after the register)")
        extent.rows, extent.columns = max(extent.rows, row), max(extent.columns, column)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
