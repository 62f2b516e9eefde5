"""Exact intervals of numbers, with the arithmetic the static analysis (bounds.py) does on them."""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from . import values as V
from .limits import number_too_large

_INF = float("inf")


def _exact(value):
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("an interval bound must be a number, not a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, (Fraction, Decimal, float)):
        return V.from_data(value)
    raise TypeError(f"an interval bound must be a number, not {type(value).__name__}")


def is_number(value) -> bool:
    """A number of the language (an int or an exact Fraction; not a bool)."""
    return type(value) in (int, Fraction)


@dataclass(frozen=True)
class Interval:
    """Exact closed bounds lo … hi of a number; None is an unbounded end (−∞ or +∞)."""

    lo: int | Fraction | None = None
    hi: int | Fraction | None = None

    def __post_init__(self):
        lo, hi = _within_limits(_exact(self.lo), math.floor), _within_limits(_exact(self.hi), math.ceil)
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"empty interval: {lo} > {hi}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @classmethod
    def point(cls, value) -> Interval:
        return cls(value, value)

    @property
    def is_point(self) -> bool:
        return self.lo is not None and self.lo == self.hi

    @property
    def is_bounded(self) -> bool:
        return self.lo is not None and self.hi is not None

    def contains(self, value) -> bool:
        return (self.lo is None or self.lo <= value) and (self.hi is None or value <= self.hi)

    __contains__ = contains

    def hull(self, other) -> Interval:
        """The smallest interval holding both (a union, with the gap filled)."""
        other = _coerce(other)
        lo = None if self.lo is None or other.lo is None else min(self.lo, other.lo)
        hi = None if self.hi is None or other.hi is None else max(self.hi, other.hi)
        return Interval(lo, hi)

    __or__ = hull

    def intersect(self, other) -> Interval | None:
        """The common part, or None when there is none."""
        other = _coerce(other)
        lo = other.lo if self.lo is None else self.lo if other.lo is None else max(self.lo, other.lo)
        hi = other.hi if self.hi is None else self.hi if other.hi is None else min(self.hi, other.hi)
        if lo is not None and hi is not None and lo > hi:
            return None
        return Interval(lo, hi)

    # arithmetic; a plain number on either side is a point interval
    def __neg__(self) -> Interval:
        return Interval(None if self.hi is None else -self.hi, None if self.lo is None else -self.lo)

    def __pos__(self) -> Interval:
        return self

    def __add__(self, other) -> Interval:
        other = _coerce(other, None)
        if other is None:
            return NotImplemented
        lo = None if self.lo is None or other.lo is None else self.lo + other.lo
        hi = None if self.hi is None or other.hi is None else self.hi + other.hi
        return Interval(lo, hi)

    __radd__ = __add__

    def __sub__(self, other) -> Interval:
        other = _coerce(other, None)
        return NotImplemented if other is None else self + (-other)

    def __rsub__(self, other) -> Interval:
        other = _coerce(other, None)
        return NotImplemented if other is None else other + (-self)

    def __mul__(self, other) -> Interval:
        other = _coerce(other, None)
        if other is None:
            return NotImplemented
        ends = [_ext_mul(a, b) for a in self._ends() for b in other._ends()]
        return Interval._from_ext(min(ends), max(ends))

    __rmul__ = __mul__

    def __truediv__(self, other) -> Interval:
        """Unbounded when the divisor may be 0 (except 0 / y, which is 0 when defined)."""
        other = _coerce(other, None)
        if other is None:
            return NotImplemented
        if other.contains(0):
            return Interval(0, 0) if self == Interval(0, 0) else Interval()
        return self * other._reciprocal()

    def __rtruediv__(self, other) -> Interval:
        other = _coerce(other, None)
        return NotImplemented if other is None else other / self

    def __abs__(self) -> Interval:
        return self.abs()

    def abs(self) -> Interval:
        if self.lo is not None and self.lo >= 0:
            return self
        if self.hi is not None and self.hi <= 0:
            return -self
        high = None if self.lo is None or self.hi is None else max(-self.lo, self.hi)
        return Interval(0, high)

    def min(self, other) -> Interval:
        other = _coerce(other)
        lo = None if self.lo is None or other.lo is None else min(self.lo, other.lo)
        hi = other.hi if self.hi is None else self.hi if other.hi is None else min(self.hi, other.hi)
        return Interval(lo, hi)

    def max(self, other) -> Interval:
        other = _coerce(other)
        lo = other.lo if self.lo is None else self.lo if other.lo is None else max(self.lo, other.lo)
        hi = None if self.hi is None or other.hi is None else max(self.hi, other.hi)
        return Interval(lo, hi)

    def clamp(self, low, high) -> Interval:
        """clamp(x, low, high) = min(max(x, low), high), as the language defines it."""
        return self.max(low).min(high)

    def round(self, places: int = 0) -> Interval:
        """round(x, places), half away from zero: monotone, so the ends round exactly."""
        def end(value):
            return None if value is None else V.normal(Fraction(V.round_half_up(value, places)))
        return Interval(end(self.lo), end(self.hi))

    def widen(self, amount) -> Interval:
        return Interval(None if self.lo is None else self.lo - amount, None if self.hi is None else self.hi + amount)

    def _ends(self):
        return (-_INF if self.lo is None else self.lo, _INF if self.hi is None else self.hi)

    @staticmethod
    def _from_ext(lo, hi) -> Interval:
        return Interval(None if lo == -_INF else lo, None if hi == _INF else hi)

    def _reciprocal(self) -> Interval:
        # only called when 0 is outside; an unbounded end maps to 0 (not reached, but a sound end)
        def inv(value):
            return 0 if value is None else V.normal(Fraction(1) / value)
        return Interval(inv(self.hi), inv(self.lo))

    def __str__(self) -> str:
        return format_interval(self)


def _within_limits(end, to_whole):
    """An end beyond the limit on computed numbers (limits.py) made looser, so that the analysis
    stays cheap: unbounded when it is too large (no case gets there: the rules stop with an error
    first), the nearest whole number outwards when its denominator is."""
    if end is None or not number_too_large(end):
        return end
    whole = to_whole(end)
    return None if number_too_large(whole) else whole


def _ext_mul(a, b):
    """a * b on the extended line, where an infinite end times 0 is 0 (the end is a limit)."""
    if a == 0 or b == 0:
        return 0
    if a in (_INF, -_INF) or b in (_INF, -_INF):
        return _INF if (a > 0) == (b > 0) else -_INF
    return a * b


_MISSING = object()


def _coerce(value, default=_MISSING) -> Interval:
    if isinstance(value, Interval):
        return value
    if is_number(value) or isinstance(value, (Decimal, float)):
        return Interval.point(value)
    if default is not _MISSING:
        return default
    raise TypeError(f"not a number or an interval: {value!r}")


UNBOUNDED = Interval()
NON_NEGATIVE = Interval(0, None)


def format_interval(interval: Interval | None, places: int = 4) -> str:
    """"0 … 20", "−∞ … 0", "2.5"; "—" when there is no interval (not a number, unknown).

    Numbers print exactly when they fit in `places` decimals, else rounded with "≈".
    """
    if interval is None:
        return "—"

    def number(value, infinity: str) -> str:
        if value is None:
            return infinity
        text = V.format_number(value, places)
        exact = Fraction(V.round_half_up(value, places)) == value
        return ("" if exact else "≈") + text.replace("-", "\u2212")

    if interval.is_point:
        return number(interval.lo, "")
    return f"{number(interval.lo, '−∞')} … {number(interval.hi, '+∞')}"
