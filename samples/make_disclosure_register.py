#!/usr/bin/env python3
"""Write ``samples/disclosure-register-2024.xlsx``: the disclosure sample year as a register (政务公开台账).

    python samples/make_disclosure_register.py

The same 3,519 cases as ``disclosure-2024.jsonl``, kept as the supervising office keeps them:

- sheet 政务公开台账: a title row, then one row per item and unit: 编号, 类别 (主动公开, 栏目, 年度报告,
  依申请公开), 标题, 信息类别, 申请人类型, 报告年度, 责任单位, 单位类型, and the unit's first 形成, 列入,
  登记, 公开 and 答复 (a 配合单位's opinion) with 答复类型;
- sheet 办理过程: every further event, one per row (变更, 栏目更新, 延期 with 延长工作日 and 批准人,
  补正, 再次答复, 重新公开, 行政复议/行政诉讼 with 复议诉讼结果);
- dates as real Excel dates and as text in the accepted forms (2024-03-01, 2024/3/1, 2024年3月1日);
- the optional 事件编号 columns, so that the event ids of the JSON sample round-trip.

``scoring import --domain disclosure samples/disclosure-register-2024.xlsx`` gives back the cases of the
JSON sample (tests/test_disclosure.py checks it). Byte-identical on every run: the choices cycle
with the row number and the workbook's timestamps are fixed.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from scoring.reports.xlsx import workbook_bytes

HERE = Path(__file__).resolve().parent
CASES = HERE / "disclosure-2024.jsonl"
OUT = HERE / "disclosure-register-2024.xlsx"
STAMP = dt.datetime(2025, 2, 10, 9, 0, 0)  # when the office "saved" the register

TITLE = "2024年度政务公开工作台账"
MAIN_HEADERS = ("序号", "编号", "类别", "标题", "信息类别", "申请人类型", "报告年度", "责任单位", "单位类型",
                "形成日期", "列入日期", "登记日期", "公开日期", "答复日期", "答复类型",
                "形成事件编号", "列入事件编号", "登记事件编号", "公开事件编号", "答复事件编号")
PROCESS_HEADERS = ("编号", "单位", "日期", "事项", "延长工作日", "批准人", "答复类型", "复议诉讼结果", "救济途径", "事件编号")

# event type -> (date column, event id column) of a unit's first such event on its main row
MAIN_EVENTS = {"formed": ("形成日期", "形成事件编号"), "listed": ("列入日期", "列入事件编号"),
               "registered": ("登记日期", "登记事件编号"), "published": ("公开日期", "公开事件编号"),
               "answered": ("答复日期", "答复事件编号"), "opinion": ("答复日期", "答复事件编号")}
KIND = {"info": ["主动公开", "主动公开信息"], "column": ["栏目", "公开栏目"], "report": ["年度报告", "年报"],
        "application": ["依申请公开", "依申请"]}
ROLE = {"owner": ["责任单位", "公开单位"], "helper": ["配合单位", "配合"]}
APPLICANT = {"person": ["自然人", "个人"], "organization": ["法人或其他组织"]}
ANSWER = {"disclosed": ["予以公开", "公开"], "partly": ["部分公开"], "refused": ["不予公开"],
          "not_exist": ["信息不存在"], "not_ours": ["非本机关负责", "非本机关负责公开"], "complete": ["告知补正"],
          "not_handled": ["不予处理"]}
EVENT = {"changed": ["变更"], "updated": ["栏目更新", "更新"], "extended": ["延期", "延期答复"],
         "completed": ["补正", "申请人补正"], "answered": ["再次答复"], "published": ["重新公开"],
         "opinion": ["配合意见"], "registered": ["登记"],
         "formed": ["形成"], "listed": ["列入考核"]}
CHALLENGE = {"review": "行政复议", "lawsuit": "行政诉讼"}
RESULT = {"corrected": ["纠错", "撤销"], "upheld": ["维持"]}
VENUE = {"review": ["行政复议", "复议"], "lawsuit": ["行政诉讼", "诉讼"]}


def pick(choices, row: int):
    return choices[row % len(choices)] if isinstance(choices, list) else choices


def as_written(day: str, row: int):
    """A date as a date cell, or as text in one of the forms clerks write."""
    date = dt.date.fromisoformat(day)
    form = row % 4
    if form == 0:
        return date
    if form == 1:
        return day
    if form == 2:
        return f"{date.year}/{date.month}/{date.day}"
    return f"{date.year}年{date.month}月{date.day}日"


def rows_of(case: dict, main_count: int, process_count: int) -> tuple[list[dict], list[dict]]:
    main, process = [], []
    for handler in case["handlers"]:
        unit, row = handler["department"], main_count + len(main)
        values = {"编号": case["id"], "类别": pick(KIND[case["kind"]], row), "标题": case.get("title"),
                  "信息类别": case.get("category"),
                  "申请人类型": pick(APPLICANT[case["applicant"]], row) if case.get("applicant") else None,
                  "报告年度": case.get("year"), "责任单位": unit, "单位类型": pick(ROLE[handler["role"]], row)}
        for event in (e for e in case["events"] if e["department"] == unit):
            date_column, id_column = MAIN_EVENTS.get(event["type"], (None, None))
            if date_column and date_column not in values:
                values[date_column] = as_written(event["date"], row)
                values[id_column] = event["id"]
                if event["type"] == "answered":
                    values["答复类型"] = pick(ANSWER[event["answer"]], row)
                continue
            at = process_count + len(process)
            kind = CHALLENGE[event["venue"]] if event["type"] == "challenged" else pick(EVENT[event["type"]], at)
            process.append({"编号": case["id"], "单位": unit, "日期": as_written(event["date"], at), "事项": kind,
                            "延长工作日": f"{event['days']}个工作日" if "days" in event else None,
                            "批准人": event.get("approver"),
                            "答复类型": pick(ANSWER[event["answer"]], at) if "answer" in event else None,
                            "复议诉讼结果": pick(RESULT[event["result"]], at) if "result" in event else None,
                            "救济途径": pick(VENUE[event["venue"]], at) if "venue" in event else None,
                            "事件编号": event["id"]})
        main.append(values)
    return main, process


def fill(sheet, headers: tuple[str, ...], rows: list[dict], title: str | None = None) -> None:
    if title:
        sheet.append([title])
        sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.append(list(headers))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    row = sheet.max_row
    for values in rows:
        row += 1
        sheet.append([values.get(h) for h in headers])
        for column, header in enumerate(headers, start=1):
            if isinstance(values.get(header), dt.date):
                sheet.cell(row, column).number_format = "yyyy-mm-dd"


def main() -> int:
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").split("\n") if line.strip()]
    main_rows, process_rows = [], []
    for case in cases:
        rows, more = rows_of(case, len(main_rows), len(process_rows))
        main_rows += rows
        process_rows += more
    for number, row in enumerate(main_rows, start=1):
        row["序号"] = number
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "政务公开台账"
    fill(sheet, MAIN_HEADERS, main_rows, TITLE)
    fill(workbook.create_sheet("办理过程"), PROCESS_HEADERS, process_rows)
    workbook.properties.creator = "市政务公开办公室"
    workbook.properties.title = TITLE
    OUT.write_bytes(workbook_bytes(workbook, STAMP))
    print(f"wrote {OUT.relative_to(HERE.parent)}: {len(cases)} cases, {len(main_rows)} rows on 政务公开台账, "
          f"{len(process_rows)} on 办理过程")
    return 0


if __name__ == "__main__":
    sys.exit(main())
