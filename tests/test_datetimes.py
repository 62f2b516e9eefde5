"""Date-times: a domain with `time = "datetimes"` dates its events to the minute. A case file writes
"2023-05-04T09:15"; what cannot be kept exactly (seconds, offsets, a plain date) is refused at
its line; rules read `at`, compare date-times, take their day with date(t) and count working
hours on the rulebook's working_hours."""
from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path

import pytest
from casekit import ROOT
from clikit import scoring

from scoring.domain.cases import models
from scoring.domain.fields import expression_schema
from scoring.domain.spec import parse_domain
from scoring.domain.workdays import NoWorkingHours, WorkCalendar, parse_working_hours
from scoring.lang.evaluator import BY_TYPE, ExpressionCompiler, Scope
from scoring.lang.nodes import ExprError
from scoring.lang.syntax import parse

TICKETS = ROOT / "tests" / "domains" / "tickets.toml"

RULES = """
[rulebook]
id = "timed-toy"
title = "热线工单（测试）"
version = "1"
domain = "timed.toml"

[calendar]
working_hours = ["09:00-12:00", "13:30-17:30"]

[[rubric]]
id = "owner"
title = "承办工单"
roles = ["owner"]

[[criterion]]
id = "T1"
title = "两个工作小时内办结"
rubric = "owner"
otherwise = "未在2个工作小时内办结"

[[criterion.rule]]
id = "T1"
bind = { a = "answered", d = "dispatched" }
when = "a.at <= add_workhours(d.at, 2)"
once = true
points = 60
text = "{d.at}派单，{a.at}办结，用时{workhours_between(d.at, a.at)}个工作小时（{date(a.at)}）"

[[criterion]]
id = "T2"
title = "当日办结"
rubric = "owner"
otherwise = "未当日办结"

[[criterion.rule]]
id = "T2"
bind = { a = "answered", d = "dispatched" }
when = "date(a.at) == date(d.at) and a.date == d.date"
once = true
points = 40
text = "{a.at}办结"

[department]
method = "mean"
"""


def _event(event_id, type_, when, **fields):
    return {"id": event_id, "type": type_, "date": when, "department": "城管局", **fields}


def _case(case_id, *events):
    return {"id": case_id, "kind": "complaint", "summary": "占道经营", "handlers": [{"department": "城管局", "role": "owner"}],
            "events": list(events)}


@pytest.fixture()
def timed(tmp_path) -> Path:
    text = TICKETS.read_text("utf-8").replace('title_field = "summary"\n', 'title_field = "summary"\ntime = "datetimes"\n')
    (tmp_path / "timed.toml").write_text(text, "utf-8")
    (tmp_path / "tickets-register.toml").write_text((TICKETS.parent / "tickets-register.toml").read_text("utf-8"), "utf-8")
    (tmp_path / "rules.toml").write_text(RULES, "utf-8")
    return tmp_path


def _write(path: Path, cases) -> Path:
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), "utf-8")
    return path


def test_events_are_dated_to_the_minute_and_scored_in_working_hours(timed):
    cases = _write(timed / "cases.jsonl", [
        # Friday 16:30 to Monday 10:00: one working hour on Friday, one on Monday
        _case("W1", _event("e1", "dispatched", "2024-03-01T16:30"),
              _event("e2", "answered", "2024-03-04T10:00", result="solved")),
        _case("W2", _event("e1", "dispatched", "2024-03-01 16:30:00"),
              _event("e2", "answered", "2024-03-04T10:01", result="solved")),
        # same day; the events are ordered by their time, not their ids
        _case("W3", _event("e2", "dispatched", "2024-03-05T09:00"),
              _event("e1", "answered", "2024-03-05T12:00", result="solved")),
    ])
    ran = scoring("score", "--rules", str(timed / "rules.toml"), "--cases", str(cases), "--format", "json")
    assert ran.returncode == 0, (ran.stdout + ran.stderr)
    ledger = json.loads(ran.stdout)
    lines = {(c["case"], line["rule"]): (line["points"], line["text"]) for d in ledger["departments"]
             for c in d["cases"] for line in c["lines"] if line["rule"]}
    assert lines[("W1", "T1")] == (60, "2024-03-01 16:30派单，2024-03-04 10:00办结，用时2个工作小时（2024-03-04）")
    assert ("W2", "T1") not in lines
    assert ("W3", "T1") not in lines  # three working hours
    assert lines[("W3", "T2")] == (40, "2024-03-05 12:00办结")
    explained = scoring("explain", "--rules", str(timed / "rules.toml"), "--cases", str(cases), "--department", "城管局")
    assert explained.returncode == 0 and "用时2个工作小时" in explained.stdout


@pytest.mark.parametrize("written, message", [
    ("2024-03-01", '"2024-03-01" is not a local date-time to the minute in the form YYYY-MM-DDTHH:MM'),
    ("2024-03-01T09:15:30", '"2024-03-01T09:15:30" is not a local date-time to the minute'),
    ("2024-03-01T09:15:00.5", '"2024-03-01T09:15:00.5" is not a local date-time to the minute'),
    ("2024-03-01T09:15+08:00", '"2024-03-01T09:15+08:00" is not a local date-time to the minute in the form '
                               'YYYY-MM-DDTHH:MM (no seconds, no time zone)'),
    ("2024-02-30T09:15", '"2024-02-30T09:15" is not a valid date-time (day is out of range for month)'),
    (20240301, "a date-time must be a string YYYY-MM-DDTHH:MM, not int"),
])
def test_what_cannot_be_kept_exactly_is_refused_at_its_line(timed, written, message):
    cases = _write(timed / "cases.jsonl", [
        _case("W1", _event("e1", "dispatched", "2024-03-01T09:00")),
        _case("W2", _event("e1", "dispatched", written)),
    ])
    ran = scoring("score", "--rules", str(timed / "rules.toml"), "--cases", str(cases))
    assert ran.returncode == 2
    assert f"cases.jsonl:2: case W2, events[0] (e1).date: {message}" in (ran.stdout + ran.stderr)


def test_at_is_never_given_beside_the_date(timed):
    cases = _write(timed / "cases.jsonl", [_case("W1", {**_event("e1", "dispatched", "2024-03-01T09:00"), "at": "x"})])
    ran = scoring("score", "--rules", str(timed / "rules.toml"), "--cases", str(cases))
    assert ran.returncode == 2 and "cases.jsonl:1: case W1, events[0] (e1):" in (ran.stdout + ran.stderr)
    assert '"at" is the time of the event\'s "date"' in (ran.stdout + ran.stderr)


def test_a_dated_domain_has_no_at(timed):
    rules = timed / "rules.toml"
    rules.write_text(RULES.replace('domain = "timed.toml"', 'domain = "../../' + str(TICKETS) + '"')
                     .replace('domain = "../../', 'domain = "'), "utf-8")
    ran = scoring("rules", "validate", str(rules))
    assert ran.returncode == 1 and 'event has no field "at"' in (ran.stdout + ran.stderr)


@pytest.mark.parametrize("expression, message", [
    ("a.at + 1 > d.at", "cannot use datetime in arithmetic"),
    ("a.at <= d.date", "cannot compare datetime with date"),
    ("date(a.date) == d.date", 'date() takes a literal text such as date("2020-12-31"), or a date-time, not date'),
    ("a.at <= add_workhours(d.date, 2)", "add_workhours() takes a date-time and a number of hours, not date"),
    ("a.at <= add_workhours(d.at, -1)", "add_workhours() adds a whole number of minutes, at least 0"),
    ("a.at <= add_workhours(d.at, 1/120)", "add_workhours() adds a whole number of minutes"),
    ("a.at > datetime('2024-03-01T09:15:00')", "is not a date-time YYYY-MM-DDTHH:MM"),
])
def test_rules_misusing_date_times_are_refused_when_loaded(timed, expression, message):
    rules = timed / "rules.toml"
    rules.write_text(RULES.replace('"a.at <= add_workhours(d.at, 2)"', json.dumps(expression)), "utf-8")
    ran = scoring("rules", "validate", str(rules))
    assert ran.returncode == 1, (ran.stdout + ran.stderr)
    assert message in (ran.stdout + ran.stderr) and "rules.toml:" in (ran.stdout + ran.stderr)


def test_working_hours_are_needed_and_checked_at_their_line(timed):
    rules = timed / "rules.toml"
    rules.write_text(RULES.replace('"13:30-17:30"]', '"11:30-17:30"]'), "utf-8")
    ran = scoring("rules", "validate", str(rules))
    out = ran.stdout + ran.stderr
    assert ran.returncode == 1 and "rules.toml:9:" in out and "does not start after the period before it ends" in out


def test_the_timed_domain_loads_and_keeps_date_for_the_day(timed):
    domain = parse_domain((timed / "timed.toml").read_bytes(), "timed.toml")
    assert domain.timed
    event = models(domain).event.model_validate(_event("e1", "dispatched", "2024-03-01T09:15"))
    assert event.date == dt.date(2024, 3, 1) and event.at == dt.datetime(2024, 3, 1, 9, 15)


HOURS = WorkCalendar(working_hours=parse_working_hours(["09:00-12:00", "13:30-17:30"]))
COMPILER = ExpressionCompiler(HOURS, expression_schema())
SCOPE = Scope({"a": "datetime", "b": "datetime", "n": "number"}, {}, frozenset())


@pytest.mark.parametrize("source, expected", [
    ("a < b", True),
    ("a == datetime('2023-09-28T17:00')", True),
    ("date(a)", dt.date(2023, 9, 28)),
    ("date(a) == date('2023-09-28')", True),
    ("add_workhours(a, 1)", dt.datetime(2023, 10, 7, 9, 30)),  # across the National Day holiday to a working Saturday
    ("add_workhours(a, n)", dt.datetime(2023, 10, 7, 9, 30)),
    ("workhours_between(a, b)", Fraction(7, 6)),  # 30 minutes on the 28th, 40 on the 7th
    ("workhours_between(b, a)", Fraction(-7, 6)),
    ("add_workhours(null, 1)", None),
    ("'收到于' + a", "收到于2023-09-28 17:00"),
])
def test_date_times_in_the_language(source, expected):
    env = {BY_TYPE: {}, "a": dt.datetime(2023, 9, 28, 17, 0), "b": dt.datetime(2023, 10, 7, 9, 40), "n": 1}
    assert COMPILER.compile(parse(source), SCOPE)(env) == expected


def test_a_rule_reading_working_hours_needs_them_declared(timed):
    compiler = ExpressionCompiler(WorkCalendar(), expression_schema())
    with pytest.raises(ExprError, match="counts working hours, and none are declared"):
        compiler.compile(parse("workhours_between(a, b)"), SCOPE)
    with pytest.raises(NoWorkingHours):  # the calendar itself refuses too
        WorkCalendar().add_workhours(dt.datetime(2023, 9, 28, 17, 0), 1)
    rules = timed / "rules.toml"
    rules.write_text(RULES.replace('working_hours = ["09:00-12:00", "13:30-17:30"]', ""), "utf-8")
    ran = scoring("rules", "validate", str(rules))
    assert ran.returncode == 1 and "when: add_workhours() counts working hours, and none are declared" in ran.stdout
    line = RULES.splitlines().index('when = "a.at <= add_workhours(d.at, 2)"') + 1
    assert f"rules.toml:{line}: criterion[0].rule[0].when" in ran.stdout


def test_the_shipped_domains_keep_their_models_however_many_other_domains_are_loaded(tmp_path):
    from scoring.domain import cases
    from scoring.domain.spec import default_domain, load_domain
    hotline = models(load_domain("hotline")).case
    text = TICKETS.read_text("utf-8")
    for number in range(40):  # more than the caches of other domain files hold
        path = tmp_path / f"d{number}.toml"
        path.write_text(text.replace('id = "tickets"', f'id = "t{number}"'), "utf-8")
        models(load_domain(str(path)))
    assert load_domain("proposals") is default_domain()
    assert models(default_domain()).case is cases.Case  # a case pickles by its class's name
    assert models(load_domain("hotline")).case is hotline
