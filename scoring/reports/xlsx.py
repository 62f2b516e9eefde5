"""Spreadsheets for the people who circulate results: `--format xlsx` of score, explain and self-check.

score: a ranking sheet, a ledger sheet (one row per awarded or lost point, with its evidence)
and a self-evaluation form (自评表: item, full points, points, reasons) per department.
explain: the department's form and its ledger rows. self-check: where the department stands
per item, its work list, and its ledger rows as of the date.

Numbers are cells of numbers (as rounded in the ledger), headers are frozen and filterable,
columns are sized by display width (a Chinese character is two). The bytes depend on the
inputs only: openpyxl stamps the time of writing, which is fixed here.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from fractions import Fraction
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from scoring.ledger.document import ledger_lines, number
from scoring.ledger.labels import Labels, kind_name, role_name

from .bulletin import heading as bulletin_heading
from .bulletin import issue_line
from .bulletin import tables as bulletin_tables
from .display import display_width, two_decimals
from .package import FIXED_TIME, FixedTimeZip
from .text import (
    bulletin_notes,
    evidence_labels,
    figures_line,
    hashes_line,
    line_kind,
    rank_move,
    ranking,
    rulebook_line,
    skipped_note,
)
from .worklist import WORK_COLUMNS, work_list

if TYPE_CHECKING:  # the results' shape; renderers never load what made them
    from scoring.app.results import BulletinResult, ExplainResult, ScoreResult, SelfCheckResult

MAX_WIDTH = 36  # characters of a column (a Chinese character counts two); longer text wraps, so that a page is readable
MAX_REASONS = 30  # cases named in a form's reasons; the rest are counted
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
SMALL_GREY = Font(size=8, color="808080")  # the hashes under a table
POINTS_FORMAT = "0.00"
GRID = Border(*(Side(style="thin", color="B0B0B0"),) * 4)  # left, right, top, bottom
LINE_HEIGHT = 15  # points: a line of the default 11-point font
PORTRAIT_WIDTH = 95  # characters of column width that fit across an A4 page upright; wider tables print across

LEDGER_HEADERS = ["部门", "排名", "等级", "总分", "案号", "类别", "标题", "承办类型", "办件得分",
                  "项目", "规则", "行类型", "分数", "依据（事件@日期）", "说明"]
FORM_HEADERS = ["项目", "名称", "计分", "分值", "最低", "得分", "失分", "说明"]
WORK_HEADERS = dict(zip(WORK_COLUMNS, ["事项", "案号", "项目", "名称", "期限", "剩余工作日", "分数", "评价方", "说明"]))
WORK_SECTIONS = {"at_risk": "未到期", "undated": "无期限", "decided_by_others": "取决于他人", "missed": "已错过",
                 "missing_evidence": "缺少记录"}


# ---------------------------------------------------------------- the three documents
def score_workbook(result: ScoreResult) -> bytes:
    """排名, 明细, and a 自评表 per department (with each item's range of points and the rubric it scores)."""
    ledger, ranges, rubrics, event_dates = result.ledger, result.item_ranges, result.item_rubrics, result.event_dates
    workbook = Workbook()
    _ranking_sheet(workbook.active, ledger, result.figures)
    _ledger_sheet(workbook.create_sheet("明细"), ledger, ledger_lines(ledger), event_dates, result.labels,
                  result.deducting_items)
    for department in ledger["departments"]:
        _form_sheet(_new_sheet(workbook, department["department"]), ledger, department, ranges, rubrics)
    return workbook_bytes(workbook)


def explain_workbook(result: ExplainResult) -> bytes:
    """The department's 自评表 and its ledger rows; for one case, that case's rows only."""
    ledger, department, case_id, event_dates = result.ledger, result.department, result.case, result.event_dates
    ranges, rubrics = result.item_ranges, result.item_rubrics
    workbook = Workbook()
    lines = list(ledger_lines({"departments": [department]}))
    if case_id is None:
        workbook.active.title = "自评表"
        _form_sheet(workbook.active, ledger, department, ranges, rubrics)
        sheet = workbook.create_sheet("明细")
    else:
        lines = [(d, case, line) for d, case, line in lines if (case["case"] if case else line["case"]) == case_id]
        sheet = workbook.active
        sheet.title = "明细"
    _ledger_sheet(sheet, ledger, lines, event_dates, result.labels, result.deducting_items)
    return workbook_bytes(workbook)


def self_check_workbook(result: SelfCheckResult) -> bytes:
    """自查 (floor and ceiling, per item), 待办 (the work list), 明细 (the ledger rows as of the date)."""
    d, ranges, event_dates = result.document, result.item_ranges, result.event_dates
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "自查"
    categories = any("category" in c for c in d["criteria"])
    title = [f"{d['department']} 自查 截至 {d['as_of']}", rulebook_line(d['rulebook']),
             f"已得分 {two_decimals(d['floor'])}（{d['floor_grade'] or '—'}）；可达上限 {two_decimals(d['ceiling'])}"
             f"（{d['ceiling_grade'] or '—'}）；仅靠本单位 {two_decimals(d['ceiling_own_steps'])}"]
    rows = [([c.get("category")] if categories else []) +
            [c["criterion"], c["title"], _level(c["level"]), *_range_cells(ranges, c["criterion"]), c["floor"], c["ceiling"]]
            for c in d["criteria"]]
    hashes = hashes_line(d["rulebook"], d["input"])
    _table(sheet, title, (["类别"] if categories else []) + FORM_HEADERS[:5] + ["已得分", "可达上限"], rows,
           points=range(3 + categories, 7 + categories), footer=hashes)
    work = [[WORK_SECTIONS[row[0]], *row[1:]] for row in work_list(d, result.labels)]
    _table(workbook.create_sheet("待办"), [f"{d['department']} 待办事项 截至 {d['as_of']}（分数为负者已失分）"],
           [WORK_HEADERS[c] for c in WORK_COLUMNS], work, points=[6], footer=hashes)
    floor = {"department": d["department"], "rank": None, "grade": d["floor_grade"], "total": d["floor"],
             "lines": d["lines"], "cases": d["cases"]}
    _ledger_sheet(workbook.create_sheet("明细"), d, ledger_lines({"departments": [floor]}), event_dates, result.labels,
                  result.deducting_items)
    return workbook_bytes(workbook)


def bulletin_workbook(result: BulletinResult) -> bytes:
    """The month's bulletin: 排名 (with what the figures mean under it), then a sheet per list of deadlines."""
    d = result.document
    workbook = Workbook()
    sheet = workbook.active
    head = [bulletin_heading(d)] + [line for line in [issue_line(result.issuer, result.issued)] if line]
    for index, table in enumerate(bulletin_tables(d)):
        if index:
            sheet = workbook.create_sheet(table.title.split("（")[0][:31])
            title = head + [f"{table.title}，截至 {d['as_of']}"]
        else:
            sheet.title = table.title
            title = head + [f"截至 {d['as_of']}（较上月 {d['previous_as_of']}）· {rulebook_line(d['rulebook'])}",
                            figures_line(result.figures)]
        cells = [[_bulletin_cell(kind, value) for kind, value in zip(table.kinds, row)] for row in table.rows]
        points = [i for i, kind in enumerate(table.kinds) if kind in ("points", "delta")]
        _table(sheet, title, table.headers, cells, points=points, notes=bulletin_notes(d) if index == 0 else (),
               footer=hashes_line(d["rulebook"], d["input"]))
    return workbook_bytes(workbook)


def _bulletin_cell(kind: str, value):
    """A bulletin cell in a workbook: numbers stay numbers; what is not there reads "—", as the notes say."""
    if kind == "move":
        return rank_move(value)
    if value is None and kind in ("rank", "group", "text", "delta", "amount"):
        return "—"
    return value


# ---------------------------------------------------------------- sheets
def _ranking_sheet(sheet, ledger: dict, figures) -> None:
    sheet.title = "排名"
    found = ranking(ledger)
    headers, points, rows = [], [], [[] for _ in found.rows]
    for column, (title, kind) in enumerate(zip(found.headers, found.kinds)):
        if kind in ("counted", "points", "total"):
            points.append(len(headers))
        headers += [title, f"{title}件数"] if kind == "counted" else [title]
        for row, cells in zip(found.rows, rows):
            value = row[column]
            if kind == "counted":
                cells += value if value is not None else [None, None]
            else:  # rank, group and grade read "—" where there is none, as the notes under the table say
                cells.append("—" if value is None and kind in ("rank", "group", "grade") else value)
    _table(sheet, [f"{ledger['rulebook']['title']} 排名", figures_line(figures)], headers, rows, notes=found.notes,
           points=points, footer=hashes_line(ledger["rulebook"], ledger["input"]))


def _ledger_sheet(sheet, ledger: dict, lines, event_dates, labels: Labels, deducting) -> None:
    """One row per ledger line (scoring.ledger.ledger_lines): points, the evidence with dates, the explanation;
    `deducting`: the items whose rules only deduct (text.line_kind)."""
    lines = list(lines)
    categories = any("category" in line for _, _, line in lines)
    outside = {id(line) for d in {id(d): d for d, _, _ in lines}.values() for line in d.get("indicator_lines", [])}
    rows = []
    for d, case, line in lines:
        case_id = case["case"] if case else line["case"]  # a department line may name the case it came from
        case_cells = ([kind_name(labels, case["kind"]), case["title"], role_name(labels, case["role"]),
                       case["total"]] if case else [None] * 4)
        rows.append([d["department"], d["rank"], d["grade"], d["total"], case_id, *case_cells,
                     line["criterion"] or line_kind(line, deducting), line["rule"], line_kind(line, deducting),
                     line["points"], "，".join(evidence_labels(line, case_id, event_dates)), line["text"]]
                    + ([line.get("category")] if categories else [])
                    + (["否" if id(line) in outside else "是"] if outside else []))
    skipped = ledger["input"]["skipped"]
    _table(sheet, [f"{rulebook_line(ledger['rulebook'])}：每行一项得分或失分，依据为记录中的事件"],
           LEDGER_HEADERS + (["计入类别"] if categories else []) + (["计入总分"] if outside else []), rows,
           points=[3, 8, 12], notes=[skipped_note(skipped)] if skipped else (),
           footer=hashes_line(ledger["rulebook"], ledger["input"]))


def _form_sheet(sheet, ledger: dict, d: dict, ranges: dict[str, tuple], rubrics: dict[str, str | None]) -> None:
    """自评表: per item its full points, the department's points and the reasons for each point lost."""
    categories = {c["category"]: c["title"] for c in d.get("categories", [])}
    rows = []
    for item in d["criteria"]:
        cid, category = item["criterion"], item.get("category")
        high = ranges.get(cid, (None, None))[1]
        lost = None if high is None else number(Fraction(str(high)) - Fraction(str(item["points"])))
        rows.append(([categories.get(category, category)] if categories else []) + [cid, item["title"], _level(item["level"]),
                     *_range_cells(ranges, cid), item["points"], lost, _reasons(d, item, high, rubrics.get(cid))])
    rank = d["rank"] if d["rank"] is not None else "未排名"
    title = [f"{d['department']} 自评表",
             f"{rulebook_line(ledger['rulebook'])} · 总分 {two_decimals(d['total'])} · 等级 {d['grade'] or '—'} · 排名 {rank}"]
    notes = ["每件计分的项目：得分为同类办件的平均分，分值为每件可得的最高分；部门计分的项目：分值为可得的最高分（扣分项为0）。"]
    shift = 1 if categories else 0
    _table(sheet, title, ["类别"] * shift + FORM_HEADERS, rows, notes=notes, points=range(3 + shift, 7 + shift),
           footer=hashes_line(ledger["rulebook"], ledger["input"]))


def _reasons(d: dict, item: dict, high, rubric: str | None) -> str:
    """Why the item is short of its full points: the lines that gave less, by case."""
    cid, category = item["criterion"], item.get("category")
    if item["level"] == "department":
        return "；".join(line["text"] for line in d["lines"] + d.get("indicator_lines", [])
                        if line["criterion"] == cid and line["text"]
                        and line.get("category") == category)
    cases = [c for c in d["cases"] if c["rubric"] == rubric and c.get("category") == category]
    short = []
    for case in cases:
        lines = [line for line in case["lines"] if line["criterion"] == cid]
        if high is None or sum(Fraction(str(line["points"])) for line in lines) < Fraction(str(high)):
            short.append(f"{case['case']}：" + ("；".join(line["text"] for line in lines if line["text"]) or "无得分记录"))
    if not short:
        return ("该件得满分" if len(cases) == 1 else f"{len(cases)}件均得满分") if cases and high is not None else ""
    more = f"；另{len(short) - MAX_REASONS}件见明细" if len(short) > MAX_REASONS else ""
    return f"{len(cases)}件中{len(short)}件未得满分：" + "\n".join(short[:MAX_REASONS]) + more


# ---------------------------------------------------------------- cells
def _table(sheet, title: list[str], headers: list[str], rows: list[list], points=(), notes=(), footer: str = "") -> None:
    """Title lines, a bold header row (frozen, with filters), the rows, then notes; `points`: columns of points;
    `footer`: the hashes, in small grey type on the last row and at the foot of every printed page."""
    for text in title:
        sheet.append([text])
        sheet.cell(sheet.max_row, 1).font = BOLD
    header_row = sheet.max_row + 1
    sheet.append(headers)
    for cell in sheet[header_row]:
        cell.font, cell.fill = BOLD, HEAD_FILL
    # sheet[n] and sheet.max_row scan every cell of the sheet: once per row, a year's ledger sheet took
    # seconds. The rows are numbered here instead, and a row's cells taken as sheet[n] takes them (every
    # column up to the sheet's widest row, made when missing), so that the file is the same.
    width = sheet.max_column
    for row_number, row in enumerate(rows, start=header_row + 1):
        sheet.append(row)
        width = max(width, len(row))
        for column in range(1, width + 1):
            cell = sheet.cell(row_number, column)
            if cell.data_type == "f":  # text from the data that starts with "=" is text, never a formula
                cell.data_type = "s"
    last = sheet.max_row
    for column in points:
        for (cell,) in sheet.iter_rows(min_row=header_row + 1, max_row=last, min_col=column + 1, max_col=column + 1):
            cell.number_format = POINTS_FORMAT
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{max(last, header_row)}"
    lines = [1] * len(rows)  # per row, the most lines a wrapped cell of it takes
    for index, header in enumerate(headers, start=1):
        width = max([_width(header)] + [_width(row[index - 1]) for row in rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH) + 2
        if width > MAX_WIDTH:
            for (cell,) in sheet.iter_rows(min_row=header_row + 1, max_row=last, min_col=index, max_col=index):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for number_, row in enumerate(rows):
                lines[number_] = max(lines[number_], _lines(row[index - 1]))
    for number_, count in enumerate(lines):
        if count > 1:  # the row grows with its wrapped text (a spreadsheet does not measure it when it opens)
            sheet.row_dimensions[header_row + 1 + number_].height = LINE_HEIGHT * count
    if notes or footer:
        sheet.append([])
        for text in notes:
            sheet.append([text])
    if footer:
        sheet.append([footer])
        sheet.cell(sheet.max_row, 1).font = SMALL_GREY
    for row in sheet.iter_rows(min_row=header_row, max_row=last, max_col=len(headers)):
        for cell in row:
            cell.border = GRID
    _print_setup(sheet, title[0], header_row, sum(sheet.column_dimensions[get_column_letter(i)].width
                                                  for i in range(1, len(headers) + 1)), footer)


def _print_setup(sheet, title: str, header_row: int, width: float, footer: str = "") -> None:
    """A4, across when the table is wider than a page is tall, every column on the page (as many pages down as
    it takes), the header row on every page, the title above, the page numbers below and the hashes (when
    given) in small grey type at the foot's left."""
    setup = sheet.page_setup
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.orientation = "landscape" if width > PORTRAIT_WIDTH else "portrait"
    setup.fitToWidth, setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddHeader.center.text = title.replace("&", "&&")  # & starts a code in a header
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    if footer:
        sheet.oddFooter.left.text = footer.replace("&", "&&")
        sheet.oddFooter.left.size, sheet.oddFooter.left.color = 7, "808080"


def _lines(value) -> int:
    """The lines a value takes in a column of MAX_WIDTH, wrapped."""
    if value is None:
        return 1
    text = value if isinstance(value, str) else str(value)
    return sum(max(1, -(-_width(line) // MAX_WIDTH)) for line in text.split("\n"))


def _width(value) -> int:
    """Display width of the longest line: East Asian wide characters count two."""
    if value is None:
        return 0
    return display_width(value if isinstance(value, str) else f"{value:.2f}" if isinstance(value, float) else str(value))


def _range_cells(ranges: dict[str, tuple], criterion: str) -> list:
    low, high = ranges.get(criterion, (None, None))
    return [None if high is None else number(high), None if low is None else number(low)]


def _level(level: str) -> str:
    return "每件平均" if level == "case" else "部门"


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _new_sheet(workbook, name: str):
    """A sheet named after a department: Excel's forbidden characters replaced, 31 characters at most, unique."""
    base = _SHEET_FORBIDDEN.sub("_", name)[:31] or "_"
    title, n = base, 1
    taken = {s.title.lower() for s in workbook.worksheets}
    while title.lower() in taken:
        n += 1
        title = f"{base[:31 - len(str(n)) - 1]}~{n}"
    return workbook.create_sheet(title)


# ---------------------------------------------------------------- bytes
def workbook_bytes(workbook: Workbook, stamp: dt.datetime = FIXED_TIME) -> bytes:
    """The .xlsx file: the same workbook gives the same bytes (openpyxl's save() stamps the current time)."""
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    with FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED, stamp=stamp) as archive:
        ExcelWriter(workbook, archive).write_data()
    return buffer.getvalue()
