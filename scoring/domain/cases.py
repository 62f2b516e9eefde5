"""The case-history format: the interchange contract, as pydantic models built from a domain.

A case (one deputy's suggestion, one member's proposal, one hotline ticket, ...) has handlers
(departments with a role) and a timeline of events. What kinds, roles, case fields and event
types there are is the domain's (`spec.py`, a TOML file); `models(domain)` builds the pydantic
models from it, once per domain. Extra fields are allowed everywhere and kept: rules can read
them. `scoring schema` prints the JSON Schema generated from these models.

The module's `Case`, `Event` and `Handler` are the models of the default domain (proposals).
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model, model_validator
from pydantic.json_schema import SkipJsonSchema

from scoring.base.i18n import _

from .spec import Domain, FieldSpec, default_domain, field_default

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


_LOCAL_MINUTE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:00)?$")
DATETIME_FORM = "YYYY-MM-DDTHH:MM"


def parse_moment(value: Any) -> dt.datetime:
    """A local date-time to the minute, "2023-05-04T09:15" (a space for the T, and ":00" seconds, allowed);
    seconds, fractions and offsets are refused: they could not be kept exactly."""
    if not isinstance(value, str):
        raise ValueError(_("a date-time must be a string {form}, not {type}").format(form=DATETIME_FORM,
                                                                                     type=type(value).__name__))
    match = _LOCAL_MINUTE.match(value)
    if not match:
        raise ValueError(_('"{value}" is not a local date-time to the minute in the form {form} (no seconds, no '
                           'time zone)').format(value=value, form=DATETIME_FORM))
    try:
        return dt.datetime.fromisoformat(f"{match[1]}T{match[2]}")
    except ValueError as exc:
        raise ValueError(_('"{value}" is not a valid date-time ({reason})').format(value=value, reason=_(str(exc)))) from None


def _day_of_moment(value: Any) -> Any:
    return parse_moment(value).date()


def _moment_or_none(value: Any) -> Any:
    # the date's validator reports what is wrong with it; this one does not say it again
    try:
        return parse_moment(value)
    except ValueError:
        return None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
# a timed domain's event: its day read from the date-time it was written with, and the date-time itself
MomentDay = Annotated[dt.date, BeforeValidator(_day_of_moment),
                      WithJsonSchema({"type": "string", "pattern": _LOCAL_MINUTE.pattern,
                                      "description": "local date-time to the minute, " + DATETIME_FORM})]
Moment = SkipJsonSchema[Annotated[dt.datetime | None, BeforeValidator(_moment_or_none)]]
NonEmpty = Annotated[str, Field(min_length=1)]
_CONFIG = ConfigDict(extra="allow", use_enum_values=True)


@dataclass(frozen=True)
class Models:
    """A domain's pydantic models."""

    domain: Domain
    case: type[BaseModel]
    event: type[BaseModel]
    handler: type[BaseModel]


def _enum(name: str, values: list[str]) -> type[Enum]:
    found = Enum(name, [(value, value) for value in values], type=str, module=__name__)
    found.__doc__ = None  # no description in the JSON Schema, as a class without a docstring
    return found


_LIST_ITEMS = {"text": str, "number": float}


def _annotation(field: FieldSpec) -> Any:
    """The Python type of a declared field."""
    if field.kind == "enum":
        return _enum(field.schema_name or field.name, [v.value for v in field.values])
    if field.kind == "integer":
        bounds = {key: value for key, value in (("ge", field.ge), ("le", field.le)) if value is not None}
        return Annotated[int, Field(strict=True, **bounds)]
    if field.kind == "list":
        return list[_LIST_ITEMS[field.item]]
    return {"text": str, "bool": bool, "number": float, "date": IsoDate}[field.kind]


def models(domain: Domain) -> Models:
    """The domain's models, built once: for a shipped domain, once per process (the default's `Case` is this
    module's, which pickling finds by name), for another, while it is among the last 16 used."""
    if domain.shipped:
        return _shipped_models(domain)
    return _models(domain)


@functools.cache
def _shipped_models(domain: Domain) -> Models:
    return _models.__wrapped__(domain)


@functools.lru_cache(maxsize=16)
def _models(domain: Domain) -> Models:
    spec = domain.spec
    owners = domain.field_owners
    # event type -> its required fields, and the fields that belong to other types only
    required = {e.type: tuple(f.name for f in e.fields if f.required) for e in spec.events}
    foreign = {e.type: tuple(name for name in owners if e.type not in owners[name]) for e in spec.events}

    def fields_match_type(self):
        for name in required[self.type]:
            if getattr(self, name) is None:
                raise ValueError(_('a "{type}" event needs "{field}"').format(type=self.type, field=name))
        for name in foreign[self.type]:
            if getattr(self, name) is not None:
                raise ValueError(_('"{field}" belongs to "{owner}" events, not to "{type}"').format(
                    field=name, owner=owners[name][0], type=self.type))
        return self

    def moment_from_date(data):
        # a timed event's `at` is the date-time written as its date; never one given beside it
        if isinstance(data, dict):
            if "at" in data:
                raise ValueError(_('"at" is the time of the event\'s "date"; write "date": "2023-05-04T09:15" alone'))
            data = {**data, "at": data.get("date")}
        return data

    event_type = _enum(spec.event_types_schema_name, [e.type for e in spec.events])
    validators = {"_fields_match_type": model_validator(mode="after")(fields_match_type)}
    timing = {"date": (IsoDate, ...)}
    if domain.timed:
        validators["_moment_from_date"] = model_validator(mode="before")(moment_from_date)
        timing = {"date": (MomentDay, ...), "at": (Moment, None)}
    event = create_model(
        "Event", __config__=_CONFIG, __module__=__name__, __validators__=validators,
        id=(NonEmpty, ...), type=(event_type, ...), **timing, department=(NonEmpty, ...),
        **{name: (_annotation(field) | None, None) for name, field in domain.event_fields.items()})
    handler = create_model("Handler", __config__=_CONFIG, __module__=__name__, department=(NonEmpty, ...),
                           role=(_enum(spec.roles_schema_name, list(domain.roles)), ...))
    case = create_model(
        "Case", __config__=_CONFIG, __module__=__name__,
        id=(NonEmpty, ...), kind=(_enum(spec.kinds_schema_name, list(domain.kinds)), ...),
        **{f.name: (_annotation(f), field_default(f)) if field_default(f) is not None else (_annotation(f) | None, None)
           for f in spec.case_fields},
        handlers=(Annotated[list[handler], Field(min_length=1)], ...), events=(list[event], []))
    _DOMAIN_OF[case] = domain
    return Models(domain, case, event, handler)


_DOMAIN_OF: dict[type, Domain] = {}


def domain_of(case: BaseModel) -> Domain:
    """The domain whose model a case is an instance of: a case carries its case model with it."""
    return _DOMAIN_OF[type(case)]


def case_model(domain: Domain) -> type[BaseModel]:
    return models(domain).case


_DEFAULT = models(default_domain())
# the default domain's models; a case of another domain is an instance of its own `models(domain).case`
Case = _DEFAULT.case
Event = _DEFAULT.event
Handler = _DEFAULT.handler


def case_json_schema(domain: Domain | None = None) -> dict:
    schema = models(domain or default_domain()).case.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Case history (one JSON object per line of a .jsonl file)"
    return schema


_DIGITS = re.compile(r"(\d+)")


@functools.lru_cache(maxsize=1 << 16)  # the same event and case ids are sorted again and again
def natural_key(text: str) -> tuple:
    """Order ids as people do: "e2" before "e10", "2020-9" before "2020-10"."""
    return tuple((0, int(part), part) if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text) if part)


def timeline_key(case: BaseModel):
    """How a case's events are ordered: by day, or to the minute in a timed domain, then by id."""
    if domain_of(case).timed:
        return lambda e: (e.at, natural_key(e.id))
    return lambda e: (e.date, natural_key(e.id))


def assigned_on(case: BaseModel):
    """The day a case was first assigned (its first event's day if no assignment is recorded)."""
    assigning = domain_of(case).assigning_for(case.kind)
    days = [e.date for e in case.events if e.type == assigning] or [e.date for e in case.events]
    return min(days) if days else None


def as_of_case(case: BaseModel, as_of: dt.date) -> BaseModel | None:
    """The case as it stood at the end of `as_of`; None if no handler was assigned by then."""
    assigning = domain_of(case).assigning_for(case.kind)
    assigned = {e.department for e in case.events if e.type == assigning and e.date <= as_of}
    handlers = [h for h in case.handlers if h.department in assigned]
    if not handlers:
        return None
    events = [e for e in case.events if e.date <= as_of and e.department in assigned]
    return case.model_copy(update={"handlers": handlers, "events": events})
