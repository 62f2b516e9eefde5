"""The quarter or the month one assessment covers, for rulebooks assessed per period.

A rulebook says what one assessment covers (`[rulebook] period`): the year (the default), a
quarter or a month. A rulebook assessed per quarter or month is scored one period at a time,
`--period 2020-Q2` or `--period 2020-05`, on a file that may hold the whole year: the period's
cases are those first assigned within it, judged as of the period's end (its last day, plus
`period_closing_days`, and never after the rulebook's `closing_date`); the cases assigned outside
it are left out and counted. A period of the wrong kind, a period given to a yearly rulebook,
none given to a periodic one, or a period outside `valid_from`/`valid_until` is an error that says
what to write instead.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from scoring.base.errors import UsageError
from scoring.base.i18n import _

from .model import RulebookInfo

_FORMS = {"quarter": re.compile(r"(?P<year>\d{4})-?[Qq](?P<index>[1-4])"),
          "month": re.compile(r"(?P<year>\d{4})-(?P<index>0[1-9]|1[0-2])")}
_EXAMPLES = {"quarter": "2020-Q2", "month": "2020-05"}


@dataclass(frozen=True)
class Period:
    kind: str  # "quarter" or "month"
    year: int
    index: int  # 1-4 for a quarter, 1-12 for a month

    @property
    def label(self) -> str:
        """As written on the command line and in the ledger: 2020-Q2, 2020-05."""
        return f"{self.year}-Q{self.index}" if self.kind == "quarter" else f"{self.year}-{self.index:02d}"

    @property
    def first(self) -> dt.date:
        month = 3 * self.index - 2 if self.kind == "quarter" else self.index
        return dt.date(self.year, month, 1)

    @property
    def last(self) -> dt.date:
        month = 3 * self.index if self.kind == "quarter" else self.index
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def covers(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    def ends(self, info: RulebookInfo) -> dt.date:
        """The day the period's assessment ends: its last day plus the rulebook's period_closing_days, never after
        the rulebook's closing date."""
        end = self.last + dt.timedelta(days=info.period_closing_days)
        return end if info.closing_date is None else min(end, info.closing_date)


def read_period(text: str) -> Period:
    """A period as written: 2020-Q2 (also 2020Q2, 2020-q2) or 2020-05; UsageError saying how to write it."""
    for kind, form in _FORMS.items():
        if match := form.fullmatch(text.strip()):
            return Period(kind, int(match["year"]), int(match["index"]))
    raise UsageError(_('--period "{text}" is not a period: write a quarter as 2020-Q2 or a month as 2020-05').format(
        text=text))


def periods_of(kind: str, year: int) -> list[Period]:
    """Every quarter or month of a year, in order."""
    return [Period(kind, year, index) for index in range(1, (4 if kind == "quarter" else 12) + 1)]


def period_for(info: RulebookInfo, text: str | None) -> Period | None:
    """The period a command scores under this rulebook (None: the year, for a yearly rulebook), checked against
    the rulebook's period kind and its valid_from/valid_until."""
    rulebook = f"{info.id} {info.version}"
    if info.period == "year":
        if text is None:
            return None
        raise UsageError(_("rulebook {rulebook} is assessed per year; --period is for a rulebook assessed per quarter "
                           'or month ([rulebook] period = "quarter" or "month")').format(rulebook=rulebook))
    example = _EXAMPLES[info.period]
    if text is None:
        raise UsageError(_("rulebook {rulebook} is assessed per {kind}: give the period to score with --period, such "
                           "as {example}").format(rulebook=rulebook, kind=kind_name(info.period), example=example))
    period = read_period(text)
    if period.kind != info.period:
        raise UsageError(_("rulebook {rulebook} is assessed per {kind}: --period {period} is a {other}; write it as "
                           "{example}").format(rulebook=rulebook, kind=kind_name(info.period), period=text,
                                               other=kind_name(period.kind), example=example))
    if not (info.covers(period.first) and info.covers(period.last)):
        raise UsageError(_("--period {period} ({first} to {last}) is not within the period of rulebook {rulebook} "
                           "({validity})").format(period=period.label, first=period.first, last=period.last,
                                                  rulebook=rulebook, validity=info.validity()))
    return period


def kind_name(kind: str) -> str:
    return {"quarter": _("quarter"), "month": _("month"), "year": _("year")}[kind]
