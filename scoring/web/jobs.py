"""The work behind the pages, each piece done in a process of its own.

A page that scores asks `Worker.run(function, ...)`: the function runs in a new process
forked from a server process that has the library loaded (multiprocessing's forkserver,
with the modules below preloaded), and only plain data comes back: a report page's parts,
a file's bytes, a document. Why a process and not a thread of the web server:

* a crash of the native matching engine ends that process, not the server, and is reported
  like any failed run;
* the scoring session forks its own worker processes, which is safe only from a
  single-threaded process (the web server has a thread per request), and it keeps state in
  module globals that two threads scoring at once would share;
* the web server itself never loads the engine.

A command's errors come back as a `Failed` (its exit status, message and every problem, as
the command line prints them), anything else as a `Failed` with the traceback's last line.
A job speaks the server's language (`scoring --lang`), given to it: the forkserver was started
with the environment's, which `--lang` does not change.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing as mp
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from scoring import app
from scoring.base import i18n
from scoring.base.errors import InputError, ScoringError
from scoring.base.i18n import _
from scoring.ledger.document import to_csv, to_json
from scoring.reports import html

# loaded once by the forkserver, so that each job starts with them in memory
PRELOAD = ["scoring.app.scoring", "scoring.app.audit", "scoring.app.describe", "scoring.inputs.register",
           "scoring.reports.html", "scoring.reports.xlsx", "scoring.reports.docx", "scoring.reports.text",
           "scoring.reports.worklist", __name__]
TIMEOUT = 600  # seconds; a job still running then is ended (the sample year scores in about a second)


class Failed(Exception):
    """A job that did not succeed: what the command line would have printed, and its exit status."""

    def __init__(self, status: int, message: str, problems: tuple[str, ...] = ()):
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems

    def __reduce__(self):
        return self.__class__, (self.status, self.message, self.problems)


# ---------------------------------------------------------------- running a job

class Worker:
    """Runs jobs in processes of their own, at most `processes` at a time (the others wait their turn)."""

    def __init__(self, processes: int = 2, timeout: float = TIMEOUT, language: str | None = None):
        self.language = language or i18n.language()  # the command's, decided before the server starts
        self.context = mp.get_context("forkserver")
        self.context.set_forkserver_preload(PRELOAD)
        self.slots = threading.BoundedSemaphore(processes)
        self.timeout = timeout

    def run(self, function, *args):
        with self.slots:
            receive, send = self.context.Pipe(duplex=False)
            process = self.context.Process(target=_job, args=(send, self.language, function, args))
            process.start()
            send.close()
            try:
                if not receive.poll(self.timeout):
                    process.kill()
                    raise Failed(3, _("the job did not finish within {seconds:g} seconds and was ended").format(
                        seconds=self.timeout))
                status, value = receive.recv()
            except EOFError:  # the process died without an answer: the native engine crashed
                process.join()
                raise Failed(3, _("the scoring process ended without a result (exit status {status}); "
                                  "nothing was changed").format(status=process.exitcode)) from None
            finally:
                receive.close()
                process.join()
        if status == "failed":
            raise value
        return value


def _job(send, language, function, args) -> None:
    """In the job's process: run, and send back the result or the failure."""
    i18n.use(language)
    try:
        outcome = ("done", function(*args))
    except InputError as error:
        outcome = ("failed", Failed(error.exit_code, error.summary, tuple(str(p) for p in error.problems)))
    except ScoringError as error:
        outcome = ("failed", Failed(error.exit_code, str(error)))
    except Exception as error:  # a bug: the server shows its last line, the job's stderr has the traceback
        traceback.print_exc()
        outcome = ("failed", Failed(3, _("internal error: {kind}: {error}").format(kind=type(error).__name__, error=error)))
    send.send(outcome)
    send.close()


def ready() -> bool:
    """A job that does nothing: starts the forkserver (and loads the library) before the first page."""
    return True


# ---------------------------------------------------------------- what a page gives a job

@dataclass(frozen=True)
class File:
    """An input: the name shown and recorded, and where its bytes are (a shipped rule file, or an upload)."""

    name: str
    path: str

    def content(self):
        return app.Content(self.name, Path(self.path).read_bytes())


@dataclass(frozen=True)
class Selection:
    """The inputs a page scores: the case file, the rulebook, overlays and settings, department records."""

    cases: File
    rules: File
    overlays: tuple[File, ...] = ()
    sets: tuple[str, ...] = ()
    departments: File | None = None

    def request(self):
        return app.Request(self.rules.content(), self.cases.content(), tuple(o.content() for o in self.overlays),
                           self.sets, self.departments.content() if self.departments else None)

    def command(self, *words: str) -> list[str]:
        """The equivalent command line, recorded with a run made in the workbench."""
        line = ["scoring", *words, "--rules", self.rules.name, "--cases", self.cases.name]
        for overlay in self.overlays:
            line += ["--overlay", overlay.name]
        for setting in self.sets:
            line += ["--set", setting]
        if self.departments:
            line += ["--departments", self.departments.name]
        return line


class Notes(list):
    """What a command says on the side (the CLI's standard error), shown on the page."""

    def __call__(self, message: str) -> None:
        self.append(message)


# ---------------------------------------------------------------- the jobs

def describe(kind: str, file: File) -> dict:
    """What an upload holds, checked as a command reads it."""
    function = {"cases": app.describe_cases, "rulebook": app.describe_rulebook, "overlay": app.describe_overlay,
                "departments": app.describe_departments}[kind]
    return dataclasses.asdict(function(file.content()))


def ranking(selection: Selection) -> tuple[html.Page, list[str]]:
    notes = Notes()
    return html.score_page(app.score(selection.request(), notes)), list(notes)


def self_check(selection: Selection, department: str, as_of: dt.date | None) -> tuple[html.Page | None, list[str], list[str]]:
    """The department's self-check (none without a department), and the departments of the case file to choose from."""
    request, notes = selection.request(), Notes()
    if not department:
        return None, [], app.describe_cases(request.cases).departments
    result = app.self_check(request, department, as_of, notes)
    departments = sorted({handler.department for case in result.case_file.cases for handler in case.handlers})
    return html.self_check_page(result), list(notes), departments


def bulletin(selection: Selection, month: str, issuer: str | None = None,
             issued: dt.date | None = None) -> tuple[html.Page, list[str]]:
    """The month's bulletin, headed by who issues it and when (as the command's --issuer and --issued)."""
    from scoring.reports.bulletin import issue_line
    notes = Notes()
    result = app.bulletin(selection.request(), month, notes, issuer, issued)
    page = html.bulletin_page(result.document, issue_line(result.issuer, result.issued), result.figures, result.labels)
    return page, list(notes)


def download(selection: Selection, report: str, fmt: str, department: str | None = None, as_of: dt.date | None = None,
             month: str | None = None, issuer: str | None = None, issued: dt.date | None = None) -> bytes:
    """A report as a file, rendered as the command line renders it with --format."""
    from scoring.reports import docx, worklist, xlsx
    from scoring.reports.bulletin import issue_line
    request = selection.request()
    if report == "score":
        result = app.score(request)
        output = {"xlsx": xlsx.score_workbook, "html": html.score_html, "json": lambda r: to_json(r.ledger),
                  "csv": lambda r: to_csv(r.ledger)}[fmt](result)
    elif report == "self-check":
        result = app.self_check(request, department, as_of)
        output = {"xlsx": xlsx.self_check_workbook, "json": lambda r: to_json(r.document),
                  "csv": lambda r: worklist.to_csv(r.document, r.labels)}[fmt](result)
    else:
        result = app.bulletin(request, month, issuer=issuer, issued=issued)
        output = {"html": lambda r: html.bulletin_html(r.document, issue_line(r.issuer, r.issued), r.figures, r.labels),
                  "json": lambda r: to_json(r.document), "xlsx": xlsx.bulletin_workbook, "docx": docx.bulletin_docx}[fmt](result)
    return output if isinstance(output, bytes) else output.encode("utf-8")


# ---------------------------------------------------------------- the auditor's jobs

def runs(store: str) -> tuple[list[dict], list[str]]:
    """Every recorded run, and the problems `runs check` finds (none: the chain is intact)."""
    _, problems, _ = app.check_store(store)
    return ([] if problems else app.list_runs(store)), problems


def run(store: str, run_id: str) -> dict:
    """One run: its record and its ledger."""
    stored, ledger = app.show_run(run_id, store)
    return {"id": stored.id, "seq": stored.seq, "hash": stored.hash, "record": stored.record, "ledger": ledger}


def run_ledger(store: str, run_id: str) -> bytes:
    return to_json(app.show_run(run_id, store)[1]).encode("utf-8")


def record(store: str, selection: Selection) -> str:
    """Score the selection and keep it in the store: the new run's id."""
    result = app.score(selection.request())
    return app.record(store, result, selection.command("score", "--record")).id


def replay(store: str, run_id: str, overlays: tuple[File, ...], sets: tuple[str, ...], keep: bool) -> dict:
    """A recorded run scored again (with the overlays and settings after its own), and kept when asked."""
    result = app.replay(run_id, store, None, tuple(o.content() for o in overlays), sets)
    kept = None
    if keep:
        command = ["scoring", "replay", result.run] + [w for o in overlays for w in ("--overlay", o.name)] + [
            w for s in sets for w in ("--set", s)] + ["--record"]
        kept = app.record(store, result.new, command, replayed_from=result.run).id
    return {"run": result.run, "ledger_sha256": result.ledger_sha256, "changed_rules": result.changed_rules,
            "reproduced": result.reproduced, "document": result.document, "recorded": kept}


def diff(store: str, a: str, b: str) -> dict:
    return app.diff(a, b, store, runs=True).document

