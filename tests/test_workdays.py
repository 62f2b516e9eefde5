"""Tests for scoring.workdays.

The calendar facts below were checked against chinesecalendar 1.11.0's own data
(chinese_calendar.constants.holidays / workdays, and chinese_calendar.is_workday)
before being pinned here; several tests also re-derive them from the package.
"""

from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring.domain.workdays import CalendarCoverageError, WorkCalendar

D = date.fromisoformat

PKG_FIRST = min(chinese_calendar.constants.holidays).year
PKG_LAST = max(chinese_calendar.constants.holidays).year
FIRST_UNCOVERED = PKG_LAST + 1


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def naive_add(d: date, n: int) -> date:
    """Reference implementation, day by day, straight from the package."""
    step = 1 if n > 0 else -1
    left = abs(n)
    while left:
        d += timedelta(days=step)
        if chinese_calendar.is_workday(d):
            left -= 1
    return d


def naive_between(a: date, b: date) -> int:
    if b < a:
        return -naive_between(b, a)
    return sum(chinese_calendar.is_workday(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


# --------------------------------------------------------------------------- package facts


def test_package_range_is_what_the_calendar_reports(cal):
    assert cal.covered_years == tuple(range(PKG_FIRST, PKG_LAST + 1))
    assert PKG_FIRST == 2004  # chinesecalendar >= 1.11 starts at 2004
    assert PKG_LAST >= 2026


# --------------------------------------------------------------------------- 2020 Spring Festival (COVID extension)


@pytest.mark.parametrize(
    "day, expected",
    [
        ("2020-01-17", True),  # Fri
        ("2020-01-18", False),  # Sat
        ("2020-01-19", True),  # Sun, adjusted working day for Spring Festival
        ("2020-01-23", True),  # Thu, last working day before the break
        ("2020-01-24", False),  # Fri, New Year's Eve
        ("2020-01-30", False),  # Thu, originally the last holiday day...
        ("2020-01-31", False),  # Fri, ...extended by the State Council (COVID)
        ("2020-02-01", False),  # Sat, was to be a working Saturday; cancelled by the extension
        ("2020-02-02", False),  # Sun, last day of the extended holiday
        ("2020-02-03", True),  # Mon, back to work
    ],
)
def test_2020_spring_festival(cal, day, expected):
    assert cal.is_workday(D(day)) is expected
    assert chinese_calendar.is_workday(D(day)) is expected


def test_2020_spring_festival_spans(cal):
    assert cal.add_workdays(D("2020-01-23"), 1) == D("2020-02-03")
    assert cal.add_workdays(D("2020-01-20"), 4) == D("2020-02-03")  # 21, 22, 23, Feb 3
    assert cal.add_workdays(D("2020-01-17"), 1) == D("2020-01-19")  # the working Sunday
    assert cal.add_workdays(D("2020-02-03"), -1) == D("2020-01-23")
    assert cal.workdays_between(D("2020-01-23"), D("2020-02-03")) == 1
    assert cal.workdays_between(D("2020-01-17"), D("2020-02-07")) == 1 + 4 + 5  # Jan 19; Jan 20-23; Feb 3-7
    assert cal.next_workday(D("2020-01-24")) == D("2020-02-03")


# --------------------------------------------------------------------------- adjusted working weekends 2020


@pytest.mark.parametrize(
    "day, weekday",
    [
        ("2020-01-19", "Sun"),  # Spring Festival
        ("2020-04-26", "Sun"),  # Labour Day
        ("2020-05-09", "Sat"),  # Labour Day
        ("2020-06-28", "Sun"),  # Dragon Boat Festival
        ("2020-09-27", "Sun"),  # National Day / Mid-Autumn
        ("2020-10-10", "Sat"),  # National Day / Mid-Autumn
    ],
)
def test_2020_adjusted_working_weekends(cal, day, weekday):
    d = D(day)
    assert d.strftime("%a") == weekday
    assert cal.is_workday(d) is True
    assert cal.next_workday(d) == d


def test_2020_official_adjusted_weekends_are_exactly_these():
    listed = sorted(d for d in chinese_calendar.constants.workdays if d.year == 2020)
    assert listed == [D(x) for x in ("2020-01-19", "2020-04-26", "2020-05-09", "2020-06-28", "2020-09-27", "2020-10-10")]


def test_counting_adjusted_weekends(cal):
    # Labour Day: Apr 26 (Sun) works, May 1-5 off, May 9 (Sat) works.
    assert cal.add_workdays(D("2020-04-24"), 1) == D("2020-04-26")
    assert cal.workdays_between(D("2020-04-24"), D("2020-04-27")) == 2  # Sun 26 + Mon 27
    assert cal.add_workdays(D("2020-04-30"), 1) == D("2020-05-06")
    assert cal.add_workdays(D("2020-05-08"), 1) == D("2020-05-09")
    assert cal.workdays_between(D("2020-05-08"), D("2020-05-11")) == 2  # Sat 9 + Mon 11
    # Dragon Boat: Jun 25-27 off, Jun 28 (Sun) works.
    assert cal.add_workdays(D("2020-06-24"), 1) == D("2020-06-28")
    assert cal.workdays_between(D("2020-06-24"), D("2020-06-29")) == 2
    assert cal.workdays_between(D("2020-09-25"), D("2020-09-28")) == 2  # Sun 27 + Mon 28


def test_2020_has_249_working_days(cal):
    expected = sum(chinese_calendar.is_workday(D("2020-01-01") + timedelta(days=i)) for i in range(366))
    assert expected == 249
    assert cal.workdays_between(D("2019-12-31"), D("2020-12-31")) == 249


# --------------------------------------------------------------------------- National Day 2020


def test_national_day_golden_week_2020(cal):
    for day in range(1, 9):
        assert cal.is_workday(date(2020, 10, day)) is False, day
    assert cal.is_workday(D("2020-09-30")) is True
    assert cal.is_workday(D("2020-10-09")) is True  # Fri
    assert cal.is_workday(D("2020-10-10")) is True  # adjusted Sat
    assert cal.is_workday(D("2020-10-11")) is False  # ordinary Sun
    assert cal.add_workdays(D("2020-09-30"), 1) == D("2020-10-09")
    assert cal.add_workdays(D("2020-09-30"), 2) == D("2020-10-10")
    assert cal.add_workdays(D("2020-09-30"), 3) == D("2020-10-12")
    assert cal.add_workdays(D("2020-10-12"), -2) == D("2020-10-09")
    assert cal.workdays_between(D("2020-09-30"), D("2020-10-12")) == 3
    assert cal.next_workday(D("2020-10-01")) == D("2020-10-09")
    assert cal.next_workday(D("2020-10-11")) == D("2020-10-12")


# --------------------------------------------------------------------------- workdays_between


def test_workdays_between_basic(cal):
    a, b = D("2020-03-02"), D("2020-03-13")  # Mon .. Fri of the next week
    assert cal.workdays_between(a, b) == 9
    assert cal.workdays_between(a, a) == 0
    assert cal.workdays_between(D("2020-10-03"), D("2020-10-03")) == 0  # holiday, still 0
    assert cal.workdays_between(b, a) == -9


def test_k_working_days_late(cal):
    # Deadline Friday, answered next Monday: 1 working day late.
    assert cal.workdays_between(D("2020-10-16"), D("2020-10-19")) == 1
    # Answered on the Saturday or Sunday after: not yet late by a working day.
    assert cal.workdays_between(D("2020-10-16"), D("2020-10-17")) == 0
    assert cal.workdays_between(D("2020-10-16"), D("2020-10-18")) == 0
    # Answered on the deadline itself / early.
    assert cal.workdays_between(D("2020-10-16"), D("2020-10-16")) == 0
    assert cal.workdays_between(D("2020-10-16"), D("2020-10-14")) == -2


def test_deadline_on_a_holiday(cal):
    deadline = D("2020-10-01")  # National Day
    assert cal.workdays_between(deadline, D("2020-10-08")) == 0
    assert cal.workdays_between(deadline, D("2020-10-09")) == 1
    assert cal.workdays_between(deadline, D("2020-10-10")) == 2  # adjusted Saturday counts
    assert cal.workdays_between(deadline, D("2020-10-11")) == 2
    assert cal.workdays_between(deadline, D("2020-10-12")) == 3


def test_workdays_between_across_years(cal):
    a, b = D("2019-12-20"), D("2021-01-08")
    assert cal.workdays_between(a, b) == naive_between(a, b)
    assert cal.workdays_between(b, a) == -naive_between(a, b)
    # a on Dec 31 counts nothing of its own year
    assert cal.workdays_between(D("2019-12-31"), D("2020-01-02")) == 1  # Jan 1 holiday, Jan 2 works


# --------------------------------------------------------------------------- add_workdays


def test_add_workdays_zero_and_start_days(cal):
    assert cal.add_workdays(D("2020-10-03"), 0) == D("2020-10-03")  # n == 0 is d even on a holiday
    assert cal.add_workdays(D("2020-10-17"), 0) == D("2020-10-17")  # ...and on a weekend
    assert cal.add_workdays(D("2020-10-03"), 1) == D("2020-10-09")  # from a holiday
    assert cal.add_workdays(D("2020-10-17"), 1) == D("2020-10-19")  # from a Saturday
    assert cal.add_workdays(D("2020-10-16"), 1) == D("2020-10-19")  # from a Friday
    assert cal.add_workdays(D("2020-10-16"), 20) == naive_add(D("2020-10-16"), 20)


def test_add_workdays_negative(cal):
    assert cal.add_workdays(D("2020-10-19"), -1) == D("2020-10-16")
    assert cal.add_workdays(D("2020-10-03"), -1) == D("2020-09-30")  # from a holiday
    assert cal.add_workdays(D("2020-10-11"), -1) == D("2020-10-10")  # from a Sunday, adjusted Saturday before
    assert cal.add_workdays(D("2020-10-11"), -3) == D("2020-09-30")
    assert cal.add_workdays(D("2021-01-04"), -1) == D("2020-12-31")  # across a year boundary


def test_add_workdays_long_spans_match_reference(cal):
    d = D("2005-03-07")
    for n in (250, 1000, 3000):
        assert cal.add_workdays(d, n) == naive_add(d, n)
        assert cal.add_workdays(cal.add_workdays(d, n), -n) == d


def test_datetime_input_is_reduced_to_date(cal):
    got = cal.add_workdays(datetime(2020, 10, 16, 15, 30), 0)
    assert type(got) is date and got == D("2020-10-16")
    assert cal.is_workday(datetime(2020, 10, 10, 9, 0)) is True


def test_bad_arguments(cal):
    with pytest.raises(TypeError):
        cal.is_workday("2020-10-10")
    with pytest.raises(TypeError):
        cal.add_workdays(D("2020-10-10"), 1.0)


# --------------------------------------------------------------------------- overrides


def test_extra_holidays_and_workdays():
    base = WorkCalendar()
    cal = WorkCalendar(extra_holidays=[D("2020-10-09")], extra_workdays=[D("2020-10-11")])
    assert base.is_workday(D("2020-10-09")) and not cal.is_workday(D("2020-10-09"))
    assert not base.is_workday(D("2020-10-11")) and cal.is_workday(D("2020-10-11"))
    assert base.add_workdays(D("2020-09-30"), 1) == D("2020-10-09")
    assert cal.add_workdays(D("2020-09-30"), 1) == D("2020-10-10")
    assert cal.add_workdays(D("2020-09-30"), 2) == D("2020-10-11")
    assert base.workdays_between(D("2020-09-30"), D("2020-10-12")) == 3
    assert cal.workdays_between(D("2020-09-30"), D("2020-10-12")) == 3  # -Oct 9 +Oct 11
    assert cal.workdays_between(D("2020-09-30"), D("2020-10-10")) == 1
    assert cal.next_workday(D("2020-10-01")) == D("2020-10-10")
    # an override on a working day that is already a working day changes nothing
    assert WorkCalendar(extra_workdays=[D("2020-10-12")]).workdays_between(D("2020-01-01"), D("2020-12-31")) == (
        base.workdays_between(D("2020-01-01"), D("2020-12-31"))
    )


def test_date_in_both_overrides_raises():
    with pytest.raises(ValueError, match="2020-10-09"):
        WorkCalendar(extra_holidays=[D("2020-10-09")], extra_workdays=[D("2020-10-09")])


def test_years_defines_2027():
    years = {
        2027: {
            "holidays": [D("2027-01-01"), D("2027-02-08")],  # Fri, Mon
            "workdays": [D("2027-02-06")],  # Sat
        }
    }
    cal = WorkCalendar(years=years)
    assert 2027 in cal.covered_years
    assert not cal.is_workday(D("2027-01-01"))
    assert cal.is_workday(D("2027-01-04"))  # plain Monday
    assert not cal.is_workday(D("2027-01-09"))  # plain Saturday
    assert cal.is_workday(D("2027-02-06"))
    assert not cal.is_workday(D("2027-02-08"))
    assert cal.add_workdays(D("2026-12-31"), 1) == D("2027-01-04")
    assert cal.add_workdays(D("2027-02-05"), 1) == D("2027-02-06")
    assert cal.add_workdays(D("2027-02-06"), 1) == D("2027-02-09")
    assert cal.add_workdays(D("2027-01-04"), -1) == D("2026-12-31")
    assert cal.workdays_between(D("2026-12-30"), D("2027-01-05")) == 3  # Dec 31, Jan 4, Jan 5
    # 2027 has 261 weekdays; minus two holidays, plus one Saturday
    assert cal.workdays_between(D("2026-12-31"), D("2027-12-31")) == 261 - 2 + 1
    if FIRST_UNCOVERED == 2027:
        with pytest.raises(CalendarCoverageError) as exc:
            cal.is_workday(D("2028-01-03"))
        assert exc.value.year == 2028
        assert "2027" in str(exc.value) and "[calendar.years.2028]" in str(exc.value)


def test_years_accepts_toml_string_keys_and_overrides_apply_on_top():
    cal = WorkCalendar(years={"2027": {"holidays": [D("2027-01-01")]}}, extra_workdays=[D("2027-01-01")])
    assert cal.is_workday(D("2027-01-01"))


def test_years_can_replace_a_covered_year():
    cal = WorkCalendar(years={2020: {"holidays": [], "workdays": []}})
    assert cal.is_workday(D("2020-10-01"))  # plain Thursday now
    assert not cal.is_workday(D("2020-10-10"))  # plain Saturday now
    assert cal.is_workday(D("2019-10-01")) is False  # other years keep official data


def test_years_date_outside_its_year_raises():
    with pytest.raises(ValueError, match="2028-01-03"):
        WorkCalendar(years={2027: {"holidays": [D("2028-01-03")], "workdays": []}})
    with pytest.raises(ValueError, match="2027-01-02"):
        WorkCalendar(years={2027: {"holidays": [D("2027-01-02")], "workdays": [D("2027-01-02")]}})
    with pytest.raises(ValueError, match="holiday"):
        WorkCalendar(years={2027: {"holiday": [D("2027-01-01")]}})


# --------------------------------------------------------------------------- coverage


def test_uncovered_year_raises(cal):
    with pytest.raises(CalendarCoverageError) as exc:
        cal.is_workday(D("2030-06-03"))
    err = exc.value
    assert isinstance(err, ValueError)
    assert err.year == 2030
    msg = str(err)
    assert "2030" in msg
    assert f"{PKG_FIRST}-{PKG_LAST}" in msg
    assert "[calendar.years.2030]" in msg
    assert "upgrade the chinesecalendar package" in msg
    again = pickle.loads(pickle.dumps(err))
    assert again.year == 2030 and str(again) == msg


def test_first_uncovered_year_raises_for_every_query(cal):
    y = FIRST_UNCOVERED
    d = date(y, 3, 1)
    for call in (
        lambda: cal.is_workday(d),
        lambda: cal.next_workday(d),
        lambda: cal.add_workdays(d, 1),
        lambda: cal.add_workdays(d, -1),
        lambda: cal.workdays_between(date(y - 1, 12, 1), d),
        lambda: cal.workdays_between(d, date(y - 1, 12, 1)),
    ):
        with pytest.raises(CalendarCoverageError) as exc:
            call()
        assert exc.value.year == y
        assert f"[calendar.years.{y}]" in str(exc.value)


def test_walking_from_the_last_covered_december_into_the_next_year_raises(cal):
    """Whatever year the installed chinesecalendar covers last (2026 when this was written)."""
    last = date(FIRST_UNCOVERED - 1, 12, 31)
    while not cal.is_workday(last):
        last -= timedelta(days=1)
    before = last - timedelta(days=1)
    while not cal.is_workday(before):
        before -= timedelta(days=1)
    assert cal.add_workdays(before, 1) == last  # still inside the covered year
    for start, n in ((last, 1), (before, 2), (date(FIRST_UNCOVERED - 1, 12, 1), 30)):
        with pytest.raises(CalendarCoverageError) as exc:
            cal.add_workdays(start, n)
        assert exc.value.year == FIRST_UNCOVERED
    with pytest.raises(CalendarCoverageError):
        cal.workdays_between(last, date(FIRST_UNCOVERED, 1, 1))
    assert cal.next_workday(last) == last


def test_walking_back_before_the_first_year_raises(cal):
    assert cal.add_workdays(D("2004-01-05"), -1) == D("2004-01-02")
    with pytest.raises(CalendarCoverageError) as exc:
        cal.add_workdays(D("2004-01-02"), -1)  # Jan 1 2004 is a holiday: needs 2003
    assert exc.value.year == PKG_FIRST - 1
    # Only the days a query needs are checked: after Dec 31 2003 lies wholly in 2004.
    assert cal.add_workdays(D("2003-12-31"), 1) == D("2004-01-02")
    assert cal.workdays_between(D("2003-12-31"), D("2004-01-02")) == 1


# --------------------------------------------------------------------------- exhaustive + properties


def test_is_workday_agrees_with_package_on_every_covered_day(cal):
    d, end = date(PKG_FIRST, 1, 1), date(PKG_LAST, 12, 31)
    while d <= end:
        assert cal.is_workday(d) is chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


# Property tests keep out of the example database so they write nothing into the checkout.
days_2005_2025 = st.dates(min_value=date(2005, 1, 1), max_value=date(2025, 12, 31))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, database=None)
@given(d=days_2005_2025, n=st.integers(min_value=0, max_value=200))  # stays inside 2026
def test_property_add_then_between_roundtrip(d, n):
    cal = WorkCalendar()
    r = cal.add_workdays(d, n)
    if n > 0:
        assert cal.is_workday(r)
        assert r > d
    assert cal.workdays_between(d, r) == n
    assert cal.workdays_between(r, d) == -n
    # going back from a working-day result lands on the last working day <= d
    if n > 0:
        back = cal.add_workdays(r, -n)
        assert back <= d and cal.is_workday(back)
        assert cal.workdays_between(back, d) == 0
        if cal.is_workday(d):
            assert back == d


@pytest.mark.slow
@settings(max_examples=300, deadline=None, database=None)
@given(d=st.dates(min_value=date(2006, 1, 1), max_value=date(2025, 12, 31)), n=st.integers(min_value=1, max_value=300))
def test_property_negative_n(d, n):
    cal = WorkCalendar()
    r = cal.add_workdays(d, -n)
    assert r < d and cal.is_workday(r)
    # working days in (r, d] are the n-1 between them, plus d itself if it works
    assert cal.workdays_between(r, d) == n - 1 + cal.is_workday(d)


@settings(max_examples=200, deadline=None, database=None)
@given(d=days_2005_2025, n=st.integers(min_value=-200, max_value=200))
def test_property_monotonic_in_n(d, n):
    cal = WorkCalendar()
    # strictly increasing, including across n = 0 (the n = 0 result d sits between)
    assert cal.add_workdays(d, n) < cal.add_workdays(d, n + 1)


@settings(max_examples=200, deadline=None, database=None)
@given(d=days_2005_2025, n=st.integers(min_value=-40, max_value=40))
def test_property_matches_day_by_day_reference(d, n):
    cal = WorkCalendar()
    assert cal.add_workdays(d, n) == naive_add(d, n)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, database=None)
@given(a=days_2005_2025, delta=st.integers(min_value=-400, max_value=400))
def test_property_between_matches_reference(a, delta):
    cal = WorkCalendar()
    b = a + timedelta(days=delta)
    assume(PKG_FIRST <= b.year <= PKG_LAST)  # 400 days from the ends of 2005-2025 leave the calendar (2003, 2027)
    assert cal.workdays_between(a, b) == naive_between(a, b)


@settings(max_examples=300, deadline=None, database=None)
@given(d=st.dates(min_value=date(PKG_FIRST, 1, 1), max_value=date(PKG_LAST, 12, 31)))
def test_property_is_workday_and_next_workday(d):
    cal = WorkCalendar()
    assert cal.is_workday(d) is chinese_calendar.is_workday(d)
    if d < date(PKG_LAST, 12, 20):
        expected = d if chinese_calendar.is_workday(d) else naive_add(d, 1)
        assert cal.next_workday(d) == expected
