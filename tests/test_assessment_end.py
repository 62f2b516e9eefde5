"""When the assessment ends: the rulebook's closing date, and `as_of`, the date expressions judge at.

A reply in January belongs to the year assessed; a self-check or a bulletin can look at any day up
to the end of the assessment, and the bulletin of its last month is `score`'s result.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from casekit import LEAD, REFERENCE, SAMPLE, case, ev, reference_text
from clikit import scoring


def ledger(*args) -> dict:
    run = scoring("score", *args, "--format", "json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def with_closing(tmp_path, closing: str, extra: str = ""):
    text = reference_text().replace('version = "1.0.0"\n', f'version = "1.0.0"\nclosing_date = {closing}\n', 1)
    assert "closing_date" in text
    return write(tmp_path, "closing.toml", text + extra)


def cases_file(tmp_path, cases: list[dict]):
    return write(tmp_path, "cases.jsonl", "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases))


def test_the_last_months_bulletin_is_the_score():
    final = ledger("--rules", REFERENCE, "--cases", SAMPLE)
    run = scoring("bulletin", "--rules", REFERENCE, "--cases", SAMPLE, "--month", "2021-02", "--format", "json")
    assert run.returncode == 0, run.stderr
    bulletin = json.loads(run.stdout)
    assert bulletin["as_of"] == "2021-02-26"  # the month is cut at the assessment's end: the last event of the file
    # at the assessment's end nothing is still to come: what can be reached is what is secured, the total
    assert [(d["department"], d["rank"], d["reachable"], d["secured"], d["grade"]) for d in bulletin["departments"]] == \
        [(d["department"], d["rank"], d["total"], d["total"], d["grade"]) for d in final["departments"]]


def test_events_after_the_closing_date_are_left_out_and_counted(tmp_path):
    events = [ev("assigned", "2020-03-10"), ev("signed", "2020-03-11"), ev("reply", "2020-06-01", outcome="A"),
              ev("feedback", "2021-03-02", rating="satisfied")]
    cases = cases_file(tmp_path, [case(events)])
    late = scoring("score", "--rules", with_closing(tmp_path, "2021-02-28"), "--cases", cases, "--format", "json")
    assert late.returncode == 0 and "1 event(s) dated after the closing date 2021-02-28 are not scored" in late.stderr
    early = json.loads(late.stdout)
    assert early["input"]["after_closing"] == 1
    kept = ledger("--rules", with_closing(tmp_path, "2021-03-31"), "--cases", cases)
    assert "after_closing" not in kept["input"]
    assert kept["departments"][0]["total"] > early["departments"][0]["total"]  # the satisfied rating counts when in time
    beyond = scoring("self-check", "--rules", with_closing(tmp_path, "2021-02-28"), "--cases", cases,
                     "--department", LEAD, "--as-of", "2021-03-01")
    assert beyond.returncode == 2 and "2021-03-01 is after the end of the assessment (2021-02-28, the rulebook's " \
                                      "closing date)" in beyond.stderr


AS_OF_ITEM = """
[[criterion]]
id = "X1"
title = "尚未答复"
rubric = "lead"
otherwise = "已答复或尚未到期"

[[criterion.rule]]
id = "X1"
bind = { a = "first assigned" }
when = "not exists(reply) and as_of > reply_due"
points = -3
text = "截至{as_of}未答复（期限{reply_due}）"
"""


def test_as_of_is_the_check_date_in_a_self_check_and_the_closing_date_in_score(tmp_path):
    rules = with_closing(tmp_path, "2020-12-31", AS_OF_ITEM)
    cases = cases_file(tmp_path, [case([ev("assigned", "2020-03-10"), ev("signed", "2020-03-11")])])
    final = ledger("--rules", rules, "--cases", cases)
    assert final["input"]["as_of"] == "2020-12-31"
    line = next(line for line in final["departments"][0]["cases"][0]["lines"] if line["criterion"] == "X1")
    assert line["points"] == -3 and line["text"] == "截至2020-12-31未答复（期限2020-06-10）"

    def x1(as_of: str):
        run = scoring("self-check", "--rules", rules, "--cases", cases, "--department", LEAD, "--as-of", as_of,
                      "--format", "json")
        assert run.returncode == 0, run.stderr
        return next(c for c in json.loads(run.stdout)["criteria"] if c["criterion"] == "X1")["floor"]
    assert x1("2020-06-10") == 0 and x1("2020-06-11") == -3  # not a deduction before the deadline has passed


def test_a_rulebook_that_does_not_read_as_of_keeps_its_ledger():
    assert "as_of" not in ledger("--rules", REFERENCE, "--cases", SAMPLE)["input"]


@pytest.mark.parametrize("today, expected", [("2020-06-05", "2020-06-05"), ("2026-12-06", "2021-02-26")])
def test_self_check_defaults_to_today_or_the_assessments_end(monkeypatch, today, expected):
    monkeypatch.setattr("scoring.app.scoring.today", lambda: dt.date.fromisoformat(today))
    run = scoring("self-check", "--rules", REFERENCE, "--cases", SAMPLE, "--department", "市民政局", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["as_of"] == expected
    assert ("as of 2021-02-26, the end of the assessment" in run.stderr) == (today > "2021-02-26")


def test_validate_asks_for_a_closing_date_when_as_of_is_read(tmp_path):
    without = write(tmp_path, "without.toml", reference_text() + AS_OF_ITEM)
    run = scoring("rules", "validate", without)
    assert run.returncode == 1 and "expressions read as_of, but no closing_date says when the assessment ends" in run.stdout
    assert "as_of" not in scoring("rules", "validate", with_closing(tmp_path, "2021-02-28", AS_OF_ITEM)).stdout


def test_a_ledger_with_events_after_the_closing_date_verifies(tmp_path):
    # the ledger's input is the file as scored, without those events: verify compares with the same
    rules = with_closing(tmp_path, "2020-12-31")
    out = tmp_path / "ledger.json"
    run = scoring("score", "--rules", rules, "--cases", SAMPLE, "--format", "json", "--out", out)
    assert run.returncode == 0 and json.loads(out.read_text(encoding="utf-8"))["input"]["after_closing"] > 0
    verified = scoring("verify", out, "--rules", rules, "--cases", SAMPLE)
    assert verified.returncode == 0, verified.stdout + verified.stderr
