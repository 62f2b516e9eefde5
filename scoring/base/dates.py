"""Dates as people write them: 2020-03-10, 2020/3/10, 2020.3.10, 2020年3月10日.

One reading for the register's cells and the command line's options, so a date that an Excel
register accepts is accepted by `--as-of` too, and an impossible one (2020-06-31) is refused in
the same words.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from .i18n import N_, _

FORMS = "2020-03-10, 2020/3/10, 2020.3.10 or 2020年3月10日"
_PATTERNS = (re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"),  # one separator
             re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日?"))


# what the standard library says of an impossible date, translated where it is shown
IMPOSSIBLE = (N_("month must be in 1..12"), N_("day is out of range for month"))


class NotADate(ValueError):
    """Text in none of the accepted forms (an impossible date in one of them is a plain ValueError)."""


def parse_date(text: str) -> dt.date:
    """The date written in `text` (spaces and full-width digits allowed); ValueError saying what is wrong."""
    plain = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    match = next((m for pattern in _PATTERNS if (m := pattern.fullmatch(plain))), None)
    if not match:
        raise NotADate(_("is not a date: write {forms}").format(forms=FORMS))
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError as exc:
        raise ValueError(_("is not a valid date ({reason})").format(reason=_(str(exc)))) from None
