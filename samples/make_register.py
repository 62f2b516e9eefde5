#!/usr/bin/env python3
"""Write ``samples/register-2020.xlsx``: the sample year kept as a department clerk keeps it.

    python samples/make_register.py

The ledger (办理台账) holds the same 209 cases as ``cases-2020.jsonl``, the way the
ledgers sent in by departments look:

- sheet 办理台账: a title row, then one row per case and handling unit with the case's
  columns merged over its rows, the first assignment, signing, reply (a co-handler's
  opinion, for 会办 rows), feedback and publication of each unit;
- sheet 办理过程: every further event, one per row (contacts, extensions, urges, returns,
  second assignments, replies and feedbacks), with its 事项, 方式, 天数, 办理结果, 满意度, 备注;
- Chinese headers and values throughout (主办/承办, 会办/协办, 面商/走访/座谈, A/解决采纳, ...),
  dates as real Excel dates and as text in every accepted form (2020-03-10, 2020/3/10,
  2020.3.10, 2020年3月10日);
- the optional 事件编号 columns, so that the event ids of the JSON sample round-trip.

``scoring import samples/register-2020.xlsx --out X.jsonl`` gives back the cases of the JSON
sample (tests/test_xlsx_cases.py checks it). The output is byte-identical on every run:
the choices cycle with the row number, and the workbook's timestamps (document properties
and zip entries, which openpyxl sets to the current time) are fixed here.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from scoring.reports.xlsx import workbook_bytes

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases-2020.jsonl"
OUT = HERE / "register-2020.xlsx"
STAMP = dt.datetime(2021, 1, 15, 9, 0, 0)  # when the clerk "saved" the ledger

MAIN_TITLE = "2020年度人大代表建议、政协委员提案办理台账"
CASE_COLUMNS = ("案号", "类别", "会议", "标题", "提出人", "重点", "免面商")
MAIN_HEADERS = ("序号",) + CASE_COLUMNS + (
    "承办单位", "办理类型", "交办日期", "签收日期", "答复日期", "办理结果", "反馈日期", "满意度", "公开日期",
    "交办事件编号", "签收事件编号", "答复事件编号", "反馈事件编号", "公开事件编号")
PROCESS_HEADERS = ("案号", "单位", "日期", "事项", "方式", "天数", "办理结果", "满意度", "备注", "事件编号")

# The events of a unit that go on its row of the main sheet (the first of each type):
# event type -> (date column, detail column and its field, event id column).
MAIN_EVENTS = {
    "assigned": ("交办日期", None, "交办事件编号"),
    "signed": ("签收日期", None, "签收事件编号"),
    "reply": ("答复日期", ("办理结果", "outcome"), "答复事件编号"),
    "co_reply": ("答复日期", None, "答复事件编号"),
    "feedback": ("反馈日期", ("满意度", "rating"), "反馈事件编号"),
    "published": ("公开日期", None, "公开事件编号"),
}

# How the clerk writes each kind of value; a list is cycled through with the row number.
KIND = {"suggestion": "建议", "proposal": "提案"}
ROLE = {"lead": ["主办", "承办"], "split": ["分办"], "co": ["会办", "协办"]}
OUTCOME = {"A": ["A", "解决采纳", "A类", "已解决"], "B": ["B", "正在解决", "列入计划"],
           "C": ["C", "因条件限制暂不能解决"], "D": ["D", "留作参考"]}
RATING = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
MODE = {"face_to_face": ["面商", "走访", "座谈", "面对面", "现场视察"], "phone": ["电话"], "wechat": ["微信"],
        "letter": ["书面", "信函"], "email": ["电子邮件", "邮件"], "other": ["其他"]}
EVENT = {"assigned": ["重新交办"], "signed": ["签收"], "returned": ["退办", "申请退办"], "contact": ["联系", "沟通"],
         "extension": ["申请延期", "延期"], "reply": ["再次答复"], "feedback": ["再次反馈"], "published": ["公开"],
         "co_reply": ["会办意见"], "urged": ["催办", "督办"]}
YES = ["是", "√"]


def pick(choices, row: int):
    return choices[row % len(choices)] if isinstance(choices, list) else choices


# Dates: real Excel dates (two display formats) and the four accepted text forms.
def as_date_cell(day: dt.date):
    return day


def as_iso(day: dt.date) -> str:
    return day.isoformat()


def as_slash(day: dt.date) -> str:
    return f"{day.year}/{day.month}/{day.day}"


def as_dot(day: dt.date) -> str:
    return f"{day.year}.{day.month}.{day.day}"


def as_chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# main sheet: one style per column, as a clerk keeps a column; the process sheet cycles
MAIN_DATE_STYLE = {"交办日期": as_date_cell, "签收日期": as_slash, "答复日期": as_chinese,
                   "反馈日期": as_date_cell, "公开日期": as_dot}
PROCESS_DATE_STYLES = [as_date_cell, as_iso, as_slash, as_dot, as_chinese]
DATE_FORMATS = {"交办日期": "yyyy-mm-dd", "反馈日期": 'yyyy"年"m"月"d"日"', "日期": "yyyy-mm-dd"}


def split_events(case: dict) -> tuple[dict[str, dict[str, dict]], list[dict]]:
    """Per department the first event of each main-sheet type; every other event for the process sheet."""
    first: dict[str, dict[str, dict]] = {}
    rest = []
    for event in sorted(case["events"], key=lambda e: (e["date"], int(e["id"][1:]))):
        mine = first.setdefault(event["department"], {})
        if event["type"] in MAIN_EVENTS and event["type"] not in mine:
            assert "note" not in event, f"{case['id']} {event['id']}: a main-sheet event has no 备注 column"
            mine[event["type"]] = event
        else:
            rest.append(event)
    return first, rest


def main_rows(case: dict, first: dict[str, dict[str, dict]], row: int) -> list[dict]:
    """The case's rows of the main sheet, as header -> value."""
    rows = []
    for handler in case["handlers"]:
        values = {"案号": case["id"], "类别": KIND[case["kind"]], "会议": case["session"], "标题": case["title"],
                  "提出人": case["proposer"], "重点": pick(YES, row) if case["key"] else pick(["", "否"], row),
                  "免面商": pick(YES, row) if case["waived_f2f"] else "",
                  "承办单位": handler["department"], "办理类型": pick(ROLE[handler["role"]], row)}
        for event_type, event in first.get(handler["department"], {}).items():
            date_column, detail, id_column = MAIN_EVENTS[event_type]
            values[date_column] = MAIN_DATE_STYLE[date_column](dt.date.fromisoformat(event["date"]))
            values[id_column] = event["id"]
            if detail:
                column, field = detail
                values[column] = pick(OUTCOME[event[field]] if field == "outcome" else RATING[event[field]], row)
        rows.append(values)
        row += 1
    return rows


def process_row(case_id: str, event: dict, row: int) -> dict:
    day = dt.date.fromisoformat(event["date"])
    values = {"案号": case_id, "单位": event["department"], "日期": pick(PROCESS_DATE_STYLES, row)(day),
              "事项": pick(EVENT[event["type"]], row), "备注": event.get("note", ""), "事件编号": event["id"]}
    if event["type"] == "contact":
        values["方式"] = pick(MODE[event["mode"]], row)
    if event["type"] == "extension":
        values["天数"] = event["days"] if row % 2 else f"{event['days']}天"
    if event["type"] == "reply":
        values["办理结果"] = pick(OUTCOME[event["outcome"]], row)
    if event["type"] == "feedback":
        values["满意度"] = RATING[event["rating"]]
    return values


def date_format(header: str, value) -> str | None:
    """How a date cell of this register is shown: each date column its own way, as clerks write them."""
    return DATE_FORMATS.get(header) if isinstance(value, dt.date) else None


def fill_sheet(sheet, title: str | None, headers: tuple[str, ...], rows: list[dict], widths: dict[str, int],
               number_format=date_format) -> int:
    """Header (below an optional merged title row) and rows, each cell shown as `number_format(header, value)`
    says (None: as openpyxl writes it); returns the number of the first data row."""
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet.cell(1, 1).font = Font(bold=True, size=14)
        sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.append(list(headers))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append([None if values.get(h) in (None, "") else values[h] for h in headers])
    for index, header in enumerate(headers, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(header, 12)
        for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
            shown = number_format(header, cell.value)
            if shown:
                cell.number_format = shown
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    return header_row + 1


def merge_case_cells(sheet, first_row: int, spans: list[int]) -> None:
    """Merge the case's columns over its rows, as clerks do (only the top cell keeps the value)."""
    columns = [MAIN_HEADERS.index(h) + 1 for h in ("序号",) + CASE_COLUMNS]
    row = first_row
    for span in spans:
        if span > 1:
            for column in columns:
                sheet.merge_cells(start_row=row, start_column=column, end_row=row + span - 1, end_column=column)
                sheet.cell(row, column).alignment = Alignment(vertical="center", wrap_text=column == columns[3])
        row += span


def build_workbook(cases: list[dict]) -> Workbook:
    main, process, spans = [], [], []
    for number, case in enumerate(cases, start=1):
        first, rest = split_events(case)
        rows = main_rows(case, first, len(main))
        rows[0]["序号"] = number
        main.extend(rows)
        spans.append(len(rows))
        process.extend(process_row(case["id"], event, len(process)) for event in rest)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "办理台账"
    first_row = fill_sheet(sheet, MAIN_TITLE, MAIN_HEADERS, main, {"序号": 6, "会议": 20, "标题": 44, "承办单位": 22})
    merge_case_cells(sheet, first_row, spans)
    fill_sheet(workbook.create_sheet("办理过程"), None, PROCESS_HEADERS, process, {"单位": 22, "备注": 34})
    workbook.properties.creator = "市政府督查室"
    workbook.properties.title = MAIN_TITLE
    return workbook


def main() -> int:
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").split("\n") if line.strip()]  # JSON Lines: \n only
    workbook = build_workbook(cases)
    OUT.write_bytes(workbook_bytes(workbook, STAMP))
    main_rows_count = workbook["办理台账"].max_row - 2
    print(f"wrote {OUT.relative_to(HERE.parent)}: {len(cases)} cases, {main_rows_count} rows on 办理台账, "
          f"{workbook['办理过程'].max_row - 1} on 办理过程")
    return 0


if __name__ == "__main__":
    sys.exit(main())
