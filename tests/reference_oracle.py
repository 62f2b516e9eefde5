"""Independent reference implementation ("oracle") of the fixed scoring scheme.

This module is deliberately written without looking at the real engine
(``scoring/``) or its rule files (``rules/``).  It is plain, hand-coded Python
used by tests as a yardstick to cross-check the engine.  Keep it simple and
obviously correct: straightforward loops, exact ``Fraction`` arithmetic, and a
single rounding step at the very end.

Public API
----------
``score_case_handler(case, department) -> dict``
    ``{"role": str, "total": Fraction, "items": {"L1": Fraction, ...}}`` for
    roles ``lead``/``split`` (items L1..L7) or ``{"H1": Fraction}`` for ``co``.

``score_departments(cases) -> dict[str, dict]``
    department -> ``{"total": Decimal (2 dp, ROUND_HALF_UP), "grade": str,
    "rank": int, "base": Fraction, "D1": Fraction, "D2": Fraction,
    "cases": {case_id: {"role", "total", "items"}}}``.
    ``D1``/``D2`` are deduction magnitudes (non-negative).

Readings chosen where the specification is open to interpretation
-----------------------------------------------------------------
* Only events whose ``department`` equals the handler being scored count;
  events of departments that are not handlers of the case are ignored
  (including ``urged`` events, for D1).
* "First"/"last" order by (date, natural order of event id); "last" is the
  greatest in that order.
* L2/L3: a contact dated *on the same day* as the first reply counts
  ("on or before").  With a ``face_to_face`` contact in the window L2 is 5
  (the cap) whatever the other contacts are.  Modes other than
  ``face_to_face`` (phone, wechat, letter, email, other) are 2.5 each.
* L4: every ``extension`` event of the handler is summed, whatever its date.
  "k working days late" = number of working days d with deadline < d <= date;
  a reply after the deadline but with no working day in between (e.g. on the
  weekend right after a Friday deadline) is therefore 0 working days late and
  keeps the full 20.
* L7: literal reading -- any ``published`` dated on or before
  ``add_workdays(first reply, 20)`` counts, including one dated *before* the
  first reply.  No reply -> 0.
* L1 / L4 / H1 when there is no ``assigned`` event: the deadline is
  undefined and the item scores 0.  L1 counts a ``signed`` dated before the
  assignment as on time.
* ``add_workdays(d, n)`` counts working days strictly after ``d`` (``d``
  itself never counts, whether or not it is a working day).
* D2 looks at ``face_to_face`` contacts of the department on each of its
  lead/split cases, at any date.
* Ranking uses the rounded (2 dp) totals; equal rounded totals share a rank.
* Unknown roles / event types / outcomes / ratings / modes raise
  ``ValueError`` rather than being silently scored.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from fractions import Fraction

import chinese_calendar

# --------------------------------------------------------------------------
# constants of the scheme
# --------------------------------------------------------------------------

LEAD_ROLES = ("lead", "split")
CO_ROLES = ("co",)
ALL_ROLES = LEAD_ROLES + CO_ROLES

EVENT_TYPES = (
    "assigned", "signed", "returned", "contact", "extension", "reply",
    "feedback", "published", "co_reply", "urged",
)
CONTACT_MODES = ("face_to_face", "phone", "wechat", "letter", "email", "other")

OUTCOME_POINTS = {"A": Fraction(30), "B": Fraction(24), "C": Fraction(15), "D": Fraction(9)}
RATING_POINTS = {
    "satisfied": Fraction(30),
    "basically_satisfied": Fraction(20),
    "dissatisfied": Fraction(0),
}

LEAD_WEIGHT = Fraction(7, 10)
CO_WEIGHT = Fraction(3, 10)


# --------------------------------------------------------------------------
# calendar helpers (own implementation on top of chinese_calendar.is_workday)
# --------------------------------------------------------------------------

def to_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


def is_workday(d: datetime.date) -> bool:
    # chinese_calendar raises NotImplementedError for years it does not cover.
    return chinese_calendar.is_workday(d)


def add_workdays(d: datetime.date, n: int) -> datetime.date:
    """The n-th working day after d (d itself never counts)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    current = d
    found = 0
    while found < n:
        current = current + datetime.timedelta(days=1)
        if is_workday(current):
            found += 1
    return current


def add_months(d: datetime.date, n: int) -> datetime.date:
    """Same day n months later, clamped to the end of that month."""
    month_index = d.month - 1 + n
    year = d.year + month_index // 12
    month = month_index % 12 + 1
    day = d.day
    while True:
        try:
            return datetime.date(year, month, day)
        except ValueError:
            day -= 1


def workdays_late(deadline: datetime.date, d: datetime.date) -> int:
    """Working days after the deadline up to and including d (0 if d <= deadline)."""
    count = 0
    current = deadline
    while current < d:
        current = current + datetime.timedelta(days=1)
        if is_workday(current):
            count += 1
    return count


# --------------------------------------------------------------------------
# event helpers
# --------------------------------------------------------------------------

def natural_key(text) -> tuple:
    """Natural sort key: "e2" < "e10"."""
    parts = re.split(r"(\d+)", str(text))
    key = []
    for part in parts:
        if part.isdigit():
            key.append((1, int(part), part))
        else:
            key.append((0, 0, part))
    return tuple(key)


def event_sort_key(event: dict) -> tuple:
    return (to_date(event["date"]), natural_key(event.get("id", "")))


def events_of(case: dict, department: str) -> list[dict]:
    """The department's events of the case, sorted by (date, natural id)."""
    result = []
    for event in case.get("events", []):
        if event.get("type") not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event.get('type')!r} in case {case.get('id')}")
        if event.get("department") == department:
            result.append(event)
    result.sort(key=event_sort_key)
    return result


def of_type(events: list[dict], event_type: str) -> list[dict]:
    return [e for e in events if e["type"] == event_type]


def first(events: list[dict]):
    return events[0] if events else None


def last(events: list[dict]):
    return events[-1] if events else None


def role_of(case: dict, department: str) -> str:
    roles = []
    for handler in case.get("handlers", []):
        if handler.get("department") == department:
            roles.append(handler.get("role"))
    if not roles:
        raise ValueError(f"{department!r} is not a handler of case {case.get('id')}")
    for role in roles:
        if role not in ALL_ROLES:
            raise ValueError(f"unknown role {role!r} in case {case.get('id')}")
    if len(set(roles)) != 1:
        raise ValueError(f"{department!r} has conflicting roles {roles} in case {case.get('id')}")
    return roles[0]


def clamp(value: Fraction, low, high) -> Fraction:
    if value < low:
        return Fraction(low)
    if value > high:
        return Fraction(high)
    return value


# --------------------------------------------------------------------------
# per-case scoring
# --------------------------------------------------------------------------

def score_lead(events: list[dict]) -> dict[str, Fraction]:
    items: dict[str, Fraction] = {}

    assigned = first(of_type(events, "assigned"))
    signed = first(of_type(events, "signed"))
    replies = of_type(events, "reply")
    first_reply = first(replies)
    last_reply = last(replies)
    contacts = of_type(events, "contact")
    for c in contacts:
        if c.get("mode") not in CONTACT_MODES:
            raise ValueError(f"unknown contact mode {c.get('mode')!r}")

    # L1 签收
    items["L1"] = Fraction(0)
    if assigned is not None and signed is not None:
        sign_deadline = add_workdays(to_date(assigned["date"]), 3)
        if to_date(signed["date"]) <= sign_deadline:
            items["L1"] = Fraction(5)

    # L2 沟通协商
    if first_reply is None:
        window = list(contacts)
    else:
        reply_date = to_date(first_reply["date"])
        window = [c for c in contacts if to_date(c["date"]) <= reply_date]
    has_f2f = False
    for c in window:
        if c["mode"] == "face_to_face":
            has_f2f = True
    if has_f2f:
        items["L2"] = Fraction(5)
    else:
        points = Fraction(0)
        for _ in window:
            points += Fraction(5, 2)
        items["L2"] = min(points, Fraction(5))

    # L3 先沟通后答复
    if first_reply is not None and len(window) == 0:
        items["L3"] = Fraction(-5)
    else:
        items["L3"] = Fraction(0)

    # L4 按时答复
    items["L4"] = Fraction(0)
    if assigned is not None and first_reply is not None:
        extension_days = 0
        for e in of_type(events, "extension"):
            extension_days += int(e["days"])
        deadline = add_months(to_date(assigned["date"]), 3) + datetime.timedelta(days=extension_days)
        reply_date = to_date(first_reply["date"])
        if reply_date <= deadline:
            items["L4"] = Fraction(20)
        else:
            late = workdays_late(deadline, reply_date)
            items["L4"] = max(Fraction(0), Fraction(20) - 2 * late)

    # L5 办理结果
    if last_reply is None:
        items["L5"] = Fraction(0)
    else:
        outcome = last_reply.get("outcome")
        if outcome not in OUTCOME_POINTS:
            raise ValueError(f"unknown outcome {outcome!r}")
        items["L5"] = OUTCOME_POINTS[outcome]

    # L6 满意度
    last_feedback = last(of_type(events, "feedback"))
    if last_feedback is None:
        items["L6"] = Fraction(0)
    else:
        rating = last_feedback.get("rating")
        if rating not in RATING_POINTS:
            raise ValueError(f"unknown rating {rating!r}")
        items["L6"] = RATING_POINTS[rating]

    # L7 答复公开
    items["L7"] = Fraction(0)
    if first_reply is not None:
        publish_deadline = add_workdays(to_date(first_reply["date"]), 20)
        for p in of_type(events, "published"):
            if to_date(p["date"]) <= publish_deadline:
                items["L7"] = Fraction(10)

    return items


def score_co(events: list[dict]) -> dict[str, Fraction]:
    assigned = first(of_type(events, "assigned"))
    co_reply = first(of_type(events, "co_reply"))
    if assigned is None or co_reply is None:
        return {"H1": Fraction(0)}
    deadline = add_months(to_date(assigned["date"]), 1)
    reply_date = to_date(co_reply["date"])
    if reply_date <= deadline:
        return {"H1": Fraction(100)}
    late = workdays_late(deadline, reply_date)
    return {"H1": max(Fraction(0), Fraction(100) - 10 * late)}


def score_case_handler(case: dict, department: str) -> dict:
    role = role_of(case, department)
    events = events_of(case, department)
    if role in LEAD_ROLES:
        items = score_lead(events)
    else:
        items = score_co(events)
    total = Fraction(0)
    for value in items.values():
        total += value
    total = clamp(total, 0, 100)
    return {"role": role, "total": total, "items": items}


# --------------------------------------------------------------------------
# department scoring
# --------------------------------------------------------------------------

def round_half_up_2dp(value: Fraction) -> Decimal:
    """Exact ROUND_HALF_UP of a non-negative Fraction to 2 decimal places."""
    if value < 0:
        raise ValueError("expected a non-negative value")
    scaled = value * 100 + Fraction(1, 2)
    hundredths = scaled.numerator // scaled.denominator  # floor
    return Decimal(hundredths).scaleb(-2)


def grade_of(total: Decimal) -> str:
    if total >= 90:
        return "优秀"
    if total >= 80:
        return "良好"
    if total >= 60:
        return "合格"
    return "不合格"


def mean(values: list[Fraction]) -> Fraction:
    total = Fraction(0)
    for v in values:
        total += v
    return total / len(values)


def score_departments(cases: list[dict]) -> dict[str, dict]:
    # collect departments and check case ids
    seen_ids = set()
    departments: list[str] = []
    for case in cases:
        if case["id"] in seen_ids:
            raise ValueError(f"duplicate case id {case['id']!r}")
        seen_ids.add(case["id"])
        for handler in case.get("handlers", []):
            if handler["department"] not in departments:
                departments.append(handler["department"])

    result: dict[str, dict] = {}
    for department in departments:
        case_scores = {}
        lead_totals = []
        co_totals = []
        urges = 0
        lead_cases = 0
        lead_cases_with_f2f = 0
        for case in cases:
            handler_departments = [h["department"] for h in case.get("handlers", [])]
            if department not in handler_departments:
                continue
            scored = score_case_handler(case, department)
            case_scores[case["id"]] = scored
            events = events_of(case, department)
            urges += len(of_type(events, "urged"))
            if scored["role"] in LEAD_ROLES:
                lead_totals.append(scored["total"])
                lead_cases += 1
                for c in of_type(events, "contact"):
                    if c.get("mode") == "face_to_face":
                        lead_cases_with_f2f += 1
                        break
            else:
                co_totals.append(scored["total"])

        if lead_totals and co_totals:
            base = LEAD_WEIGHT * mean(lead_totals) + CO_WEIGHT * mean(co_totals)
        elif lead_totals:
            base = mean(lead_totals)
        else:
            base = mean(co_totals)

        d1 = min(Fraction(urges), Fraction(5))

        if lead_cases == 0:
            d2 = Fraction(0)
        else:
            rate = Fraction(lead_cases_with_f2f, lead_cases)
            d2 = min(10 * (1 - rate), Fraction(5))

        exact_total = clamp(base - d1 - d2, 0, 100)
        total = round_half_up_2dp(exact_total)
        result[department] = {
            "total": total,
            "grade": grade_of(total),
            "rank": 0,
            "base": base,
            "D1": d1,
            "D2": d2,
            "cases": case_scores,
        }

    # competition ranking (1, 2, 2, 4) on the rounded totals
    for department in result:
        higher = 0
        for other in result:
            if result[other]["total"] > result[department]["total"]:
                higher += 1
        result[department]["rank"] = higher + 1

    return result
