"""The application layer: each command of the `scoring` CLI as one library function.

A command parses its options, calls one of these, and hands the result to a renderer
(scoring.reports). The functions raise ScoringError (scoring.base.errors) with the exit
status a problem means, and say what is worth saying on the side through `notify`.

The functions are loaded on first use (PEP 562), so a command imports only its own part:
`self-check` does not load the run store, the rule tests or `rules validate`.
"""
from __future__ import annotations

import importlib

_HOMES = {
    "Request": "inputs", "Content": "inputs",
    "score": "scoring", "explain": "scoring", "self_check": "scoring", "bulletin": "scoring", "combine": "periods",
    "record": "audit", "replay": "audit", "diff": "audit", "verify": "audit",
    "list_runs": "audit", "show_run": "audit", "export_run": "audit", "check_store": "audit",
    "describe_cases": "describe", "describe_rulebook": "describe", "describe_overlay": "describe",
    "describe_departments": "describe",
    "effective_rulebook": "rules", "validate_rulebooks": "rules", "test_rulebooks": "rules", "import_register": "rules",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
