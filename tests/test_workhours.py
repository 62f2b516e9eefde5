"""Working hours on the official calendar: add_workhours and workhours_between against a
brute-force count of every minute, on random inputs."""
from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction

import pytest

from scoring.domain.workdays import NoWorkingHours, WorkCalendar, parse_working_hours

MINUTE = dt.timedelta(minutes=1)


def is_working_minute(calendar: WorkCalendar, moment: dt.datetime) -> bool:
    minute = moment.hour * 60 + moment.minute
    return calendar.is_workday(moment.date()) and any(start <= minute < end for start, end in calendar.working_hours)


def brute_between(calendar, a, b):
    if b < a:
        return -brute_between(calendar, b, a)
    count, moment = 0, a
    while moment < b:
        count += is_working_minute(calendar, moment)
        moment += MINUTE
    return Fraction(count, 60)


def brute_add(calendar, t, minutes):
    moment = t
    while minutes:
        minutes -= is_working_minute(calendar, moment)
        moment += MINUTE
    return moment


def random_hours(rng: random.Random) -> tuple[tuple[int, int], ...]:
    cuts = sorted(rng.sample(range(0, 24 * 60 + 1, 15), 2 * rng.randint(1, 3)))
    # touching periods are one period: keep only the pairs with a gap before them
    periods = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]
    return tuple(p for i, p in enumerate(periods) if i == 0 or p[0] > periods[i - 1][1])


def random_moment(rng: random.Random) -> dt.datetime:
    # around the 2023 National Day week, with its adjusted working weekend (2023-10-07 and 08)
    start = dt.datetime(2023, 9, 25)
    return start + dt.timedelta(minutes=rng.randrange(20 * 24 * 60))


def test_parse_working_hours():
    assert parse_working_hours(["09:00-12:00", "13:30-17:30"]) == ((540, 720), (810, 1050))
    assert parse_working_hours(["00:00-24:00"]) == ((0, 1440),)
    for wrong in (["9:00-12:00"], ["12:00-09:00"], ["09:00-12:00", "11:00-13:00"], ["09:00-12:00", "12:00-13:00"],
                  ["09:60-10:00"], ["23:00-24:30"]):
        with pytest.raises(ValueError):
            parse_working_hours(wrong)


def test_examples_on_the_official_calendar():
    calendar = WorkCalendar(working_hours=parse_working_hours(["09:00-12:00", "13:30-17:30"]))
    friday = dt.datetime(2023, 9, 22, 16, 30)
    assert calendar.add_workhours(friday, 2) == dt.datetime(2023, 9, 25, 10, 0)
    assert calendar.add_workhours(dt.datetime(2023, 9, 25, 11, 0), 1) == dt.datetime(2023, 9, 25, 12, 0)
    assert calendar.add_workhours(dt.datetime(2023, 9, 25, 12, 30), Fraction(1, 2)) == dt.datetime(2023, 9, 25, 14, 0)
    # the National Day holiday (2023-09-29 to 10-06), then the adjusted working Saturday 10-07
    assert calendar.add_workhours(dt.datetime(2023, 9, 28, 17, 0), 1) == dt.datetime(2023, 10, 7, 9, 30)
    assert calendar.workhours_between(friday, dt.datetime(2023, 9, 25, 10, 0)) == 2
    assert calendar.workhours_between(dt.datetime(2023, 9, 25, 10, 0), friday) == -2
    assert calendar.workhours_between(dt.datetime(2023, 9, 25, 9, 0), dt.datetime(2023, 9, 25, 9, 20)) == Fraction(1, 3)
    with pytest.raises(ValueError):
        calendar.add_workhours(friday, Fraction(1, 120))  # half a minute
    with pytest.raises(ValueError):
        calendar.add_workhours(friday, -1)
    with pytest.raises(ValueError):
        calendar.workhours_between(dt.datetime(2023, 9, 25, 9, 0, 30), friday)
    with pytest.raises(NoWorkingHours):
        WorkCalendar().workhours_between(friday, friday)


@pytest.mark.parametrize("seed", range(4))
def test_against_counting_every_minute(seed):
    rng = random.Random(seed)
    for _ in range(40):
        calendar = WorkCalendar(working_hours=random_hours(rng))
        a, b = random_moment(rng), random_moment(rng)
        assert calendar.workhours_between(a, b) == brute_between(calendar, a, b), (calendar.working_hours, a, b)
        minutes = rng.choice([0, 1, rng.randrange(1, 600), rng.randrange(1, 3000),
                              sum(end - start for start, end in calendar.working_hours)])
        got = calendar.add_workhours(a, Fraction(minutes, 60))
        assert got == brute_add(calendar, a, minutes), (calendar.working_hours, a, minutes)
        assert calendar.workhours_between(a, got) == Fraction(minutes, 60)
