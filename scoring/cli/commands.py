"""The `scoring` command line."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import click
from tabulate import tabulate

from scoring.audit import runs
from scoring.audit.compare import diff_document, differences
from scoring.audit.store import ENV, RunStore, default_path
from scoring.base import progress
from scoring.base.errors import ScoringError, closest
from scoring.checks import bulletin as monthly
from scoring.checks import selfcheck
from scoring.checks.validate import item_ranges
from scoring.domain.cases import case_json_schema
from scoring.engine import session as pipeline
from scoring.engine.compiler import compile_rulebook
from scoring.inputs.case_file import CaseFile, load_cases, parse_cases
from scoring.inputs.records import parse_departments
from scoring.ledger.document import to_csv, to_json
from scoring.reports.text import bulletin as bulletin_text
from scoring.reports.text import explain as explain_text
from scoring.reports.text import impact, ranking_table
from scoring.reports.text import self_check as self_check_text
from scoring.rulebook.load import parse_rulebook
from scoring.rulebook.overlay import RuleSources, read_source
from scoring.rulebook.versions import choose_rulebook

EXIT_HELP = "Exit status: 0 done; 2 bad input (rulebook or cases); 3 the matching engine failed."



def rules_options(command):
    """--rules, plus --overlay and --set: every command that takes a rulebook takes them."""
    command = click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                           help="Override a parameter of the rulebook, such as points=4 or table.key=4 (repeatable; applied last).")(command)
    command = click.option("--overlay", "overlays", multiple=True, type=click.Path(dir_okay=False),
                           help="Apply an overlay rule file to the rulebook (repeatable; in the order given).")(command)
    return click.option("--rules", "rules", required=True, type=click.Path(),
                        help="Rulebook (TOML), or a directory of rulebooks: the one whose period covers the cases.")(command)

cases_option = click.option("--cases", "cases", required=True, type=click.Path(dir_okay=False),
                            help="Case histories (JSON Lines, or a JSON array), or an Excel ledger (.xlsx, default mapping).")
departments_option = click.option("--departments", "departments", type=click.Path(dir_okay=False), default=None,
                                  help="Department records (JSON Lines): facts the rulebook's [department_fields] declare.")
skip_option = click.option("--skip-invalid", is_flag=True,
                           help="Score the valid cases and list the invalid ones, instead of stopping.")
store_option = click.option("--store", type=click.Path(dir_okay=False), default=None,
                            help=f"Run store, an SQLite file (default: ${ENV}, else ./scoring-runs.db).")
jobs_option = click.option("--jobs", type=click.IntRange(min=1), default=None,
                           help="Worker processes (default: one per core, at most 8).")


@click.group(epilog=EXIT_HELP)
@click.version_option(package_name="scoring")
@click.pass_context
def main(ctx):
    """Score departments' handling of deputies' suggestions and members' proposals."""
    ctx.with_resource(progress.on_terminal())  # long runs show progress on a terminal's stderr, never in pipes


@main.command(epilog=EXIT_HELP)
@rules_options
@cases_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx", "html"]), default="table",
              show_default=True, help="xlsx: ranking, ledger and a 自评表 per department (needs --out); "
                                      "html: one self-contained report with a chart and a drill-down to every line.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (replaced only when the run succeeds).")
@departments_option
@skip_option
@jobs_option
@store_option
@click.option("--record", is_flag=True, help="Keep the run (rulebook, cases, ledger) in the run store; prints its id.")
def score(rules, overlays, sets, cases, departments, fmt, out, skip_invalid, jobs, store, record):
    """Rank every department: total, grade, rank, and points per item (or the full ledger)."""
    _check_out(out, fmt)  # before anything is scored or recorded
    case_bytes = _read_bytes(cases, "case file")
    case_file = _guard(parse_cases, case_bytes, cases, skip_invalid)
    sources = _guard(RuleSources.read, _rulebook_for(rules, case_file), overlays, sets)
    compiled = _guard(lambda: compile_rulebook(sources.effective()))
    run = _run(compiled, case_file, skip_invalid, jobs, departments)
    if record:
        records = None if departments is None else (departments, _read_bytes(departments, "department records"))
        _record(store, sources, run, case_bytes, skip_invalid, departments=records)
    if fmt == "xlsx":
        from scoring.reports.xlsx import score_workbook
        _emit(score_workbook(run.ledger, *_item_scales(run.compiled), _event_dates(run.case_file)), out)
        return
    if fmt == "html":
        from scoring.reports.html import score_html
        _emit(score_html(run.ledger, grades=run.compiled.book.spec.grade_names(), ranges=item_ranges(run.compiled.book),
                         event_dates=_event_dates(run.case_file)), out)
        return
    _emit({"table": ranking_table, "json": to_json, "csv": to_csv}[fmt](run.ledger), out)


@main.command(epilog=EXIT_HELP)
@rules_options
@cases_option
@click.option("--department", required=True, help="The department to explain.")
@click.option("--case", "case_id", help="Only this case.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text", show_default=True,
              help="xlsx: the department's 自评表 and ledger rows (needs --out).")
@click.option("--out", type=click.Path(dir_okay=False))
@departments_option
@skip_option
@jobs_option
def explain(rules, overlays, sets, cases, department, case_id, fmt, out, departments, skip_invalid, jobs):
    """Every point of one department (or one of its cases), with the events behind it."""
    _check_out(out, fmt)
    case_file = _guard(load_cases, cases, skip_invalid)
    run = _run(_compiled(_rulebook_for(rules, case_file), overlays, sets), case_file, skip_invalid, jobs, departments)
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
    if fmt == "xlsx":
        from scoring.reports.xlsx import explain_workbook
        _emit(explain_workbook(run.ledger, entry, *_item_scales(run.compiled), _event_dates(run.case_file), case_id), out)
        return
    _emit(explain_text(run.ledger, entry, _event_dates(run.case_file), case_id), out)


@main.command("self-check", epilog=EXIT_HELP)
@rules_options
@cases_option
@click.option("--department", required=True, help="The department checking itself.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Check as of the end of this day, YYYY-MM-DD (default: today).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table", show_default=True,
              help="xlsx: standing per item, the work list and the ledger rows (needs --out).")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (replaced only when the check succeeds).")
@departments_option
@skip_option
@jobs_option
def self_check(rules, overlays, sets, cases, department, as_of, fmt, out, departments, skip_invalid, jobs):
    """Where a department stands on a date: score secured, score still reachable, items at risk.

    Events dated after the date are left out and deadlines not yet passed are not failures.
    The floor is the score if nothing more happens; the ceiling, if every remaining step is
    done the next day (items decided by others, such as a member's rating, are shown apart)."""
    _check_out(out, fmt)
    day = as_of.date() if as_of else dt.date.today()
    try:
        case_file = load_cases(cases, skip_invalid=skip_invalid)
        check = selfcheck.SelfCheck(pipeline.load_compiled(_rulebook_for(rules, case_file), overlays, sets), case_file,
                                    department, day, skip_invalid=skip_invalid, jobs=jobs, departments=departments)
    except ScoringError as exc:
        _fail(str(exc), exc.exit_code)
    document = check.document()
    _tell_skipped(document["input"]["skipped"])
    dates = {key: date for key, date in _event_dates(check.case_file).items() if date <= day}
    if fmt == "xlsx":
        from scoring.reports.xlsx import self_check_workbook
        text = self_check_workbook(document, item_ranges(check.compiled.book), dates)
    elif fmt == "table":
        text = self_check_text(document, dates)
    else:
        text = to_json(document) if fmt == "json" else selfcheck.to_csv(document)
    _emit(text, out)


@main.command(epilog=EXIT_HELP)
@rules_options
@cases_option
@click.option("--month", required=True, metavar="YYYY-MM", help="The month of the bulletin, such as 2020-06.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True,
              help="html: one self-contained page with the chart, for circulating and printing.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (replaced only when the run succeeds).")
@departments_option
@skip_option
@jobs_option
def bulletin(rules, overlays, sets, cases, month, fmt, out, departments, skip_invalid, jobs):
    """The monthly bulletin (月度通报): the ranking at the month's end with each department's change
    since the month before, the deadlines missed in the month, and the items due in the next.

    Scored on the cases as they stood at the end of the month: later events are left out."""
    _check_out(out, fmt)
    case_file = _guard(load_cases, cases, skip_invalid)
    compiled = _compiled(_rulebook_for(rules, case_file), overlays, sets)
    document = _guard(monthly.build, compiled, case_file, month, skip_invalid, jobs, departments)
    _tell_skipped(document["input"]["skipped"])
    if fmt == "html":
        from scoring.reports.html import bulletin_html
        _emit(bulletin_html(document), out)
        return
    _emit(to_json(document) if fmt == "json" else bulletin_text(document), out)


@main.group()
def rules():
    """Rulebooks: look at the rules a command will score with."""


@rules.command("show")
@click.argument("rulebook", type=click.Path(dir_okay=False))
@click.option("--overlay", "overlays", multiple=True, type=click.Path(dir_okay=False),
              help="Apply an overlay rule file (repeatable; in the order given).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a parameter (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False))
def rules_show(rulebook, overlays, sets, out):
    """Print the effective rulebook: RULEBOOK with the overlays and --set applied, as TOML.

    This text is what gets scored and hashed into the ledger; `score --rules` on it gives the
    same ledger as the base with the same overlays."""
    book = _guard(lambda: compile_rulebook(RuleSources.read(rulebook, overlays, sets).effective()).book)
    click.echo(f"# {book.spec.rulebook.id} {book.spec.rulebook.version}, sha256 {book.sha256}", err=True)
    _emit(book.text, out)


@rules.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def rules_validate(files):
    """Check rulebooks: everything that stops loading, the points each item and the total can
    reach against the full score, rules that can never fire, gaps in grade bands and tiers,
    weights, unused parameters. Exit 1 when any file has a finding."""
    from scoring.checks.validate import validate
    from scoring.lang.interval import format_interval
    failed = False
    for path in files:
        report = validate(path)
        if report.ranges:
            click.echo(f"{path}: the points each item can give (per case, or per department) and the total")
            click.echo(tabulate([[item, title, format_interval(found)] for item, title, found in report.ranges],
                                headers=["项目", "名称", "可得分"], tablefmt="simple", disable_numparse=True))
        if report.problems:
            failed = True
            click.echo(f"{path}: {len(report.problems)} problem(s):")
            for problem in report.problems:
                click.echo(f"  {problem}")
        else:
            click.echo(f"{path}: clean")
    if failed:
        sys.exit(1)


@rules.command("test")
@click.argument("target", metavar="DIR", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--min-coverage", "min_coverage", type=click.FloatRange(0, 100), default=0, show_default=True,
              metavar="PCT", help="Exit 1 when a rulebook's coverage (percent of its paths its fixtures reach) is below PCT.")
def rules_test(target, fmt, min_coverage):
    """Run the fixtures of each rulebook in DIR (or of the rulebook DIR) and report coverage.

    The fixtures of X.toml are the *.toml files in X.tests/ beside it: each names a case file
    and states the totals, grades, ranks and ledger lines the rulebook must produce from it.
    Coverage: the rules, otherwise sentences, caps, floors, rates, grade bands and clamps the
    fixtures reach. Exit status 0 all passed; 1 a fixture failed or coverage is below
    --min-coverage; 2 bad input (a rulebook or fixture file, every problem listed)."""
    from scoring.checks import ruletests

    report = _guard(ruletests.run_tests, target)
    text = ruletests.to_json(report, min_coverage) if fmt == "json" else ruletests.render(report, min_coverage)
    click.echo(text, nl=False)
    sys.exit(report.exit_code(min_coverage))


@main.group("runs")
def runs_group():
    """Recorded runs (scoring score --record): list, show, export, check the store."""


@runs_group.command("list")
@store_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def runs_list(store, fmt):
    """Every recorded run, oldest first."""
    with _open_store(store) as opened:
        entries = [_run_summary(run) for run in _guard(opened.runs)]
    if fmt == "json":
        click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    rows = [[e["id"], e["seq"], e["recorded_at"], f"{e['rulebook']['id']} {e['rulebook']['version']}",
             e["input"]["sha256"][:12], e["input"]["cases"], e["replayed_from"] or ""] for e in entries]
    click.echo(tabulate(rows, headers=["run", "#", "recorded (UTC)", "rulebook", "input sha256", "cases", "replay of"],
                        tablefmt="simple", disable_numparse=True))


@runs_group.command("show")
@click.argument("run_id", metavar="RUN")
@store_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def runs_show(run_id, store, fmt):
    """One run: what was scored, with what, by which engine, and its ranking."""
    with _open_store(store) as opened:
        run = _guard(opened.get, run_id)
        ledger = json.loads(_guard(opened.blob, run.record["ledger"]["sha256"], "ledger"))
    if fmt == "json":
        click.echo(json.dumps({"id": run.id, "hash": run.hash, "record": run.record}, ensure_ascii=False, indent=2))
        return
    r = run.record
    book, source = r["rulebook"], r["input"]
    lines = [f"run          {run.id} (#{run.seq})", f"hash         {run.hash}", f"previous     {r['previous']}",
             f"recorded     {r['recorded_at']}",
             f"engine       scoring {r['engine']['scoring']}, durable_rules {r['engine']['durable_rules']}",
             f"command      {' '.join(r['command'])}",
             f"rulebook     {book['id']} {book['version']}  sha256 {book['sha256']}",
             f"  base       {book['base']['name']}  sha256 {book['base']['sha256']}"]
    lines += [f"  overlay    {o['name']}  sha256 {o['sha256']}" for o in book["overlays"]]
    lines += [f"  set        {item}" for item in book["set"]]
    lines += [f"input        {source['name']}  {source['cases']} cases, {source['handlers']} handlers, "
              f"{source['skipped']} skipped", f"  sha256     {source['sha256']} (cases, in any order)",
              f"  file       {source['file_sha256']} (the bytes as read)",
              f"options      skip_invalid={str(r['options']['skip_invalid']).lower()}",
              f"ledger       {r['ledger']['format']}  sha256 {r['ledger']['sha256']}"]
    if r["replayed_from"]:
        lines.append(f"replay of    {r['replayed_from']}")
    click.echo("\n".join(lines) + "\n\n" + ranking_table(ledger), nl=False)


@runs_group.command("export")
@click.argument("run_id", metavar="RUN")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="A new (or empty) directory.")
@store_option
def runs_export(run_id, out, store):
    """Write a run's rulebook, cases and ledger as files anyone can score again."""
    with _open_store(store) as opened:
        run = _guard(opened.get, run_id)
        names = _guard(runs.export, opened, run, out)
    click.echo(f"wrote {len(names)} files to {out}: {', '.join(names)}", err=True)
    click.echo(f"to check it: cd {out} && {json.loads((Path(out) / 'run.json').read_text(encoding='utf-8'))['verify']}", err=True)


@runs_group.command("check")
@store_option
def runs_check(store):
    """Verify the hash chain, every run record and every stored file. Exit 1 when anything was altered."""
    with _open_store(store) as opened:
        problems = opened.check()
        recorded = opened.runs() if not problems else []
    if problems:
        click.echo(f"{opened.path}: {len(problems)} problem(s); the store was altered or damaged "
                   "(nothing was repaired):", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    head = recorded[-1].hash if recorded else "none"
    click.echo(f"{opened.path}: ok: {len(recorded)} run(s), the chain is intact and every stored file matches its "
               f"sha256; head {head}")


@main.command(epilog=EXIT_HELP)
@click.argument("run_id", metavar="RUN")
@click.option("--rules", type=click.Path(dir_okay=False), help="Another base rulebook (default: the run's own).")
@click.option("--overlay", "overlays", multiple=True, type=click.Path(dir_okay=False),
              help="Apply an overlay, after the run's own (repeatable).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a parameter, after the run's own (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False))
@click.option("--record", is_flag=True, help="Keep the replay as a new run (it names the run it replays).")
@store_option
@jobs_option
def replay(run_id, rules, overlays, sets, fmt, out, record, store, jobs):
    """Score a recorded run's cases again: unchanged, confirm the ledger is byte-identical
    ("reproduced"); with a changed rulebook, show the impact on every department.

    Exit status 1 when an unchanged replay does not reproduce the ledger."""
    _check_out(out)
    with _open_store(store) as opened:
        stored = _guard(opened.get, run_id)
        inputs = _guard(runs.inputs_of, opened, stored)
    recorded = inputs.sources
    added = tuple(_guard(read_source, path, "overlay") for path in overlays)
    sources = RuleSources(_guard(read_source, rules, "rulebook") if rules else recorded.base,
                          recorded.overlays + added, recorded.sets + tuple(sets))
    changed = bool(rules or overlays or sets)
    book = _guard(sources.effective) if changed else _guard(parse_rulebook, inputs.effective, f"run {stored.id}: rulebook")
    case_file = _guard(parse_cases, inputs.case_bytes, f"run {stored.id}: {inputs.case_name}", inputs.skip_invalid)
    records = None if inputs.departments is None else _guard(
        parse_departments, inputs.departments[1], f"run {stored.id}: {inputs.departments[0]}", book.spec.department_fields)
    run = _run(_guard(compile_rulebook, book), case_file, inputs.skip_invalid, jobs, records)
    replayed = to_json(run.ledger).encode("utf-8")
    old_ledger = json.loads(inputs.ledger)
    document = diff_document((f"run {stored.id}", old_ledger, inputs.effective.decode("utf-8")),
                             ("replay", run.ledger, book.text))
    reproduced = None if changed else replayed == inputs.ledger
    document["replay"] = {"run": stored.id, "changed_rules": changed, "reproduced": reproduced}
    if record:
        _record(store, sources, run, inputs.case_bytes, inputs.skip_invalid, replayed_from=stored.id, departments=inputs.departments)
    if fmt == "json":
        _emit(to_json(document), out)
    elif reproduced:
        _emit(f"reproduced: run {stored.id}: the ledger is byte-identical (sha256 {stored.record['ledger']['sha256']})\n", out)
    else:
        head = (f"replay of run {stored.id} under changed rules: the impact\n\n" if changed else
                f"NOT reproduced: run {stored.id}: the ledger differs from the recorded one\n" + _engine_note(old_ledger, run.ledger) + "\n")
        _emit(head + impact(document), out)
    if reproduced is False:
        sys.exit(1)


@main.command(epilog=EXIT_HELP)
@click.argument("a")
@click.argument("b")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False))
@store_option
def diff(a, b, fmt, out, store):
    """What moved from A to B, each a run id or a ledger JSON file: departments' totals, grades
    and ranks, items, case ledger lines with the rule responsible, and (for runs) the rules."""
    sides = _side(a, store), _side(b, store)
    document = _comparing(lambda: diff_document(*sides), f"{a} or {b}")
    _emit(to_json(document) if fmt == "json" else impact(document), out)


@main.command(epilog=EXIT_HELP)
@click.argument("ledger", type=click.Path(dir_okay=False))
@rules_options
@cases_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@departments_option
@skip_option
@jobs_option
def verify(ledger, rules, overlays, sets, cases, departments, fmt, skip_invalid, jobs):
    """Score again and confirm a published ledger (score --format json) or a department's
    self-assessment (self-check --format json), or list every difference.

    Exit status 1 when the ledger does not match; 2 when it was made with another rulebook
    or from other cases (nothing to compare)."""
    raw = _read_bytes(ledger, "ledger")
    try:
        claimed = json.loads(raw)
        kind = claimed["format"]
    except (ValueError, TypeError, KeyError):
        _fail(f"{ledger}: not a ledger (expected the JSON of `scoring score --format json` or `self-check --format json`)")
    if not isinstance(claimed, dict) or not isinstance(claimed.get("rulebook"), dict) or not isinstance(claimed.get("input"), dict):
        _fail(f"{ledger}: not a complete ledger (rulebook and input are missing or not tables)")
    if kind not in ("scoring-ledger/1", selfcheck.FORMAT):
        _fail(f'{ledger}: format "{kind}" is not a ledger this tool can verify (scoring-ledger/1, {selfcheck.FORMAT})')
    case_file = _guard(load_cases, cases, skip_invalid)
    compiled = _compiled(_rulebook_for(rules, case_file), overlays, sets)
    _same_rulebook(ledger, claimed.get("rulebook", {}), compiled)
    if claimed.get("input", {}).get("sha256") != case_file.sha256:
        _fail(f"{ledger}: made from other case histories than {cases} (input sha256 {str(claimed.get('input', {}).get('sha256'))[:12]}"
              f" in the ledger, {case_file.sha256[:12]} here); nothing to compare")
    if kind == selfcheck.FORMAT:
        try:
            day = dt.date.fromisoformat(claimed["as_of"])
            check = selfcheck.SelfCheck(compiled, case_file, claimed["department"], day, skip_invalid=skip_invalid, jobs=jobs,
                                        departments=departments)
        except (KeyError, ValueError, TypeError):
            _fail(f"{ledger}: the self-assessment lacks a valid department or as_of")
        except ScoringError as exc:
            _fail(str(exc), exc.exit_code)
        found = check.document()
    else:
        found = _run(compiled, case_file, skip_invalid, jobs, departments).ledger
    identical = to_json(found).encode("utf-8") == raw
    rows = [] if identical else _comparing(lambda: differences(claimed, found), ledger)
    if fmt == "json":
        click.echo(to_json({"format": "scoring-verify/1", "ledger": ledger, "confirmed": not rows, "byte_identical": identical,
                            "differences": rows}), nl=False)
    elif not rows:
        what = "the same ledger, byte for byte" if identical else "the same points; " + _engine_note(claimed, found).strip()
        click.echo(f"confirmed: {ledger}: scoring again gives {what}")
    else:
        click.echo(f"NOT confirmed: {ledger}: {len(rows)} difference(s) between the points claimed and the points found\n"
                   + _engine_note(claimed, found))
        table = [[r["department"] or "", r["case"] or "", r["criterion"] or "", r["rule"] or "", r["what"],
                  _cell(r["claimed"]), _cell(r["found"]), r["text"] or ""] for r in rows]
        click.echo(tabulate(table, headers=["部门", "案号", "项目", "规则", "差异", "声称", "核实", "说明"],
                            tablefmt="simple", disable_numparse=True))
    if rows:
        sys.exit(1)


@main.command("import", epilog=EXIT_HELP)
@click.argument("ledger", type=click.Path(dir_okay=False))
@click.option("--mapping", type=click.Path(dir_okay=False), default=None,
              help="A mapping of headers and values (TOML), laid over the default one.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The case file to write (JSON Lines).")
@skip_option
def import_ledger(ledger, mapping, out, skip_invalid):
    """Convert an Excel ledger (办理台账, .xlsx) into a case file: every bad cell named by sheet, row and column."""
    from scoring.inputs.register import cases_to_jsonl, load_xlsx_cases  # openpyxl is slow to import: only here

    _check_out(out)
    case_file = _guard(load_xlsx_cases, ledger, mapping, skip_invalid)
    for skipped in case_file.skipped:
        click.echo(f"skipped: case {skipped.case_id or '?'} (row {skipped.line}): "
                   f"{'; '.join(str(p) for p in skipped.problems)}", err=True)
    _emit(cases_to_jsonl(case_file.cases), out)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False))
def schema(out):
    """Print the JSON Schema of the case-history format."""
    _emit(json.dumps(case_json_schema(), ensure_ascii=False, indent=2) + "\n", out)


def _compiled(rules, overlays=(), sets=()):
    return _guard(pipeline.load_compiled, rules, overlays, sets)


def _guard(function, *args):
    """Call function; a ScoringError ends the command with its message and exit status."""
    try:
        return function(*args)
    except ScoringError as exc:
        _fail(str(exc), exc.exit_code)


def _read_bytes(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        _fail(f"{path}: cannot read the {what}: {exc.strerror}")


def _open_store(path: str | None, create: bool = False) -> RunStore:
    return _guard(RunStore, path or default_path(), create)


def _record(store: str | None, sources: RuleSources, run: pipeline.Run, case_bytes: bytes, skip_invalid: bool,
            replayed_from: str | None = None, departments: tuple[str, bytes] | None = None) -> None:
    record, blobs = runs.new_record(["scoring"] + sys.argv[1:], sources, run.compiled.book, run.case_file, case_bytes,
                                    run.ledger, skip_invalid, replayed_from, departments)
    with _open_store(store, create=True) as opened:
        stored = _guard(opened.record, record, blobs)
    click.echo(f"recorded run {stored.id} in {opened.path}", err=True)


def _run_summary(run) -> dict:
    r = run.record
    return {"id": run.id, "seq": run.seq, "recorded_at": r["recorded_at"],
            "rulebook": {k: r["rulebook"][k] for k in ("id", "version", "sha256")},
            "input": {k: r["input"][k] for k in ("sha256", "cases")}, "replayed_from": r["replayed_from"], "hash": run.hash}


def _side(ref: str, store: str | None) -> tuple[str, dict, str | None]:
    """A side of a diff: a ledger JSON file, or a recorded run (which also has its rulebook's text)."""
    if Path(ref).is_file():
        try:
            ledger = json.loads(Path(ref).read_bytes())
        except ValueError as exc:
            _fail(f"{ref}: not JSON ({exc})")
        if not isinstance(ledger, dict) or ledger.get("format") != "scoring-ledger/1" or not all(
                isinstance(ledger.get(key), dict) for key in ("rulebook", "input")):
            _fail(f"{ref}: not a ledger of `scoring score --format json` (format scoring-ledger/1)")
        return ref, ledger, None
    if not re.fullmatch(r"[0-9a-fA-F]+", ref) or Path(ref).exists():
        _fail(f"{ref}: no such ledger file (and not a run id, which is hexadecimal)")
    with _open_store(store) as opened:
        run = _guard(opened.get, ref)
        ledger = json.loads(_guard(opened.blob, run.record["ledger"]["sha256"], "ledger"))
        text = _guard(opened.blob, run.rulebook["sha256"], "effective rulebook").decode("utf-8")
    return f"run {run.id}", ledger, text


def _comparing(compare, what: str):
    """Run a comparison of ledgers; a ledger missing parts or holding the wrong kind of value is named, not a traceback."""
    try:
        return compare()
    except (KeyError, TypeError, AttributeError, ArithmeticError, ValueError) as exc:
        detail = f'the key "{exc.args[0]}" is missing' if isinstance(exc, KeyError) else f"a value of the wrong kind ({exc})"
        _fail(f"{what}: not a complete ledger: {detail}")


def _same_rulebook(ledger: str, claimed: dict, compiled) -> None:
    info, sha = compiled.book.spec.rulebook, compiled.book.sha256
    if claimed.get("id") != info.id:
        _fail(f'{ledger}: made with rulebook "{claimed.get("id")}", not "{info.id}"; nothing to compare')
    if claimed.get("version") != info.version:
        _fail(f"{ledger}: made with {info.id} version {claimed.get('version')}, not version {info.version}; "
              "score with that version's rulebook (and its overlays) to verify it")
    if claimed.get("sha256") != sha:
        _fail(f"{ledger}: made with a rulebook text (sha256 {str(claimed.get('sha256'))[:12]}) other than this one "
              f"({sha[:12]}), although both say {info.id} {info.version}: the rules were edited without a new version")


def _engine_note(old: dict, new: dict) -> str:
    if old.get("engine") == new.get("engine"):
        return ""
    return (f"note: made by {json.dumps(old.get('engine'), ensure_ascii=False)}, scored again by "
            f"{json.dumps(new.get('engine'), ensure_ascii=False)}\n")


def _cell(value) -> str:
    return "—" if value is None else str(value)


def _rulebook_for(rules: str, case_file: CaseFile) -> str:
    """The rulebook file; for a directory, the version whose period covers the cases."""
    if not Path(rules).is_dir():
        return rules
    chosen = str(_guard(choose_rulebook, rules, case_file))
    click.echo(f"rules: {chosen} (its period covers every case)", err=True)
    return chosen


def _run(compiled, cases: str | CaseFile, skip_invalid, jobs, departments=None) -> pipeline.Run:
    try:
        run = pipeline.run(compiled, cases, skip_invalid=skip_invalid, jobs=jobs, departments=departments)
    except ScoringError as exc:
        _fail(str(exc), exc.exit_code)
    if run.recovered:
        progress.clear()
        click.echo(f"warning: a worker process died while scoring {', '.join(run.recovered)}; "
                   "each was scored again alone and completed", err=True)
    _tell_skipped(run.ledger["input"]["skipped"])
    return run


def _tell_skipped(skipped: list[dict]) -> None:
    """The cases left out (--skip-invalid), on stderr: the output itself lists them too."""
    progress.clear()
    for entry in skipped:
        click.echo(f"skipped: case {entry['case'] or '?'}: {'; '.join(entry['problems'])}", err=True)


def _event_dates(case_file: CaseFile) -> dict:
    """(case id, event id) -> the event's date: what explanations show next to their evidence."""
    return {(case.id, event.id): event.date for case in case_file.cases for event in case.events}


def _item_scales(compiled) -> tuple[dict, dict]:
    """Per item the (lowest, highest) points it can give, and the rubric whose cases it scores: a form's 分值."""
    return item_ranges(compiled.book), {c.id: c.rubric for c in compiled.book.spec.criterion}


BINARY_FORMATS = ("xlsx",)


def _check_out(out: str | None, fmt: str | None = None) -> None:
    if out is None and fmt in BINARY_FORMATS:
        _fail(f"--format {fmt} writes a file: give it with --out FILE")
    if out is not None and not (Path(out).parent if str(Path(out).parent) else Path(".")).is_dir():
        _fail(f"{out}: the directory {Path(out).parent} does not exist; nothing was written")


def _emit(text: str | bytes, out: str | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    _check_out(out)
    # write beside the target, then rename: a failed run never leaves half a file
    target = Path(out)
    handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's owner-only mode
        with os.fdopen(handle, "wb") as stream:
            stream.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {out}", err=True)


def _fail(message: str, code: int = 2):
    progress.clear()
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
