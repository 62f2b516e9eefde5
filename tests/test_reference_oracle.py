"""Hand-computed checks of the reference oracle (tests/reference_oracle.py).

Every expected number below was worked out by hand; the comments show the
arithmetic and the calendar facts it relies on (the calendar facts are
asserted too, against chinese_calendar directly).
"""

import datetime
from decimal import Decimal
from fractions import Fraction

import chinese_calendar
import pytest
from reference_oracle import (
    add_months,
    add_workdays,
    grade_of,
    round_half_up_2dp,
    score_case_handler,
    score_departments,
    workdays_late,
)

D = datetime.date
A = "市市场监管局"
B = "市地方金融监管局"
C = "市教育局"
X = "市交通局"


# --------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------

def ev(type_, date, dept=A, **extra):
    return {"type": type_, "date": date, "department": dept, **extra}


def mk_case(cid, handlers, events):
    """handlers: [(department, role)]; events get ids e1, e2, ... unless given."""
    numbered = []
    for i, event in enumerate(events, 1):
        event = dict(event)
        event.setdefault("id", f"e{i}")
        numbered.append(event)
    return {
        "id": cid, "kind": "proposal", "title": cid, "proposer": "委员", "key": False,
        "waived_f2f": False,
        "handlers": [{"department": d, "role": r} for d, r in handlers],
        "events": numbered,
    }


def lead_only(events, dept=A, role="lead"):
    return mk_case("c1", [(dept, role)], events)


def items(case, dept=A):
    return score_case_handler(case, dept)["items"]


def perfect_lead_events(dept, f2f=True, urged=0):
    """A lead handling worth 100 (hand check: 5+5+0+20+30+30+10).

    assigned Tue 2020-03-10, signed 03-11 (<= 03-13), reply 06-01 (<= 06-10),
    published 06-05 (<= 06-30).  L2 = 5 either via face_to_face or via
    phone + wechat (2.5 + 2.5).
    """
    if f2f:
        contacts = [ev("contact", "2020-04-02", dept, mode="face_to_face")]
    else:
        contacts = [ev("contact", "2020-04-02", dept, mode="phone"),
                    ev("contact", "2020-04-03", dept, mode="wechat")]
    return ([ev("assigned", "2020-03-10", dept), ev("signed", "2020-03-11", dept)]
            + contacts
            + [ev("reply", "2020-06-01", dept, outcome="A"),
               ev("feedback", "2020-06-20", dept, rating="satisfied"),
               ev("published", "2020-06-05", dept)]
            + [ev("urged", "2020-05-01", dept) for _ in range(urged)])


def co_events(dept, co_reply="2020-04-10", urged=0):
    """Co handling: assigned 2020-03-10 -> H1 deadline Fri 2020-04-10."""
    events = [ev("assigned", "2020-03-10", dept)]
    if co_reply is not None:
        events.append(ev("co_reply", co_reply, dept))
    events += [ev("urged", "2020-04-01", dept) for _ in range(urged)]
    return events


# --------------------------------------------------------------------------
# calendar facts and helpers
# --------------------------------------------------------------------------

def test_calendar_facts_used_below():
    # 2020 National Day + Mid-Autumn: Oct 1-8 off, Sun Sep 27 and Sat Oct 10 worked
    for day in range(1, 9):
        assert not chinese_calendar.is_workday(D(2020, 10, day))
    assert chinese_calendar.is_workday(D(2020, 10, 9))
    assert chinese_calendar.is_workday(D(2020, 10, 10))  # adjusted working Saturday
    assert not chinese_calendar.is_workday(D(2020, 10, 11))
    assert chinese_calendar.is_workday(D(2020, 9, 27))   # adjusted working Sunday
    assert not chinese_calendar.is_workday(D(2020, 9, 26))
    # 2020 Dragon Boat: Jun 25-27 off, Sun Jun 28 worked
    for day in (25, 26, 27):
        assert not chinese_calendar.is_workday(D(2020, 6, day))
    assert chinese_calendar.is_workday(D(2020, 6, 28))
    # 2021-02-28 is an ordinary Sunday
    assert not chinese_calendar.is_workday(D(2021, 2, 28))
    assert chinese_calendar.is_workday(D(2021, 3, 1))


def test_add_workdays():
    # Thu 03-12: Fri 13 (1), Mon 16 (2), Tue 17 (3)
    assert add_workdays(D(2020, 3, 12), 3) == D(2020, 3, 17)
    # Wed 09-30: Oct 1-8 off, Fri 10-09 (1), Sat 10-10 (2), Mon 10-12 (3)
    assert add_workdays(D(2020, 9, 30), 3) == D(2020, 10, 12)
    # Fri 09-25: Sat 26 off, Sun 27 worked (1), Mon 28 (2), Tue 29 (3)
    assert add_workdays(D(2020, 9, 25), 3) == D(2020, 9, 29)
    # Mon 06-01: Jun 2-5 (4), 8-12 (9), 15-19 (14), 22-24 (17), Sun 28 (18), 29 (19), 30 (20)
    assert add_workdays(D(2020, 6, 1), 20) == D(2020, 6, 30)
    # the start day never counts, even from a non-working day: Sat 03-14 -> Mon 03-16
    assert add_workdays(D(2020, 3, 14), 1) == D(2020, 3, 16)


def test_add_months():
    assert add_months(D(2020, 3, 10), 3) == D(2020, 6, 10)
    assert add_months(D(2020, 11, 30), 3) == D(2021, 2, 28)   # clamp, 2021 not leap
    assert add_months(D(2020, 1, 31), 1) == D(2020, 2, 29)    # clamp, 2020 leap
    assert add_months(D(2019, 12, 31), 2) == D(2020, 2, 29)   # across the year
    assert add_months(D(2020, 10, 31), 1) == D(2020, 11, 30)
    assert add_months(D(2020, 12, 15), 1) == D(2021, 1, 15)


def test_workdays_late():
    # deadline Wed 06-10: Thu 11 (1), Fri 12 (2), Mon 15 (3)
    assert workdays_late(D(2020, 6, 10), D(2020, 6, 15)) == 3
    assert workdays_late(D(2020, 6, 10), D(2020, 6, 10)) == 0
    assert workdays_late(D(2020, 6, 10), D(2020, 6, 1)) == 0
    # deadline Fri 07-10, Sat 07-11: no working day in between
    assert workdays_late(D(2020, 7, 10), D(2020, 7, 11)) == 0


# --------------------------------------------------------------------------
# the example case from the brief
# --------------------------------------------------------------------------

def test_brief_example_case():
    case = mk_case("2020-0668", [(A, "lead"), (B, "co")], [
        ev("assigned", "2020-03-10", A),
        ev("signed", "2020-03-11", A),
        ev("contact", "2020-04-02", A, mode="face_to_face"),
        ev("reply", "2020-06-01", A, outcome="A"),
        ev("feedback", "2020-06-20", A, rating="satisfied"),
        ev("published", "2020-06-05", A),
        ev("assigned", "2020-03-10", B),
        ev("co_reply", "2020-04-01", B),
    ])
    lead = score_case_handler(case, A)
    # L1 03-11 <= 03-13; L2 f2f 04-02 <= 06-01; L4 06-01 <= 06-10; L7 06-05 <= 06-30
    assert lead["role"] == "lead"
    assert lead["items"] == {"L1": 5, "L2": 5, "L3": 0, "L4": 20, "L5": 30, "L6": 30, "L7": 10}
    assert lead["total"] == 100
    co = score_case_handler(case, B)
    # H1: 04-01 <= add_months(03-10, 1) = 04-10
    assert co == {"role": "co", "total": 100, "items": {"H1": 100}}
    deps = score_departments([case])
    assert deps[A]["total"] == Decimal("100.00") and deps[A]["rank"] == 1
    assert deps[B]["total"] == Decimal("100.00") and deps[B]["rank"] == 1  # tie
    assert deps[A]["grade"] == deps[B]["grade"] == "优秀"


def test_not_a_handler_raises():
    case = lead_only(perfect_lead_events(A))
    with pytest.raises(ValueError):
        score_case_handler(case, B)


# --------------------------------------------------------------------------
# L1 签收
# --------------------------------------------------------------------------

@pytest.mark.parametrize("assigned, signed, expected", [
    # across a weekend: Thu 03-12 -> 3rd working day Tue 03-17
    ("2020-03-12", "2020-03-17", 5),
    ("2020-03-12", "2020-03-18", 0),   # 4th working day
    ("2020-03-12", "2020-03-12", 5),   # same day
    # across National Day: Wed 09-30 -> Fri 10-09 (1), Sat 10-10 (2), Mon 10-12 (3)
    ("2020-09-30", "2020-10-10", 5),   # the adjusted working Saturday
    ("2020-09-30", "2020-10-12", 5),   # exactly the 3rd working day
    ("2020-09-30", "2020-10-13", 0),   # the 4th
    # adjusted working Sunday: Fri 09-25 -> Sun 27 (1), 28 (2), Tue 29 (3)
    ("2020-09-25", "2020-09-29", 5),
    ("2020-09-25", "2020-09-30", 0),
])
def test_L1_signing(assigned, signed, expected):
    case = lead_only([ev("assigned", assigned), ev("signed", signed)])
    assert items(case)["L1"] == expected


def test_L1_no_signed_and_first_assigned():
    assert items(lead_only([ev("assigned", "2020-03-10")]))["L1"] == 0
    # returned and re-assigned: the deadline runs from the FIRST assigned
    # (03-10 -> 03-13), and the first signed 03-23 is after it -> 0
    case = lead_only([ev("assigned", "2020-03-20"), ev("assigned", "2020-03-10"),
                      ev("returned", "2020-03-11"), ev("signed", "2020-03-23")])
    assert items(case)["L1"] == 0
    # the FIRST signed counts: 03-12 <= 03-13 -> 5 (a later one does not matter)
    case = lead_only([ev("assigned", "2020-03-10"), ev("signed", "2020-03-30"),
                      ev("signed", "2020-03-12")])
    assert items(case)["L1"] == 5


# --------------------------------------------------------------------------
# L2 沟通协商 / L3 先沟通后答复
# --------------------------------------------------------------------------

def _contact_case(contacts, reply="2020-06-01"):
    events = [ev("assigned", "2020-03-10")]
    events += [ev("contact", date, mode=mode) for mode, date in contacts]
    if reply is not None:
        events.append(ev("reply", reply, outcome="A"))
    return lead_only(events)


@pytest.mark.parametrize("contacts, reply, L2, L3", [
    # phone + wechat before the reply: 2.5 + 2.5 = 5
    ([("phone", "2020-04-01"), ("wechat", "2020-04-02")], "2020-06-01", 5, 0),
    # phone + wechat + email: 7.5 capped at 5
    ([("phone", "2020-04-01"), ("wechat", "2020-04-02"), ("email", "2020-04-03")],
     "2020-06-01", 5, 0),
    # one letter: 2.5
    ([("letter", "2020-04-01")], "2020-06-01", Fraction(5, 2), 0),
    # mode "other" is "another mode": 2.5
    ([("other", "2020-04-01")], "2020-06-01", Fraction(5, 2), 0),
    # face_to_face AFTER the first reply does not count: only the phone, 2.5
    ([("phone", "2020-04-01"), ("face_to_face", "2020-06-02")], "2020-06-01",
     Fraction(5, 2), 0),
    # face_to_face before the reply: 5
    ([("face_to_face", "2020-04-01")], "2020-06-01", 5, 0),
    # the only contact is after the first reply: L2 0, L3 -5
    ([("face_to_face", "2020-06-02")], "2020-06-01", 0, -5),
    # no contact at all but a reply: L3 -5
    ([], "2020-06-01", 0, -5),
    # contact on the same day as the first reply counts ("on or before")
    ([("phone", "2020-06-01")], "2020-06-01", Fraction(5, 2), 0),
    # no reply: all contacts count, no L3
    ([("letter", "2020-04-01"), ("phone", "2020-08-01")], None, 5, 0),
    ([], None, 0, 0),
])
def test_L2_L3(contacts, reply, L2, L3):
    got = items(_contact_case(contacts, reply))
    assert got["L2"] == L2
    assert got["L3"] == L3


def test_L2_window_is_the_first_reply():
    # replies 06-01 and 07-01; a face_to_face on 06-15 is after the FIRST reply
    case = lead_only([ev("assigned", "2020-03-10"), ev("reply", "2020-07-01", outcome="A"),
                      ev("contact", "2020-06-15", mode="face_to_face"),
                      ev("reply", "2020-06-01", outcome="B")])
    got = items(case)
    assert got["L2"] == 0 and got["L3"] == -5


def test_L2_only_own_department_contacts():
    case = mk_case("c1", [(A, "lead"), (B, "co")], [
        ev("assigned", "2020-03-10", A), ev("assigned", "2020-03-10", B),
        ev("contact", "2020-04-01", B, mode="face_to_face"),   # B's contact, not A's
        ev("reply", "2020-06-01", A, outcome="A")])
    got = items(case, A)
    assert got["L2"] == 0 and got["L3"] == -5


# --------------------------------------------------------------------------
# L4 按时答复
# --------------------------------------------------------------------------

@pytest.mark.parametrize("assigned, reply, extensions, expected", [
    # deadline add_months(Tue 03-10, 3) = Wed 06-10
    ("2020-03-10", "2020-06-10", [], 20),
    ("2020-03-10", "2020-06-01", [], 20),
    ("2020-03-10", "2020-06-11", [], 18),   # Thu 11: 1 late
    ("2020-03-10", "2020-06-15", [], 14),   # Thu 11, Fri 12, Mon 15: 3 late -> 20 - 6
    ("2020-03-10", "2020-06-23", [], 2),    # 11,12,15,16,17,18,19,22,23: 9 late
    ("2020-03-10", "2020-06-24", [], 0),    # 10 late -> 0
    ("2020-03-10", "2020-08-03", [], 0),    # far later: not below 0
    # extension 30 days: deadline 06-10 + 30 = 07-10
    ("2020-03-10", "2020-07-10", [30], 20),  # would be 0 without the extension
    ("2020-03-10", "2020-07-13", [30], 18),  # Fri 07-10 -> Mon 07-13: 1 late
    ("2020-03-10", "2020-07-10", [10, 20], 20),  # extensions are summed
    ("2020-03-10", "2020-07-10", [], 0),
    # deadline Fri 07-10 (assigned 04-10); Sat 07-11 is 0 working days late
    ("2020-04-10", "2020-07-11", [], 20),
    ("2020-04-10", "2020-07-13", [], 18),
    # month-end clamp: 2020-11-30 -> 2021-02-28 (a Sunday)
    ("2020-11-30", "2021-02-28", [], 20),
    ("2020-11-30", "2021-03-01", [], 18),   # Mon 03-01: 1 late
    ("2020-11-30", "2021-03-02", [], 16),
])
def test_L4_on_time_reply(assigned, reply, extensions, expected):
    events = [ev("assigned", assigned), ev("reply", reply, outcome="B")]
    events += [ev("extension", "2020-05-01", days=days) for days in extensions]
    assert items(lead_only(events))["L4"] == expected


def test_L4_no_reply():
    case = lead_only([ev("assigned", "2020-03-10"), ev("extension", "2020-05-01", days=30)])
    assert items(case)["L4"] == 0


# --------------------------------------------------------------------------
# L5 / L6 / L7 and re-handling
# --------------------------------------------------------------------------

@pytest.mark.parametrize("outcome, points", [("A", 30), ("B", 24), ("C", 15), ("D", 9)])
def test_L5_outcomes(outcome, points):
    case = lead_only([ev("assigned", "2020-03-10"), ev("reply", "2020-06-01", outcome=outcome)])
    assert items(case)["L5"] == points


@pytest.mark.parametrize("rating, points", [
    ("satisfied", 30), ("basically_satisfied", 20), ("dissatisfied", 0)])
def test_L6_ratings(rating, points):
    case = lead_only([ev("assigned", "2020-03-10"), ev("reply", "2020-06-01", outcome="A"),
                      ev("feedback", "2020-06-20", rating=rating)])
    assert items(case)["L6"] == points


def test_no_reply_no_feedback_items():
    got = items(lead_only([ev("assigned", "2020-03-10"), ev("published", "2020-06-05")]))
    assert got["L5"] == 0 and got["L6"] == 0
    assert got["L7"] == 0   # published but no reply


@pytest.mark.parametrize("published, expected", [
    # add_workdays(Mon 06-01, 20) = Tue 06-30 (Dragon Boat 06-25..27 off, Sun 06-28 worked)
    ("2020-06-30", 10),
    ("2020-07-01", 0),
    ("2020-06-01", 10),
    # literal reading: a publication dated before the first reply also counts
    ("2020-05-01", 10),
])
def test_L7_publication(published, expected):
    case = lead_only([ev("assigned", "2020-03-10"), ev("reply", "2020-06-01", outcome="A"),
                      ev("published", published)])
    assert items(case)["L7"] == expected


def test_rehandling():
    # events deliberately out of order in the list
    case = lead_only([
        ev("feedback", "2020-08-01", rating="satisfied", id="e7"),
        ev("reply", "2020-07-20", outcome="A", id="e6"),
        ev("published", "2020-07-22", id="e8"),
        ev("feedback", "2020-06-20", rating="dissatisfied", id="e5"),
        ev("reply", "2020-06-01", outcome="C", id="e4"),
        ev("contact", "2020-04-02", mode="face_to_face", id="e3"),
        ev("signed", "2020-03-11", id="e2"),
        ev("assigned", "2020-03-10", id="e1"),
    ])
    got = score_case_handler(case, A)
    # L1 5 (03-11 <= 03-13); L2 5 (f2f 04-02 <= first reply 06-01); L3 0
    # L4 20: FIRST reply 06-01 <= 06-10 (the second, 07-20, would be 0)
    # L5 30: LAST reply outcome A (the first was C, 15)
    # L6 30: LAST feedback satisfied (the first was dissatisfied, 0)
    # L7 0: published 07-22 > add_workdays(first reply 06-01, 20) = 06-30
    assert got["items"] == {"L1": 5, "L2": 5, "L3": 0, "L4": 20, "L5": 30, "L6": 30, "L7": 0}
    assert got["total"] == 90
    # with an early publication as well, L7 10 -> 100
    case["events"].append(ev("published", "2020-06-05", id="e9"))
    assert score_case_handler(case, A)["total"] == 100


def test_same_date_ties_use_natural_id_order():
    # two replies and two feedbacks on the same day: e2 < e10 < e11 naturally
    # (lexically "e10" < "e2"); the last reply is e10 (D, 9), the last feedback e11
    case = lead_only([
        ev("assigned", "2020-03-10", id="e1"),
        ev("reply", "2020-06-01", outcome="D", id="e10"),
        ev("reply", "2020-06-01", outcome="B", id="e2"),
        ev("feedback", "2020-06-20", rating="satisfied", id="e11"),
        ev("feedback", "2020-06-20", rating="dissatisfied", id="e3"),
    ])
    got = items(case)
    assert got["L5"] == 9
    assert got["L6"] == 30


def test_minimal_lead_total():
    # reply only, very late, no contact: 0 + 0 - 5 + 0 + 9 (D) + 0 + 0 = 4
    case = lead_only([ev("assigned", "2020-03-10"), ev("reply", "2020-12-01", outcome="D")])
    got = score_case_handler(case, A)
    assert got["total"] == 4


def test_split_role_uses_lead_rubric():
    got = score_case_handler(lead_only(perfect_lead_events(A), role="split"), A)
    assert got["role"] == "split"
    assert set(got["items"]) == {"L1", "L2", "L3", "L4", "L5", "L6", "L7"}
    assert got["total"] == 100


# --------------------------------------------------------------------------
# H1 co-handler
# --------------------------------------------------------------------------

@pytest.mark.parametrize("co_reply, expected", [
    # deadline add_months(03-10, 1) = Fri 04-10
    ("2020-04-10", 100),
    ("2020-03-20", 100),
    ("2020-04-11", 100),   # Saturday: 0 working days late
    ("2020-04-14", 80),    # Mon 13, Tue 14: 2 late
    ("2020-04-20", 40),    # 13,14,15,16,17,20: 6 late
    ("2020-04-23", 10),    # 9 late
    ("2020-04-24", 0),     # 10 late
    ("2020-06-01", 0),     # not below 0
    (None, 0),             # no co_reply
])
def test_H1(co_reply, expected):
    case = mk_case("c1", [(X, "lead"), (B, "co")], co_events(B, co_reply))
    got = score_case_handler(case, B)
    assert got["role"] == "co"
    assert got["items"] == {"H1": expected}
    assert got["total"] == expected


def test_H1_month_end_clamp_and_first_co_reply():
    # 2021-01-31 + 1 month = 2021-02-28 (Sun); Mon 03-01 is 1 late -> 90
    case = mk_case("c1", [(B, "co")], [ev("assigned", "2021-01-31", B),
                                       ev("co_reply", "2021-03-01", B)])
    assert score_case_handler(case, B)["total"] == 90
    # the FIRST co_reply counts (03-01), not the later one
    case["events"].append(ev("co_reply", "2021-03-20", B, id="e9"))
    assert score_case_handler(case, B)["total"] == 90


# --------------------------------------------------------------------------
# department totals
# --------------------------------------------------------------------------

def test_department_with_only_co_cases():
    cases = [
        mk_case("c1", [(X, "lead"), (B, "co")], perfect_lead_events(X) + co_events(B, "2020-04-10")),
        mk_case("c2", [(X, "lead"), (B, "co")], perfect_lead_events(X) + co_events(B, "2020-04-14")),
    ]
    deps = score_departments(cases)
    b = deps[B]
    # co mean alone: (100 + 80) / 2 = 90; no lead cases -> no D2; no urges
    assert b["base"] == 90
    assert b["D1"] == 0 and b["D2"] == 0
    assert b["total"] == Decimal("90.00")
    assert str(b["total"]) == "90.00"
    assert b["grade"] == "优秀"
    assert set(b["cases"]) == {"c1", "c2"}
    assert b["cases"]["c2"] == {"role": "co", "total": 80, "items": {"H1": 80}}


def test_D1_cap_and_urges_on_all_roles():
    cases = [
        # A lead (3 urges for A), B co (2 urges for B)
        mk_case("c1", [(A, "lead"), (B, "co")],
                perfect_lead_events(A, urged=3) + co_events(B, "2020-04-10", urged=2)),
        # B lead, A co (4 urges for A)
        mk_case("c2", [(B, "lead"), (A, "co")],
                perfect_lead_events(B) + co_events(A, "2020-04-10", urged=4)),
    ]
    deps = score_departments(cases)
    # A: base 0.7*100 + 0.3*100 = 100; 3 + 4 = 7 urges -> D1 capped at 5 -> 95
    assert deps[A]["base"] == 100
    assert deps[A]["D1"] == 5
    assert deps[A]["total"] == Decimal("95.00")
    # B: base 100; 2 urges -> 98
    assert deps[B]["D1"] == 2
    assert deps[B]["total"] == Decimal("98.00")
    assert deps[A]["rank"] == 2 and deps[B]["rank"] == 1


def test_D1_ignores_urges_on_cases_of_other_departments():
    cases = [
        mk_case("c1", [(A, "lead")], perfect_lead_events(A, urged=3)),
        # C's case carrying an urged event labelled A: A is not a handler here
        mk_case("c2", [(C, "lead")], perfect_lead_events(C) + [ev("urged", "2020-05-01", A)]),
    ]
    deps = score_departments(cases)
    assert deps[A]["D1"] == 3
    assert deps[A]["total"] == Decimal("97.00")
    assert A not in [h["department"] for h in cases[1]["handlers"]]
    assert set(deps) == {A, C}
    assert deps[C]["D1"] == 0


def test_D2_two_of_three_face_to_face():
    cases = [
        mk_case("c1", [(A, "lead")], perfect_lead_events(A, f2f=True)),
        mk_case("c2", [(A, "lead")], perfect_lead_events(A, f2f=True)),
        mk_case("c3", [(A, "split")], perfect_lead_events(A, f2f=False)),  # phone+wechat: still 100
    ]
    a = score_departments(cases)[A]
    # lead-only: base = mean = 100; rate 2/3; D2 = 10 * 1/3 = 10/3 = 3.333...
    assert a["base"] == 100
    assert a["D2"] == Fraction(10, 3)
    # 100 - 10/3 = 290/3 = 96.666... -> 96.67
    assert a["total"] == Decimal("96.67")
    assert a["grade"] == "优秀"


def test_D2_face_to_face_at_any_date_counts():
    third = perfect_lead_events(A, f2f=False) + [
        ev("contact", "2020-07-15", A, mode="face_to_face")]  # after the reply
    cases = [
        mk_case("c1", [(A, "lead")], perfect_lead_events(A)),
        mk_case("c2", [(A, "lead")], perfect_lead_events(A)),
        mk_case("c3", [(A, "lead")], third),
    ]
    a = score_departments(cases)[A]
    assert a["D2"] == 0
    assert a["total"] == Decimal("100.00")


def test_D2_cap_and_quarter():
    one_of_three = [
        mk_case("c1", [(A, "lead")], perfect_lead_events(A, f2f=True)),
        mk_case("c2", [(A, "lead")], perfect_lead_events(A, f2f=False)),
        mk_case("c3", [(A, "lead")], perfect_lead_events(A, f2f=False)),
    ]
    a = score_departments(one_of_three)[A]
    # 10 * 2/3 = 6.67 -> capped at 5 -> 95
    assert a["D2"] == 5
    assert a["total"] == Decimal("95.00")
    three_of_four = [mk_case(f"c{i}", [(A, "lead")], perfect_lead_events(A, f2f=(i != 4)))
                     for i in range(1, 5)]
    a = score_departments(three_of_four)[A]
    # 10 * 1/4 = 2.5 -> 97.50
    assert a["D2"] == Fraction(5, 2)
    assert a["total"] == Decimal("97.50")


def _lead_97_5(dept):
    """Lead case worth 97.5: only a letter before the reply (L2 2.5), the
    face_to_face comes after the reply (so it still counts for D2).
    5 + 2.5 + 0 + 20 + 30 + 30 + 10 = 97.5"""
    return [ev("assigned", "2020-03-10", dept), ev("signed", "2020-03-11", dept),
            ev("contact", "2020-04-01", dept, mode="letter"),
            ev("reply", "2020-06-01", dept, outcome="A"),
            ev("contact", "2020-06-05", dept, mode="face_to_face"),
            ev("feedback", "2020-06-20", dept, rating="satisfied"),
            ev("published", "2020-06-05", dept)]


def test_weighting_exact_and_half_up():
    cases = [
        mk_case("w1", [(A, "lead")], perfect_lead_events(A)),
        mk_case("w2", [(A, "lead")], _lead_97_5(A)),
        mk_case("w3", [(X, "lead"), (A, "co")], perfect_lead_events(X) + co_events(A, "2020-04-10")),
    ]
    a = score_departments(cases)[A]
    assert a["cases"]["w2"]["total"] == Fraction(195, 2)
    # base = 0.7 * (100 + 97.5)/2 + 0.3 * 100 = 0.7 * 98.75 + 30 = 69.125 + 30 = 99.125
    assert a["base"] == Fraction(793, 8)
    assert a["D1"] == 0 and a["D2"] == 0
    # third decimal is exactly 5: half-up -> 99.13 (banker's rounding would give 99.12)
    assert a["total"] == Decimal("99.13")
    # the same two lead cases without the co case: base is the lead mean alone
    a = score_departments(cases[:2])[A]
    assert a["base"] == Fraction(395, 4)          # 98.75
    assert a["total"] == Decimal("98.75")


def test_round_half_up_2dp():
    assert round_half_up_2dp(Fraction(793, 8)) == Decimal("99.13")      # 99.125
    assert round_half_up_2dp(Fraction(1, 200)) == Decimal("0.01")       # 0.005
    assert round_half_up_2dp(Fraction(1249, 1000)) == Decimal("1.25")   # 1.249 -> 1.25
    assert round_half_up_2dp(Fraction(1244, 1000)) == Decimal("1.24")
    assert round_half_up_2dp(Fraction(290, 3)) == Decimal("96.67")
    assert str(round_half_up_2dp(Fraction(90))) == "90.00"
    assert str(round_half_up_2dp(Fraction(0))) == "0.00"


@pytest.mark.parametrize("total, grade", [
    ("100.00", "优秀"), ("90.00", "优秀"), ("89.99", "良好"), ("80.00", "良好"),
    ("79.99", "合格"), ("60.00", "合格"), ("59.99", "不合格"), ("0.00", "不合格"),
])
def test_grade_boundaries(total, grade):
    assert grade_of(Decimal(total)) == grade


def test_ranking_ties_and_grade_boundary_90_vs_89_99():
    cases = []
    # B: co on two of A's cases, 100 and 80 -> 90.00
    cases.append(mk_case("r1", [(A, "lead"), (B, "co")], perfect_lead_events(A) + co_events(B, "2020-04-10")))
    cases.append(mk_case("r2", [(A, "lead"), (B, "co")], perfect_lead_events(A) + co_events(B, "2020-04-14")))
    # C: two perfect lead cases, 1 of 2 face_to_face (D2 = 5) and 5 urges (D1 = 5) -> 90.00
    cases.append(mk_case("r3", [(C, "lead")], perfect_lead_events(C, f2f=True, urged=2)))
    cases.append(mk_case("r4", [(C, "lead")], perfect_lead_events(C, f2f=False, urged=3)))
    # X: one lead case worth 95.5:
    #   L1 5, L2 2.5 (letter; f2f only after the reply), L3 0,
    #   L4 18 (reply Thu 06-11, 1 working day after 06-10), L5 30, L6 30, L7 10
    cases.append(mk_case("r5", [(X, "lead")], [
        ev("assigned", "2020-03-10", X), ev("signed", "2020-03-11", X),
        ev("contact", "2020-04-01", X, mode="letter"),
        ev("reply", "2020-06-11", X, outcome="A"),
        ev("contact", "2020-06-15", X, mode="face_to_face"),
        ev("feedback", "2020-06-20", X, rating="satisfied"),
        ev("published", "2020-06-11", X)]))
    #   and co on seven of A's cases: 5 x 100, one 40 (6 late), one none -> 540/7
    co_replies = ["2020-04-10"] * 5 + ["2020-04-20", None]
    for i, co_reply in enumerate(co_replies):
        cases.append(mk_case(f"x{i}", [(A, "lead"), (X, "co")],
                             perfect_lead_events(A) + co_events(X, co_reply)))
    deps = score_departments(cases)

    # A: nine perfect lead cases -> 100.00
    assert deps[A]["total"] == Decimal("100.00")
    assert deps[B]["total"] == Decimal("90.00")
    assert deps[C]["D1"] == 5 and deps[C]["D2"] == 5
    assert deps[C]["total"] == Decimal("90.00")
    # X: 0.7 * 95.5 + 0.3 * 540/7 = 1337/20 + 162/7 = (9359 + 3240)/140
    #    = 12599/140 = 89.992857... -> 89.99
    assert deps[X]["cases"]["r5"]["total"] == Fraction(191, 2)
    assert deps[X]["base"] == Fraction(12599, 140)
    assert deps[X]["total"] == Decimal("89.99")

    assert {d: deps[d]["rank"] for d in deps} == {A: 1, B: 2, C: 2, X: 4}
    assert {d: deps[d]["grade"] for d in deps} == {A: "优秀", B: "优秀", C: "优秀", X: "良好"}
