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
