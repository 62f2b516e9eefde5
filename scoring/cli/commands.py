"""The `scoring` command line: each command parses its options, calls one library function
(scoring.app) and hands the result to one renderer (scoring.reports).

Errors are handled once, in the group (`ScoringGroup.invoke`): a ScoringError becomes a
click exception with the error's exit status and prints `error: ...` on standard error, as
click's own exceptions do. The library and the renderers are imported inside the commands,
so `scoring --help` loads neither the engine nor pydantic.
"""
from __future__ import annotations

import codecs
import copy
import dataclasses
import functools
import importlib
import inspect
import json
import os
import shutil
import sys
from collections import Counter
from contextlib import suppress

import click

from scoring.base import i18n, progress
from scoring.base.errors import Interrupted, Note, ScoringError, UsageError
from scoring.base.files import check_output, write_atomic
from scoring.base.i18n import _
from scoring.cli.helpformat import HelpContext

EXIT_HELP = "Exit status: 0 done; 2 bad input (rulebook or cases); 3 the matching engine failed; 130 interrupted."
STORE_ENV = "SCORING_STORE"  # scoring.audit.store.ENV, without importing the store for --help
BINARY_FORMATS = ("xlsx", "docx")
STDOUT = STDIN = "-"  # --out -, --cases -: standard output and input, as other tools spell them


class Failure(click.ClickException):
    """A ScoringError on its way out: its message, its exit status."""

    def __init__(self, error: ScoringError):
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        progress.clear()
        click.echo(_("error: {message}").format(message=self.format_message()), err=True)


def help_message(text: str) -> str:
    """A docstring or help= as click shows it (indentation removed, cut at a form feed): the msgid of its translation."""
    return inspect.cleandoc(text).partition("\f")[0]


def translated(thing):
    """A copy of a command or parameter with its help in the current language (click builds help when the
    commands are defined, before the language is known; it is translated when shown)."""
    shown = copy.copy(thing)
    for attribute in ("help", "short_help", "epilog"):
        if getattr(thing, attribute, None):
            setattr(shown, attribute, _(help_message(getattr(thing, attribute))))
    return shown


class Translated(click.Command):
    """Help shown in the current language: the command's text, its options', its epilog, its subcommands'."""

    context_class = HelpContext  # wrapped by display width: a Chinese character takes two columns

    def get_help_option(self, ctx):
        """click's -h/--help, its help left as the msgid: click translates it when it makes the option, which
        for the top command is before --lang is read (`scoring --lang en --help` said 显示本帮助并退出)."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "Show this message and exit."
        return option

    def format_help_text(self, ctx, formatter):
        click.Command.format_help_text(translated(self), ctx, formatter)

    def format_epilog(self, ctx, formatter):
        if self.epilog:
            click.Command.format_epilog(translated(self), ctx, formatter)

    def format_options(self, ctx, formatter):
        records = [record for param in self.get_params(ctx) if not isinstance(param, click.Argument)
                   if (record := translated(param).get_help_record(ctx)) is not None]
        if records:
            with formatter.section(_("Options")):
                formatter.write_dl(records)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)

    def format_commands(self, ctx, formatter):  # click.Group's, with each command's short help translated
        commands = [(name, translated(command)) for name in self.list_commands(ctx)
                    if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _command in commands)
            with formatter.section(_("Commands")):
                formatter.write_dl([(name, short_help(command, limit)) for name, command in commands])


def short_help(command, limit: int) -> str:
    """The line of a command in its group's list. Click's takes the first sentence by words and spaces; a
    Chinese sentence has no spaces, so it takes the text up to the first 。, cut to the width of the line."""
    if i18n.language() == "en" or command.short_help or not command.help:
        return command.get_short_help_str(limit)
    from wcwidth import wcswidth  # display width: a Chinese character takes two columns
    sentence = help_message(command.help).split("\n\n")[0].split("。")[0]
    while wcswidth(sentence) > limit:
        sentence = sentence[:-2] + "…"
    return sentence


class OnceEach(Translated):
    """A command whose options that take one value may be given once each.

    click keeps the last of a repeated option: `--cases a.jsonl --cases b.jsonl` scored b
    alone and exited 0. A repeated option is refused (exit 2) before anything is read; the
    repeatable ones (--overlay, --set) are declared `multiple`."""

    def parse_args(self, ctx, args):
        if not ctx.resilient_parsing:
            _values, _rest, order = self.make_parser(ctx).parse_args(args=list(args))
            if not any(getattr(param, "is_eager", False) and param.expose_value is False for param in order):  # --help
                repeated = Counter(param for param in order
                                   if isinstance(param, click.Option) and not param.multiple and not param.count)
                for param, times in repeated.items():
                    if times > 1:
                        names = "/".join(param.opts + param.secondary_opts)
                        ctx.fail(_("{option} was given {times} times; give it once (only the last would count, and the "
                                   "others would be ignored without a word)").format(option=names, times=times))
        return super().parse_args(ctx, args)


class ScoringGroup(OnceEach, click.Group):
    command_class = OnceEach
    group_class = type  # subgroups (rules, runs) are ScoringGroups too

    def main(self, *args, **kwargs):
        previous = i18n.language()
        i18n.use(i18n.language_from_environment())  # before any output; --lang, when given, decides again
        try:
            return super().main(*args, **kwargs)
        finally:  # a caller in the same process (click's test runner, scripts/golden.py) keeps its language
            i18n.use(previous)

    def parse_args(self, ctx, args):
        ctx.meta["argv"] = list(args)  # the command line as given, recorded with a run
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ScoringError as error:
            raise Failure(error) from None
        except KeyboardInterrupt:  # click's default is "Aborted!" with status 1, as for a failed run
            raise Failure(Interrupted()) from None


def command_line() -> list[str]:
    return ["scoring", *click.get_current_context().meta["argv"]]


def notify(message: str) -> None:
    """What a command says on the side: on standard error, never glued to the progress line. --quiet
    leaves out the notes on what was done (a Note), never a warning, a skipped case or a problem found."""
    context = click.get_current_context(silent=True)
    if context is not None and context.find_root().meta.get("quiet") and isinstance(message, Note):
        return
    progress.clear()
    click.echo(message, err=True)


# ---------------------------------------------------------------- options
def scoring_inputs(command):
    """--rules, --overlay, --set, --cases, --departments, --exclusions, --skip-invalid, --jobs: what every scoring
    command is given, passed to the command as one `request` (scoring.app.Request)."""
    options = [
        click.option("--rules", "rules", required=True, type=click.Path(),
                     help="Rulebook (TOML), or a directory of rulebooks: the one whose period covers the cases."),
        click.option("--overlay", "overlays", multiple=True, type=click.Path(dir_okay=False),
                     help="Apply an overlay rule file to the rulebook (repeatable; in the order given)."),
        click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                     help="Override a parameter of the rulebook, such as points=4 or table.key=4 (repeatable; applied last)."),
        click.option("--cases", "cases", required=True, type=click.Path(dir_okay=False),
                     help="Case histories (JSON Lines, or a JSON array), or an Excel register (.xlsx, default mapping); "
                          "- for standard input."),
        click.option("--departments", "departments", type=click.Path(dir_okay=False), default=None,
                     help="Department records (JSON Lines): facts the rulebook's [department_fields] declare."),
        click.option("--exclusions", "exclusions", type=click.Path(dir_okay=False), default=None,
                     help="Decisions taking cases out of the assessment, exclusions (剔除) and appeals (申诉), "
                          "JSON Lines: each is listed in the ledger with its effect."),
        click.option("--skip-invalid", is_flag=True,
                     help="Score the valid cases and list the invalid ones, instead of stopping."),
        click.option("--jobs", type=click.IntRange(min=0), default=None,
                     help="Worker processes (default: one per core, at most 8, for inputs of 200 cases or more; "
                          "0: in this process)."),
        click.option("--period", "period", default=None, metavar="YYYY-Qn|YYYY-MM",
                     help="The quarter or month to score, for a rulebook assessed per period: the cases assigned "
                          "in it, judged at its end; the others are left out and counted."),
    ]

    @functools.wraps(command)  # keeps the options given to the command before this one
    def wrapper(**kwargs):
        from scoring.app import Request
        names = ("rules", "overlays", "sets", "cases", "departments", "exclusions", "skip_invalid", "jobs", "period")
        request = Request(**{name: kwargs.pop(name) for name in names})
        if request.cases == STDIN:
            request = dataclasses.replace(request, cases=standard_input("case file"))
        return command(request=request, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


class WrittenDate(click.ParamType):
    """A date in any form a register accepts (2020-06-05, 2020/6/5, 2020年6月5日); an impossible one is refused."""

    name = "date"

    def convert(self, value, param, ctx):
        from scoring.base.dates import parse_date
        try:
            return parse_date(str(value))
        except ValueError as exc:
            self.fail(_('"{value}" {problem}').format(value=value, problem=exc), param, ctx)


DATE = WrittenDate()


def standard_input(what: str):
    """`--cases -`: the bytes of standard input, named <stdin> in messages and run records."""
    from scoring.app.inputs import Content
    from scoring.base.files import read_stream
    return Content("<stdin>", read_stream(sys.stdin.buffer, "<stdin>", what))


def format_option(*choices: str, default: str, help: str | None = None):
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True, help=help)


out_option = click.option("--out", type=click.Path(dir_okay=False),
                          help="Write to this file, - for standard output (replaced only when the run succeeds, "
                               "keeping its permissions; a device or a pipe is written through).")
store_option = click.option("--store", type=click.Path(dir_okay=False), default=None,
                            help=f"Run store, an SQLite file (default: ${STORE_ENV}, else ./scoring-runs.db).")


def check_out(out: str | None, fmt: str | None = None) -> None:
    """Before anything is scored or recorded: a binary format needs a file (or `--out -`), and the
    file must be one we can write."""
    if out is None and fmt in BINARY_FORMATS:
        raise UsageError(_("--format {format} writes a file: give it with --out FILE (--out - for standard output)").format(
            format=fmt))
    if out not in (None, STDOUT):
        check_output(out)


def terminal_width(out: str | None) -> int | None:
    """The width to fit a table to: the terminal's, when the output goes to one; None (the whole
    table, the same bytes whatever the window) for pipes and files."""
    if out not in (None, STDOUT) or not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def emit(output: str | bytes, out: str | None, fmt: str | None = None) -> None:
    """The output on standard output, or written whole to --out. A CSV file starts with a byte order
    mark, so that Excel opens it as UTF-8 (standard output stays plain UTF-8 for other programs)."""
    if out in (None, STDOUT):
        click.echo(output, nl=False)
        return
    data = output if isinstance(output, bytes) else output.encode("utf-8")
    write_atomic(out, (codecs.BOM_UTF8 if fmt == "csv" else b"") + data)
    notify(Note(_("wrote {file}").format(file=out)))


class VersionMessage(str):
    """--version's text, translated when shown: click fills it in with `%` when the option is used, but takes it
    when the option is defined, before the language is known. The msgid is click's own."""

    def __mod__(self, values):
        return _(str(self)) % values


# ---------------------------------------------------------------- scoring
@click.group(cls=ScoringGroup, epilog=EXIT_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="scoring", message=VersionMessage("%(prog)s, version %(version)s"))
@click.option("-q", "--quiet", is_flag=True, help="Say nothing on standard error but warnings, skipped cases and errors.")
@click.option("--lang", type=click.Choice(i18n.LANGUAGES), is_eager=True,
              callback=lambda ctx, param, value: choose_language(value),
              help="The language of messages and help: zh (Chinese) or en (English). Default: $SCORING_LANG, else "
                   "English when the locale (LC_ALL, LC_MESSAGES, LANG) is English, else Chinese.")
@click.pass_context
def main(ctx, quiet, lang):
    """Score departments' handling of deputies' suggestions and members' proposals."""
    ctx.meta["quiet"] = quiet
    ctx.with_resource(progress.on_terminal())  # long runs show progress on a terminal's stderr, never in pipes


def choose_language(value: str | None) -> None:
    """--lang: given, it decides (eager, so that `scoring --lang en --help` is in English); not given, the
    environment has decided (ScoringGroup.main), and a SCORING_LANG that names no language is said once."""
    if value is not None:
        i18n.use(value)
    elif (unknown := i18n.unknown_setting()) is not None:
        notify(_("warning: {variable}={value} names no language (zh or en); it is ignored").format(
            variable=i18n.ENV, value=unknown))


def run() -> None:
    """The installed script and `cli.py`: `main`, and after Ctrl-C an exit that does not wait for the
    interpreter to free everything the run read (most of a second per few thousand cases). Output
    files are already whole or absent, the workers already stopped."""
    try:
        main()
    except SystemExit as done:
        if done.code == Interrupted.exit_code:
            for stream in (sys.stdout, sys.stderr):
                with suppress(OSError, ValueError):
                    stream.flush()
            os._exit(done.code)
        raise


def lazy(module: str, name: str):
    """A renderer of scoring.reports.<module>, imported when it is called (openpyxl and the HTML
    pages cost their import only to the formats that need them)."""
    def call(*args):
        return getattr(importlib.import_module(f"scoring.reports.{module}"), name)(*args)
    return call


@main.command(epilog=EXIT_HELP)
@scoring_inputs
@format_option("table", "json", "csv", "xlsx", "html", default="table",
               help="xlsx: ranking, ledger and a 自评表 per department (needs --out); "
                    "html: one self-contained report with a chart and a drill-down to every line.")
@out_option
@store_option
@click.option("--record", is_flag=True, help="Keep the run (rulebook, cases, ledger) in the run store; prints its id.")
def score(request, fmt, out, store, record):
    """Rank every department: total, grade, rank, and points per item (or the full ledger)."""
    from scoring import app
    from scoring.ledger.document import to_csv, to_json
    from scoring.reports import text
    check_out(out, fmt)  # before anything is scored or recorded
    result = app.score(request, notify)
    if record:
        app.record(store, result, command_line())
    renderers = {"table": lambda r: text.ranking_table(r.ledger, terminal_width(out), r.figures),
                 "json": lambda r: to_json(r.ledger), "csv": lambda r: to_csv(r.ledger),
                 "xlsx": lazy("xlsx", "score_workbook"), "html": lazy("html", "score_html")}
    emit(renderers[fmt](result), out, fmt)


@main.command(epilog=EXIT_HELP)
@scoring_inputs
@click.option("--department", required=True, help="The department to explain.")
@click.option("--case", "case_id", help="Only this case.")
@format_option("text", "json", "xlsx", default="text", help="xlsx: the department's 自评表 and ledger rows (needs --out).")
@click.option("--out", type=click.Path(dir_okay=False))
def explain(request, department, case_id, fmt, out):
    """Every point of one department (or one of its cases), with the events behind it."""
    from scoring import app
    from scoring.ledger.document import to_json
    from scoring.reports import text
    check_out(out, fmt)
    result = app.explain(request, department, case_id, notify)
    renderers = {"text": text.explain, "json": lambda r: to_json(r.document()), "xlsx": lazy("xlsx", "explain_workbook")}
    emit(renderers[fmt](result), out, fmt)


@main.command("self-check", epilog=EXIT_HELP)
@scoring_inputs
@click.option("--department", required=True, help="The department checking itself.")
@click.option("--as-of", "as_of", type=DATE, default=None,
              help="Check as of the end of this day, such as 2020-06-30 or 2020年6月30日 (default: today, or "
                   "the end of the assessment once it is past).")
@format_option("table", "json", "csv", "xlsx", default="table",
               help="xlsx: standing per item, the work list and the ledger rows (needs --out).")
@click.option("--sort", "order", type=click.Choice(["points", "deadline"]), default="points", show_default=True,
              help="The items not yet due in the table: the most points first, or the nearest deadline first.")
@out_option
def self_check(request, department, as_of, fmt, order, out):
    """Where a department stands on a date: score secured, score still reachable, items at risk.

    Events dated after the date are left out and deadlines not yet passed are not failures.
    The floor is the score if nothing more happens; the ceiling, if every remaining step is
    done the next day (items decided by others, such as a member's rating, are shown apart)."""
    from scoring import app
    from scoring.ledger.document import to_json
    from scoring.reports import text, worklist
    check_out(out, fmt)
    result = app.self_check(request, department, as_of, notify)
    renderers = {"table": lambda r: text.self_check(r, order), "json": lambda r: to_json(r.document),
                 "csv": lambda r: worklist.to_csv(r.document, r.labels), "xlsx": lazy("xlsx", "self_check_workbook")}
    emit(renderers[fmt](result), out, fmt)


@main.command(epilog=EXIT_HELP)
@scoring_inputs
@click.option("--month", required=True, metavar="YYYY-MM", help="The month of the bulletin, such as 2020-06.")
@format_option("table", "json", "html", "xlsx", "docx", default="table",
               help="html: one self-contained page with the chart; xlsx: a workbook that prints; "
                    "docx: a Word document laid out as a notice (通报). xlsx and docx need --out.")
@click.option("--issuer", metavar="TEXT", help="The issuing office printed under the title "
              "(default: the rulebook's [rulebook] issuer).")
@click.option("--issued", type=DATE,
              help="The date of issue printed under the title (default: none; never today's date, "
                   "so that the same inputs give the same file).")
@out_option
def bulletin(request, month, fmt, issuer, issued, out):
    """The monthly bulletin (月度通报): the ranking at the month's end with each department's change
    since the month before, the deadlines missed in the month, and the items due in the next.

    Scored on the cases as they stood at the end of the month: later events are left out."""
    from scoring import app
    from scoring.ledger.document import to_json
    from scoring.reports import text
    from scoring.reports.bulletin import issue_line
    check_out(out, fmt)
    result = app.bulletin(request, month, notify, issuer, issued)
    renderers = {"table": lambda r: text.bulletin(r.document, terminal_width(out), r.figures, r.labels),
                 "json": lambda r: to_json(r.document),
                 "html": lambda r: lazy("html", "bulletin_html")(r.document, issue_line(r.issuer, r.issued), r.figures,
                                                               r.labels),
                 "xlsx": lazy("xlsx", "bulletin_workbook"), "docx": lazy("docx", "bulletin_docx")}
    emit(renderers[fmt](result), out, fmt)


@main.command(epilog=EXIT_HELP)
@scoring_inputs
@click.option("--year", type=click.IntRange(1, 9999), default=None,
              help="The year whose periods are combined (default: the year of the rulebook's valid_from).")
@format_option("table", "json", default="table")
@out_option
@store_option
@click.option("--record", is_flag=True, help="Keep each period's run in the run store; the combination cites their ids.")
def combine(request, year, fmt, out, store, record):
    """A year of a rulebook assessed per quarter or month: every period scored as score --period
    scores it, and each department's period totals combined as the rulebook's [combine] says
    (sum, mean, last or an expression), every period's ledger cited by its sha256."""
    from scoring import app
    from scoring.ledger.document import to_json
    from scoring.reports import text
    check_out(out, fmt)
    result = app.combine(request, year, notify, store, command_line() if record else None)
    emit(to_json(result.document) if fmt == "json" else text.combined_table(result.document, terminal_width(out)),
         out, fmt)


# ---------------------------------------------------------------- rulebooks
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
    from scoring import app
    check_out(out)
    book = app.effective_rulebook(rulebook, overlays, sets)
    notify(Note(f"# {book.spec.rulebook.id} {book.spec.rulebook.version}, sha256 {book.sha256}"))
    emit(book.text, out)


@rules.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.pass_context
def rules_validate(ctx, files):
    """Check rulebooks: everything that stops loading, the points each item and the total can
    reach against the full score, rules that can never fire, gaps in grade bands and tiers,
    weights, unused parameters. Exit 1 when any file has a finding."""
    from scoring import app
    from scoring.reports.text import validation
    reports = app.validate_rulebooks(files)
    for report in reports:
        click.echo(validation(report), nl=False)
    ctx.exit(1 if any(report.problems for report in reports) else 0)


@rules.command("test")
@click.argument("target", metavar="DIR", type=click.Path())
@format_option("table", "json", default="table")
@click.option("--min-coverage", "min_coverage", type=click.FloatRange(0, 100), default=0, show_default=True,
              metavar="PCT", help="Exit 1 when a rulebook's coverage (percent of its paths its fixtures reach) is below PCT.")
@click.pass_context
def rules_test(ctx, target, fmt, min_coverage):
    """Run the fixtures of each rulebook in DIR (or of the rulebook DIR) and report coverage.

    The fixtures of X.toml are the *.toml files in X.tests/ beside it: each names a case file
    and states the totals, grades, ranks and ledger lines the rulebook must produce from it.
    Coverage: the rules, otherwise sentences, caps, floors, rates, grade bands and clamps the
    fixtures reach. Exit status 0 all passed; 1 a fixture failed or coverage is below
    --min-coverage; 2 bad input (a rulebook or fixture file, every problem listed)."""
    from scoring import app
    from scoring.reports import rule_tests
    report = app.test_rulebooks(target)
    click.echo((rule_tests.to_json if fmt == "json" else rule_tests.render)(report, min_coverage), nl=False)
    ctx.exit(report.exit_code(min_coverage))


# ---------------------------------------------------------------- the run store and the audit
@main.group("runs")
def runs_group():
    """Recorded runs (scoring score --record): list, show, export, check the store."""


@runs_group.command("list")
@store_option
@format_option("table", "json", default="table")
def runs_list(store, fmt):
    """Every recorded run, oldest first."""
    from scoring import app
    from scoring.reports.text import runs_table
    entries = app.list_runs(store)
    click.echo(json.dumps(entries, ensure_ascii=False, indent=2) if fmt == "json" else runs_table(entries),
               nl=fmt == "json")


@runs_group.command("show")
@click.argument("run_id", metavar="RUN")
@store_option
@format_option("text", "json", default="text")
def runs_show(run_id, store, fmt):
    """One run: what was scored, with what, by which engine, and its ranking."""
    from scoring import app
    from scoring.reports.text import run_details
    run, ledger = app.show_run(run_id, store)
    if fmt == "json":
        click.echo(json.dumps({"id": run.id, "hash": run.hash, "record": run.record}, ensure_ascii=False, indent=2))
    else:
        click.echo(run_details(run, ledger), nl=False)


@runs_group.command("export")
@click.argument("run_id", metavar="RUN")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="A new (or empty) directory.")
@store_option
def runs_export(run_id, out, store):
    """Write a run's files as files anyone can score again."""
    from scoring import app
    names, verify_command = app.export_run(run_id, out, store)
    notify(Note(_("wrote {n} files to {directory}: {names}").format(n=len(names), directory=out, names=", ".join(names))))
    notify(Note(_("to check it: {command}").format(command=f"cd {out} && {verify_command}")))


@runs_group.command("check")
@store_option
@click.pass_context
def runs_check(ctx, store):
    """Verify the hash chain, every run record and every stored file. Exit 1 when anything was altered."""
    from scoring import app
    path, problems, recorded = app.check_store(store)
    if problems:
        notify(_("{store}: {n} problem(s); the store was altered or damaged (nothing was repaired):").format(
            store=path, n=len(problems)))
        for problem in problems:
            notify(f"  {problem}")
        ctx.exit(1)
    head = recorded[-1].hash if recorded else _("none")
    click.echo(_("{store}: ok: {n} run(s), the chain is intact and every stored file matches its sha256; head {head}").format(
        store=path, n=len(recorded), head=head))


@main.command(epilog=EXIT_HELP)
@click.argument("run_id", metavar="RUN")
@click.option("--rules", type=click.Path(dir_okay=False), help="Another base rulebook (default: the run's own).")
@click.option("--overlay", "overlays", multiple=True, type=click.Path(dir_okay=False),
              help="Apply an overlay, after the run's own (repeatable).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a parameter, after the run's own (repeatable).")
@format_option("table", "json", default="table")
@click.option("--out", type=click.Path(dir_okay=False))
@click.option("--record", is_flag=True, help="Keep the replay as a new run (it names the run it replays).")
@store_option
@click.option("--jobs", type=click.IntRange(min=0), default=None, help="Worker processes (as for score).")
@click.pass_context
def replay(ctx, run_id, rules, overlays, sets, fmt, out, record, store, jobs):
    """Score a recorded run's cases again: unchanged, confirm the ledger is byte-identical
    ("reproduced"); with a changed rulebook, show the impact on every department.

    Exit status 1 when an unchanged replay does not reproduce the ledger."""
    from scoring import app
    from scoring.ledger.document import to_json
    from scoring.reports.text import replay as replay_text
    check_out(out)
    result = app.replay(run_id, store, rules, overlays, sets, jobs, notify)
    if record:
        app.record(store, result.new, command_line(), replayed_from=result.run)
    emit(to_json(result.document) if fmt == "json" else replay_text(result), out)
    ctx.exit(result.exit_code)


@main.command(epilog=EXIT_HELP)
@click.argument("a")
@click.argument("b")
@format_option("table", "json", default="table")
@click.option("--out", type=click.Path(dir_okay=False))
@store_option
def diff(a, b, fmt, out, store):
    """What moved from A to B, each a run id or a ledger JSON file: departments' totals, grades
    and ranks, items, case ledger lines with the rule responsible, and (for runs) the rules."""
    from scoring import app
    from scoring.ledger.document import to_json
    from scoring.reports.text import impact
    check_out(out)
    document = app.diff(a, b, store).document
    emit(to_json(document) if fmt == "json" else impact(document), out)


@main.command(epilog=EXIT_HELP)
@click.argument("ledger", type=click.Path(dir_okay=False))
@scoring_inputs
@format_option("table", "json", default="table")
@click.pass_context
def verify(ctx, ledger, request, fmt):
    """Score again and confirm a published ledger (score --format json) or a department's
    self-assessment (self-check --format json), or list every difference.

    Exit status 1 when the ledger does not match; 2 when it was made with another rulebook
    or from other cases (nothing to compare)."""
    from scoring import app
    from scoring.ledger.document import to_json
    from scoring.reports.text import verification
    result = app.verify(ledger, request, notify)
    click.echo(to_json(result.document()) if fmt == "json" else verification(result), nl=False)
    ctx.exit(result.exit_code)


# ---------------------------------------------------------------- inputs
@main.command("import", epilog=EXIT_HELP)
@click.argument("register", type=click.Path(dir_okay=False))
@click.option("--mapping", type=click.Path(dir_okay=False), default=None,
              help="A mapping of headers and values (TOML), laid over the default one.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The case file to write (JSON Lines).")
@click.option("--skip-invalid", is_flag=True, help="Convert the valid cases and list the invalid ones, instead of stopping.")
@click.option("--domain", "domain_name", default="proposals", show_default=True, metavar="NAME|FILE",
              help="The case model of the register: a shipped domain's name or a domain file (.toml).")
def import_register(register, mapping, out, skip_invalid, domain_name):
    """Convert an Excel register (办理台账, .xlsx) into a case file: every bad cell named by sheet, row and column."""
    from scoring import app
    check_out(out)
    emit(app.import_register(register, mapping, skip_invalid, notify, domain_name), out)


# ---------------------------------------------------------------- the web workbench
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; any but this computer's own (127.0.0.1) requires a token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port.")
@click.option("--token", default=None,
              help="Required of every request (default: none on 127.0.0.1; elsewhere one is generated and printed).")
@click.option("--rules", "rules", type=click.Path(file_okay=False), default=None,
              help="The rulebooks and overlays to offer (default: ./rules when there is one).")
@click.option("--workdir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where uploads are kept (in its uploads/).")
@store_option
def serve(host, port, token, rules, workdir, store):
    """The web workbench: upload registers, self-check, ranking, bulletin, downloads, recorded runs."""
    from scoring.web import serve as run_server  # the web framework: only for this command
    if rules is None and os.path.isdir("rules"):
        rules = "rules"
    run_server(host, port, workdir, store or os.environ.get(STORE_ENV) or "scoring-runs.db", rules, token, click.echo)


DOCUMENTS = ("case", "ledger", "explain", "self-check", "bulletin", "diff", "replay", "verify", "rule-tests", "runs", "run",
             "run-export", "combined")  # scoring.ledger.schemas.DOCUMENTS and the case format, named here for --help


@main.command()
@click.option("--document", type=click.Choice(DOCUMENTS), default="case", show_default=True, metavar="DOCUMENT",
              help="The input format (case) or the JSON document of a command (also in schemas/): "
                   "case, ledger, explain, self-check, bulletin, diff, replay, verify, rule-tests, runs, run, run-export.")
@click.option("--domain", "domain_name", default="proposals", show_default=True, metavar="NAME|FILE",
              help="The case model: a shipped domain's name or a domain file (.toml).")
@click.option("--out", type=click.Path(dir_okay=False))
def schema(document, domain_name, out):
    """Print the JSON Schema of a domain's case-history format, or of a document the tool writes."""
    check_out(out)
    from scoring.domain.spec import load_domain
    domain = load_domain(domain_name)  # a domain file with problems is refused, whichever document is asked for
    if document == "case":
        from scoring.domain.cases import case_json_schema
        found = case_json_schema(domain)
    else:
        from scoring.ledger.schemas import document_schemas
        found = document_schemas()[document]
    emit(json.dumps(found, ensure_ascii=False, indent=2) + "\n", out)
