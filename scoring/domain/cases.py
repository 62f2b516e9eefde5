"""The case-history format: the interchange contract, as pydantic models.

A case (one deputy's suggestion or one member's proposal) has handlers (departments with a
role) and a timeline of events. Extra fields are allowed everywhere and kept: rules can
read them. `scoring schema` prints the JSON Schema generated from these models.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from scoring.base.i18n import _


class Kind(str, Enum):
    suggestion = "suggestion"  # 人大代表建议
    proposal = "proposal"  # 政协委员提案


class Role(str, Enum):
    lead = "lead"  # 主办 / 承办
    split = "split"  # 分办
    co = "co"  # 会办 / 协办


class EventType(str, Enum):
    assigned = "assigned"
    signed = "signed"
    returned = "returned"
    contact = "contact"
    extension = "extension"
    reply = "reply"
    feedback = "feedback"
    published = "published"
    co_reply = "co_reply"
    urged = "urged"


class ContactMode(str, Enum):
    face_to_face = "face_to_face"
    phone = "phone"
    wechat = "wechat"
    letter = "letter"
    email = "email"
    other = "other"


class Outcome(str, Enum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Rating(str, Enum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    # Only "YYYY-MM-DD": pydantic's lax mode would also take numbers and timestamps,
    # which in a case file are always a mistake.
    if isinstance(value, str):
        if not _ISO_DATE.match(value):
            raise ValueError(_('"{value}" is not a date in the form YYYY-MM-DD').format(value=value))
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(_('"{value}" is not a valid date ({reason})').format(value=value, reason=_(str(exc)))) from None
    raise ValueError(_("a date must be a string YYYY-MM-DD, not {type}").format(type=type(value).__name__))


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
NonEmpty = Annotated[str, Field(min_length=1)]

# The field each event type requires; a field listed here is allowed on no other type.
TYPE_FIELDS = {
    EventType.contact: "mode",
    EventType.extension: "days",
    EventType.reply: "outcome",
    EventType.feedback: "rating",
}


class Event(BaseModel):
    model_config = ConfigDict(extra="allow", use_enum_values=True)

    id: NonEmpty
    type: EventType
    date: IsoDate
    department: NonEmpty
    mode: ContactMode | None = None
    days: Annotated[int, Field(ge=0, strict=True)] | None = None
    outcome: Outcome | None = None
    rating: Rating | None = None

    @model_validator(mode="after")
    def _fields_match_type(self) -> Event:
        needed = TYPE_FIELDS.get(EventType(self.type))
        if needed and getattr(self, needed) is None:
            raise ValueError(_('a "{type}" event needs "{field}"').format(type=self.type, field=needed))
        for kind, field in TYPE_FIELDS.items():
            if field != needed and getattr(self, field) is not None:
                raise ValueError(_('"{field}" belongs to "{owner}" events, not to "{type}"').format(
                    field=field, owner=kind.value, type=self.type))
        return self


class Handler(BaseModel):
    model_config = ConfigDict(extra="allow", use_enum_values=True)

    department: NonEmpty
    role: Role


class Case(BaseModel):
    model_config = ConfigDict(extra="allow", use_enum_values=True)

    id: NonEmpty
    kind: Kind
    title: str = ""
    proposer: str = ""
    key: bool = False  # 重点提案/建议
    waived_f2f: bool = False  # the deputy/member said a phone call is enough
    handlers: Annotated[list[Handler], Field(min_length=1)]
    events: list[Event] = []


def case_json_schema() -> dict:
    schema = Case.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Case history (one JSON object per line of a .jsonl file)"
    return schema


_DIGITS = re.compile(r"(\d+)")


@functools.lru_cache(maxsize=1 << 16)  # the same event and case ids are sorted again and again
def natural_key(text: str) -> tuple:
    """Order ids as people do: "e2" before "e10", "2020-9" before "2020-10"."""
    return tuple((0, int(part), part) if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text) if part)


def assigned_on(case: Case):
    """The day a case was first assigned (its first event's day if no assignment is recorded)."""
    days = [e.date for e in case.events if e.type == "assigned"] or [e.date for e in case.events]
    return min(days) if days else None


def as_of_case(case: Case, as_of: dt.date) -> Case | None:
    """The case as it stood at the end of `as_of`; None if no handler was assigned by then."""
    assigned = {e.department for e in case.events if e.type == "assigned" and e.date <= as_of}
    handlers = [h for h in case.handlers if h.department in assigned]
    if not handlers:
        return None
    events = [e for e in case.events if e.date <= as_of and e.department in assigned]
    return case.model_copy(update={"handlers": handlers, "events": events})
