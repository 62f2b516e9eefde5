"""Department records: the facts about a department that are not case events, and their kinds.

A rulebook declares the fields it reads (`[department_fields]`); the records file
(scoring.inputs.records) is checked against those declarations. Every record also has the
counts taken from the case file.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from scoring.base.tomlmodel import Number

from .spec import Domain


def department_counts(domain: Domain) -> tuple[str, ...]:
    """Fields every department record has (counted from the case file: its cases, and its cases per
    role); declared fields add to them."""
    return ("name", "cases", *domain.roles)

FieldKind = Literal["bool", "number", "text", "date", "texts", "numbers"]


class FieldSpec(BaseModel):
    """A field of the department records: `"number"`, or `{ kind = "number", min = 0, max = 100 }`.

    A range (numbers only) is checked on every record, and `rules validate` counts on it when it
    works out what a score read from the field can reach.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FieldKind
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="before")
    @classmethod
    def _kind_alone(cls, value):
        return {"kind": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _range(self):
        if (self.min is not None or self.max is not None) and self.kind not in ("number", "numbers"):
            raise ValueError(f"min and max are for number and numbers fields, not {self.kind}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self
