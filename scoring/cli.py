"""The `scoring` command line."""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

import click

from . import pipeline, selfcheck
from .cases import case_json_schema
from .errors import ScoringError, closest
from .ingest import load_cases
from .ledger import to_csv, to_json
from .report import explain as explain_text
from .report import ranking_table
from .report import self_check as self_check_text

EXIT_HELP = "Exit status: 0 done; 2 bad input (rulebook or cases); 3 the matching engine failed."

rules_option = click.option("--rules", "rules", required=True, type=click.Path(dir_okay=False),
                            help="Rulebook (TOML).")
cases_option = click.option("--cases", "cases", required=True, type=click.Path(dir_okay=False),
                            help="Case histories (JSON Lines, or a JSON array).")
skip_option = click.option("--skip-invalid", is_flag=True,
                           help="Score the valid cases and list the invalid ones, instead of stopping.")
jobs_option = click.option("--jobs", type=click.IntRange(min=1), default=None,
                           help="Worker processes (default: one per core, at most 8).")


@click.group(epilog=EXIT_HELP)
@click.version_option(package_name="scoring")
def main():
    """Score departments' handling of deputies' suggestions and members' proposals."""


@main.command(epilog=EXIT_HELP)
@rules_option
@cases_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (replaced only when the run succeeds).")
@skip_option
@jobs_option
def score(rules, cases, fmt, out, skip_invalid, jobs):
    """Rank every department: total, grade, rank, and points per item (or the full ledger)."""
    run = _run(rules, cases, skip_invalid, jobs)
    text = {"table": ranking_table, "json": to_json, "csv": to_csv}[fmt](run.ledger)
    _emit(text, out)


@main.command(epilog=EXIT_HELP)
@rules_option
@cases_option
@click.option("--department", required=True, help="The department to explain.")
@click.option("--case", "case_id", help="Only this case.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False))
@skip_option
@jobs_option
def explain(rules, cases, department, case_id, fmt, out, skip_invalid, jobs):
    """Every point of one department (or one of its cases), with the events behind it."""
    run = _run(rules, cases, skip_invalid, jobs)
    names = [d["department"] for d in run.ledger["departments"]]
    if department not in names:
        _fail(f'no department "{department}" in the scored cases{closest(department, names)}; '
              f"known: {', '.join(names)}")
    entry = next(d for d in run.ledger["departments"] if d["department"] == department)
    if case_id is not None and case_id not in [c["case"] for c in entry["cases"]]:
        known = [c["case"] for c in entry["cases"]]
        _fail(f'{department} has no case "{case_id}"{closest(case_id, known)}')
    if fmt == "json":
        if case_id is not None:
            entry = {**entry, "cases": [c for c in entry["cases"] if c["case"] == case_id],
                     "lines": [l for l in entry["lines"] if l["case"] == case_id]}
        document = {key: run.ledger[key] for key in ("format", "engine", "rulebook", "input")}
        _emit(json.dumps({**document, "department": entry}, ensure_ascii=False, indent=2) + "\n", out)
        return
    dates = {(case.id, event.id): event.date for case in run.case_file.cases for event in case.events}
    _emit(explain_text(run.ledger, entry, dates, case_id), out)


@main.command("self-check", epilog=EXIT_HELP)
@rules_option
@cases_option
@click.option("--department", required=True, help="The department checking itself.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Check as of the end of this day, YYYY-MM-DD (default: today).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (replaced only when the check succeeds).")
@skip_option
@jobs_option
def self_check(rules, cases, department, as_of, fmt, out, skip_invalid, jobs):
    """Where a department stands on a date: score secured, score still reachable, items at risk.

    Events dated after the date are left out and deadlines not yet passed are not failures.
    The floor is the score if nothing more happens; the ceiling, if every remaining step is
    done the next day (items decided by others, such as a member's rating, are shown apart)."""
    day = as_of.date() if as_of else dt.date.today()
    try:
        check = selfcheck.SelfCheck(pipeline.load_compiled(rules), load_cases(cases, skip_invalid=skip_invalid),
                                    department, day, skip_invalid=skip_invalid, jobs=jobs)
    except ScoringError as exc:
        _fail(str(exc), exc.exit_code)
    document = check.document()
    for skipped in document["input"]["skipped"]:
        click.echo(f"skipped: case {skipped['case'] or '?'}: {'; '.join(skipped['problems'])}", err=True)
    if fmt == "table":
        dates = {(c.id, e.id): e.date for c in check.case_file.cases for e in c.events if e.date <= day}
        text = self_check_text(document, dates)
    else:
        text = to_json(document) if fmt == "json" else selfcheck.to_csv(document)
    _emit(text, out)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False))
def schema(out):
    """Print the JSON Schema of the case-history format."""
    _emit(json.dumps(case_json_schema(), ensure_ascii=False, indent=2) + "\n", out)


def _run(rules, cases, skip_invalid, jobs) -> pipeline.Run:
    try:
        run = pipeline.run(rules, cases, skip_invalid=skip_invalid, jobs=jobs)
    except ScoringError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    if run.recovered:
        click.echo(f"warning: a worker process died while scoring {', '.join(run.recovered)}; "
                   "each was scored again alone and completed", err=True)
    for skipped in run.ledger["input"]["skipped"]:
        click.echo(f"skipped: case {skipped['case'] or '?'}: {'; '.join(skipped['problems'])}", err=True)
    return run


def _emit(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    # write beside the target, then rename: a failed run never leaves half a file
    target = Path(out)
    handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {out}", err=True)


def _fail(message: str, code: int = 2):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
