"""The workbench's pages: one route per thing a user does, each a job of scoring.web.jobs.

Pages take their inputs from the query (what is chosen: `cases`, `rules`, `departments`,
`overlay`, `set`; then a department and a date, or a month), so that two people, or two tabs,
never share a state, and a page's address shows it again. Forms that change something (an
upload, recording a run, a replay) are POSTed with the server's CSRF secret.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, g, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from scoring.reports import html as report
from scoring.reports.display import plain_number, signed, two_decimals
from scoring.reports.text import CHANGE_NAMES, ranking

from . import jobs
from .inputs import KINDS, LIMITS, MIB, Library, Refused, check_size, display_name
from .security import Guard

RUN_ID = re.compile(r"[0-9a-f]{4,64}")
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
FORMATS = {"score": {"xlsx": "评分结果", "html": "评分报告", "json": "评分账本", "csv": "评分明细"},
           "self-check": {"xlsx": "自查", "json": "自查", "csv": "自查待办"},
           "bulletin": {"docx": "月度通报", "xlsx": "月度通报", "html": "月度通报", "json": "月度通报"}}
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "html": "text/html; charset=utf-8",
        "json": "application/json", "csv": "text/csv; charset=utf-8",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
ISSUER_LENGTH = 60  # characters of the issuing office printed under the bulletin's title
STATUS = {1: 422, 2: 422, 3: 500}  # a command's exit status as the page's HTTP status
SELECTION_KEYS = ("cases", "rules", "departments", "overlay", "set")


@dataclass(frozen=True)
class Settings:
    workdir: Path  # the uploads are kept in its uploads/
    store: Path  # the run store (SQLite)
    rules: Path | None  # the shipped rulebooks and overlays
    token: str | None = None  # required of every request when set
    local_only: bool = True  # listening on the loopback address only
    processes: int = 2  # jobs at a time


def create_app(settings: Settings, worker: jobs.Worker | None = None) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max(LIMITS.values()) + MIB  # the largest file, and the form around it
    library = Library(settings.workdir, settings.rules)
    worker = worker or jobs.Worker(settings.processes)
    Guard(settings.token, settings.local_only).install(app)
    # a refused request's page has its style in it: the style sheets, asked for without the token, are refused as well
    refused_css = report.CSS + Path(app.static_folder, "workbench.css").read_text(encoding="utf-8")
    app.jinja_env.filters.update(size=_size, two=two_decimals, plain=plain_number, delta=_delta, arrow=_arrow,
                                 cell=_cell, change=_change)

    # ---------------------------------------------------------------- helpers
    def selection_args(source=None) -> dict:
        """The chosen inputs, as given (for links and hidden fields)."""
        source = request.args if source is None else source
        found = {}
        for key in SELECTION_KEYS:
            values = [v for v in source.getlist(key) if v]
            if values:
                found[key] = values if key in ("overlay", "set") else values[0]
        return found

    def selection(source=None) -> jobs.Selection:
        args = selection_args(source)
        if "cases" not in args or "rules" not in args:
            abort(400, "请先选择办件文件和规则")
        sets = tuple(line.strip() for value in args.get("set", []) for line in value.splitlines() if line.strip())
        return jobs.Selection(library.get(args["cases"], "cases").file, library.get(args["rules"], "rulebook").file,
                              tuple(library.get(ref, "overlay").file for ref in args.get("overlay", [])), sets,
                              library.get(args["departments"], "departments").file if "departments" in args else None)

    def chosen(picked: jobs.Selection | None) -> list[tuple[str, str]]:
        if picked is None:
            return []
        found = [("办件", picked.cases.name), ("规则", picked.rules.name)]
        found += [("规则调整", o.name) for o in picked.overlays] + [("参数", s) for s in picked.sets]
        return found + ([("部门记录", picked.departments.name)] if picked.departments else [])

    def page(template: str, status: int = 200, **context):
        context.setdefault("selection_args", selection_args())
        context.setdefault("facts", [])
        context.setdefault("notes", [])
        context.setdefault("chosen", [])
        if g.get("refused"):  # no paths of this computer for whoever is refused
            return render_template(template, inline_css=refused_css, store=None, workdir=None, **context), status
        return render_template(template, store=settings.store, workdir=settings.workdir, **context), status

    def report_page(active: str, picked: jobs.Selection, built: report.Page | None, notes: list[str], title: str = "",
                    **context):
        return page("report.html", active=active, chosen=chosen(picked), notes=notes, page=built,
                    title=built.title if built else title, facts=built.facts if built else [],
                    grade_css=report.grade_css(built.grades) if built else "", **context)

    def downloads(name: str, **extra) -> list[tuple[str, str]]:
        args = {**selection_args(), **{k: v for k, v in extra.items() if v}}
        return [(f"{label}（{fmt.upper()}）", url_for("download", report=name, fmt=fmt, **args))
                for fmt, label in FORMATS[name].items()]

    # ---------------------------------------------------------------- errors
    @app.errorhandler(jobs.Failed)
    def failed(error: jobs.Failed):
        return page("error.html", STATUS.get(error.status, 500), title="未能完成", message=error.message,
                    problems=error.problems)

    @app.errorhandler(Refused)
    def refused(error: Refused):
        return page("error.html", error.status, title="无法使用", message=error.message, problems=())

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        return page("error.html", 413, title="文件过大",
                    message=f"上传的内容过大：最大 {max(LIMITS.values()) // MIB} MB（各类文件的限额见上传表单）", problems=())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {404: "没有这个页面", 405: "不支持这种请求"}
        message = error.description if error.code in (400, 403) else messages.get(error.code, error.name)
        return page("error.html", error.code, title={403: "不能访问"}.get(error.code, "请求有误"), message=message,
                    problems=())

    # ---------------------------------------------------------------- the report's own style and script
    @app.get("/report.css")
    def report_css():
        return app.response_class(report.CSS, mimetype="text/css")

    @app.get("/report.js")
    def report_js():
        return app.response_class(report.SCRIPT, mimetype="text/javascript")

    # ---------------------------------------------------------------- inputs
    @app.get("/")
    def home():
        args = selection_args()
        selected = {"cases": args.get("cases"), "rules": args.get("rules"), "departments": args.get("departments"),
                    "overlays": args.get("overlay", [])}
        choices = {kind: library.choices(kind) for kind in KINDS}
        return page("home.html", active="home", title="评分工作台", kinds=KINDS, choices=choices, selected=selected,
                    uploads=library.uploaded(), shipped=library.shipped(),
                    limits={kind: limit // MIB for kind, limit in LIMITS.items()})

    @app.post("/upload")
    def upload():
        kind = request.form.get("kind", "")
        given = request.files.get("file")
        if kind not in KINDS:
            abort(400, "请选择文件的种类")
        if given is None or not given.filename:
            abort(400, "请选择要上传的文件")
        data = given.read(LIMITS[kind] + 1)
        check_size(kind, data)
        staged = library.stage(kind, given.filename, data)
        try:
            worker.run(jobs.describe, kind, staged.file)
        except jobs.Failed:
            library.discard(staged)
            raise
        kept = library.keep(staged)
        return redirect(url_for("input_page", ref=kept.ref, **selection_args()), code=303)

    @app.get("/inputs/<ref>")
    def input_page(ref: str):
        item = library.upload(ref)
        info = worker.run(jobs.describe, item.kind, item.file)
        key = {"cases": "cases", "rulebook": "rules", "departments": "departments", "overlay": "overlay"}[item.kind]
        use = {**selection_args(), key: [ref] if key == "overlay" else ref}
        return page("input.html", title=item.name, item=item, info=info, kinds=KINDS, use_args=use)

    # ---------------------------------------------------------------- reports
    @app.get("/ranking", endpoint="ranking")
    def ranking_page():
        picked = selection()
        return report_page("ranking", picked, *worker.run(jobs.ranking, picked), downloads=downloads("score"))

    @app.get("/self-check")
    def self_check():
        picked = selection()
        department, as_of = request.args.get("department", ""), _date(request.args.get("as_of", ""))
        built, notes, names = worker.run(jobs.self_check, picked, department, as_of)
        return report_page("self-check", picked, built, notes, title="部门自查", form="self_check_form.html",
                           departments=names, department=department, as_of=as_of,
                           downloads=downloads("self-check", department=department, as_of=as_of) if built else [])

    @app.get("/bulletin")
    def bulletin():
        picked = selection()
        month = _month(request.args.get("month", ""))
        issuer, issued = _issuer(request.args.get("issuer", "")), _date(request.args.get("issued", ""))
        built, notes = worker.run(jobs.bulletin, picked, month, issuer, issued) if month else (None, [])
        return report_page("bulletin", picked, built, notes, title="月度通报", form="bulletin_form.html", month=month,
                           issuer=issuer, issued=issued,
                           downloads=downloads("bulletin", month=month, issuer=issuer, issued=issued) if built else [])

    @app.get("/download/<report>.<fmt>")
    def download(report: str, fmt: str):
        if fmt not in FORMATS.get(report, {}):
            abort(404)
        picked = selection()
        department, as_of = request.args.get("department", ""), _date(request.args.get("as_of", ""))
        month = _month(request.args.get("month", ""))
        issuer, issued = _issuer(request.args.get("issuer", "")), _date(request.args.get("issued", ""))
        if report == "self-check" and not department:
            abort(400, "请选择部门")
        if report == "bulletin" and not month:
            abort(400, "请选择月份（YYYY-MM）")
        data = worker.run(jobs.download, picked, report, fmt, department, as_of, month, issuer, issued)
        what = "-".join(str(p) for p in (FORMATS[report][fmt], department, as_of, month) if p)
        return send_file(io.BytesIO(data), MIME[fmt], as_attachment=True, download_name=display_name(f"{what}.{fmt}", "cases"))

    # ---------------------------------------------------------------- the auditor's
    @app.get("/runs")
    def runs():
        exists = settings.store.is_file()
        entries, problems = worker.run(jobs.runs, str(settings.store)) if exists else ([], [])
        picked = selection() if selection_args() else None
        return page("runs.html", active="runs", title="运行记录", entries=entries, problems=problems, store_exists=exists,
                    chosen=chosen(picked))

    @app.post("/runs")
    def record():
        picked = selection(request.form)
        run_id = worker.run(jobs.record, str(settings.store), picked)
        return redirect(url_for("run_page", run_id=run_id), code=303)

    @app.get("/runs/<run_id>")
    def run_page(run_id: str):
        found = worker.run(jobs.run, str(settings.store), _run_id(run_id))
        return page("run.html", active="runs", title=f"运行 {found['id']}", run=found, ranking=ranking(found["ledger"]),
                    overlays=library.choices("overlay"))

    @app.get("/runs/<run_id>/ledger.json")
    def run_ledger(run_id: str):
        data = worker.run(jobs.run_ledger, str(settings.store), _run_id(run_id))
        return send_file(io.BytesIO(data), MIME["json"], as_attachment=True, download_name=f"ledger-{run_id}.json")

    @app.post("/runs/<run_id>/replay")
    def replay(run_id: str):
        overlays = tuple(library.get(ref, "overlay").file for ref in request.form.getlist("overlay") if ref)
        sets = tuple(line.strip() for line in request.form.get("set", "").splitlines() if line.strip())
        done = worker.run(jobs.replay, str(settings.store), _run_id(run_id), overlays, sets, bool(request.form.get("keep")))
        if done["reproduced"]:
            outcome = ("ok", f"已重现：运行 {done['run']} 的账本逐字节相同（sha256 {done['ledger_sha256'][:12]}）")
        elif done["changed_rules"]:
            outcome = ("changed", f"运行 {done['run']} 在调整后的规则下重放：影响如下")
        else:
            outcome = ("bad", f"未能重现：运行 {done['run']} 重新评分的账本与记录的不同")
        if done["recorded"]:
            outcome = (outcome[0], outcome[1] + f"；已记为运行 {done['recorded']}")
        return page("impact.html", active="runs", title=f"重放运行 {done['run']}", document=done["document"],
                    outcome={"css": outcome[0], "text": outcome[1]}, change_names=CHANGE_NAMES)

    @app.get("/diff")
    def diff():
        a, b = _run_id(request.args.get("a", "")), _run_id(request.args.get("b", ""))
        document = worker.run(jobs.diff, str(settings.store), a, b)
        return page("impact.html", active="runs", title=f"比较运行 {a} 与 {b}", document=document, outcome=None,
                    change_names=CHANGE_NAMES)

    return app


# ---------------------------------------------------------------- checking what a page is given

def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(400, f"日期“{text}”无效：应为 YYYY-MM-DD，例如 2020-06-30")


def _month(text: str) -> str | None:
    if not text:
        return None
    if not MONTH.fullmatch(text):
        abort(400, f"月份“{text}”无效：应为 YYYY-MM，例如 2020-06")
    return text


def _issuer(text: str) -> str | None:
    """The issuing office as given (printable, at most ISSUER_LENGTH characters); none: the rulebook's."""
    text = text.strip()
    if len(text) > ISSUER_LENGTH or not text.isprintable():
        abort(400, f"发文单位应为不超过 {ISSUER_LENGTH} 个字符的一行文字")
    return text or None


def _run_id(text: str) -> str:
    text = text.strip().lower()
    if not RUN_ID.fullmatch(text):
        abort(400, f"运行编号“{text}”无效：应为 4 至 64 位十六进制数字")
    return text


# ---------------------------------------------------------------- template filters

def _size(size: int) -> str:
    return f"{size / MIB:.1f} MB" if size >= MIB else f"{max(1, round(size / 1024))} KB"


def _delta(value) -> str:
    return signed(value, two_decimals) if value else "0"


def _arrow(old, new) -> str:
    old, new = "—" if old is None else str(old), "—" if new is None else str(new)
    return old if old == new else f"{old} → {new}"


def _cell(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "counted":
        return f"{two_decimals(value[0])}（{value[1]}）"
    return two_decimals(value) if kind in ("points", "total") else str(value)


def _change(change: dict) -> str:
    def brief(value) -> str:
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'
        return text if len(text) <= 90 else text[:89] + "…"
    if change["change"] == "order":
        return f"{', '.join(change['old'])} → {', '.join(change['new'])}"
    if change["change"] == "changed":
        return f"{brief(change['old'])} → {brief(change['new'])}"
    return brief(change["new"] if change["change"] == "added" else change["old"])
