"""Values of the rule language and what operators do with them.

Kinds: number (int or exact Fraction), text, date, datetime (local, to the minute), bool, null, list, map, and records
(an event, the case, the handler). null models "there is none" (the first reply of a case
without replies): comparisons with null are false, arithmetic and date functions pass it
on, and it prints as "—". Mixing kinds in an ordering comparison or in arithmetic is an
error, never a silent false.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

from . import limits
from .operators import ON_NUMBERS, ORDERING


class EvalError(ValueError):
    """A rule expression failed on some data (the caller adds which rule and which case)."""


class LimitError(EvalError):
    """A value grew beyond one of the limits of limits.py."""


class Record:
    """An event, a case or a handler: named fields, extra fields kept apart."""

    __slots__ = ("extras", "fields", "kind", "order")

    def __init__(self, kind: str, fields: dict, extras: dict | None = None, order: int = 0):
        self.kind = kind
        self.fields = fields
        self.extras = extras or {}
        self.order = order  # position of an event in its handler's timeline (date, then id)

    def __repr__(self) -> str:
        return f"<{self.kind} {self.fields.get('id', '')}>"


# by exact type: isinstance() against Fraction goes through the numbers ABCs and is slow,
# and the language only ever holds these types (from_data converts everything else)
_KINDS = {type(None): "null", bool: "bool", int: "number", Fraction: "number", str: "text", dt.date: "date",
          dt.datetime: "datetime", list: "list", dict: "map"}


def kind(value) -> str:
    found = _KINDS.get(type(value))
    if found is not None:
        return found
    if type(value) is Record:
        return value.kind
    return type(value).__name__


def normal(value):
    """Fractions that are whole numbers become ints (faster, and print without a slash)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def from_data(value):
    """Convert a value read from JSON or TOML into the language's kinds."""
    if type(value) in _KINDS and type(value) not in (list, dict, Fraction, dt.datetime):
        return value
    if isinstance(value, dt.datetime):  # a TOML date-time in a rule file is taken as its day, as it always was
        return value.date()
    if isinstance(value, (Decimal, float)):
        return normal(Fraction(str(value)) if isinstance(value, float) else Fraction(value))
    if isinstance(value, Fraction):
        return normal(value)
    if isinstance(value, list):
        return [from_data(item) for item in value]
    if isinstance(value, dict):
        return {str(k): from_data(v) for k, v in value.items()}
    return value


def truthy(value) -> bool:
    if value is None:
        return False
    if type(value) is Record:
        return True
    return bool(value)  # numbers: not zero; texts, lists and maps: not empty


def compare(op: str, left, right) -> bool:
    if left is None or right is None:
        return False
    lk, rk = kind(left), kind(right)
    if op in ("in", "not in"):
        return _contains(left, right, lk, rk) == (op == "in")
    if op == "==":
        return lk == rk and left == right
    if op == "!=":
        return lk != rk or left != right
    if lk != rk or lk not in _ORDERED:
        raise EvalError(f"cannot compare {lk} with {rk} using {op}")
    return ORDERING[op](left, right)


_ORDERED = {"number", "date", "datetime", "text"}


def _contains(item, container, lk: str, rk: str) -> bool:
    if rk == "list":
        return any(compare("==", item, member) for member in container)
    if rk == "map":
        return lk == "text" and item in container
    if rk == lk == "text":
        return item in container
    raise EvalError(f'"in" needs a list, a map or a text on its right, not {rk}')


def arith(op: str, left, right):
    lk, rk = kind(left), kind(right)
    if op == "+" and "text" in (lk, rk):
        return checked_text(format_value(left) + format_value(right))
    if left is None or right is None:
        return None
    if lk == rk == "number":
        if op == "/":
            if right == 0:
                raise EvalError("division by zero")
            return checked_number(normal(Fraction(left) / right))
        return checked_number(normal(ON_NUMBERS[op](left, right)))
    if op in ("+", "-") and lk == "date" and rk == "number":
        return _add_days(left, right if op == "+" else -right)
    if op == "+" and lk == "number" and rk == "date":
        return _add_days(right, left)
    if op == "-" and lk == rk == "date":
        return (left - right).days
    raise EvalError(f"cannot compute {lk} {op} {rk}")


def checked_number(value):
    """A number computed by the rules, refused when it grew beyond the limit (see limits.py)."""
    if limits.number_too_large(value):
        raise LimitError(limits.COMPUTED_NUMBER)
    return value


def checked_text(value: str) -> str:
    if len(value) > limits.MAX_TEXT:
        raise LimitError(limits.COMPUTED_TEXT)
    return value


def checked_places(places: int) -> int:
    """The places of round() and percent(): 10^places must stay a number one can compute with."""
    if abs(places) > limits.MAX_PLACES:
        raise LimitError(f"{places} places: at most {limits.MAX_PLACES} (either side of the point)")
    return places


MAX_DAYS = (dt.date.max - dt.date.min).days  # adding more leaves the calendar, from any date


def _add_days(day: dt.date, days) -> dt.date:
    if isinstance(days, Fraction):
        raise EvalError(f"cannot add a fraction of a day ({format_value(days)}) to a date")
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        raise EvalError("date out of range") from None


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` months later (or earlier), clamped to the target month's last day."""
    year, month0 = divmod(day.year * 12 + (day.month - 1) + months, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise EvalError("date out of range")
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def negate(value):
    if value is None:
        return None
    if kind(value) != "number":
        raise EvalError(f"cannot negate {kind(value)}")
    return -value


def round_half_up(value, places: int = 2) -> Decimal:
    """Round an exact number half away from zero, as published score tables do."""
    places = checked_places(places)
    scaled = abs(Fraction(value)) * (10**places if places >= 0 else Fraction(1, 10**-places))
    whole = math.floor(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(-whole if value < 0 else whole).scaleb(-places)


def format_number(value, places: int = 2) -> str:
    text = format(round_half_up(value, places), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_value(value) -> str:
    found = kind(value)
    if found == "text":
        return value
    if found == "null":
        return "—"
    if found == "bool":
        return "是" if value else "否"
    if found == "number":
        return str(value) if type(value) is int else format_number(value)
    if found == "date":
        return value.isoformat()
    if found == "datetime":
        return value.strftime("%Y-%m-%d %H:%M")
    if found == "list":
        return "、".join(format_value(item) for item in value)
    if type(value) is Record:
        return str(value.fields.get("id", value.fields.get("name", value.kind)))  # an event's id, a department's name
    return str(value)
