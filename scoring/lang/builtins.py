"""The built-in functions of the rule language, each declared once (as OPA's ast/builtins.go
declares its own): its arity, its implementation, the kind of its result, and how the static
analysis bounds it.

The parser (syntax.py) checks calls against the arity, the compiler (evaluator.py) runs the
implementation and types the result, bounds.py applies the bounds rule. An aggregate takes one
source of items (an event type, `events`, a generator over one of them, or a list) and folds
the (item, value) pairs the compiler draws from it.

The working-day functions take the calendar handed to the compiler as their first argument:
an object with is_workday(d), next_workday(d), add_workdays(d, n) and workdays_between(a, b),
and for the working-hour functions add_workhours(t, n) and workhours_between(a, b) over local
date-times to the minute.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

from scoring.base.i18n import N_, _

from . import abstract as A
from . import values as V
from .interval import NON_NEGATIVE, UNBOUNDED, Interval
from .limits import MAX_PLACES
from .nodes import Call, Const, ExprError, ListLit
from .operators import GREATER, LESS


@dataclass(frozen=True)
class Builtin:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    result: str  # static kind of the result; "same": the first argument's, or an aggregate's items'
    run: Callable | None = None  # the implementation, called with the argument values
    calendar: bool = False  # run takes the working-day calendar first
    hours: bool = False  # counts working hours: refused where the calendar has none
    null_safe: bool = False  # a null argument gives null, without calling run
    fold: Callable | None = None  # an aggregate: its result from the (item, value) pairs of its source
    bounds: Callable | None = None  # (call, argument values, facts) -> abstract value; None: any of its kind
    items_bounds: Callable | None = None  # (items, element) -> abstract value, from the one argument's items
    check: Callable | None = None  # (call): raises ExprError for a call the compiler refuses
    check_known: Callable | None = None  # (argument values, UNKNOWN where not known now): raises EvalError
    constant: Callable | None = None  # (call) -> its value, computed when compiling
    takes: tuple[tuple[str, ...], ...] = ()  # the static kinds each argument may have (none: any); "any" always passes
    wanted: str = ""  # what the arguments should be, in the refusal of a kind that `takes` does not allow

    @property
    def aggregate(self) -> bool:
        return self.fold is not None

    def implementation(self, calendar) -> Callable:
        """run, with the calendar bound and nulls passed on as declared."""
        run = partial(self.run, calendar) if self.calendar else self.run
        if not self.null_safe:
            return run

        def null_safe(*args):
            return None if any(arg is None for arg in args) else run(*args)
        return null_safe


# rule-test coverage: (table, row index) of every row tier() picks while a list is set here
TIERS_PICKED: ContextVar[list | None] = ContextVar("tiers_picked", default=None)


# ---------------------------------------------------------------- implementations

def _need(value, wanted: str, func: str):
    if V.kind(value) != wanted:
        raise V.EvalError(f"{func}() needs a {wanted}, got {V.kind(value)} ({V.format_value(value)})")


def _whole(value, func: str) -> int:
    _need(value, "number", func)
    if isinstance(value, Fraction):
        raise V.EvalError(f"{func}() needs a whole number, got {V.format_value(value)}")
    return value


NOT_CONSTANT = object()  # what a `constant` hook gives for a call it leaves to `run`


def _date_literal(call: Call):
    """date("2020-12-31") is known now; date(t) of a date-time is its day, computed with the case."""
    arg = call.args[0]
    if not isinstance(arg, Const):
        return NOT_CONSTANT
    if not isinstance(arg.value, str):
        raise ExprError(_('date() takes a literal text such as date("2020-12-31"), or a date-time'), call.col)
    try:
        return dt.date.fromisoformat(arg.value)
    except ValueError:
        raise ExprError(_('"{value}" is not a date YYYY-MM-DD').format(value=arg.value), arg.col) from None


def _datetime_literal(call: Call) -> dt.datetime:
    arg = call.args[0]
    if not (isinstance(arg, Const) and isinstance(arg.value, str)):
        raise ExprError(_('datetime() takes a literal text such as datetime("2023-05-04T09:15")'), call.col)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", arg.value):
        raise ExprError(_('"{value}" is not a date-time YYYY-MM-DDTHH:MM').format(value=arg.value), arg.col)
    try:
        return dt.datetime.fromisoformat(arg.value)
    except ValueError:
        raise ExprError(_('"{value}" is not a date-time YYYY-MM-DDTHH:MM').format(value=arg.value), arg.col) from None


def _day_of(moment):
    _need(moment, "datetime", "date")
    return moment.date()


def _add_workhours(calendar, moment, hours):
    _need(moment, "datetime", "add_workhours")
    _need(hours, "number", "add_workhours")
    return calendar.add_workhours(moment, hours)


def _workhours_between(calendar, a, b):
    _need(a, "datetime", "workhours_between")
    _need(b, "datetime", "workhours_between")
    return V.normal(Fraction(calendar.workhours_between(a, b)))


def _add_days(day, days):
    _need(day, "date", "add_days")
    return V.arith("+", day, _whole(days, "add_days"))


def _days_between(a, b):
    _need(a, "date", "days_between")
    _need(b, "date", "days_between")
    return (b - a).days


def _add_workdays(calendar, day, n):
    _need(day, "date", "add_workdays")
    return calendar.add_workdays(day, _whole(n, "add_workdays"))


def _workdays_between(calendar, a, b):
    _need(a, "date", "workdays_between")
    _need(b, "date", "workdays_between")
    return calendar.workdays_between(a, b)


def _next_workday(calendar, day):
    _need(day, "date", "next_workday")
    return calendar.next_workday(day)


def _is_workday(calendar, day):
    _need(day, "date", "is_workday")
    return calendar.is_workday(day)


def _add_months(day, n):
    _need(day, "date", "add_months")
    return V.add_months(day, _whole(n, "add_months"))


def _same_kind_extreme(pick, found: list):
    if not found:
        return None
    kinds = {V.kind(value) for value in found}
    if len(kinds) > 1 or kinds - {"number", "date", "text"}:
        raise V.EvalError(f"cannot compare {' and '.join(sorted(kinds))} in {pick.__name__}()")
    return pick(found)


def _scalar_extreme(pick):
    """min(a, b, ...) and max(...) of values; of one list, its extreme."""
    def fn(*args):
        if len(args) == 1 and isinstance(args[0], list):
            return _same_kind_extreme(pick, [a for a in args[0] if a is not None])
        if any(arg is None for arg in args):
            return None
        return _same_kind_extreme(pick, list(args))
    return fn


def _abs(x):
    _need(x, "number", "abs")
    return abs(x)


def _clamp(x, low, high):
    for value in (x, low, high):
        _need(value, "number", "clamp")
    return min(max(x, low), high)


def _round(x, places=0):
    if x is None:
        return None
    _need(x, "number", "round")
    return V.normal(Fraction(V.round_half_up(x, _whole(places, "round"))))


UNKNOWN = object()  # an argument whose value is known only while scoring


def _known_places(func: str):
    """round(x, places), percent(x, places): places known now are checked now, not on every case."""
    def check(values):
        if len(values) > 1 and values[1] is not UNKNOWN and values[1] is not None:
            V.checked_places(_whole(values[1], func))
    return check


def _known_shift(func: str, most: int):
    """add_days(d, n), add_workdays(d, n), add_months(d, n): an n known now that leaves the calendar from any date."""
    def check(values):
        n = values[1]
        if V.kind(n) == "number" and abs(n) > most:
            raise V.EvalError(f"{func}() of {V.format_value(n)} is past the calendar (years 1 to 9999) from any date")
    return check


def _coalesce(*args):
    return next((arg for arg in args if arg is not None), None)


def _present(x):
    return x is not None


def _literal_field_name(call: Call):
    key = call.args[1]
    if not (isinstance(key, Const) and isinstance(key.value, str)):
        raise ExprError(_('the field name of extra(x, "name") must be a literal text'), call.col)


def _extra(record, name):
    if record is None:
        return None
    if not isinstance(record, V.Record):
        raise V.EvalError(f"extra() reads a field of an event, the case or the handler, not of {V.kind(record)}")
    return record.extras.get(name)


def _percent(x, places=2):
    if x is None:
        return None
    _need(x, "number", "percent")
    return V.format_number(Fraction(x) * 100, _whole(places, "percent")) + "%"


def _len(x):
    if x is None:
        return 0
    if isinstance(x, (list, str, dict)):
        return len(x)
    raise V.EvalError(f"len() of {V.kind(x)}")


def _mean(values):
    if values is None:
        return None
    if not isinstance(values, list):
        raise V.EvalError(f"mean() takes a list of numbers, not {V.kind(values)}")
    numbers = [v for v in values if v is not None]
    for v in numbers:
        _need(v, "number", "mean")
    return V.checked_number(V.normal(Fraction(sum(numbers, 0), len(numbers)))) if numbers else None


def _tier(value, table):
    """The entry of a tier table (tables with from/below, half-open) that holds value; null if none does."""
    if value is None:
        return None
    if not isinstance(table, list) or not all(isinstance(t, dict) for t in table):
        raise V.EvalError("tier() takes a list of tables with from/below, such as params.workload_tiers")
    for index, entry in enumerate(table):
        low, high = entry.get("from"), entry.get("below")
        if (low is None or not V.compare("<", value, low)) and (high is None or V.compare("<", value, high)):
            picked = TIERS_PICKED.get()
            if picked is not None:
                picked.append((table, index))
            return entry
    return None


# folds of the aggregates, over the (item, value) pairs of their source
def _exists(pairs):
    return any(True for _ in pairs)


def _count(pairs):
    return sum(1 for _ in pairs)


def _sum(pairs):
    result = 0
    for _key, value in pairs:
        if value is not None:
            result = V.arith("+", result, value)
    return result


def _in_timeline_order(pick):
    """first / last: the value of the earliest (latest) item; an event by its place in the timeline."""
    def fold(pairs):
        found = [(item.order if isinstance(item, V.Record) else index, value)
                 for index, (item, value) in enumerate(pairs)]
        return pick(found, key=lambda pair: pair[0])[1] if found else None
    return fold


def _extreme_value(pick):
    def fold(pairs):
        return _same_kind_extreme(pick, [value for _, value in pairs if value is not None])
    return fold


# ---------------------------------------------------------------- bounds rules
#
# A call's rule gets the Call, the abstract values of its arguments (see abstract.py) and the
# facts that hold where it is computed (comparisons: the `and` parts of the rule's `when`).

def _numbers(values) -> list[Interval] | None:
    found = [A.to_number(v) for v in values]
    return None if any(v is None for v in found) else found


def _folded(result: Interval, values):
    """A point computed from values all known now is itself known now."""
    if result.is_point and all(isinstance(v, A.Known) for v in values):
        return A.Known(result.lo)
    return result


def _extreme_bounds(func: str):
    def rule(call, values, facts):
        numbers = _numbers(values)
        if numbers is None:
            kinds = {A.kind_of(v) for v in values}
            return A.Unknown(kinds.pop()) if len(kinds) == 1 else A.ANY
        result = numbers[0]
        for number in numbers[1:]:
            result = result.min(number) if func == "min" else result.max(number)
        return _folded(result, values)
    return rule


def _abs_bounds(call, values, facts):
    number = A.to_number(values[0])
    return A.ANY if number is None else _folded(number.abs(), values)


def _clamp_bounds(call, values, facts):
    numbers = _numbers(values)
    return A.ANY if numbers is None else _folded(numbers[0].clamp(numbers[1], numbers[2]), values)


def _round_bounds(call, values, facts):
    number = A.to_number(values[0])
    if number is None:
        return A.ANY
    places = values[1] if len(values) > 1 else A.Known(0)
    if isinstance(places, A.Known) and type(places.value) is int and 0 <= places.value <= MAX_PLACES:
        return _folded(number.round(places.value), values)
    fewest = A.to_number(places)
    if fewest is None or fewest.lo is None:
        return UNBOUNDED
    # rounding to p places moves a number by at most half a unit of the p-th place (p below the
    # limit is an error, not a number)
    return number.widen(Fraction(1, 2) * Fraction(10) ** -min(max(int(fewest.lo), -MAX_PLACES), MAX_PLACES))


def _len_bounds(call, values, facts):
    arg = call.args[0]
    if isinstance(arg, ListLit):
        return A.Known(len(arg.items))
    if isinstance(values[0], A.Known):
        value = values[0].value
        if value is None:
            return A.Known(0)
        if isinstance(value, (list, str, dict)):
            return A.Known(len(value))
    return NON_NEGATIVE


def _coalesce_bounds(call, values, facts):
    result = A.Known(None)
    for value in values:
        result = A.join(result, value)
    return result


def _date_bounds(call, values, facts):
    if isinstance(values[0], A.Known) and isinstance(values[0].value, str):
        try:
            return A.Known(dt.date.fromisoformat(values[0].value))
        except ValueError:
            pass
    return A.DATE


def _datetime_bounds(call, values, facts):
    if isinstance(values[0], A.Known) and isinstance(values[0].value, str):
        try:
            return A.Known(dt.datetime.fromisoformat(values[0].value))
        except ValueError:
            pass
    return A.DATETIME


def _known_hours(values):
    """add_workhours(t, n): an n known now that is negative or not whole minutes is refused now."""
    hours = values[1]
    if V.kind(hours) == "number" and (hours < 0 or (Fraction(hours) * 60).denominator != 1):
        raise V.EvalError(f"add_workhours() adds a whole number of minutes, at least 0, not {V.format_value(hours)} hours")


def _add_days_bounds(call, values, facts):
    if all(isinstance(v, A.Known) for v in values) and type(values[1].value) is int:
        return A.arith("+", *values)
    return A.DATE


def _between_bounds(workdays: bool):
    """days_between(a, b), workdays_between(a, b), workhours_between(a, b): at least 0 where a fact says b is
    after a."""
    def rule(call, values, facts):
        a, b = call.args
        if all(isinstance(v, A.Known) and type(v.value) is dt.date for v in values):
            days = (values[1].value - values[0].value).days
            # working days have the sign of the calendar days, and are no more of them
            return Interval(min(0, days), max(0, days)) if workdays else A.Known(days)
        if a == b:
            return Interval(0, 0)
        for fact in facts:
            if (fact.op in GREATER and (fact.left, fact.right) == (b, a)) or (
                    fact.op in LESS and (fact.left, fact.right) == (a, b)):
                return NON_NEGATIVE
            if (fact.op in GREATER and (fact.left, fact.right) == (a, b)) or (
                    fact.op in LESS and (fact.left, fact.right) == (b, a)):
                return Interval(None, 0)
        return UNBOUNDED
    return rule


def _tier_bounds(call, values, facts):
    """tier(x, table) is one row of the table: any of them, as far as bounds go."""
    tables = A.constants(values[1]) if len(values) > 1 else None
    if tables is None:
        return A.ANY
    rows = []
    for table in tables:
        rows += table if isinstance(table, list) else list(table.values()) if isinstance(table, dict) else []
    return A.one_of(rows)


def _opaque(call, values, facts):
    return A.Unknown("opaque")  # an extra field: neither it nor its fields are known


# Rules over the items of a source: `items` lists (certain, value) pairs when the source is a
# list known now (certain: its condition surely holds), else it is None and `element` is the
# value of any item.

def _exists_bounds(items, element):
    if items is None:
        return A.BOOL
    certain = sum(1 for sure, _ in items if sure)
    return A.Known(True) if certain else A.Known(False) if not items else A.BOOL


def _count_bounds(items, element):
    if items is None:
        return NON_NEGATIVE
    certain = sum(1 for sure, _ in items if sure)
    return A.Known(certain) if certain == len(items) else Interval(certain, len(items))


def _sum_bounds(items, element):
    if items is None:  # any number of items
        if A.kind_of(element) in ("text", "date"):
            return A.ANY
        each = A.number_or_unbounded(element)
        return Interval(None if each.lo is None or each.lo < 0 else 0,
                        None if each.hi is None or each.hi > 0 else 0)
    total = A.Known(0)
    for sure, value in items:
        if isinstance(value, A.Known) and value.value is None:
            continue
        if A.kind_of(value) in ("text", "date"):
            return A.ANY
        if not sure or not isinstance(value, (A.Known, A.OneOf)):
            value = A.number_or_unbounded(value).hull(0)  # left out, or null (counts as 0)
        total = A.arith("+", total, value)
    return total


def _one_of_the_items(items, element):
    """first, last, min, max, mean: one of the items, or between them."""
    if items is None:
        return element
    result = A.Known(None)
    for _key, value in items:
        result = A.join(result, value)
    return result


BUILTINS: dict[str, Builtin] = {b.name: b for b in [
    Builtin("date", 1, 1, "date", _day_of, null_safe=True, constant=_date_literal, bounds=_date_bounds,
            takes=(("datetime",),), wanted=N_('a literal text such as date("2020-12-31"), or a date-time')),
    Builtin("datetime", 1, 1, "datetime", constant=_datetime_literal, bounds=_datetime_bounds),
    Builtin("add_days", 2, 2, "date", _add_days, null_safe=True, bounds=_add_days_bounds,
            check_known=_known_shift("add_days", V.MAX_DAYS)),
    Builtin("days_between", 2, 2, "number", _days_between, null_safe=True, bounds=_between_bounds(workdays=False)),
    Builtin("add_workdays", 2, 2, "date", _add_workdays, calendar=True, null_safe=True,
            check_known=_known_shift("add_workdays", V.MAX_DAYS)),
    Builtin("workdays_between", 2, 2, "number", _workdays_between, calendar=True, null_safe=True,
            bounds=_between_bounds(workdays=True)),
    Builtin("next_workday", 1, 1, "date", _next_workday, calendar=True, null_safe=True),
    Builtin("is_workday", 1, 1, "bool", _is_workday, calendar=True, null_safe=True),
    Builtin("add_workhours", 2, 2, "datetime", _add_workhours, calendar=True, hours=True, null_safe=True,
            check_known=_known_hours,
            takes=(("datetime",), ("number",)), wanted=N_("a date-time and a number of hours")),
    Builtin("workhours_between", 2, 2, "number", _workhours_between, calendar=True, hours=True, null_safe=True,
            bounds=_between_bounds(workdays=False), takes=(("datetime",), ("datetime",)), wanted=N_("two date-times")),
    Builtin("add_months", 2, 2, "date", _add_months, null_safe=True, check_known=_known_shift("add_months", 12 * 9999)),
    Builtin("min", 1, None, "same", _scalar_extreme(min), fold=_extreme_value(min), bounds=_extreme_bounds("min"),
            items_bounds=_one_of_the_items),
    Builtin("max", 1, None, "same", _scalar_extreme(max), fold=_extreme_value(max), bounds=_extreme_bounds("max"),
            items_bounds=_one_of_the_items),
    Builtin("abs", 1, 1, "number", _abs, null_safe=True, bounds=_abs_bounds),
    Builtin("clamp", 3, 3, "number", _clamp, null_safe=True, bounds=_clamp_bounds),
    Builtin("round", 1, 2, "number", _round, bounds=_round_bounds, check_known=_known_places("round")),
    Builtin("coalesce", 1, None, "same", _coalesce, bounds=_coalesce_bounds),
    Builtin("present", 1, 1, "bool", _present),
    Builtin("extra", 2, 2, "any", _extra, check=_literal_field_name, bounds=_opaque),
    Builtin("percent", 1, 2, "text", _percent, check_known=_known_places("percent")),
    Builtin("len", 1, 1, "number", _len, bounds=_len_bounds),
    Builtin("mean", 1, 1, "number", _mean, items_bounds=_one_of_the_items),
    Builtin("tier", 2, 2, "map", _tier, bounds=_tier_bounds),
    Builtin("exists", 1, 1, "bool", fold=_exists, items_bounds=_exists_bounds),
    Builtin("count", 1, 1, "number", fold=_count, items_bounds=_count_bounds),
    Builtin("sum", 1, 1, "number", fold=_sum, items_bounds=_sum_bounds),
    Builtin("first", 1, 1, "same", fold=_in_timeline_order(min), items_bounds=_one_of_the_items),
    Builtin("last", 1, 1, "same", fold=_in_timeline_order(max), items_bounds=_one_of_the_items),
]}

# the functions a generator may be the argument of
AGGREGATES = sorted(name for name, builtin in BUILTINS.items() if builtin.aggregate)
