"""Every scoring pattern of DESIGN.md section 1, written as rules and checked on the exact ledger.

Each test states a small rulebook, scores a few cases through the whole pipeline (files on
disk, department records where the pattern needs them) and compares the ledger lines in
the compact form `criterion rule-or-kind points evidence`.
"""
from __future__ import annotations

import json

import pytest
from casekit import CO, LEAD, case, ev

from scoring.app import Request, score
from scoring.base.errors import InputError

OTHER = "丙局"

HEAD = '''
[rulebook]
id = "pattern"
title = "pattern"
version = "1"
{rulebook_extra}

[[rubric]]
id = "lead"
title = "主办"
roles = ["lead", "split"]

[[rubric]]
id = "co"
title = "会办"
roles = ["co"]
'''


def book(body: str, department: str = '[department]\nmethod = "mean"', rulebook_extra: str = "", rubrics: bool = True) -> str:
    head = HEAD.format(rulebook_extra=rulebook_extra)
    if not rubrics:
        head = head[: head.index("[[rubric]]")]
    return head + body + "\n" + department + "\n"


def run(tmp_path, rules: str, cases: list[dict], records: list[dict] | None = None):
    (tmp_path / "r.toml").write_text(rules, encoding="utf-8")
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    departments = None
    if records is not None:
        departments = tmp_path / "d.jsonl"
        departments.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return score(Request(str(tmp_path / "r.toml"), str(tmp_path / "c.jsonl"), departments=departments, jobs=0)).ledger


def compact(line: dict) -> str:
    parts = [line["criterion"] or "-", line["rule"] or line["kind"], str(line["points"])]
    if line["evidence"]:
        parts.append(",".join(line["evidence"]))
    return " ".join(parts)


def department(ledger: dict, name: str = LEAD) -> dict:
    return next(d for d in ledger["departments"] if d["department"] == name)


def case_lines(ledger: dict, case_id: str, name: str = LEAD) -> list[str]:
    entry = next(c for c in department(ledger, name)["cases"] if c["case"] == case_id)
    return [compact(line) for line in entry["lines"]]


def department_lines(ledger: dict, name: str = LEAD) -> list[str]:
    return [compact(line) for line in department(ledger, name)["lines"]]


def texts(ledger: dict, name: str = LEAD) -> list[str]:
    return [line["text"] for line in department(ledger, name)["lines"]]


# 1. all-or-nothing ------------------------------------------------------------------
ON_TIME = '''
[[criterion]]
id = "A"
title = "按时答复"
rubric = "lead"
otherwise = "未按时答复"

[[criterion.rule]]
id = "A-on-time"
bind = { r = "first reply" }
when = "r.date <= add_months(first(assigned).date, 3)"
points = 20
text = "{r.date}答复"
'''


def test_all_or_nothing(tmp_path):
    ledger = run(tmp_path, book(ON_TIME), [
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-06-02", outcome="A")], case_id="C1"),
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-06-03", outcome="A")], case_id="C2")])
    assert case_lines(ledger, "C1") == ["A A-on-time 20 e2"]
    assert case_lines(ledger, "C2") == ["A otherwise 0"]


# 2. per occurrence with a cap, or at most once ------------------------------------
CONTACTS = '''
[[criterion]]
id = "B"
title = "沟通"
rubric = "lead"
max = 5

[[criterion.rule]]
id = "B-f2f"
bind = { c = "contact" }
when = "c.mode == 'face_to_face'"
once = true
points = 5
text = "面商"

[[criterion.rule]]
id = "B-other"
bind = { c = "contact" }
when = "c.mode != 'face_to_face'"
points = 2.5
text = "其他方式"
'''


def test_per_occurrence_with_a_cap_and_once(tmp_path):
    ledger = run(tmp_path, book(CONTACTS), [
        case([ev("assigned", "2020-03-02"), ev("contact", "2020-03-05", mode="phone"), ev("contact", "2020-03-06", mode="email"),
              ev("contact", "2020-03-07", mode="wechat")], case_id="C1"),
        case([ev("assigned", "2020-03-02"), ev("contact", "2020-03-05", mode="face_to_face"),
              ev("contact", "2020-03-09", mode="face_to_face")], case_id="C2")])
    assert case_lines(ledger, "C1") == ["B B-other 2.5 e2", "B B-other 2.5 e3", "B B-other 2.5 e4", "B cap -2.5"]
    assert case_lines(ledger, "C2") == ["B B-f2f 5 e2"]


# 3 and 4. checklist with a deduction per missing element, stopping at zero ----------
CHECKLIST = '''
[params]
elements = ["分管领导", "专人负责", "制度", "台账"]

[department_fields]
present = "texts"

[[criterion]]
id = "K"
title = "组织领导"
level = "department"
per = "department"
base = 1
min = 0
otherwise = "要素齐全"

[[criterion.rule]]
id = "K-missing"
each = "e in params.elements"
when = "e not in department.present"
points = -0.4
text = "缺少{e}"
'''


def test_checklist_deducts_per_missing_element_and_stops_at_zero(tmp_path):
    cases = [case([ev("assigned", "2020-03-02")], case_id="C1"),
             case([ev("assigned", "2020-03-02", dept=CO)], handlers=((CO, "lead"),), case_id="C2"),
             case([ev("assigned", "2020-03-02", dept=OTHER)], handlers=((OTHER, "lead"),), case_id="C3"),
             case([ev("assigned", "2020-03-02", dept="丁局")], handlers=(("丁局", "lead"),), case_id="C4")]
    records = [{"department": LEAD, "present": ["分管领导"]},
               {"department": CO, "present": ["分管领导", "专人负责", "制度", "台账"]},
               {"department": OTHER, "present": ["制度", "台账", "分管领导"]}]  # 丁局: no record
    ledger = run(tmp_path, book(CHECKLIST, '[department]\nmethod = "none"', rubrics=False), cases, records)
    assert department_lines(ledger) == ["K base 1", "K K-missing -0.4 department.present", "K K-missing -0.4 department.present",
                                        "K K-missing -0.4 department.present", "K floor 0.2"]
    assert texts(ledger)[1:4] == ["缺少专人负责", "缺少制度", "缺少台账"]
    assert department(ledger)["total"] == 0
    assert department_lines(ledger, CO) == ["K base 1", "K otherwise 0"]
    assert department(ledger, OTHER)["total"] == 0.6
    # a department without a record showed nothing: a list left out is empty, every element is missing
    assert department_lines(ledger, "丁局").count("K K-missing -0.4 department.present") == 4
    assert department(ledger, "丁局")["total"] == 0


def test_total_deductions_stop_at_zero(tmp_path):
    rules = book('''
[[criterion]]
id = "U"
title = "督办"
level = "department"

[[criterion.rule]]
id = "U"
bind = { u = "urged" }
points = -0.5
text = "被督办"
''', '[department]\nmethod = "none"\nbase = 1\nmin = 0', rubrics=False)
    urges = [ev("urged", f"2020-04-0{day}") for day in (1, 2, 3)]
    ledger = run(tmp_path, rules, [case([ev("assigned", "2020-03-02")] + urges)])
    assert department_lines(ledger) == ["- base 1", "U U -0.5 C1/e2", "U U -0.5 C1/e3", "U U -0.5 C1/e4", "- clamp 0.5"]


# 5. base of 100, bonuses and deductions -------------------------------------------
BASE_100 = '''
[[criterion]]
id = "T"
title = "办理时限"
level = "department"
max = 3

[[criterion.rule]]
id = "T-early"
bind = { r = "first reply" }
when = "days_between(r.date, add_months(first(assigned).date, 3)) >= 10"
points = 1
text = "提前10天以上办结"

[[criterion.rule]]
id = "T-late"
bind = { r = "first reply" }
when = "r.date > add_months(first(assigned).date, 3)"
points = -1
text = "逾期办结"
'''


def test_base_score_with_bonuses_and_deductions(tmp_path):
    ledger = run(tmp_path, book(BASE_100, '[department]\nmethod = "none"\nbase = 100', rubrics=False), [
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-05-20", outcome="A")], case_id="C1"),
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-05-24", outcome="A")], case_id="C2"),  # 9 days early: no bonus
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-06-05", outcome="A")], case_id="C3")])
    assert department_lines(ledger) == ["- base 100", "T T-early 1 C1/e2", "T T-late -1 C3/e2"]
    assert department(ledger)["total"] == 100


# 6. deadlines in calendar days, months and working days from different anchors ------
DEADLINES = '''
[[criterion]]
id = "S"
title = "签收"
rubric = "lead"

[[criterion.rule]]
id = "S"
bind = { s = "first signed" }
when = "s.date <= add_workdays(first(assigned).date, 3)"
points = 5
text = "{s.date}签收，期限{add_workdays(first(assigned).date, 3)}"

[[criterion]]
id = "R"
title = "退办"
rubric = "lead"

[[criterion.rule]]
id = "R-late"
bind = { x = "first returned" }
when = "x.date > add_days(first(assigned).date, 7)"
points = -5
text = "超过7天退办"

[[criterion]]
id = "M"
title = "月限"
rubric = "lead"

[[criterion.rule]]
id = "M"
bind = { r = "first reply" }
when = "r.date <= add_months(first(signed).date, 1)"
points = 1
text = "签收后一个月内答复（{add_months(first(signed).date, 1)}）"
'''


def test_deadlines_in_working_days_calendar_days_and_months(tmp_path):
    # 2020-09-30: National Day and Mid-Autumn run 10-01..10-08; Saturday 10-10 is a working day
    ledger = run(tmp_path, book(DEADLINES), [
        case([ev("assigned", "2020-09-30"), ev("signed", "2020-10-12")], case_id="C1"),
        case([ev("assigned", "2020-09-30"), ev("signed", "2020-10-13")], case_id="C2"),
        case([ev("assigned", "2020-01-02"), ev("signed", "2020-01-31"), ev("returned", "2020-01-10"),
              ev("reply", "2020-02-29", outcome="A")], case_id="C3")])
    assert case_lines(ledger, "C1") == ["S S 5 e2", "R otherwise 0", "M otherwise 0"]
    assert texts_of_case(ledger, "C1")[0] == "2020-10-12签收，期限2020-10-12"
    assert case_lines(ledger, "C2") == ["S otherwise 0", "R otherwise 0", "M otherwise 0"]
    # 01-10 is 8 days after 01-02; 01-31 + 1 month is 02-29 (leap year, clamped)
    assert case_lines(ledger, "C3") == ["S otherwise 0", "R R-late -5 e3", "M M 1 e4"]


def texts_of_case(ledger: dict, case_id: str, name: str = LEAD) -> list[str]:
    entry = next(c for c in department(ledger, name)["cases"] if c["case"] == case_id)
    return [line["text"] for line in entry["lines"]]


# 7 and 8. a co-handler's deadline relative to the lead's; extensions, workload tiers, urgent cases
RELATIVE = '''
[params]
reply_months = 3
workload = [ { below = 3, days = 0 }, { from = 3, below = 5, days = 10 }, { from = 5, days = 15 } ]

[let]
lead_assigned = "first(e for e in case_events if e.type == 'assigned' and e.role == 'lead').date"
extension_days = "0 if extra(case, 'urgent') else sum(e.days for e in case_events if e.type == 'extension' and e.role == 'lead')"
lead_due = "add_months(lead_assigned, params.reply_months) + extension_days + (0 if extra(case, 'urgent') else tier(department.cases, params.workload).days)"
co_due = "add_days(lead_due, -20)"

[[criterion]]
id = "L"
title = "主办按时答复"
rubric = "lead"
otherwise = "逾期（期限{lead_due}）"

[[criterion.rule]]
id = "L"
bind = { r = "first reply" }
when = "r.date <= lead_due"
points = 10
text = "{r.date}答复，期限{lead_due}"

[[criterion]]
id = "H"
title = "会办意见"
rubric = "co"
otherwise = "未在主办期限前20天（{co_due}）提交"

[[criterion.rule]]
id = "H"
bind = { x = "first co_reply" }
when = "x.date <= co_due"
points = 10
text = "{x.date}提交，期限{co_due}"
'''  # noqa: E501 - rulebook text, fed to the engine as written (a let's expression is one TOML string)


def test_co_handler_deadline_is_twenty_days_before_the_leads_with_extensions_tiers_and_urgent_cases(tmp_path):
    two = ((LEAD, "lead"), (CO, "co"))
    ledger = run(tmp_path, book(RELATIVE), [
        # lead due 2020-06-02 + 30 days extension = 2020-07-02; the co-handler's 2020-06-12
        case([ev("assigned", "2020-03-02"), ev("assigned", "2020-03-02", dept=CO), ev("extension", "2020-05-20", days=30),
              ev("co_reply", "2020-06-12", dept=CO), ev("reply", "2020-07-02", outcome="A")], handlers=two, case_id="C1"),
        # urgent: no extension counts; lead due 2020-06-02, co due 2020-05-13
        case([ev("assigned", "2020-03-02"), ev("assigned", "2020-03-02", dept=CO), ev("extension", "2020-05-20", days=30),
              ev("co_reply", "2020-05-14", dept=CO), ev("reply", "2020-06-03", outcome="A")], handlers=two, case_id="C2",
             urgent=True),
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-06-12", outcome="A")], case_id="C3")])
    # 甲局 handles 3 cases: the 3-4 tier adds 10 days (not to the urgent case)
    assert texts_of_case(ledger, "C1")[0] == "2020-07-02答复，期限2020-07-12"
    assert case_lines(ledger, "C1", CO) == ["H H 10 e4"]
    assert texts_of_case(ledger, "C1", CO) == ["2020-06-12提交，期限2020-06-12"]
    assert case_lines(ledger, "C2") == ["L otherwise 0"]
    assert case_lines(ledger, "C2", CO) == ["H otherwise 0"]
    assert texts_of_case(ledger, "C2", CO) == ["未在主办期限前20天（2020-05-13）提交"]
    assert case_lines(ledger, "C3") == ["L L 10 e2"]


# 9 and 10. lateness scored linearly, earliness bonus; categorical values to points ----
LATENESS = '''
[params]
outcome_points = { A = 30, B = 24, C = 15, D = 9 }

[let]
due = "add_months(first(assigned).date, 3)"

[[criterion]]
id = "L"
title = "时限"
rubric = "lead"

[[criterion.rule]]
id = "L-late"
bind = { r = "first reply" }
when = "r.date > due"
points = "max(0, 20 - 2 * workdays_between(due, r.date))"
text = "逾期{workdays_between(due, r.date)}个工作日"

[[criterion.rule]]
id = "L-early"
bind = { r = "first reply" }
when = "days_between(r.date, due) >= 10"
points = 22
text = "提前{days_between(r.date, due)}天"

[[criterion]]
id = "O"
title = "办理结果"
rubric = "lead"

[[criterion.rule]]
id = "O"
bind = { r = "last reply" }
points = "params.outcome_points[r.outcome]"
text = "{r.outcome}类"
'''


def test_linear_lateness_earliness_bonus_and_categorical_points(tmp_path):
    ledger = run(tmp_path, book(LATENESS), [
        # due 2020-06-02 (Tuesday); 06-05 is 3 working days late: 20 - 6
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-06-05", outcome="B")], case_id="C1"),
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-07-31", outcome="C")], case_id="C2"),
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-05-20", outcome="A"), ev("reply", "2020-06-20", outcome="D")],
             case_id="C3")])
    assert case_lines(ledger, "C1") == ["L L-late 14 e2", "O O 24 e2"]
    assert case_lines(ledger, "C2") == ["L L-late 0 e2", "O O 15 e2"]
    assert case_lines(ledger, "C3") == ["L L-early 22 e2", "O O 9 e3"]


# 11. ordering between events; 19. re-handling after dissatisfaction ----------------
ORDER = '''
[params]
rating_points = { satisfied = 10, basically_satisfied = 6, dissatisfied = 0 }

[[criterion]]
id = "P"
title = "先沟通后答复"
rubric = "lead"

[[criterion.rule]]
id = "P"
bind = { r = "first reply" }
when = "not exists(c for c in contact if c.date <= r.date)"
points = -5
text = "答复前未沟通"

[[criterion]]
id = "Q"
title = "满意度（以最后一次征询为准）"
rubric = "lead"

[[criterion.rule]]
id = "Q"
bind = { f = "last feedback" }
points = "params.rating_points[f.rating]"
text = "{f.rating}"

[[criterion]]
id = "Z"
title = "不满意件重新办理"
rubric = "lead"

[[criterion.rule]]
id = "Z-missing"
bind = { f = "feedback" }
when = "f.rating == 'dissatisfied' and not exists(r for r in reply if r.date > f.date and r.date <= add_months(f.date, 3))"
points = -5
text = "{f.date}不满意后三个月内未再次答复"
'''


def test_ordering_and_which_reply_and_feedback_count_after_re_handling(tmp_path):
    ledger = run(tmp_path, book(ORDER), [
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-04-01", outcome="B"), ev("contact", "2020-04-02", mode="phone"),
              ev("feedback", "2020-04-10", rating="dissatisfied"), ev("reply", "2020-07-01", outcome="A"),
              ev("feedback", "2020-07-05", rating="satisfied")], case_id="C1"),
        case([ev("assigned", "2020-03-02"), ev("contact", "2020-03-20", mode="phone"), ev("reply", "2020-04-01", outcome="B"),
              ev("feedback", "2020-04-10", rating="dissatisfied"), ev("reply", "2020-07-11", outcome="A")], case_id="C2")])
    assert case_lines(ledger, "C1") == ["P P -5 e2", "Q Q 10 e6", "Z otherwise 0"]
    assert case_lines(ledger, "C2") == ["P otherwise 0", "Q Q 0 e4", "Z Z-missing -5 e4"]


# 12 and 13. rates over an eligible set (conjunctive eligibility), thresholds or per-point deductions
RATES = '''
[[criterion]]
id = "F"
title = "面商率"
level = "department"
min = -5

[criterion.rate]
of = "rubric == 'lead' and case.key and not case.waived_f2f"
hit = "exists(c for c in contact if c.mode == 'face_to_face')"
points = "0 if rate == 1 else -(100 * (1 - rate))"
text = "重点件面商率{percent(rate)}（{hits}/{cases}）"
empty = "无重点件"

[[criterion]]
id = "G"
title = "满意率"
level = "department"

[criterion.rate]
of = "rubric == 'lead' and exists(feedback)"
hit = "exists(f for f in feedback if f.rating != 'dissatisfied')"
points = "2 if rate >= 0.98 else 0"
text = "满意率{percent(rate)}"
'''


def test_rates_with_conjunctive_eligibility_per_point_deductions_floors_and_thresholds(tmp_path):
    f2f = ev("contact", "2020-03-05", mode="face_to_face")
    cases = [case([ev("assigned", "2020-03-02"), f2f, ev("feedback", "2020-05-01", rating="satisfied")], case_id="C1", key=True),
             case([ev("assigned", "2020-03-02")], case_id="C2", key=True),
             case([ev("assigned", "2020-03-02")], case_id="C3", key=True, waived_f2f=True),  # not eligible: waived
             case([ev("assigned", "2020-03-02")], case_id="C4"),  # not eligible: not a key case
             case([ev("assigned", "2020-03-02", dept=CO), ev("contact", "2020-03-05", dept=CO, mode="phone")],
                  handlers=((CO, "lead"),), case_id="C5", key=True),
             case([ev("assigned", "2020-03-02", dept=CO), ev("feedback", "2020-05-01", dept=CO, rating="dissatisfied")],
                  handlers=((CO, "lead"),), case_id="C6")]
    ledger = run(tmp_path, book(RATES, '[department]\nmethod = "none"'), cases)
    # 1 of 2 eligible cases: 50 points below 100%, floored at -5; satisfaction 1/1
    assert department_lines(ledger) == ["F rate -50 C1/e2", "F floor 45", "G rate 2 C1/e3"]
    assert texts(ledger)[0] == "重点件面商率50%（1/2）"
    assert department_lines(ledger, CO) == ["F rate -100", "F floor 95", "G rate 0"]


# 14. role rubrics, a weighted roll-up and department items ---------------------------
def test_role_rubrics_roll_up_weighted_with_department_items(tmp_path):
    rules = book(ON_TIME + '''
[[criterion]]
id = "H"
title = "会办"
rubric = "co"

[[criterion.rule]]
id = "H"
bind = { x = "first co_reply" }
points = 10
text = "会办意见"
''', '[department]\nweights = { lead = 0.8, co = 0.2 }')
    two = ((OTHER, "lead"), (LEAD, "co"))
    ledger = run(tmp_path, rules, [
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-05-02", outcome="A")], case_id="C1"),
        case([ev("assigned", "2020-03-02"), ev("reply", "2020-07-02", outcome="A")], case_id="C2"),
        case([ev("assigned", "2020-03-02", dept=OTHER), ev("assigned", "2020-03-02"), ev("co_reply", "2020-03-20")],
             handlers=two, case_id="C3")])
    # lead mean 10 x 0.8 + co mean 10 x 0.2
    assert department_lines(ledger) == ["- base 10"]
    assert department(ledger)["rubrics"][0]["mean"] == 10 and department(ledger)["rubrics"][1]["mean"] == 10


# 15. categories scored apart and weighted -------------------------------------------
CATEGORIES = '''
[[category]]
id = "suggestion"
title = "建议"
of = "case.kind == 'suggestion'"
weight = 0.6

[[category]]
id = "proposal"
title = "提案"
of = "case.kind == 'proposal'"
weight = 0.4
''' + ON_TIME


def test_categories_are_scored_apart_and_weighted(tmp_path):
    on_time = [ev("assigned", "2020-03-02"), ev("reply", "2020-05-02", outcome="A")]
    late = [ev("assigned", "2020-03-02"), ev("reply", "2020-07-02", outcome="A")]
    ledger = run(tmp_path, book(CATEGORIES), [
        case(on_time, case_id="S1", kind="suggestion"), case(late, case_id="S2", kind="suggestion"),
        case(on_time, case_id="P1", kind="proposal"),
        case(on_time, case_id="P2", kind="proposal", handlers=((CO, "lead"),)) | {"events": [
            ev("assigned", "2020-03-02", dept=CO) | {"id": "e1"},
            ev("reply", "2020-05-02", dept=CO, outcome="A") | {"id": "e2"}]}])
    # suggestions: mean 10 x 0.6 = 6; proposals: 20 x 0.4 = 8
    entry = department(ledger)
    assert [(line.get("category"), compact(line)) for line in entry["lines"]] == [
        ("suggestion", "- base 10"), ("suggestion", "- weight -4"), ("proposal", "- base 20"), ("proposal", "- weight -12")]
    assert entry["total"] == 14
    assert [line["text"] for line in entry["lines"]][1] == "建议2件，小计10分×权重0.6"
    # a department with proposals only: the proposals weigh all
    other = department(ledger, CO)
    assert [compact(line) for line in other["lines"]] == ["- weight 0", "- base 20", "- weight 0"]
    assert other["lines"][0]["text"] == "无建议，不计该类得分（权重按其他类别重新分配）" and other["total"] == 20
    assert {c["case"]: c["category"] for c in entry["cases"]} == {"S1": "suggestion", "S2": "suggestion", "P1": "proposal"}


# 16. multipliers, vetoes and gates ---------------------------------------------------
GATES = '''
[department_fields]
incident = "bool"

[[criterion]]
id = "W"
title = "表扬"
level = "department"
multiply = { by = "3 if extra(case, 'endorsed') == 'state' else (2 if extra(case, 'endorsed') == 'city' else 1)", text = "领导批示，该项得分×{factor}" }

[[criterion.rule]]
id = "W"
bind = { r = "first reply" }
when = "r.outcome == 'A'"
points = 5
text = "解决采纳"

[[criterion]]
id = "X"
title = "逾期未答复"
level = "department"

[[criterion.rule]]
id = "X"
bind = { a = "first assigned" }
when = "not exists(reply)"
points = 0
text = "未答复"

[[gate]]
id = "gate-late"
title = "有未答复件"
criterion = "X"
grade = "良好"
text = "有未答复的件，等次不高于良好"

[[gate]]
id = "veto"
title = "一票否决"
when = "department.incident"
total = 0
grade = "不合格"
text = "发生重大失误，一票否决"

[[grade]]
name = "优秀"
min = 10

[[grade]]
name = "良好"
min = 5
max = 9.99

[[grade]]
name = "不合格"
min = 0
max = 4.99
'''  # noqa: E501 - rulebook text, fed to the engine as written (a TOML inline table is one line)


def test_multipliers_vetoes_and_gates(tmp_path):
    replied = [ev("assigned", "2020-03-02"), ev("reply", "2020-05-02", outcome="A")]
    cases = [case(replied, case_id="C1", endorsed="city"), case(replied, case_id="C2", endorsed="state"),
             case([ev("assigned", "2020-03-02")], case_id="C3"),
             case([ev("assigned", "2020-03-02", dept=CO), ev("reply", "2020-05-02", dept=CO, outcome="A")],
                  handlers=((CO, "lead"),), case_id="C4"),
             case([ev("assigned", "2020-03-02", dept=OTHER), ev("reply", "2020-05-02", dept=OTHER, outcome="A")],
                  handlers=((OTHER, "lead"),), case_id="C5", endorsed="city")]
    records = [{"department": OTHER, "incident": True}]
    ledger = run(tmp_path, book(GATES, '[department]\nmethod = "none"'), cases, records)
    assert department_lines(ledger) == ["W W 5 C1/e2", "W multiplier 5", "W W 5 C2/e2", "W multiplier 10", "X X 0 C3/e1",
                                        "- gate-late 0 C3/e1"]
    assert department(ledger)["total"] == 25 and department(ledger)["grade"] == "良好"
    assert department_lines(ledger, CO) == ["W W 5 C4/e2", "X otherwise 0"]
    assert department(ledger, CO)["grade"] == "良好"
    assert department_lines(ledger, OTHER) == ["W W 5 C5/e2", "W multiplier 5", "X otherwise 0", "- veto -10"]
    assert department(ledger, OTHER)["total"] == 0 and department(ledger, OTHER)["grade"] == "不合格"


# 17. grade bands, ranking within peer groups with a minimum case count --------------
def test_grade_bands_and_ranking_within_peer_groups_with_a_minimum_case_count(tmp_path):
    rules = book(ON_TIME + '''
[department_fields]
group = "text"

[[grade]]
name = "优秀"
min = 15

[[grade]]
name = "合格"
min = 0
max = 14

[ranking]
min_cases = 2
group = "department.group"
''', '[department]\nmethod = "mean"\ndecimals = 1')
    on_time = [ev("assigned", "2020-03-02"), ev("reply", "2020-05-02", outcome="A")]
    late = [ev("assigned", "2020-03-02"), ev("reply", "2020-07-02", outcome="A")]

    def handled(dept, events, case_id):
        return case([e | {"department": dept} for e in events], handlers=((dept, "lead"),), case_id=case_id)
    cases = [handled("甲局", on_time, "A1"), handled("甲局", on_time, "A2"),
             handled("乙局", on_time, "B1"), handled("乙局", late, "B2"), handled("乙局", late, "B3"),
             handled("丙局", late, "C1"), handled("丙局", on_time, "C2"),
             handled("丁局", on_time, "D1")]
    records = [{"department": d, "group": g} for d, g in (("甲局", "经济"), ("乙局", "经济"), ("丙局", "社会"), ("丁局", "社会"))]
    ledger = run(tmp_path, rules, cases, records)
    got = [(d["department"], d["group"], d["rank"], d["total"], d["grade"]) for d in ledger["departments"]]
    # 乙局 6.67 rounds to 6.7 (one decimal); 丁局 has one case: listed, not ranked
    assert got == [("丙局", "社会", 1, 10, "合格"), ("丁局", "社会", None, 20, "优秀"),
                   ("甲局", "经济", 1, 20, "优秀"), ("乙局", "经济", 2, 6.7, "合格")]


def test_a_total_in_a_gap_between_bands_gets_no_grade(tmp_path):
    rules = book(ON_TIME + '''
[[grade]]
name = "优秀"
min = 15

[[grade]]
name = "合格"
min = 0
max = 9
''', '[department]\nmethod = "mean"')
    ledger = run(tmp_path, rules, [case([ev("assigned", "2020-03-02"), ev("reply", "2020-05-02", outcome="A")], case_id="C1"),
                                   case([ev("assigned", "2020-03-02"), ev("reply", "2020-07-02", outcome="A")], case_id="C2")])
    assert department(ledger)["total"] == 10 and department(ledger)["grade"] is None


# 18. several scorers combined with weights -------------------------------------------
SCORERS = ON_TIME + '''
[department_fields]
self_score = { kind = "number", min = 0, max = 20 }
peer_scores = { kind = "numbers", min = 0, max = 20 }

[[scorer]]
id = "assessor"
title = "考评"
weight = 0.5
score = "computed"

[[scorer]]
id = "self"
title = "自评"
weight = 0.2
score = "department.self_score"

[[scorer]]
id = "peer"
title = "互评"
weight = 0.3
score = "mean(department.peer_scores)"
'''


def test_several_scorers_combined_with_weights(tmp_path):
    cases = [case([ev("assigned", "2020-03-02"), ev("reply", "2020-05-02", outcome="A")], case_id="C1")]
    ledger = run(tmp_path, book(SCORERS), cases, [{"department": LEAD, "self_score": 18, "peer_scores": [15, 16.5, 17]}])
    # 20 x 0.5 + 18 x 0.2 + 16.1667 x 0.3 = 18.45
    assert department_lines(ledger) == ["- base 20", "- scorer -20", "- assessor 10", "- self 3.6", "- peer 4.85"]
    assert department(ledger)["total"] == 18.45
    with pytest.raises(Exception, match=r"department 甲局: scorer self: the score must be a number, got null"):
        run(tmp_path, book(SCORERS), cases, [{"department": LEAD, "peer_scores": [15]}])


# department records, periods and versions --------------------------------------------
def test_department_records_are_checked_like_case_files(tmp_path):
    rules = book(SCORERS)
    cases = [case([ev("assigned", "2020-03-02")], case_id="C1")]
    with pytest.raises(InputError) as caught:
        run(tmp_path, rules, cases, [{"department": LEAD, "self_scor": 1, "peer_scores": "high"},
                                     {"department": "甲 局", "self_score": True}, {"department": LEAD},
                                     {"department": "丁局", "self_score": 20.5, "peer_scores": [3, -1]}])
    rendered = [str(p) for p in caught.value.problems]
    assert rendered == [
        f'{tmp_path / "d.jsonl"}:1: department 甲局, self_scor: not a field the rulebook declares (did you mean "self_score"?); '
        "declared: peer_scores, self_score",
        f'{tmp_path / "d.jsonl"}:1: department 甲局, peer_scores: must be a list (numbers), not "high"',
        f'{tmp_path / "d.jsonl"}:2: department 甲 局, self_score: must be a number, not true',
        f"{tmp_path / 'd.jsonl'}:3: department 甲局: listed twice (also on line 1)",
        f'{tmp_path / "d.jsonl"}:4: department 丁局, self_score: 20.5 is above the declared maximum 20',
        f'{tmp_path / "d.jsonl"}:4: department 丁局, peer_scores: -1 is below the declared minimum 0']
    with pytest.raises(InputError, match=r"d.jsonl:1: department 乙局: no case of this department in the case file"):
        run(tmp_path, rules, cases, [{"department": CO, "self_score": 1}])
    with pytest.raises(InputError, match=r"the rulebook reads department records \(self_score, peer_scores\); "
                                         r"give them with --departments"):
        run(tmp_path, rules, cases)


def test_a_rulebook_refuses_cases_outside_its_period(tmp_path):
    rules = book(ON_TIME, rulebook_extra="valid_from = 2020-01-01\nvalid_until = 2020-12-31")
    with pytest.raises(InputError) as caught:
        run(tmp_path, rules, [case([ev("assigned", "2019-12-31")], case_id="C1"),
                              case([ev("assigned", "2020-12-31")], case_id="C2")])
    assert "1 case(s) fall outside the period of rulebook pattern 1 (2020-01-01 to 2020-12-31)" in str(caught.value)
    assert [p.where for p in caught.value.problems] == ["case C1"]
