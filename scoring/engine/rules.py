"""Rules as plain values: what the compiler produces and the matching engine (durable.py) registers.

Nothing here knows durable_rules: the compiler builds these, and asks durable.py only whether
the engine can take each one (its limits), so the engine could be swapped there.
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
