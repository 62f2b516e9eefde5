"""What the static analysis (bounds.py) knows about the value of a sub-expression, before any case.

One of: an Interval (a number within those bounds), Known (a value known now), OneOf (one
of a few values known now: a map's values looked up with a key known only at run time, the
rows of a tier table) or Unknown (only the kind is known).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import values as V
from .interval import UNBOUNDED, Interval, is_number


@dataclass(frozen=True)
class Known:
    value: Any


@dataclass(frozen=True)
class OneOf:
    values: tuple


@dataclass(frozen=True)
class Unknown:
    # number, text, date, bool, list, any (a name or field: a record or a value), opaque
    # (a value read with extra(): its fields are unknown too)
    kind: str
    element: Interval | None = None  # a list of numbers known to lie in these bounds


ANY = Unknown("any")
BOOL = Unknown("bool")
TEXT = Unknown("text")
DATE = Unknown("date")
DATETIME = Unknown("datetime")


def one_of(values: list):
    if not values:
        return ANY
    first = values[0]
    if all(V.kind(v) == V.kind(first) and v == first for v in values):
        return Known(first)
    return OneOf(tuple(values))


def kind_of(value) -> str:
    if isinstance(value, Interval):
        return "number"
    if isinstance(value, Known):
        return V.kind(value.value)
    if isinstance(value, OneOf):
        kinds = {V.kind(v) for v in value.values}
        return kinds.pop() if len(kinds) == 1 else "any"
    return "any" if value.kind == "opaque" else value.kind


def to_number(value) -> Interval | None:
    """The bounds of a value used as a number; None when it is certainly not a number."""
    if isinstance(value, Interval):
        return value
    if isinstance(value, Known):
        return Interval.point(value.value) if is_number(value.value) else None
    if isinstance(value, OneOf):
        numbers = [v for v in value.values if is_number(v)]
        return Interval(min(numbers), max(numbers)) if numbers else None
    return UNBOUNDED if value.kind in ("number", "any", "opaque") else None


def number_or_unbounded(value) -> Interval:
    found = to_number(value)
    return UNBOUNDED if found is None else found


def constants(value) -> list | None:
    if isinstance(value, Known):
        return [value.value]
    if isinstance(value, OneOf):
        return list(value.values)
    return None


def join(a, b):
    """A value that is either a or b (null is left out: the bounds are of numbers)."""
    if isinstance(a, Known) and a.value is None:
        return b
    if isinstance(b, Known) and b.value is None:
        return a
    ca, cb = constants(a), constants(b)
    if ca is not None and cb is not None:
        return one_of(ca + cb)
    ka, kb = kind_of(a), kind_of(b)
    if "number" in (ka, kb):
        x, y = to_number(a), to_number(b)
        # a branch that is certainly not a number adds nothing to the bounds of numbers
        return x if y is None else y if x is None else x.hull(y)
    return Unknown(ka) if ka == kb else ANY


def truth(value) -> bool | None:
    return V.truthy(value.value) if isinstance(value, Known) else None


def satisfies(left, op: str, right) -> bool | None:
    try:
        return V.compare(op, left, right)
    except V.EvalError:
        return None


def arith(op: str, a, b):
    """a op b (+ - * /) on abstract values."""
    if isinstance(a, Known) and isinstance(b, Known):
        try:
            return Known(V.arith(op, a.value, b.value))
        except V.EvalError:
            return ANY
    ka, kb = kind_of(a), kind_of(b)
    if op == "+" and "text" in (ka, kb):
        return TEXT
    if "datetime" in (ka, kb):
        return ANY  # refused when compiled: a date-time moves by working hours
    if "date" in (ka, kb):
        if op == "-" and ka == kb == "date":
            return UNBOUNDED
        return DATE
    x, y = number_or_unbounded(a), number_or_unbounded(b)
    return {"+": x.__add__, "-": x.__sub__, "*": x.__mul__, "/": x.__truediv__}[op](y)
