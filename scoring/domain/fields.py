"""What rule expressions read, described for the rule language (scoring.lang.schema) from a domain's case model.

An event, the case and a handler have the fields of their models, with the kinds, the enum
values and the ranges the models enforce; an event also has the role of its department in
the case. A department's record has its name and its case counts, and the fields the
rulebook declares in [department_fields].
"""
from __future__ import annotations

import datetime as dt
import functools
import types
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from scoring.lang import values as V
from scoring.lang.schema import FieldType, RecordType, Schema

from .cases import models
from .records import department_counts
from .spec import Domain, default_domain


@functools.lru_cache(maxsize=64)
def record_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a case or event model that a record of it has (a case's handlers and events are not)."""
    return tuple(name for name in model.model_fields if name not in ("handlers", "events"))

_DECLARED = {"bool": FieldType("bool"), "number": FieldType("number"), "text": FieldType("text"),
             "date": FieldType("date"), "texts": FieldType("list", item="text"),
             "numbers": FieldType("list", item="number")}


def expression_schema(domain: Domain | None = None, department_fields: Mapping | None = None) -> Schema:
    """The records expressions read in a domain (default: proposals); `department_fields` are the rulebook's
    declarations (FieldSpec)."""
    domain = domain or default_domain()
    found = models(domain)
    event = {**_fields(found.event, record_fields(found.event)),
             # the role of the event's department in the case; its values are left open, as
             # `rules validate` has always left them
             "role": FieldType("text")}
    department = {"name": FieldType("text"), **{count: FieldType("number", min=0) for count in department_counts(domain)[1:]},
                  **{name: _declared(spec) for name, spec in (department_fields or {}).items()}}
    return Schema({"event": RecordType(event), "case": RecordType(_fields(found.case, record_fields(found.case))),
                   "handler": RecordType(_fields(found.handler, tuple(found.handler.model_fields))),
                   "department": RecordType(department, extras=False)})


def _declared(spec) -> FieldType:
    found = _DECLARED[spec.kind]
    if spec.kind in ("number", "numbers"):  # only numbers carry a declared range
        return FieldType(found.kind, item=found.item, min=V.from_data(spec.min), max=V.from_data(spec.max))
    return found


def _fields(model: type[BaseModel], names: tuple[str, ...]) -> dict[str, FieldType]:
    return {name: _field_type(model.model_fields[name]) for name in names}


def _field_type(info: FieldInfo) -> FieldType:
    """A model field's kind, enum values and range (ge/le), from its annotation."""
    annotation, metadata = info.annotation, list(info.metadata)
    if get_origin(annotation) in (Union, types.UnionType):  # X | None: null is always allowed
        (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) is Annotated:
        annotation, *more = get_args(annotation)
        for item in more:
            metadata += item.metadata if isinstance(item, FieldInfo) else [item]
    low = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):  # before str: these enums are texts
        return FieldType("text", values=tuple(member.value for member in annotation))
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return FieldType("list", item="text" if item is str else "number")
    # datetime before date: a datetime is a date to Python
    for python_type, kind in ((bool, "bool"), (int, "number"), (float, "number"), (str, "text"), (dt.datetime, "datetime"),
                              (dt.date, "date")):
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return FieldType(kind, min=low, max=high) if kind == "number" else FieldType(kind)
    raise TypeError(f"no kind of the rule language for {annotation!r}")
