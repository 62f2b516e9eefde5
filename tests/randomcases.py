"""Random but valid case histories, for differential tests and the benchmark.

Dates fall in 2020-2021 (inside the official calendar's coverage), cluster around the
deadlines that the reference rules test, include same-day events (tie-breaks) and are
listed in random order.
"""
from __future__ import annotations

import datetime as dt
import random
from functools import partial

MODES = ["face_to_face", "phone", "wechat", "letter", "email", "other"]
OUTCOMES = "ABCD"
RATINGS = ["satisfied", "basically_satisfied", "dissatisfied"]


def random_cases(seed: int, count: int, departments: int = 8, prefix: str = "R") -> list[dict]:
    rng = random.Random(seed)
    names = [f"部门{chr(ord('甲') + i)}" for i in range(departments)]
    return [_case(rng, f"{prefix}{seed}-{n:05d}", names) for n in range(count)]


def _add_event(events: list[dict], department: str, kind: str, day: dt.date, **fields) -> None:
    events.append({"type": kind, "date": day.isoformat(), "department": department, **fields})


def _case(rng: random.Random, case_id: str, names: list[str]) -> dict:
    chosen = rng.sample(names, k=min(len(names), rng.randint(1, 4)))
    if len(chosen) >= 3 and rng.random() < 0.3:
        roles = ["split", "split"] + ["co"] * (len(chosen) - 2)
    else:
        roles = ["lead"] + ["co"] * (len(chosen) - 1)
    events: list[dict] = []
    start = dt.date(2020, 1, 2) + dt.timedelta(days=rng.randint(0, 300))
    for department, role in zip(chosen, roles):
        assigned = start + dt.timedelta(days=rng.choice([0, 0, 0, 3]))
        add = partial(_add_event, events, department)  # this department's events
        add("assigned", assigned)
        if rng.random() < 0.1:
            add("assigned", assigned + dt.timedelta(days=7))  # a second assignment (after a return)
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            add("signed", assigned + dt.timedelta(days=rng.choice([0, 1, 2, 3, 4, 5, 6, 9])))
        for _ in range(rng.randint(0, 3)):
            add("urged", assigned + dt.timedelta(days=rng.randint(10, 120)))
        if role == "co":
            for _ in range(rng.choice([0, 1, 1, 1, 2])):
                add("co_reply", assigned + dt.timedelta(days=rng.choice([10, 28, 30, 31, 33, 35, 40, 45, 60])))
            continue
        reply_days = sorted(rng.choice([40, 80, 88, 91, 92, 93, 95, 100, 110, 130]) for _ in range(rng.choice([0, 1, 1, 1, 2])))
        for _ in range(rng.randint(0, 4)):
            near = reply_days[0] if reply_days and rng.random() < 0.5 else rng.randint(5, 120)
            add("contact", assigned + dt.timedelta(days=max(0, near + rng.choice([-3, -1, 0, 0, 1, 5]))), mode=rng.choice(MODES))
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            add("extension", assigned + dt.timedelta(days=rng.randint(30, 80)), days=rng.choice([7, 15, 30]))
        for offset in reply_days:
            add("reply", assigned + dt.timedelta(days=offset), outcome=rng.choice(OUTCOMES))
            if rng.random() < 0.8:
                add("feedback", assigned + dt.timedelta(days=offset + rng.randint(0, 25)), rating=rng.choice(RATINGS))
        for _ in range(rng.choice([0, 1, 1, 2])):
            base = reply_days[0] if reply_days else 90
            add("published", assigned + dt.timedelta(days=base + rng.choice([-5, 0, 10, 25, 27, 28, 29, 30, 40])))
    rng.shuffle(events)
    ids = list(range(1, len(events) + 1))
    rng.shuffle(ids)
    for event, number in zip(events, ids):
        event["id"] = f"e{number}"
    return {"id": case_id, "kind": rng.choice(["suggestion", "proposal"]), "title": "随机案件",
            "handlers": [{"department": d, "role": r} for d, r in zip(chosen, roles)], "events": events}
