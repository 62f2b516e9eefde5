"""Explanation sentences: text with {expression} holes, filled with the actual values.

    "{r.date}答复，超过期限{reply_due} {workdays_between(reply_due, r.date)}个工作日"

Write {{ and }} for literal braces. Values print as people read them: dates as
2020-06-01, numbers with at most two decimals, null as "—".
"""
from __future__ import annotations

from collections.abc import Callable

from scoring.base.i18n import _

from . import values as V
from .evaluator import ExpressionCompiler, Scope
from .nodes import ExprError
from .syntax import parse


def parse_template(text: str) -> list[tuple[str, object]]:
    """[("text", str) | ("expr", (Node, column))]; raises ExprError with the column."""
    parts: list[tuple[str, object]] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text[i + 1: i + 2] == ch:
            literal.append(ch)
            i += 2
            continue
        if ch == "}":
            raise ExprError(_('unmatched "}" (write "}}" for a literal brace)'), i)
        if ch != "{":
            literal.append(ch)
            i += 1
            continue
        end = _closing_brace(text, i + 1)
        if end is None:
            raise ExprError(_('unclosed "{" (write "{{" for a literal brace)'), i)
        if literal:
            parts.append(("text", "".join(literal)))
            literal = []
        source = text[i + 1: end]
        try:
            node = parse(source)
        except ExprError as exc:
            raise ExprError(exc.message, (exc.column or 0) + i + 1) from None
        parts.append(("expr", (node, i + 1)))
        i = end + 1
    if literal:
        parts.append(("text", "".join(literal)))
    return parts


def _closing_brace(text: str, start: int) -> int | None:
    quote = None
    for j in range(start, len(text)):
        ch = text[j]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "}":
            return j
    return None


def compile_template(text: str, compiler: ExpressionCompiler, scope: Scope) -> Callable[[dict], str]:
    pieces: list[Callable[[dict], str]] = []
    for kind, value in parse_template(text):
        if kind == "text":
            pieces.append(lambda env, value=value: value)
        else:
            node, column = value
            try:
                fn = compiler.compile(node, scope)
            except ExprError as exc:
                raise ExprError(exc.message, (exc.column or 0) + column) from None
            pieces.append(lambda env, fn=fn: V.format_value(fn(env)))
    return lambda env: "".join(piece(env) for piece in pieces)
