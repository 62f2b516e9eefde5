#!/usr/bin/env python3
"""Write ``samples/hotline-register-2023.xlsx``: January 2023 of the hotline sample kept as a
unit's clerk keeps a 工单台账.

    python samples/make_hotline_register.py

The register holds the tickets of ``hotline-2023.jsonl`` dispatched in January 2023:

- sheet 工单台账: a title row, then one row per ticket and unit (主办 or 协办) with its
  first 派单 (with 来源渠道), 签收, and 办结 (a 协办 unit's opinion on its row) with 解决情况;
- sheet 办理过程: every further event, one per row (回退 with its reason, 延期申请/批准 with the
  days, 回访 with 满意度 and whether the citizen counts it solved, 督办, 重办, a second 办结,
  剔除申报 and its decision), with 事件编号;
- times as Excel date-time cells and as text ("2023-01-05 09:15"), values in Chinese.

``scoring import samples/hotline-register-2023.xlsx --domain hotline`` gives back those
tickets (tests/test_hotline.py checks it). The output is byte-identical on every run.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from make_register import fill_sheet  # this directory: the proposals register's writer, shared
from openpyxl import Workbook

from scoring.reports.xlsx import workbook_bytes

HERE = Path(__file__).resolve().parent
CASES = HERE / "hotline-2023.jsonl"
OUT = HERE / "hotline-register-2023.xlsx"
STAMP = dt.datetime(2023, 2, 3, 9, 0, 0)  # when the clerk "saved" the register
MONTH = "2023-01"

TITLE = "2023年1月12345热线工单台账"
CASE_COLUMNS = ("工单编号", "诉求类型", "诉求摘要", "诉求地点", "紧急", "办理时限")
MAIN_HEADERS = ("序号",) + CASE_COLUMNS + (
    "承办单位", "办理类型", "派单时间", "来源渠道", "签收时间", "办结时间", "解决情况")
PROCESS_HEADERS = ("工单编号", "单位", "时间", "事项", "回退原因", "延期天数", "解决情况", "满意度", "市民认为已解决",
                   "剔除理由", "同意剔除", "事件编号")

# event type -> its time column on the main sheet, and its detail column with the field it holds
MAIN_EVENTS = {"dispatched": ("派单时间", ("来源渠道", "channel")), "signed": ("签收时间", None),
               "closed": ("办结时间", ("解决情况", "result")), "assisted": ("办结时间", None)}
KIND = {"consult": "咨询", "help": "求助", "complaint": "投诉", "report": "举报", "opinion": "意见建议"}
ROLE = {"main": "主办", "assist": "协办"}
WORDS = {
    "channel": {"phone": "12345电话", "web": "网站", "wechat": "微信", "app": "移动客户端", "mailbox": "市长信箱",
                "provincial": "省级平台转办", "national": "国家平台转办", "other": "其他"},
    "result": {"solved": "已解决", "unsolved": "未解决"},
    "rating": {"very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"},
    "reason": {"not_remit": "非本单位职责", "unclear": "诉求不清", "wrong_area": "非本辖区", "other": "其他"},
    "exclusion_reason": {"not_remit": "非本单位职责", "unreasonable": "无理诉求", "repeated": "重复诉求",
                         "beyond_policy": "超出政策范围", "other": "其他"},
}
EVENT = {"dispatched": "派单", "signed": "签收", "sent_back": "回退", "extension_requested": "延期申请",
         "extension_approved": "延期批准", "closed": "办结", "rated": "回访", "reopened": "重办", "supervised": "督办",
         "assisted": "协办意见", "exclusion_requested": "剔除申报", "exclusion_decided": "剔除审核"}
PROCESS_DETAILS = {"reason": "回退原因", "extra_days": "延期天数", "result": "解决情况", "rating": "满意度",
                   "exclusion_reason": "剔除理由"}


def moment(text: str, row: int):
    """A time as a date-time cell, or (every third row) as text, as clerks mix them."""
    value = dt.datetime.fromisoformat(text)
    return value.strftime("%Y-%m-%d %H:%M") if row % 3 == 2 else value


def split_events(case: dict) -> tuple[dict[str, dict[str, dict]], list[dict]]:
    """Per unit the first event of each main-sheet type; every other event for the process sheet."""
    first: dict[str, dict[str, dict]] = {}
    rest = []
    for event in case["events"]:
        mine = first.setdefault(event["department"], {})
        column = MAIN_EVENTS.get(event["type"], (None,))[0]
        if column and not any(MAIN_EVENTS[t][0] == column for t in mine):
            mine[event["type"]] = event
        else:
            rest.append(event)
    return first, rest


def main_rows(case: dict, first: dict[str, dict[str, dict]], row: int) -> list[dict]:
    rows = []
    for handler in case["handlers"]:
        values = {"工单编号": case["id"], "诉求类型": KIND[case["kind"]], "诉求摘要": case["summary"],
                  "诉求地点": case["area"], "紧急": "是" if case.get("urgent") else "",
                  "办理时限": f"{case['limit_days']}个工作日" if row % 2 else case["limit_days"],
                  "承办单位": handler["department"], "办理类型": ROLE[handler["role"]]}
        for event_type, event in first.get(handler["department"], {}).items():
            column, detail = MAIN_EVENTS[event_type]
            values[column] = moment(event["date"], row)
            if detail:
                values[detail[0]] = WORDS[detail[1]][event[detail[1]]]
        rows.append(values)
        row += 1
    return rows


def process_row(case_id: str, event: dict, row: int) -> dict:
    values = {"工单编号": case_id, "单位": event["department"], "时间": moment(event["date"], row),
              "事项": EVENT[event["type"]], "事件编号": event["id"]}
    for field, column in PROCESS_DETAILS.items():
        if field in event:
            values[column] = WORDS[field][event[field]] if field in WORDS else event[field]
    if "solved" in event:
        values["市民认为已解决"] = "是" if event["solved"] else "否"
    if "approved" in event:
        values["同意剔除"] = "同意" if event["approved"] else "不同意"
    if "channel" in event:
        raise ValueError(f"{case_id} {event['id']}: a second 派单 has no 来源渠道 column on the process sheet")
    return values


def time_format(header: str, value) -> str | None:
    """A dispatch, signing or closing time is shown to the minute, as the platform exports it."""
    return "yyyy-mm-dd hh:mm" if isinstance(value, dt.datetime) else None


def month_cases() -> list[dict]:
    found = []
    with CASES.open(encoding="utf-8") as lines:
        for line in lines:
            case = json.loads(line)
            if min(e["date"] for e in case["events"] if e["type"] == "dispatched").startswith(MONTH):
                found.append(case)
    return found


def build_workbook(cases: list[dict]) -> Workbook:
    main, process = [], []
    for number, case in enumerate(cases, start=1):
        first, rest = split_events(case)
        rows = main_rows(case, first, len(main))
        rows[0]["序号"] = number
        main.extend(rows)
        process.extend(process_row(case["id"], event, len(process)) for event in rest)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "工单台账"
    fill_sheet(sheet, TITLE, MAIN_HEADERS, main, {"序号": 6, "诉求摘要": 28, "承办单位": 20, "派单时间": 17, "签收时间": 17,
                                                    "办结时间": 17}, time_format)
    fill_sheet(workbook.create_sheet("办理过程"), None, PROCESS_HEADERS, process, {"单位": 20, "时间": 17}, time_format)
    workbook.properties.creator = "12345热线工作机构"
    workbook.properties.title = TITLE
    return workbook


def main() -> int:
    cases = month_cases()
    workbook = build_workbook(cases)
    OUT.write_bytes(workbook_bytes(workbook, STAMP))
    print(f"wrote {OUT.relative_to(HERE.parent)}: {len(cases)} tickets, {workbook['工单台账'].max_row - 2} rows on 工单台账, "
          f"{workbook['办理过程'].max_row - 1} on 办理过程")
    return 0


if __name__ == "__main__":
    sys.exit(main())
