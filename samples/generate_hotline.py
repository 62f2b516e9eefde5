#!/usr/bin/env python3
"""Deterministic generator of a year of 12345 hotline tickets (工单), 2023, in the case-history
format of the hotline domain (scoring/domains/hotline.toml).

    python samples/generate_hotline.py                      # samples/hotline-2023.jsonl, 4,000 tickets
    python samples/generate_hotline.py --size 1000000 --out big.jsonl   # a large city's year, streamed
    python samples/generate_hotline.py --size 500 --out -   # to standard output

The output depends only on this file, --size and --seed, and on the official Chinese calendar
(chinesecalendar): a fixed seed, no current date, tickets written one at a time as they are
drawn, so any size is written in bounded memory (a few kilobytes per ticket in flight) and the
same arguments give byte-identical files.

What the tickets look like (sizes and shares are invented, the kinds of events and their
fields are those of published hotline schemes; see docs/domain.md):

- a county's year is a few thousand tickets (准格尔旗-sized); a megacity's is 9-24 million;
- 诉求类型: 咨询, 求助, 投诉, 举报, 意见建议; 来源渠道 on every 派单 (phone mostly, web,
  WeChat, app, 市长信箱, tickets forwarded by the provincial and national platforms);
- the unit signs within minutes to hours (working hours 09:00-12:00, 13:30-17:30 on the
  official calendar), sometimes sends the ticket back with a reason (it is then dispatched to
  another unit), asks for extensions, closes it solved or not within its 办理时限 in working
  days or late, the hotline calls the citizen back for a rating (非常满意 to 不满意) and
  whether the request was solved, reopens some dissatisfied tickets (重办), urges late ones
  (督办); some tickets have a 协办 unit; some are declared for exclusion (剔除申报) and the
  request approved or refused;
- units differ in diligence (exemplary / good / average / weak) so that scores spread.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from scoring.domain.workdays import WorkCalendar, parse_working_hours

HERE = Path(__file__).resolve().parent
OUT = HERE / "hotline-2023.jsonl"
SEED = 12345
SIZE = 4000
YEAR = 2023
WORKING_HOURS = ["09:00-12:00", "13:30-17:30"]
CALENDAR = WorkCalendar(working_hours=parse_working_hours(WORKING_HOURS))


@dataclass(frozen=True)
class Profile:
    sign_hours: tuple[float, float]  # signing takes between these working hours (uniform), mostly
    sign_late: float  # share signed after the usual span (2 to 16 working hours)
    send_back: float  # share of its tickets sent back
    late: float  # share closed after the time limit
    unclosed: float  # share never closed within the year
    solved: float  # share closed solved
    satisfied: float  # share rated at least satisfied when solved


PROFILES = {
    "exemplary": Profile((0.05, 0.5), 0.01, 0.01, 0.02, 0.005, 0.93, 0.97),
    "good": Profile((0.1, 1.0), 0.03, 0.03, 0.05, 0.01, 0.88, 0.93),
    "average": Profile((0.2, 1.6), 0.08, 0.05, 0.10, 0.02, 0.80, 0.88),
    "weak": Profile((0.5, 2.0), 0.20, 0.09, 0.22, 0.04, 0.66, 0.78),
}

# a county's units (县直部门 and 乡镇/街道) with their diligence and how many tickets they draw
UNITS = [
    ("住房和城乡建设局", "good", 12), ("市场监督管理局", "exemplary", 10), ("人力资源和社会保障局", "average", 9),
    ("交通运输局", "average", 7), ("城市管理综合执法局", "weak", 11), ("生态环境分局", "good", 5),
    ("教育体育局", "good", 6), ("卫生健康委员会", "average", 6), ("自然资源局", "weak", 5),
    ("农牧局", "average", 4), ("民政局", "exemplary", 3), ("公安局", "good", 6), ("水利局", "average", 3),
    ("供电公司", "average", 4), ("薛家湾镇", "weak", 8), ("沙圪堵镇", "good", 4), ("大路镇", "average", 4),
    ("龙口镇", "exemplary", 2), ("纳日松镇", "average", 2), ("准格尔召镇", "good", 2),
]
UNIT_WEIGHTS = [weight for _, _, weight in UNITS]

KINDS = [("consult", 30), ("help", 28), ("complaint", 27), ("report", 5), ("opinion", 10)]
CHANNELS = [("phone", 62), ("web", 8), ("wechat", 12), ("app", 7), ("mailbox", 3), ("provincial", 6), ("national", 2)]
LIMIT_DAYS = {"consult": 3, "help": 5, "complaint": 10, "report": 10, "opinion": 15}  # 办理时限 in working days
AREAS = ["薛家湾镇", "沙圪堵镇", "大路镇", "龙口镇", "纳日松镇", "准格尔召镇", "魏家峁镇", "布尔陶亥苏木", "暖水乡",
         "十二连城乡", "准格尔经济开发区"]
TOPICS = {
    "consult": ["社保缴费政策", "公积金提取", "医保报销", "子女入学", "不动产登记", "营业执照办理", "养老金发放"],
    "help": ["路灯不亮", "小区停水", "供暖不热", "下水道堵塞", "道路坑洼", "电梯故障", "窨井盖缺失"],
    "complaint": ["夜间施工噪音", "餐饮油烟扰民", "商家拒绝退款", "拖欠农民工工资", "占道经营", "物业服务差", "出租车拒载"],
    "report": ["违法建设", "非法排污", "销售过期食品", "无证行医", "违规收费"],
    "opinion": ["增设公交线路", "增加公园座椅", "优化红绿灯时长", "增设充电桩", "延长图书馆开放时间"],
}
SEND_BACK = [("not_remit", 60), ("wrong_area", 20), ("unclear", 15), ("other", 5)]
EXCLUSION = [("not_remit", 35), ("unreasonable", 30), ("repeated", 25), ("beyond_policy", 8), ("other", 2)]
FIRST = dt.date(YEAR, 1, 1)
DAYS = (dt.date(YEAR, 12, 31) - FIRST).days + 1


def pick(rng: random.Random, table):
    return rng.choices([value for value, _ in table], [weight for _, weight in table])[0]


def minute(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def later(rng: random.Random, moment: dt.datetime, hours: float) -> dt.datetime:
    """`hours` working hours (to the minute, at least one) after moment."""
    return CALENDAR.add_workhours(moment, Fraction(max(1, round(hours * 60)), 60))


def days_later(rng: random.Random, moment: dt.datetime, workdays: int) -> dt.datetime:
    """A working time on the working day `workdays` after moment (0: the same day, later on)."""
    day = CALENDAR.add_workdays(moment.date(), workdays) if workdays else moment.date()
    start = dt.datetime.combine(day, dt.time(9, 0)) if CALENDAR.is_workday(day) else moment
    found = later(rng, max(start, moment), rng.uniform(0.2, 7))
    return found


class Ticket:
    """One ticket's events, numbered as they are added."""

    def __init__(self, ticket_id: str):
        self.id = ticket_id
        self.events: list[dict] = []
        self.handlers: list[dict] = []

    def add(self, type_: str, moment: dt.datetime, unit: str, **fields) -> dt.datetime:
        self.events.append({"id": f"e{len(self.events) + 1}", "type": type_, "date": minute(moment), "department": unit,
                            **fields})
        return moment


def draw(rng: random.Random, number: int) -> dict:
    kind = pick(rng, KINDS)
    topic = rng.choice(TOPICS[kind])
    area = rng.choice(AREAS)
    urgent = kind in ("help", "report") and rng.random() < 0.08
    ticket = Ticket(f"{YEAR}{number:07d}")
    # the call: any day, mostly daytime; the hotline dispatches it within its working hours
    called = dt.datetime.combine(FIRST + dt.timedelta(days=rng.randrange(DAYS - 10)),
                                 dt.time(rng.choice([8, 9, 10, 11, 14, 15, 16, 17, 19, 21]), rng.randrange(60)))
    dispatched = later(rng, called, rng.uniform(0.1, 1.0))
    channel = pick(rng, CHANNELS)
    limit = 1 if urgent else LIMIT_DAYS[kind]
    units = list(range(len(UNITS)))
    first = rng.choices(units, UNIT_WEIGHTS)[0]
    main = first
    profile = PROFILES[UNITS[main][1]]
    if rng.random() < profile.send_back:
        # the first unit signs, sends it back with a reason, and the hotline dispatches it elsewhere
        name = UNITS[main][0]
        ticket.handlers.append({"department": name, "role": "main"})
        ticket.add("dispatched", dispatched, name, channel=channel)
        signed = ticket.add("signed", later(rng, dispatched, rng.uniform(*profile.sign_hours)), name)
        sent = ticket.add("sent_back", later(rng, signed, rng.uniform(0.5, 6)), name, reason=pick(rng, SEND_BACK))
        main = rng.choices([u for u in units if u != first], [UNIT_WEIGHTS[u] for u in units if u != first])[0]
        dispatched = later(rng, sent, rng.uniform(0.2, 2))
        profile = PROFILES[UNITS[main][1]]
    name = UNITS[main][0]
    ticket.handlers.append({"department": name, "role": "main"})
    ticket.add("dispatched", dispatched, name, channel=channel)
    helper = None
    if kind in ("help", "complaint", "report") and rng.random() < 0.08:
        helper = rng.choice([u for u in units if u not in (first, main)])
        ticket.handlers.append({"department": UNITS[helper][0], "role": "assist"})
        ticket.add("dispatched", dispatched, UNITS[helper][0], channel=channel)
    span = (rng.uniform(2, 16) if rng.random() < profile.sign_late else rng.uniform(*profile.sign_hours))
    signed = ticket.add("signed", later(rng, dispatched, span), name)
    if helper is not None:
        helped = ticket.add("signed", later(rng, dispatched, rng.uniform(0.1, 3)), UNITS[helper][0])
        ticket.add("assisted", days_later(rng, helped, rng.randrange(max(1, limit - 1))), UNITS[helper][0])
    if rng.random() < 0.02:
        reason = pick(rng, EXCLUSION)
        asked = ticket.add("exclusion_requested", later(rng, signed, rng.uniform(1, 12)), name, exclusion_reason=reason)
        ticket.add("exclusion_decided", days_later(rng, asked, rng.randrange(1, 4)), name,
                   approved=rng.random() < (0.7 if reason in ("not_remit", "repeated") else 0.4))
    due = limit
    if rng.random() < 0.04:
        extra = rng.choice([3, 5, 10])
        asked = ticket.add("extension_requested", days_later(rng, signed, rng.randrange(max(1, limit))), name,
                           extra_days=extra)
        if rng.random() < 0.8:
            ticket.add("extension_approved", days_later(rng, asked, 1), name, extra_days=extra)
            due += extra
    if rng.random() < profile.unclosed:
        return _record(ticket, kind, topic, area, urgent, limit)
    late = rng.random() < profile.late
    took = rng.randrange(due + 1, due + 8) if late else rng.randrange(0, due)
    if late and rng.random() < 0.4:
        ticket.add("supervised", days_later(rng, signed, due), name)
    closed = ticket.add("closed", days_later(rng, signed, took), name,
                        result="solved" if rng.random() < profile.solved else "unsolved")
    _rate_and_reopen(rng, ticket, name, closed, profile, limit)
    return _record(ticket, kind, topic, area, urgent, limit)


def _rate_and_reopen(rng, ticket: Ticket, name: str, closed: dt.datetime, profile: Profile, limit: int) -> None:
    for round_ in range(2):
        if rng.random() > 0.9 or closed.year > YEAR:  # not every citizen answers the call back
            return
        solved = ticket.events[-1]["result"] == "solved"
        if solved and rng.random() < profile.satisfied:
            rating = pick(rng, [("very_satisfied", 55), ("satisfied", 45)])
        else:
            rating = pick(rng, [("basically_satisfied", 45), ("dissatisfied", 55)] if solved else
                          [("basically_satisfied", 30), ("dissatisfied", 60), ("satisfied", 10)])
        rated = ticket.add("rated", days_later(rng, closed, rng.randrange(1, 3)), name, rating=rating,
                           solved=solved and rating != "dissatisfied")
        if rating != "dissatisfied" or round_ == 1 or rng.random() < 0.5:
            return
        reopened = ticket.add("reopened", days_later(rng, rated, 1), name)
        better = rng.random() < 0.7
        closed = ticket.add("closed", days_later(rng, reopened, rng.randrange(1, limit + 2)), name,
                            result="solved" if better else "unsolved")


def _record(ticket: Ticket, kind: str, topic: str, area: str, urgent: bool, limit: int) -> dict:
    record = {"id": ticket.id, "kind": kind, "summary": f"{area}{topic}", "area": area}
    if urgent:
        record["urgent"] = True
    record["limit_days"] = limit
    ticket.events.sort(key=lambda e: e["date"])  # stable: ids of one minute stay in the order drawn
    for number, event in enumerate(ticket.events, 1):
        event["id"] = f"e{number}"
    record.update(handlers=ticket.handlers, events=ticket.events)
    return record


def write(out, size: int, seed: int) -> None:
    rng = random.Random(seed)
    for number in range(1, size + 1):
        out.write(json.dumps(draw(rng, number), ensure_ascii=False, separators=(", ", ": ")) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=SIZE, help="how many tickets (default %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", default=str(OUT), help="the JSON Lines file to write, or - for standard output")
    args = parser.parse_args(argv)
    if args.size < 0:
        parser.error("--size must be at least 0")
    if args.out == "-":
        write(sys.stdout, args.size, args.seed)
        return
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        write(out, args.size, args.seed)


if __name__ == "__main__":
    main()
