"""What expressions can read: the kinds of record the caller hands to the language, and their fields.

The language knows no record of its own. The caller describes each kind of record (an
event, say): its fields, the static kind of each, the only values an enum field takes and
the range a number is known to keep. The compiler (evaluator.py) checks and types field
access against it, and bounds.py counts on its values and ranges; the caller's Scope says
which names hold which kind of record.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class FieldType:
    kind: str  # number, text, date, bool or list
    values: tuple | None = None  # the only values it takes besides null, when they are known
    item: str | None = None  # the kind of a list's items, when known
    min: int | Fraction | None = None  # the bounds a number keeps (for a list, each of its numbers);
    max: int | Fraction | None = None  # None: unbounded


@dataclass(frozen=True)
class RecordType:
    fields: Mapping[str, FieldType]
    extras: bool = True  # has fields besides these, read with extra(x, "name")


@dataclass(frozen=True)
class Schema:
    records: Mapping[str, RecordType] = field(default_factory=dict)  # record kind -> its fields
