"""How much one input may hold: the limits of the readers, in one place (the README lists them).

Each bounds the time and memory that reading an input, and scoring it, can take. An input
beyond a limit is an input problem (exit 2) found before the cost is paid: a workbook's
archive and sheets are measured before openpyxl reads them, a case's size before it is
decoded. The limits are far above what a year of a city, or of a province, holds; the
README says what each cost before.

Any file a command reads is bounded by scoring.base.files.MAX_FILE_BYTES.
"""
from __future__ import annotations

# case files (JSON Lines, a JSON array) and the cases made from a register
MAX_CASES = 50_000  # cases in one file
MAX_LINES = 1_000_000  # lines of a file of JSON Lines, blank ones included (each is looked at)
MAX_CASE_CHARACTERS = 2**20  # one case's JSON text (a line of JSON Lines, an element of an array)
MAX_EVENTS = 1_000  # events of one case (matching time grows faster than their number)
MAX_TEXT = 10_000  # characters of one text: a title, a name, an extra field, a cell
MAX_DEPTH = 16  # nesting of lists and objects in one case (extra fields may hold both)
MAX_DEPARTMENTS = 1_000  # different department names in one file (each is compared with each)

# Excel registers (.xlsx)
MAX_UNPACKED_BYTES = 100 * 2**20  # the workbook's parts, decompressed
MAX_WORKBOOK_PARTS = 10_000  # entries of its zip archive (a register has about ten)
MAX_SHEET_ROWS = 20_000  # the last row that holds a value
MAX_SHEET_COLUMNS = 200  # the last column that holds a value
MAX_WORKBOOK_CELLS = 1_000_000  # rows and cells written in all its sheets, blank (formatted) ones included
MAX_WORKBOOK_ELEMENTS = 3_000_000  # XML elements of all its sheets (a cell is two or three: c, v, f)
