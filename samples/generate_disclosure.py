#!/usr/bin/env python3
"""Deterministic generator of a sample year of government information disclosure (政务公开), 2024.

Writes ``samples/disclosure-2024.jsonl`` (the cases, in the disclosure domain's format:
scoring/domains/disclosure.toml) and ``samples/disclosure-2024-departments.jsonl`` (each unit's
self-assessment and third-party evaluation scores), and prints a summary.

    python samples/generate_disclosure.py

The sizes are those of a prefecture-level city's municipal departments: 48 units, about three
thousand information items published of their own accord, four columns each on the portal
(updated every two weeks), one annual report each (on 2023, due 31 March 2024), and some
hundreds of applications, most of them at the planning, housing, land and police units. Units
differ in diligence so that the scores spread. The output depends only on this file and the
official calendar (``chinese_calendar``): a fixed seed, no current date; byte-identical on
every run.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import sys
from pathlib import Path

import chinese_calendar

SEED = 20240331
HERE = Path(__file__).resolve().parent
OUT = HERE / "disclosure-2024.jsonl"
RECORDS = HERE / "disclosure-2024-departments.jsonl"
YEAR = 2024
YEAR_END = dt.date(YEAR, 12, 31)

# unit, diligence (0 best .. 3 weakest), information items a year, applications a year
UNITS = [
    ("市发展改革委", 0, 110, 14), ("市教育局", 1, 95, 12), ("市科技局", 1, 60, 3), ("市工业和信息化局", 1, 70, 5),
    ("市民族宗教局", 2, 25, 1), ("市公安局", 1, 90, 38), ("市民政局", 0, 80, 8), ("市司法局", 0, 70, 6),
    ("市财政局", 0, 120, 15), ("市人力资源社会保障局", 1, 100, 22), ("市自然资源局", 2, 110, 55),
    ("市生态环境局", 1, 95, 20), ("市住房城乡建设局", 2, 100, 42), ("市城市管理综合执法局", 3, 65, 16),
    ("市交通运输局", 1, 85, 12), ("市水务局", 2, 55, 6), ("市农业农村局", 1, 80, 9), ("市商务局", 2, 55, 4),
    ("市文化广电旅游局", 1, 70, 4), ("市卫生健康委", 1, 100, 17), ("市退役军人事务局", 2, 35, 3),
    ("市应急管理局", 1, 60, 6), ("市审计局", 0, 40, 2), ("市国资委", 1, 45, 3), ("市市场监管局", 0, 105, 21),
    ("市体育局", 2, 30, 1), ("市统计局", 0, 50, 2), ("市医保局", 1, 60, 9), ("市信访局", 3, 20, 2),
    ("市林业局", 2, 35, 3), ("市人防办", 3, 20, 2), ("市行政审批局", 0, 95, 7), ("市大数据局", 1, 40, 1),
    ("市粮食和储备局", 2, 25, 1), ("市乡村振兴局", 2, 35, 2), ("市地方金融监管局", 1, 30, 2),
    ("市机关事务局", 3, 20, 1), ("市档案局", 1, 25, 3), ("市气象局", 0, 30, 1), ("市税务局", 0, 60, 5),
    ("市供销社", 3, 15, 1), ("市住房公积金中心", 1, 40, 6), ("市残联", 2, 25, 2), ("市消防救援支队", 1, 35, 3),
    ("市城乡规划局", 2, 70, 30), ("市不动产登记中心", 2, 45, 24), ("市公共资源交易中心", 1, 55, 4),
    ("市政务服务中心", 0, 40, 3),
]

CATEGORIES = ["政策文件", "政策解读", "财政预决算", "重大建设项目", "行政许可", "行政处罚", "人事信息",
              "规划计划", "公共资源配置", "统计信息", "应急管理", "民生保障"]
COLUMNS = ["通知公告", "政策文件", "政策解读", "工作动态"]
SUBJECTS = ["征地补偿方案", "建设项目环评批复", "房屋征收决定", "规划许可证", "行政处罚决定书", "财政专项资金使用情况",
            "招投标结果", "土地出让合同", "会议纪要", "执法检查记录", "补贴发放名单", "信访事项处理意见"]
# (days late beyond the 20 working days, chance) per diligence: publication of information items
PUBLISH = {0: (0.005, 0.01), 1: (0.02, 0.03), 2: (0.05, 0.06), 3: (0.10, 0.12)}  # late, never
COLUMN_GAP = {0: 0.0, 1: 0.03, 2: 0.08, 3: 0.18}  # chance an update slips past two weeks
ANSWER_LATE = {0: 0.0, 1: 0.02, 2: 0.06, 3: 0.12}
CHALLENGED = {0: 0.02, 1: 0.04, 2: 0.07, 3: 0.1}
CORRECTED = {0: 0.1, 1: 0.25, 2: 0.45, 3: 0.6}  # of the challenged answers, the share set aside


def is_work(day: dt.date) -> bool:
    return chinese_calendar.is_workday(day)


def add_work(day: dt.date, n: int) -> dt.date:
    """The n-th working day after day (as the rulebooks' add_workdays)."""
    for _ in range(n):
        day += dt.timedelta(days=1)
        while not is_work(day):
            day += dt.timedelta(days=1)
    return day


def workday_in(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    """A random working day in [lo, hi] (lo itself if none)."""
    days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
    days = [d for d in days if is_work(d)]
    return rng.choice(days) if days else lo


class Case:
    def __init__(self, case_id: str, kind: str, title: str, unit: str, **fields):
        self.record = {"id": case_id, "kind": kind, "title": title, **fields,
                       "handlers": [{"department": unit, "role": "owner"}], "events": []}

    def add_helper(self, unit: str) -> None:
        self.record["handlers"].append({"department": unit, "role": "helper"})

    def event(self, kind: str, day: dt.date, unit: str, **fields) -> None:
        events = self.record["events"]
        events.append({"id": f"e{len(events) + 1}", "type": kind, "date": day.isoformat(), "department": unit, **fields})


def information(rng: random.Random, unit: str, code: str, diligence: int, count: int) -> list[Case]:
    late, never = PUBLISH[diligence]
    cases = []
    for number in range(1, count + 1):
        category = rng.choice(CATEGORIES)
        case = Case(f"{YEAR}-{code}-X{number:03d}", "info", f"{unit}{category}（{number}）", unit, category=category)
        formed = workday_in(rng, dt.date(YEAR, 1, 2), dt.date(YEAR, 12, 6))
        case.event("formed", formed, unit)
        draw = rng.random()
        if draw < never:
            pass  # never published
        elif draw < never + late:
            case.event("published", add_work(formed, 20 + rng.randint(1, 15)), unit)
        else:
            case.event("published", add_work(formed, rng.randint(1, 18)), unit)
        if rng.random() < 0.05 and formed < dt.date(YEAR, 10, 1):  # changed later: published again
            changed = add_work(formed, rng.randint(30, 50))
            case.event("changed", changed, unit)
            case.event("published", add_work(changed, rng.randint(2, 26 if diligence >= 2 else 15)), unit)
        cases.append(case)
    return cases


def columns(rng: random.Random, unit: str, code: str, diligence: int) -> list[Case]:
    cases = []
    for number, name in enumerate(COLUMNS, 1):
        case = Case(f"{YEAR}-{code}-L{number}", "column", f"{unit}·{name}", unit, category=name)
        case.event("listed", dt.date(YEAR, 1, 1), unit)
        day = dt.date(YEAR, 1, 1)
        while True:
            gap = rng.randint(15, 30) if rng.random() < COLUMN_GAP[diligence] else rng.randint(5, 14)
            day += dt.timedelta(days=gap)
            if day > YEAR_END:
                break
            case.event("updated", day, unit)
        cases.append(case)
    return cases


def annual_report(rng: random.Random, unit: str, code: str, diligence: int) -> Case:
    case = Case(f"{YEAR}-{code}-R", "report", f"{unit}{YEAR - 1}年政府信息公开工作年度报告", unit, year=YEAR - 1)
    case.event("listed", dt.date(YEAR, 1, 1), unit)
    draw = rng.random()
    if diligence == 3 and draw < 0.35:
        return case  # not published
    if draw < 0.05 * (diligence + 1):
        case.event("published", workday_in(rng, dt.date(YEAR, 4, 1), dt.date(YEAR, 5, 20)), unit)
    else:
        case.event("published", workday_in(rng, dt.date(YEAR, 1, 20), dt.date(YEAR, 3, 29)), unit)
    return case


def applications(rng: random.Random, unit: str, code: str, diligence: int, count: int, units: list[str]) -> list[Case]:
    cases = []
    for number in range(1, count + 1):
        subject = rng.choice(SUBJECTS)
        case = Case(f"{YEAR}-{code}-S{number:03d}", "application", f"申请公开{subject}", unit,
                    applicant="person" if rng.random() < 0.8 else "organization")
        registered = workday_in(rng, dt.date(YEAR, 1, 2), dt.date(YEAR, 11, 29))
        case.event("registered", registered, unit)
        start = registered
        if rng.random() < 0.08:  # incomplete: told to complete it; the applicant does, the clock restarts
            told = add_work(start, rng.randint(3, 7 + 2 * diligence))  # the weaker units sometimes after 7 working days
            case.event("answered", told, unit, answer="complete")
            if rng.random() < 0.2:  # never completed: nothing more
                cases.append(case)
                continue
            start = add_work(told, rng.randint(3, 15))
            case.event("completed", start, unit)
        limit = 20
        if rng.random() < 0.06:  # a helper unit holds part of the information
            helper = rng.choice([u for u in units if u != unit])
            case.add_helper(helper)
            case.event("registered", registered, helper)
            case.event("opinion", add_work(start, rng.randint(5, 15)), helper)
        if rng.random() < 0.12:
            case.event("extended", add_work(start, rng.randint(15, 19)), unit, days=20, approver="政府信息公开工作机构负责人")
            limit = 40
        answered = add_work(start, rng.randint(limit - 18, limit) if limit == 40 else rng.randint(5, 20))
        if rng.random() < ANSWER_LATE[diligence]:
            answered = add_work(start, limit + rng.randint(1, 10))
        answer = rng.choices(["disclosed", "partly", "refused", "not_exist", "not_ours", "not_handled"],
                             [45, 20, 10, 15, 8, 2])[0]
        case.event("answered", answered, unit, answer=answer)
        if rng.random() < CHALLENGED[diligence] * (2 if answer in ("refused", "not_exist") else 1):
            result = "corrected" if rng.random() < CORRECTED[diligence] else "upheld"
            decided = answered + dt.timedelta(days=rng.randint(40, 90))
            if decided <= YEAR_END:
                case.event("challenged", decided, unit, result=result, venue=rng.choice(["review", "review", "lawsuit"]))
        cases.append(case)
    return cases


def department_records(rng: random.Random) -> list[dict]:
    """The self-assessment (自查自评) each unit submits and the third-party evaluation (三方评估) of its portal."""
    records = []
    for unit, diligence, *_ in UNITS:
        third = min(100.0, round(rng.uniform(92, 99) - 6 * diligence + rng.uniform(-2, 2), 1))
        own = min(100, round(third + rng.uniform(1, 6), 1))  # units rate themselves higher
        records.append({"department": unit, "self_score": own, "third_party_score": max(0.0, third)})
    return records


def main() -> int:
    rng = random.Random(SEED)
    names = [unit for unit, *_ in UNITS]
    cases: list[Case] = []
    for index, (unit, diligence, items, asked) in enumerate(UNITS, 1):
        code = f"D{index:02d}"
        cases += information(rng, unit, code, diligence, items)
        cases += columns(rng, unit, code, diligence)
        cases.append(annual_report(rng, unit, code, diligence))
        cases += applications(rng, unit, code, diligence, asked, names)
    lines = [json.dumps(case.record, ensure_ascii=False, separators=(",", ":")) for case in cases]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = department_records(rng)
    RECORDS.write_text("\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records) + "\n",
                       encoding="utf-8")
    kinds: dict[str, int] = {}
    for case in cases:
        kinds[case.record["kind"]] = kinds.get(case.record["kind"], 0) + 1
    events = sum(len(case.record["events"]) for case in cases)
    print(f"{OUT.name}: {len(cases)} cases of {len(UNITS)} units, {events} events; "
          + ", ".join(f"{kind} {n}" for kind, n in kinds.items()))
    print(f"{RECORDS.name}: {len(records)} department records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
