"""The words of the parsers the tool reads with (tomllib, json, Python's own for expressions), in the
current language.

Their messages are English, fixed in the standard library, some with a part of the input in them
("Cannot declare a.b twice"). Each known one is matched here and told with the catalog's message;
one not known is shown as the library wrote it (a newer Python may add some), never dropped.
"""
from __future__ import annotations

import re

from scoring.base.i18n import N_, _

# (the library's message as a pattern, the catalog's message with the same named parts)
_KNOWN = [(re.compile(pattern), message) for pattern, message in [
    # tomllib
    (r"Cannot overwrite a value", N_("Cannot overwrite a value")),
    (r"Escaped character is not a Unicode scalar value", N_("Escaped character is not a Unicode scalar value")),
    (r"Expected '=' after a key in a key/value pair", N_("Expected '=' after a key in a key/value pair")),
    (r"Expected '\]' at the end of a table declaration", N_("Expected ']' at the end of a table declaration")),
    (r"Expected '\]\]' at the end of an array declaration", N_("Expected ']]' at the end of an array declaration")),
    (r"Expected newline or end of document after a statement", N_("Expected newline or end of document after a statement")),
    (r"Invalid date or datetime", N_("Invalid date or datetime")),
    (r"Invalid hex value", N_("Invalid hex value")),
    (r"Invalid initial character for a key part", N_("Invalid initial character for a key part")),
    (r"Invalid statement", N_("Invalid statement")),
    (r"Invalid value", N_("Invalid value")),
    (r"Unclosed array", N_("Unclosed array")),
    (r"Unclosed inline table", N_("Unclosed inline table")),
    (r"Unescaped '\\' in a string", N_("Unescaped '\\' in a string")),
    (r"Unterminated string", N_("Unterminated string")),
    (r"Cannot declare (?P<key>.+) twice", N_("Cannot declare {key} twice")),
    (r"Cannot mutate immutable namespace (?P<key>.+)", N_("Cannot mutate immutable namespace {key}")),
    (r"Cannot redefine namespace (?P<key>.+)", N_("Cannot redefine namespace {key}")),
    (r"Duplicate inline table key (?P<key>.+)", N_("Duplicate inline table key {key}")),
    (r"Expected (?P<what>'.*')", N_("Expected {what}")),
    (r"Found invalid character (?P<char>.+)", N_("Found invalid character {char}")),
    (r"Illegal character (?P<char>.+)", N_("Illegal character {char}")),
    # json
    (r"Expecting value", N_("Expecting value")),
    (r"Expecting property name enclosed in double quotes", N_("Expecting property name enclosed in double quotes")),
    (r"Expecting ':' delimiter", N_("Expecting ':' delimiter")),
    (r"Expecting ',' delimiter", N_("Expecting ',' delimiter")),
    (r"Extra data", N_("Extra data")),
    (r"Unterminated string starting at", N_("Unterminated string starting at")),
    (r"Invalid control character at", N_("Invalid control character at")),
    (r"Invalid \\escape", N_("Invalid \\escape")),
    (r"Invalid \\uXXXX escape", N_("Invalid \\uXXXX escape")),
    (r"Illegal trailing comma before end of (?P<what>object|array)", N_("Illegal trailing comma before end of {what}")),
    # Python's parser, for expressions
    (r"invalid syntax", N_("invalid syntax")),
    (r"invalid syntax\. Perhaps you forgot a comma\?", N_("invalid syntax. Perhaps you forgot a comma?")),
    (r"(?P<bracket>'.') was never closed", N_("{bracket} was never closed")),
    (r"unmatched (?P<bracket>'.')", N_("unmatched {bracket}")),
    (r"closing parenthesis (?P<closing>'.') does not match opening parenthesis (?P<opening>'.')",
     N_("closing parenthesis {closing} does not match opening parenthesis {opening}")),
    (r"unterminated string literal \(detected at line (?P<line>\d+)\)",
     N_("unterminated string literal (detected at line {line})")),
    (r"invalid decimal literal", N_("invalid decimal literal")),
    (r"invalid character '(?P<char>.)' \((?P<code>U\+[0-9A-F]+)\)", N_("invalid character '{char}' ({code})")),
]]
_TOML_PLACE = re.compile(r"(?P<message>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|(?P<end>end of document))\)")


def library_message(text: str) -> str:
    """A parser's message in the current language (as written when it is not a known one)."""
    for pattern, message in _KNOWN:
        found = pattern.fullmatch(text)
        if found:
            return _(message).format(**found.groupdict())
    return text


def toml_error(error: Exception) -> str:
    """tomllib's error ("Invalid value (at line 3, column 7)") in the current language."""
    text = str(error)
    found = _TOML_PLACE.fullmatch(text)
    if not found:
        return library_message(text)
    reason = library_message(found["message"])
    if found["end"]:
        return _("{reason} (at end of document)").format(reason=reason)
    return _("{reason} (at line {line}, column {column})").format(reason=reason, line=found["line"], column=found["column"])


# pydantic's messages by error type, as its templates write them (with "(s)" for its {expected_plural}),
# for the types a case file, a domain file or a rulebook can meet; in English pydantic's own are shown
_PYDANTIC = {
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "model_type": N_("Input should be a valid dictionary or instance of {class_name}"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "finite_number": N_("Input should be a finite number"),
    "too_short": N_("{field_type} should have at least {min_length} item(s) after validation, not {actual_length}"),
    "too_long": N_("{field_type} should have at most {max_length} item(s) after validation, not {actual_length}"),
    "string_type": N_("Input should be a valid string"),
    "string_too_short": N_("String should have at least {min_length} character(s)"),
    "string_too_long": N_("String should have at most {max_length} character(s)"),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
    "dict_type": N_("Input should be a valid dictionary"),
    "list_type": N_("Input should be a valid list"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_parsing_size": N_("Unable to parse input string as an integer, exceeded maximum size"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "literal_error": N_("Input should be {expected}"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, {error}"),
    "datetime_parsing": N_("Input should be a valid datetime, {error}"),
    "decimal_type": N_("Decimal input should be an integer, float, string or Decimal object"),
    "decimal_parsing": N_("Input should be a valid decimal"),
}


def pydantic_message(error: dict) -> str:
    """One of pydantic's errors (`ValidationError.errors()`) in the current language: its own message
    when the catalog has none for its type (and in English, which is pydantic's)."""
    if error["type"] == "value_error":  # the tool's own validators: their message is the catalog's already
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        return _(message.removeprefix("Value error, "))
    template = _PYDANTIC.get(error["type"])
    translated = _(template) if template else None
    if not translated or translated == template:
        return error["msg"]
    context = dict(error.get("ctx") or {})
    try:
        return translated.format(**context)
    except (KeyError, IndexError, ValueError):  # a context this version of pydantic does not give
        return error["msg"]
