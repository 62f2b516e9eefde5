"""How numbers, signs and missing values are written in every report: one place for all of them.

Terminal tables, the workbook's text cells and the HTML pages take their numbers from here.
(Sentences inside the ledger are the rulebook's own wording and print values through the
rule language: scoring.lang.values.format_value.)
"""
from __future__ import annotations

import unicodedata

from scoring.lang.interval import Interval, format_interval
from scoring.lang.values import format_number

NONE = "—"  # a value that is not there: no rank, no grade, no previous month, an unbounded item
MINUS = "\u2212"  # a real minus sign, as wide as the plus (HTML)


def plain_number(value) -> str:
    """As few decimals as the value needs: 20, 2.5, -0.63."""
    return NONE if value is None else format_number(value)


def two_decimals(value) -> str:
    """Two decimals in table columns, so that the numbers line up."""
    return NONE if value is None else f"{value:.2f}"


def signed(value, digits=plain_number) -> str:
    """A change or a line's points with its sign: +2.5, -1 (digits writes the number)."""
    return NONE if value is None else ("+" if value > 0 else "") + digits(value)


def typeset(text: str) -> str:
    """Minus signs as the typographic minus (pages, not terminals: terminals keep ASCII)."""
    return text.replace("-", MINUS)


def span(found: tuple | None, places: int = 2) -> str:
    """An item's range of points, (lowest, highest) with None for unbounded: "0 … 20"."""
    return NONE if found is None else format_interval(Interval(*found), places=places)


def display_width(text: str) -> int:
    """Columns the longest line takes on a page or a terminal: East Asian wide characters count two."""
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in text.split("\n"))
