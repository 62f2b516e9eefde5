"""`scoring self-check`: floor, ceiling, items at risk, deadlines missed, missing records.

The due dates and working days below are worked out by hand from the State Council's 2020
holiday notice (国办发明电〔2019〕16号, and the Spring Festival extension of January 2020),
not from the calendar library the program uses.
"""
from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from casekit import CO, LEAD, REFERENCE, SAMPLE, case, ev, reference_text

from scoring.base.errors import InputError
from scoring.checks.selfcheck import SelfCheck
from scoring.engine.compiler import compile_rulebook, load_compiled
from scoring.engine.session import Session
from scoring.inputs.case_file import load_cases
from scoring.rulebook.load import parse_rulebook

COMPILED = load_compiled(REFERENCE)
SESSION = Session(COMPILED, jobs=0)  # in this process, its engine rules registered once for the module


def write(tmp_path, cases: list[dict], name: str = "cases.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    return path


def check(tmp_path, cases: list[dict], as_of: str, department: str = LEAD, compiled=COMPILED, skip_invalid=False) -> dict:
    session = SESSION if compiled is COMPILED else Session(compiled, jobs=0)
    return SelfCheck(session, load_cases(write(tmp_path, cases), skip_invalid=skip_invalid), department,
                     dt.date.fromisoformat(as_of), skip_invalid=skip_invalid).document()


def compiled_with(*changes: tuple[str, str], appended: str = ""):
    text = reference_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return compile_rulebook(parse_rulebook((text + appended).encode("utf-8"), "changed.toml"))


def item(document: dict, section: str, criterion: str, case_id: str = "C1") -> dict | None:
    found = [i for i in document[section] if i["criterion"] == criterion and i["case"] == case_id]
    assert len(found) <= 1
    return found[0] if found else None


def assigned(day: str, dept: str = LEAD) -> dict:
    return ev("assigned", day, dept)


# ---------------------------------------------------------------- the official calendar

def test_signing_deadline_across_the_national_day_holiday_week(tmp_path):
    # assigned Tue 29 Sep; Oct 1-8 are holidays, Sat 10 Oct is a working day: the 3rd
    # working day after the 29th is 30 Sep, 9 Oct, 10 Oct -> 10 Oct
    doc = check(tmp_path, [case([assigned("2020-09-29")])], "2020-09-30")
    sign = item(doc, "at_risk", "L1")
    assert (sign["due"], sign["workdays_left"], sign["days_left"], sign["points"]) == ("2020-10-10", 2, 10, 5)
    # on 9 Oct one working day (the adjusted Saturday) is left
    assert item(check(tmp_path, [case([assigned("2020-09-29")])], "2020-10-09"), "at_risk", "L1")["workdays_left"] == 1
    # after it, the item is missed and signing no longer earns anything
    late = check(tmp_path, [case([assigned("2020-09-29")])], "2020-10-11")
    assert item(late, "at_risk", "L1") is None
    missed = item(late, "missed", "L1")
    assert (missed["due"], missed["cost"], missed["recoverable"]) == ("2020-10-10", 5, 0)


def test_signing_deadline_on_an_adjusted_working_sunday(tmp_path):
    # assigned Fri 24 Apr; Sun 26 Apr is a working day (Labour Day swap): due Tue 28 Apr
    doc = check(tmp_path, [case([assigned("2020-04-24")])], "2020-04-25")
    sign = item(doc, "at_risk", "L1")
    assert (sign["due"], sign["workdays_left"]) == ("2020-04-28", 3)


def test_co_handler_one_month_window(tmp_path):
    # co-handler assigned 30 Apr: its opinion is due 30 May (a Saturday). Working days after
    # 6 May: 7, 8, Sat 9 (swap), 11-15, 18-22, 25-29 -> 18
    cases = [case([assigned("2020-04-30", CO), assigned("2020-04-30", LEAD)],
                  handlers=((CO, "lead"), (LEAD, "co")))]
    doc = check(tmp_path, cases, "2020-05-06")
    opinion = item(doc, "at_risk", "H1")
    assert (opinion["due"], opinion["workdays_left"], opinion["points"]) == ("2020-05-30", 18, 100)
    assert doc["floor"] == 0 and doc["ceiling"] == 100
    assert [e["event"] for e in doc["missing_evidence"]] == [{"type": "co_reply"}]
    # two working days late (1 and 2 Jun): 100 - 2 x 10 still reachable; 20 lost already
    late = check(tmp_path, cases, "2020-06-02")
    missed = item(late, "missed", "H1")
    assert (missed["due"], missed["cost"], missed["recoverable"], missed["workdays_overdue"]) == ("2020-05-30", 30, 70, 2)
    assert late["ceiling"] == 70


def test_a_co_handlers_deadline_set_by_the_lead_units_events_as_known_on_the_check_date(tmp_path):
    # co-handler's opinion due 20 days before the lead unit's deadline: assigned 10 Mar + 3 months
    # = 10 Jun, + the lead's 30-day extension = 10 Jul; - 20 days = 20 Jun
    compiled = compiled_with(('co_due = "add_months(assigned_on, params.co_months)"',
                              "co_due = \"add_days(add_months(first(e for e in case_events "
                              "if e.type == 'assigned' and e.role == 'lead').date, 3) "
                              "+ sum(e.days for e in case_events if e.type == 'extension' and e.role == 'lead'), -20)\""),
                             ("co_months = 1 ", "# co_months = 1 "))
    cases = [case([assigned("2020-03-10"), assigned("2020-03-10", CO), ev("extension", "2020-05-20", days=30)],
                  handlers=((LEAD, "lead"), (CO, "co")))]
    opinion = item(check(tmp_path, cases, "2020-06-01", department=CO, compiled=compiled), "at_risk", "H1")
    assert (opinion["due"], opinion["points"]) == ("2020-06-20", 100)
    # before the extension is granted (20 May) the deadline is 10 Jun - 20 days = 21 May
    before = check(tmp_path, cases, "2020-05-19", department=CO, compiled=compiled)
    assert item(before, "at_risk", "H1")["due"] == "2020-05-21"
    # the lead's own score is not the co-handler's business: the CO check lists only its own case
    assert [c["case"] for c in before["cases"]] == ["C1"] and before["department"] == CO


def test_an_extension_moves_the_reply_deadline(tmp_path):
    events = [assigned("2020-03-10"), ev("signed", "2020-03-11"), ev("extension", "2020-05-20", days=30)]
    # due 10 Jun + 30 days = 10 Jul. Working days after 15 Jun: 16-19, 22-24 (25-27 Dragon
    # Boat holidays), Sun 28 (swap), 29-30, 1-3 Jul, 6-10 Jul -> 4+3+1+2+3+5 = 18
    doc = check(tmp_path, [case(events)], "2020-06-15")
    reply = item(doc, "at_risk", "L4")
    assert (reply["due"], reply["workdays_left"], reply["points"]) == ("2020-07-10", 18, 20)
    assert item(doc, "missed", "L4") is None
    # without the extension the deadline (10 Jun) has passed: a reply on 16 Jun is 4
    # working days late (11, 12, 15, 16) -> 20 - 2 x 4 = 12 reachable, 8 lost
    doc = check(tmp_path, [case(events[:2])], "2020-06-15")
    assert item(doc, "at_risk", "L4") is None
    missed = item(doc, "missed", "L4")
    assert (missed["due"], missed["cost"], missed["recoverable"], missed["workdays_overdue"]) == ("2020-06-10", 8, 12, 3)


# ---------------------------------------------------------------- what is still open

def test_re_handling_after_dissatisfaction_reopens_outcome_and_rating(tmp_path):
    events = [assigned("2020-03-10"), ev("signed", "2020-03-11"), ev("contact", "2020-04-01", mode="face_to_face"),
              ev("reply", "2020-05-06", outcome="B"), ev("published", "2020-05-08"),
              ev("feedback", "2020-05-12", rating="dissatisfied")]
    doc = check(tmp_path, [case(events)], "2020-05-15")
    assert item(doc, "undated", "L5")["points"] == 6  # a second reply with A: 30 instead of 24
    assert item(doc, "decided_by_others", "L6")["points"] == 30
    assert (doc["floor"], doc["ceiling_own_steps"], doc["ceiling"]) == (64, 70, 100)
    # after the second reply the outcome is settled, the member's new rating is awaited
    doc = check(tmp_path, [case(events + [ev("reply", "2020-06-01", outcome="A")])], "2020-06-02")
    assert item(doc, "undated", "L5") is None
    assert item(doc, "decided_by_others", "L6")["points"] == 30
    # a satisfied member after an A reply: nothing is open any more
    settled = events[:4] + [ev("published", "2020-05-08"), ev("feedback", "2020-05-12", rating="satisfied")]
    settled[3] = ev("reply", "2020-05-06", outcome="A")
    doc = check(tmp_path, [case(settled)], "2020-05-15")
    assert doc["floor"] == doc["ceiling"] == 100
    assert doc["at_risk"] == doc["undated"] == doc["decided_by_others"] == doc["missing_evidence"] == []


def test_an_outcome_or_rating_short_of_the_best_stays_open(tmp_path):
    # B reply, "basically satisfied"; months later the problem is solved (A) and the member
    # satisfied: the ceiling must have foreseen it on every day in between
    events = [assigned("2020-03-10"), ev("signed", "2020-03-11"), ev("contact", "2020-04-01", mode="face_to_face"),
              ev("reply", "2020-05-06", outcome="B"), ev("published", "2020-05-08"),
              ev("feedback", "2020-05-20", rating="basically_satisfied"), ev("reply", "2020-09-01", outcome="A"),
              ev("feedback", "2020-09-15", rating="satisfied")]
    final = SESSION.run(load_cases(write(tmp_path, [case(events)], "final.jsonl"))).departments[0].total
    assert final == 100
    for day in ("2020-05-20", "2020-06-01", "2020-08-31", "2020-09-02"):
        doc = check(tmp_path, [case(events)], day)
        assert doc["ceiling"] >= final, day
    doc = check(tmp_path, [case(events)], "2020-06-01")
    assert item(doc, "undated", "L5")["missing"] == "最后一次答复为B类，继续办理后再次答复可提高"
    assert item(doc, "decided_by_others", "L6")["points"] == 10
    # the missing records agree with the items: the reply and the rating that would raise them
    assert [(e["event"]["type"], e["criteria"]) for e in doc["missing_evidence"]] == [("reply", ["L5"]), ("feedback", ["L6"])]


def test_a_step_declared_possible_only_sometimes(tmp_path):
    # a rulebook where only key proposals still get a publication step
    compiled = compiled_with(('step = { event = { type = "published" }, missing',
                              'step = { event = { type = "published" }, when = "case.key", missing'))
    events = [assigned("2020-03-10"), ev("signed", "2020-03-11"), ev("reply", "2020-05-06", outcome="A")]
    assert item(check(tmp_path, [case(events)], "2020-05-15", compiled=compiled), "at_risk", "L7") is None
    assert item(check(tmp_path, [case(events, key=True)], "2020-05-15", compiled=compiled), "at_risk", "L7")["points"] == 10


def test_missing_records_name_the_event_and_the_items(tmp_path):
    events = [assigned("2020-03-10"), ev("signed", "2020-03-11"), ev("contact", "2020-04-01", mode="phone"),
              ev("reply", "2020-05-06", outcome="A")]
    doc = check(tmp_path, [case(events)], "2020-05-15")
    evidence = {e["event"]["type"]: e for e in doc["missing_evidence"]}
    assert set(evidence) == {"published", "feedback", "contact"}
    assert evidence["published"]["criteria"] == ["L7"]
    # 20 working days after 6 May: 7, 8, Sat 9 (swap), 11-15, 18-22, 25-29, 1 and 2 Jun
    assert "2020-06-02" in evidence["published"]["missing"][0]
    # a face-to-face contact after the reply no longer counts for L2, only for the rate D2
    assert evidence["contact"]["criteria"] == ["D2"]
    publish = item(doc, "at_risk", "L7")
    assert (publish["due"], publish["points"]) == ("2020-06-02", 10)
    # a contact made only after the (first) reply is a missed L2: 2.5 of 5 lost for good
    missed = item(doc, "missed", "L2")
    assert (missed["due"], missed["cost"], missed["recoverable"]) == ("2020-05-06", 2.5, 0)


def test_a_reply_without_contact_is_a_missed_deadline_with_its_penalty(tmp_path):
    events = [assigned("2020-03-10"), ev("signed", "2020-03-11"), ev("reply", "2020-05-06", outcome="A")]
    missed = item(check(tmp_path, [case(events)], "2020-05-15"), "missed", "L3")
    assert (missed["due"], missed["cost"]) == ("2020-05-06", 5)


def test_handlers_not_yet_assigned_count_in_the_ceiling_only(tmp_path):
    cases = [case([assigned("2020-03-10")], case_id="C1"), case([assigned("2020-09-01")], case_id="C2")]
    doc = check(tmp_path, cases, "2020-06-01")
    assert [c["case"] for c in doc["cases"]] == ["C1"]
    assert doc["not_yet_assigned"] == [{"case": "C2", "role": "lead", "ceiling": 100}]


def test_a_rubric_seen_only_in_cases_not_yet_assigned_is_shown(tmp_path):
    cases = [case([assigned("2020-03-10")], case_id="C1"),
             case([assigned("2020-09-01", CO), assigned("2020-09-01")], handlers=((CO, "lead"), (LEAD, "co")), case_id="C2")]
    by_id = {c["criterion"]: c for c in check(tmp_path, cases, "2020-06-01")["criteria"]}
    assert (by_id["H1"]["floor"], by_id["H1"]["ceiling"]) == (None, 100)


def test_floor_and_ceiling_by_criterion(tmp_path):
    doc = check(tmp_path, [case([assigned("2020-03-10"), ev("urged", "2020-04-01")])], "2020-04-02")
    by_id = {c["criterion"]: c for c in doc["criteria"]}
    assert by_id["L4"]["floor"] == 0 and by_id["L4"]["ceiling"] == 20
    assert by_id["D1"]["floor"] == by_id["D1"]["ceiling"] == -1  # an urge cannot be undone
    assert by_id["D2"]["floor"] == -5 and by_id["D2"]["ceiling"] == 0


# ---------------------------------------------------------------- the property

def _truncated(raw: list[dict], day: str) -> list[dict]:
    """The file as it stood at the end of `day`, written independently of the program."""
    out = []
    for c in raw:
        assigned_by = {e["department"] for e in c["events"] if e["type"] == "assigned" and e["date"] <= day}
        handlers = [h for h in c["handlers"] if h["department"] in assigned_by]
        if handlers:
            events = [e for e in c["events"] if e["date"] <= day and e["department"] in assigned_by]
            out.append({**c, "handlers": handlers, "events": events})
    return out


@pytest.mark.slow
def test_floor_is_the_score_of_the_file_as_it_stood_and_the_ceiling_is_never_exceeded(tmp_path):
    """For every department and many dates of the sample year."""
    raw = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    case_file = load_cases(SAMPLE)
    final = {d.department: d.total for d in SESSION.run(case_file).departments}
    first = min(e["date"] for c in raw for e in c["events"])
    rng = random.Random(20201231)
    days = {dt.date.fromisoformat(first), dt.date(2020, 12, 31), dt.date(2020, 6, 24), dt.date(2020, 9, 30),
            dt.date(2020, 10, 9), dt.date(2020, 5, 9)}  # holiday eves, an adjusted Saturday
    # and a few random ones (tests/test_selfcheck_bounds.py draws many more dates, on every rulebook)
    days |= {dt.date(2020, 3, 10) + dt.timedelta(days=rng.randrange(296)) for _ in range(6)}
    compared = 0
    for day in sorted(days):
        path = tmp_path / f"{day}.jsonl"
        path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in _truncated(raw, day.isoformat())),
                        encoding="utf-8")
        floor = {d.department: d.total for d in SESSION.run(load_cases(path)).departments}
        for department in sorted(final):
            if department not in floor:
                with pytest.raises(InputError, match="had no case assigned by"):
                    SelfCheck(SESSION, case_file, department, day)
                continue
            result = SelfCheck(SESSION, case_file, department, day)
            assert result.now.total == floor[department], (day, department)
            assert result.ceiling.total >= final[department], (day, department)
            assert result.ceiling_own.total <= result.ceiling.total
            assert result.ceiling.total >= result.now.total, (day, department)
            compared += 1
    assert compared > 140


def test_on_the_samples_due_dates_and_working_days_follow_the_official_calendar():
    """Mid-year, a department with open cases: every date recomputed here by hand."""
    holidays = {dt.date(2020, 1, 1)} | _span("2020-01-24", "2020-02-02") | _span("2020-04-04", "2020-04-06") \
        | _span("2020-05-01", "2020-05-05") | _span("2020-06-25", "2020-06-27") | _span("2020-10-01", "2020-10-08")
    swapped = {dt.date(2020, 1, 19), dt.date(2020, 4, 26), dt.date(2020, 5, 9), dt.date(2020, 6, 28),
               dt.date(2020, 9, 27), dt.date(2020, 10, 10)}

    def workday(d):
        return d in swapped or (d.weekday() < 5 and d not in holidays)

    def add_workdays(d, n):
        while n:
            d += dt.timedelta(days=1)
            n -= workday(d)
        return d

    def add_months(d, n):
        month = d.month - 1 + n
        year, month = d.year + month // 12, month % 12 + 1
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return dt.date(year, month, min(d.day, last))

    def due_date(criterion, start, replies, reply_due):
        # lambdas: only the criterion's own date is computed (L7's needs a reply)
        return {"L1": lambda: add_workdays(start, 3), "L2": lambda: replies[0] if replies else reply_due,
                "L4": lambda: reply_due, "L7": lambda: add_workdays(replies[0], 20),
                "H1": lambda: add_months(start, 1)}[criterion]()

    as_of, department = dt.date(2020, 5, 20), "市教育局"
    doc = SelfCheck(SESSION, load_cases(SAMPLE), department, as_of).document()
    cases = {c.id: c for c in load_cases(SAMPLE).cases}
    assert len(doc["at_risk"]) >= 5 and {i["criterion"] for i in doc["at_risk"]} >= {"L2", "L4", "L7", "H1"}
    assert [i["points"] for i in doc["at_risk"]] == sorted((i["points"] for i in doc["at_risk"]), reverse=True)
    for entry in doc["at_risk"]:
        events = sorted((e for e in cases[entry["case"]].events if e.department == department and e.date <= as_of),
                        key=lambda e: e.date)
        start = next(e.date for e in events if e.type == "assigned")
        replies = [e.date for e in events if e.type == "reply"]
        reply_due = add_months(start, 3) + dt.timedelta(days=sum(e.days for e in events if e.type == "extension"))
        due = due_date(entry["criterion"], start, replies, reply_due)
        left = sum(workday(as_of + dt.timedelta(days=k)) for k in range(1, (due - as_of).days + 1))
        assert (entry["due"], entry["workdays_left"]) == (due.isoformat(), left), entry


def _span(first: str, last: str) -> set[dt.date]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return {a + dt.timedelta(days=k) for k in range((b - a).days + 1)}


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("as_of, message", [
    ("2020-03-01", "2020-03-01 is before the first event of the cases (2020-03-10)"),
    # the assessment (no closing date) ends with the year or, later, with its last event: 2021-01-10
    ("2021-01-11", "2021-01-11 is after the end of the assessment (2021-01-10"),
])
def test_dates_outside_the_assessment(tmp_path, as_of, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(tmp_path, [case([assigned("2020-03-10"), ev("reply", "2021-01-10", outcome="A")])], as_of)


def test_the_events_of_the_next_year_can_be_checked_until_the_assessment_ends(tmp_path):
    """A reply in January of the next year belongs to the year assessed (the old limit was 31 December)."""
    cases = [case([assigned("2020-03-10"), ev("reply", "2021-01-10", outcome="A")])]
    before, after = check(tmp_path, cases, "2021-01-09"), check(tmp_path, cases, "2021-01-10")
    assert before["floor"] < after["floor"] and after["as_of"] == "2021-01-10"


def test_a_year_the_calendar_does_not_cover(tmp_path):
    with pytest.raises(InputError) as error:
        check(tmp_path, [case([assigned("2099-03-10")])], "2099-04-01")
    assert "year 2099 is not covered by the working-day calendar" in str(error.value)
    assert "[calendar.years.2099]" in str(error.value)


def test_the_day_after_the_check_date_must_be_in_the_calendar_too(tmp_path):
    compiled = compiled_with(appended="\n[calendar.years.2098]\nholidays = [2098-01-01]\n")
    with pytest.raises(InputError, match=r"the day after the check date \(when remaining steps are dated\), 2099-01-01, "
                                         "is outside the working-day calendar"):
        check(tmp_path, [case([assigned("2098-03-10")])], "2098-12-31", compiled=compiled)


def test_due_dates_in_a_year_the_calendar_does_not_cover_yet(tmp_path):
    # reply due in February of a year the calendar lacks: days are counted, working days are not
    compiled = compiled_with(appended="\n[calendar.years.2098]\nholidays = [2098-01-01]\n")
    doc = check(tmp_path, [case([assigned("2098-11-02"), ev("signed", "2098-11-03")])], "2098-11-20", compiled=compiled)
    reply = item(doc, "at_risk", "L4")
    assert (reply["due"], reply["workdays_left"], reply["days_left"]) == ("2099-02-02", None, 74)
    assert doc["uncovered_years"] == [2099]


def test_skip_invalid_leaves_out_cases_a_rule_fails_on(tmp_path):
    compiled = compiled_with(('[let]\n', '[let]\nweight = "extra(case, \'weight\') * 2"\n'),
                             ('id = "L1"\ntitle = "签收"\nrubric = "lead"\n',
                              'id = "L1"\ntitle = "签收"\nrubric = "lead"\nmax = 5\n'))
    good = case([assigned("2020-03-10")], case_id="C1", weight=1)
    bad_later = case([assigned("2020-09-01")], case_id="C2", weight="heavy")
    doc = check(tmp_path, [good, bad_later], "2020-06-01", compiled=compiled, skip_invalid=True)
    assert [s["case"] for s in doc["input"]["skipped"]] == ["C2"] and doc["not_yet_assigned"] == []
    with pytest.raises(InputError, match="case C2"):
        check(tmp_path, [good, bad_later], "2020-06-01", compiled=compiled)
    bad_now = case([assigned("2020-03-10")], case_id="C3", weight="heavy")
    with pytest.raises(InputError, match="no case of 甲局 could be scored as of 2020-06-01"):
        check(tmp_path, [bad_now], "2020-06-01", compiled=compiled, skip_invalid=True)


def test_an_unknown_department_gets_the_closest_names(tmp_path):
    cases = [case([assigned("2020-03-10", "市教育局")], handlers=(("市教育局", "lead"),))]
    with pytest.raises(InputError, match=r'no department "市教育厅" in the cases \(did you mean "市教育局"'):
        check(tmp_path, cases, "2020-04-01", department="市教育厅")


def test_a_department_with_nothing_assigned_yet(tmp_path):
    with pytest.raises(InputError, match=r"had no case assigned by 2020-03-20 \(its first assignment is on 2020-04-01"):
        check(tmp_path, [case([assigned("2020-03-10", CO)], handlers=((CO, "lead"),), case_id="C0"),
                         case([assigned("2020-04-01")])], "2020-03-20")
