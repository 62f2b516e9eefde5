"""Rules as plain values: what the compiler produces and the matching engine (durable.py) registers.

Nothing here knows durable_rules, so the compiler, `rules validate` and the tools that only
look at rules can use them without loading the native engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """fact[attr] <op> value, or fact[attr] <op> other_alias[other_attr] when ref is set."""

    attr: str
    op: str
    value: Any = None
    ref: tuple[str, str] | None = None


@dataclass(frozen=True)
class Pattern:
    alias: str
    tests: tuple[Check, ...]  # one plain equality test first, then join tests (ref set)
    negated: bool = False


@dataclass(frozen=True)
class Rule:
    name: str
    patterns: tuple[Pattern, ...]  # positive patterns first, in join order; then negated ones
