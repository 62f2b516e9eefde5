"""The official Chinese working-day calendar, with rulebook overrides.

Official data comes from the ``chinese_calendar`` package (distribution
``chinesecalendar``): the State Council's yearly holiday notices, including the
adjusted working weekends (调休).  The rulebook can

* override single days (``extra_holidays`` / ``extra_workdays``), and
* define whole years the package does not know yet (``years``), or replace a
  year it does know.

Every query looks only at the days its definition needs; if one of those days
lies in a year that nobody covers, :class:`CalendarCoverageError` is raised.
A missing year is never guessed as "plain weekends": deadlines computed from a
guess would be silently wrong.

Definitions (other code computes deadlines and lateness from these, so they are
exact and stable):

* ``add_workdays(d, n)``: ``n > 0`` -> the n-th working day strictly after
  ``d``; ``n == 0`` -> ``d``; ``n < 0`` -> the |n|-th working day strictly
  before ``d``.  ``d`` itself need not be a working day.
* ``workdays_between(a, b)``: the number of working days ``w`` with
  ``a < w <= b``; negated when ``b < a``.  So a reply one working day after a
  Friday deadline (on the Monday) is 1 working day late.
* ``next_workday(d)``: ``d`` if it is a working day, else the first after it.

Working hours (``working_hours``: periods of a working day in minutes after midnight, such as
09:00-12:00 and 13:30-17:30) measure work in hours, at minute resolution:

* ``workhours_between(a, b)``: the working minutes in ``[a, b)`` as hours (exact: a Fraction
  when not whole); negated when ``b < a``.
* ``add_workhours(t, n)``: the earliest moment ``m >= t`` with ``n`` working hours in
  ``[t, m)``; ``n`` is at least 0 and a whole number of minutes.  So 2 working hours from a
  Friday 16:30 with the day ending at 17:30 end on Monday at 10:00, and a period's end (12:00)
  is the moment the hours run out, not the next period's start.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from fractions import Fraction

from chinese_calendar import constants as _cc_constants

__all__ = ["CalendarCoverageError", "NoWorkingHours", "WorkCalendar", "parse_working_hours"]

MINUTES_A_DAY = 24 * 60


class NoWorkingHours(ValueError):
    """Working hours asked of a calendar that declares none."""


def parse_working_hours(periods: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """["09:00-12:00", "13:30-17:30"] -> ((540, 720), (810, 1050)); ValueError naming the wrong period.

    Periods are in order, do not overlap or touch (09:00-12:00 and 12:00-13:00 is one period),
    and lie within the day (24:00 may end the last)."""
    found: list[tuple[int, int]] = []
    for text in periods:
        match = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", text)
        if not match:
            raise ValueError(f'"{text}" is not a period of working hours such as "09:00-12:00"')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > MINUTES_A_DAY:
            raise ValueError(f'"{text}" is not a time of day (00:00 to 24:00)')
        if end <= start:
            raise ValueError(f'"{text}" ends before it starts')
        if found and start <= found[-1][1]:
            raise ValueError(f'"{text}" does not start after the period before it ends')
        found.append((start, end))
    return tuple(found)


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("chinesecalendar")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        import chinese_calendar

        return str(getattr(chinese_calendar, "__version__", "unknown version"))


# The package validates dates against the span of its holiday table (see
# chinese_calendar.utils._validate_date); use the same span so that "covered"
# means exactly what the package itself will answer for.
_OFFICIAL_HOLIDAYS = frozenset(_cc_constants.holidays)
_OFFICIAL_WORKDAYS = frozenset(_cc_constants.workdays)
OFFICIAL_FIRST_YEAR: int = min(_OFFICIAL_HOLIDAYS).year
OFFICIAL_LAST_YEAR: int = max(_OFFICIAL_HOLIDAYS).year
PACKAGE_VERSION: str = _package_version()

_YEAR_SPEC_KEYS = frozenset({"holidays", "workdays"})


class CalendarCoverageError(ValueError):
    """A date falls in a year the calendar does not cover."""

    year: int

    def __init__(self, year: int, message: str | None = None) -> None:
        self.year = year
        super().__init__(message if message is not None else f"year {year} is not covered by the working-day calendar")

    def __reduce__(self):  # keep picklable despite the custom __init__
        return (type(self), (self.year, str(self)))


def _format_years(years: Iterable[int]) -> str:
    """(2004, 2005, ..., 2026, 2028) -> '2004-2026, 2028'."""
    ys = sorted(set(years))
    if not ys:
        return "none"
    parts = []
    start = prev = ys[0]
    for y in ys[1:] + [None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if y is not None:
            start = prev = y
    return ", ".join(parts)


def _as_date(d, what: str = "date") -> date:
    # datetime is a subclass of date; reduce it so results are plain dates.
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    raise TypeError(f"{what} must be a datetime.date, got {type(d).__name__}: {d!r}")


def _as_minute(t, what: str) -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"{what} must be a datetime.datetime, got {type(t).__name__}: {t!r}")
    if t.second or t.microsecond or t.tzinfo is not None:
        raise ValueError(f"{what} must be a local time to the minute, got {t.isoformat()}")
    return t


def _as_int(n, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}: {n!r}")
    return n


def _as_year(key) -> int:
    # TOML table keys ([calendar.years.2027]) arrive as strings.
    if isinstance(key, bool):
        raise TypeError(f"calendar year must be an int, got {key!r}")
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key.strip())
    raise TypeError(f"calendar year must be an int, got {type(key).__name__}: {key!r}")


class WorkCalendar:
    """Working days: official calendar + rulebook-defined years + single-day overrides.

    Precedence for a day: ``extra_holidays`` / ``extra_workdays`` first, then the
    rulebook definition of its year (``years``) if any, then the official data.
    Overrides only patch a covered year; they do not make a year covered.
    """

    __slots__ = ("_cache", "_covered", "_day_minutes", "_defined", "_extra_holidays", "_extra_workdays", "_periods")

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        years: Mapping[int, Mapping[str, Iterable[date]]] | None = None,
        working_hours: Iterable[tuple[int, int]] = (),
    ) -> None:
        self._periods = tuple(working_hours)  # (start, end) minutes after midnight, in order
        self._day_minutes = sum(end - start for start, end in self._periods)
        self._extra_holidays = frozenset(_as_date(d, "extra_holidays entry") for d in extra_holidays)
        self._extra_workdays = frozenset(_as_date(d, "extra_workdays entry") for d in extra_workdays)
        both = sorted(self._extra_holidays & self._extra_workdays)
        if both:
            raise ValueError(
                "date(s) listed both as extra holiday and as extra workday: "
                + ", ".join(d.isoformat() for d in both)
            )

        # year -> (holidays, workdays) as frozensets of dates
        self._defined: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
        for key, spec in (years or {}).items():
            year = _as_year(key)
            if year in self._defined:
                raise ValueError(f"calendar year {year} is defined twice")
            if not isinstance(spec, Mapping):
                raise TypeError(f"calendar year {year}: expected a table with `holidays` and `workdays`, got {spec!r}")
            unknown = set(spec) - _YEAR_SPEC_KEYS
            if unknown:
                raise ValueError(
                    f"calendar year {year}: unknown key(s) {sorted(map(str, unknown))}; "
                    "expected only `holidays` and `workdays`"
                )
            lists = []
            for name in ("holidays", "workdays"):
                days = frozenset(_as_date(d, f"calendar.years.{year}.{name} entry") for d in spec.get(name, ()))
                wrong = sorted(d for d in days if d.year != year)
                if wrong:
                    raise ValueError(
                        f"calendar year {year}: {name} entry "
                        + ", ".join(d.isoformat() for d in wrong)
                        + f" is not in {year}"
                    )
                lists.append(days)
            hol, work = lists
            both = sorted(hol & work)
            if both:
                raise ValueError(
                    f"calendar year {year}: date(s) listed both as holiday and as workday: "
                    + ", ".join(d.isoformat() for d in both)
                )
            self._defined[year] = (hol, work)

        self._covered: tuple[int, ...] = tuple(
            sorted(set(range(OFFICIAL_FIRST_YEAR, OFFICIAL_LAST_YEAR + 1)) | set(self._defined))
        )
        # year -> (sorted working-day ordinals, ordinal of Jan 1, per-day 0/1 flags)
        self._cache: dict[int, tuple[list[int], int, bytes]] = {}

    # ------------------------------------------------------------------ coverage

    @property
    def covered_years(self) -> tuple[int, ...]:
        """Sorted tuple of every year this calendar can answer for."""
        return self._covered

    def _coverage_error(self, year: int) -> CalendarCoverageError:
        covered = f"{_format_years(range(OFFICIAL_FIRST_YEAR, OFFICIAL_LAST_YEAR + 1))} from chinesecalendar {PACKAGE_VERSION}"
        if self._defined:
            covered += f", plus rulebook-defined {_format_years(self._defined)}"
        return CalendarCoverageError(
            year,
            f"year {year} is not covered by the working-day calendar (covered: {covered}); "
            f"define it in the rulebook under [calendar.years.{year}] with `holidays` and `workdays` lists, "
            "or upgrade the chinesecalendar package",
        )

    def _year(self, year: int) -> tuple[list[int], int, bytes]:
        info = self._cache.get(year)
        if info is None:
            info = self._cache[year] = self._build_year(year)
        return info

    def _build_year(self, year: int) -> tuple[list[int], int, bytes]:
        if year in self._defined:
            holidays, workdays = self._defined[year]
        elif OFFICIAL_FIRST_YEAR <= year <= OFFICIAL_LAST_YEAR:
            holidays, workdays = _OFFICIAL_HOLIDAYS, _OFFICIAL_WORKDAYS
        else:
            raise self._coverage_error(year)
        base = date(year, 1, 1).toordinal()
        end = date(year, 12, 31).toordinal()
        xh, xw = self._extra_holidays, self._extra_workdays
        flags = bytearray(end - base + 1)
        ords: list[int] = []
        for o in range(base, end + 1):
            d = date.fromordinal(o)
            if d in xh:
                work = False
            elif d in xw:
                work = True
            else:
                # Same rule as chinese_calendar.is_workday: an adjusted working
                # weekend wins; otherwise Mon-Fri that is not a holiday.
                work = d in workdays or (d.weekday() < 5 and d not in holidays)
            if work:
                flags[o - base] = 1
                ords.append(o)
        return ords, base, bytes(flags)

    # ------------------------------------------------------------------ queries

    def is_workday(self, d: date) -> bool:
        d = _as_date(d)
        _, base, flags = self._year(d.year)
        return flags[d.toordinal() - base] == 1

    def next_workday(self, d: date) -> date:
        d = _as_date(d)
        year = d.year
        ords = self._year(year)[0]
        i = bisect_left(ords, d.toordinal())
        while i >= len(ords):
            year += 1
            ords = self._year(year)[0]
            i = 0
        return date.fromordinal(ords[i])

    def add_workdays(self, d: date, n: int) -> date:
        d = _as_date(d)
        n = _as_int(n)
        if n == 0:
            return d
        o = d.toordinal()
        year = d.year
        if n > 0:
            # Only days after d are needed: from Dec 31 start in the next year
            # (so d's own year need not be covered).
            if d.month == 12 and d.day == 31:
                year += 1
                ords = self._year(year)[0]
                i = 0
            else:
                ords = self._year(year)[0]
                i = bisect_right(ords, o)  # first working day > d
            while True:
                j = i + n - 1
                if j < len(ords):
                    return date.fromordinal(ords[j])
                n -= len(ords) - i
                year += 1
                ords = self._year(year)[0]
                i = 0
        m = -n
        if d.month == 1 and d.day == 1:
            year -= 1
            ords = self._year(year)[0]
            i = len(ords)
        else:
            ords = self._year(year)[0]
            i = bisect_left(ords, o)  # count of working days < d in this year
        while True:
            if m <= i:
                return date.fromordinal(ords[i - m])
            m -= i
            year -= 1
            ords = self._year(year)[0]
            i = len(ords)

    def workdays_between(self, a: date, b: date) -> int:
        a = _as_date(a, "a")
        b = _as_date(b, "b")
        if b < a:
            return -self.workdays_between(b, a)
        if a == b:
            return 0
        ao, bo = a.toordinal(), b.toordinal()
        ya, yb = a.year, b.year
        if ya == yb:
            ords = self._year(ya)[0]
            return bisect_right(ords, bo) - bisect_right(ords, ao)
        # Counting (a, b]: days of a's year after a, whole years between, days of b's year up to b.
        count = 0
        if not (a.month == 12 and a.day == 31):
            ords = self._year(ya)[0]
            count += len(ords) - bisect_right(ords, ao)
        for y in range(ya + 1, yb):
            count += len(self._year(y)[0])
        count += bisect_right(self._year(yb)[0], bo)
        return count

    # ------------------------------------------------------------ working hours

    @property
    def working_hours(self) -> tuple[tuple[int, int], ...]:
        return self._periods

    def _need_hours(self) -> None:
        if not self._periods:
            raise NoWorkingHours("no working hours are declared (working_hours under [calendar])")

    def _minutes_before(self, d: date, minute: int) -> int:
        """Working minutes of day d before minute `minute` of it."""
        if not self.is_workday(d):
            return 0
        return sum(max(0, min(end, minute) - start) for start, end in self._periods)

    def workhours_between(self, a: datetime, b: datetime):
        self._need_hours()
        a, b = _as_minute(a, "a"), _as_minute(b, "b")
        if b < a:
            return -self.workhours_between(b, a)
        da, db = a.date(), b.date()
        ma, mb = a.hour * 60 + a.minute, b.hour * 60 + b.minute
        if da == db:
            minutes = self._minutes_before(db, mb) - self._minutes_before(da, ma)
        else:
            # the rest of a's day, the whole working days strictly between, b's day up to b
            whole = self.workdays_between(da, db) - (1 if self.is_workday(db) else 0)
            rest = (self._day_minutes if self.is_workday(da) else 0) - self._minutes_before(da, ma)
            minutes = rest + whole * self._day_minutes + self._minutes_before(db, mb)
        hours = Fraction(minutes, 60)
        return hours.numerator if hours.denominator == 1 else hours

    def add_workhours(self, t: datetime, hours):
        self._need_hours()
        t = _as_minute(t, "t")
        minutes = Fraction(hours) * 60
        if minutes < 0 or minutes.denominator != 1:
            raise ValueError(f"add_workhours() adds a whole number of minutes, at least 0, not {hours} hours")
        minutes = int(minutes)
        if minutes == 0:
            return t
        day, minute = t.date(), t.hour * 60 + t.minute
        if self.is_workday(day):
            left = self._day_minutes - self._minutes_before(day, minute)
            if minutes <= left:
                return self._moment(day, self._minutes_before(day, minute) + minutes)
            minutes -= left
        # whole working days to pass, then the rest (1 to a day's minutes) on the working day after them
        skipped = (minutes - 1) // self._day_minutes
        target = self.add_workdays(day, skipped + 1)
        return self._moment(target, minutes - skipped * self._day_minutes)

    def _moment(self, d: date, worked: int) -> datetime:
        """The earliest moment of working day d with `worked` (> 0) working minutes before it."""
        for start, end in self._periods:
            if worked <= end - start:
                return datetime.combine(d, datetime.min.time()) + timedelta(minutes=start + worked)
            worked -= end - start
        raise AssertionError("more minutes than a working day has")  # callers pass at most a day's minutes

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(covered={_format_years(self._covered)}, "
            f"extra_holidays={len(self._extra_holidays)}, extra_workdays={len(self._extra_workdays)})"
        )
