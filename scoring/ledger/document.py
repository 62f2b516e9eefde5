"""The ledger: the complete, explained result of a run, as JSON or CSV.

Same inputs, same rulebook, same engine version: the same bytes. Nothing in the ledger
depends on where or when it was made (no paths, no clock); departments, cases and lines
come in a defined order, and numbers are rounded once, half up, to 2 decimals (the
department total to the rulebook's `decimals`).
"""
from __future__ import annotations

import csv
import functools
import io
import json
import re
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version

from scoring.base.i18n import N_, _
from scoring.lang import values as V

from .shapes import Engine, LedgerDocument


def engine_versions() -> Engine:
    return dict(_installed_versions())  # a copy: documents own their parts


@functools.cache  # package metadata is read from disk: once per process
def _installed_versions() -> Engine:
    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"
    return {"scoring": installed("scoring"), "durable_rules": installed("durable-rules")}


def number(value, places: int = 2):
    """A JSON number: rounded half up; whole numbers without a fraction part."""
    rounded = V.round_half_up(value, places) if not isinstance(value, Decimal) else value
    if rounded == rounded.to_integral_value():
        return int(rounded)
    return float(rounded)


def plain(value):
    """JSON-ready rule data: decimals (from TOML) as numbers, dates as text; tables and lists inside too."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        # a JSON number when the float says the same decimal, else the exact text
        return float(value) if Decimal(repr(float(value))) == value else str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def to_json(ledger: dict) -> str:
    return json.dumps(ledger, ensure_ascii=False, indent=2) + "\n"


# the header of the ledger's CSV, in the current language where it is written (to_csv)
CSV_COLUMNS = [N_("department"), N_("rank"), N_("grade"), N_("department_total"), N_("case"), N_("kind"), N_("title"),
               N_("role"), N_("case_total"), N_("criterion"), N_("rule"), N_("line_kind"), N_("points"), N_("evidence"),
               N_("text")]


# What a spreadsheet runs as a formula when a cell starts with it (OWASP's list for CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_text(value):
    """A CSV cell that a spreadsheet shows as written: text starting like a formula (a department named
    =HYPERLINK(...) ran when the file was opened) gets a leading apostrophe; numbers, and text that is
    only a number ("-2.5"), stay as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(header: list[str], rows) -> str:
    """Every CSV the tool writes: a header, then rows, each text cell spreadsheet-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_text(cell) for cell in row] for row in rows)
    return out.getvalue()


def to_csv(ledger: LedgerDocument) -> str:
    """One row per ledger line: department lines first, then each case's lines.

    With categories a last column names the category a line counts in (an item such as
    urging can count in each category's subtotal, so criterion alone is ambiguous). With items
    outside the total a last column says whether the line is in the total (a department's lines
    marked false are not part of the department total they stand beside)."""
    categories = any("categories" in d for d in ledger["departments"])
    outside = {id(line) for d in ledger["departments"] for line in d.get("indicator_lines", [])}

    def row(line: dict) -> list:
        return ([line["criterion"] or "", line["rule"] or "", line["kind"], line["points"], " ".join(line["evidence"]),
                 line["text"]]
                + ([line.get("category") or ""] if categories else [])
                + (["false" if id(line) in outside else "true"] if outside else []))

    def rows():
        for d, case, line in ledger_lines(ledger):
            head = [d["department"], d["rank"], d["grade"], d["total"]]
            if case is None:
                yield head + [line["case"] or "", "", "", "", ""] + row(line)
            else:
                yield head + [case["case"], case["kind"], case["title"], case["role"], case["total"]] + row(line)

    return csv_text([_(column) for column in CSV_COLUMNS + ([N_("category")] if categories else [])
                     + ([N_("in_total")] if outside else [])], rows())


def ledger_lines(ledger: LedgerDocument):
    """(department, case or None, line) for every line: a department's own lines first (those of its total,
    then those of its items outside the total), then its cases'."""
    for d in ledger["departments"]:
        for line in d["lines"] + d.get("indicator_lines", []):
            yield d, None, line
        for case in d["cases"]:
            for line in case["lines"]:
                yield d, case, line


def printed(value) -> str:
    """A ledger value as the ledger prints it: ints without a decimal point, floats as Python's repr."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
