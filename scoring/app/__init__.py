"""The application layer: each command of the `scoring` CLI as one library function.

A command parses its options, calls one of these, and hands the result to a renderer
(scoring.reports). The functions raise ScoringError (scoring.base.errors) with the exit
status a problem means, and say what is worth saying on the side through `notify`.
"""
from .audit import check_store, diff, export_run, list_runs, record, replay, show_run, verify
from .inputs import Request
from .rules import effective_rulebook, import_register, test_rulebooks, validate_rulebooks
from .scoring import bulletin, explain, score, self_check

__all__ = ["Request", "bulletin", "check_store", "diff", "effective_rulebook", "explain", "export_run", "import_register",
           "list_runs", "record", "replay", "score", "self_check", "show_run", "test_rulebooks", "validate_rulebooks",
           "verify"]
