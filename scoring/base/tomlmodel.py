"""TOML rule files (rulebooks, overlays, fixtures) into typed models, every problem placed.

One way for every rule file: `read_model` decodes the bytes (UTF-8), parses the TOML with
decimals kept exact, finds the line of each key (tomlpos.py) and validates the data against a
pydantic model; a problem names the file, the line and the key path, with the closest known key
for a misspelled one. `read_toml` stops after parsing, for callers that look at the data first.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, PlainValidator, ValidationError

from .errors import InputError, Problem, closest
from .i18n import _
from .library_text import pydantic_message, toml_error
from .tomlpos import key_lines, line_of

MAX_RULE_FILE = 1_000_000  # bytes of a rulebook, an overlay or a fixture: rule files are a few kilobytes


@dataclass(frozen=True)
class Locator:
    """Where a key path of a rule file is written: a file and its line."""

    source: str
    lines: dict  # key path -> line

    def problem(self, path: tuple, message: str) -> Problem:
        return Problem(self.source, line_of(self.lines, path), format_path(path), message)


def read_toml(raw: bytes, source: str, what: str) -> tuple[str, dict]:
    """The text and data of a TOML rule file; floats are read as exact decimals (0.7 stays 7/10)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(source, line, "", _("not UTF-8 text"))]) from None
    if len(raw) > MAX_RULE_FILE:
        raise InputError([Problem(source, None, "", _("{size:,} bytes; a rule file may have at most {most:,}").format(
            size=len(raw), most=MAX_RULE_FILE))])
    try:
        return text, tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        raise InputError([Problem(source, int(match.group(1)) if match else None, "", _("not valid TOML: {reason}").format(
            reason=toml_error(exc)))], _("{file}: the {what} is not valid TOML").format(file=source, what=_(what))) from None
    except (ValueError, ArithmeticError, RecursionError) as exc:
        # what tomllib does not turn into a TOMLDecodeError: an integer of more than 4300 digits
        # (ValueError), an exponent Decimal cannot hold (InvalidOperation), arrays nested a thousand deep
        reason = _("values nested too deeply") if isinstance(exc, RecursionError) else _("a number too large to read")
        raise InputError([Problem(source, None, "", _("not a usable TOML file: {reason}").format(reason=reason))],
                         _("{file}: the {what} cannot be read").format(file=source, what=_(what))) from None


def format_path(path: tuple) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _toml_kind(value) -> str:
    """A value's kind as a rule author wrote it in TOML."""
    if isinstance(value, bool):
        return "true or false"
    return {str: "a text", list: "a list", dict: "a table", float: "an inexact float"}.get(
        type(value), "a date" if isinstance(value, (dt.date, dt.time)) else type(value).__name__)


def _number(value):
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return value
    raise ValueError(f"must be a number, not {_toml_kind(value)}")


def _number_or_expression(value):
    if isinstance(value, str) or (isinstance(value, (int, Decimal)) and not isinstance(value, bool)):
        return value
    raise ValueError(f"must be a number or an expression (a text), not {_toml_kind(value)}")


# Numbers in rule files: one check each, so that a wrong value is one problem in the author's words (a union of types
# gave one per type: base.int, base.decimal, base.str), and true is not taken for 1.
Number = Annotated[int | Decimal, PlainValidator(_number)]
NumberOrExpr = Annotated[int | Decimal | str, PlainValidator(_number_or_expression)]


def validation_problems(exc: ValidationError, model: type[BaseModel], locator: Locator) -> list[Problem]:
    return [_problem(model, locator, err) for err in exc.errors()]


def _problem(model: type[BaseModel], locator: Locator, err: dict) -> Problem:
    loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and ("[" in part or part.startswith("function"))))
    kind = err["type"]
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        message = _('unknown key "{key}"{hint}').format(key=loc[-1], hint=closest(loc[-1], known))
        if known:
            message += _("; expected one of: {keys}").format(keys=", ".join(known))
    elif kind == "missing":
        message = _("required key is missing")
    else:
        message = pydantic_message(err)
        if "input" in err and not isinstance(err["input"], (dict, list)):
            message += _(" (got {value})").format(value=repr(err["input"]))
    return locator.problem(loc, message)


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the model allows at a path (for "did you mean")."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        current = _model_in(annotation)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _model_in(annotation) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    metadata_origin = getattr(annotation, "__origin__", None)
    if metadata_origin is not None and isinstance(metadata_origin, type) and issubclass(metadata_origin, BaseModel):
        return metadata_origin
    return None


@dataclass(frozen=True)
class TomlFile:
    """A rule file as read: its text, its data, where each key is written and the sha256 of its bytes."""

    source: str
    text: str
    data: dict
    locator: Locator
    sha256: str


def parse_toml(raw: bytes, source: str, what: str) -> TomlFile:
    text, data = read_toml(raw, source, what)
    return TomlFile(source, text, data, Locator(source, key_lines(text)), hashlib.sha256(raw).hexdigest())


def model_problems(model: type[BaseModel], data: Any, locator: Locator) -> tuple[Any, list[Problem]]:
    """(the model of data, []) or (None, every problem placed by locator)."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, validation_problems(exc, model, locator)


def read_model(model: type[BaseModel], toml: TomlFile, what: str, locator: Locator | None = None):
    """The model of a parsed rule file; InputError with every problem when it does not fit."""
    spec, problems = model_problems(model, toml.data, locator or toml.locator)
    if problems:
        raise problems_in(toml.source, what, problems)
    return spec


def problems_in(source: str, what: str, problems: list[Problem]) -> InputError:
    return InputError(problems, _("{file}: {n} problem(s) in the {what}").format(file=source, n=len(problems), what=_(what)))
