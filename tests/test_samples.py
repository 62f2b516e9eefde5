"""The sample year is what the README promises: realistic, valid, and it scores."""
import json
from collections import Counter

from casekit import SAMPLE

from scoring.inputs.case_file import load_cases


def test_the_sample_year_is_valid_and_has_what_it_claims():
    cases = load_cases(SAMPLE).cases  # raises on any invalid case
    assert len(cases) >= 150
    departments = {h.department for c in cases for h in c.handlers}
    assert len(departments) >= 8
    roles = Counter(h.role for c in cases for h in c.handlers)
    assert roles["lead"] and roles["split"] and roles["co"]
    types = Counter(e.type for c in cases for e in c.events)
    assert types["extension"] and types["urged"] and types["returned"]
    assert any(all("\u4e00" <= ch <= "\u9fff" or not ch.isalpha() for ch in c.title) and c.title for c in cases)
    second_replies = [c.id for c in cases for h in c.handlers
                      if sum(1 for e in c.events if e.department == h.department and e.type == "reply") > 1]
    dissatisfied = [c.id for c in cases if any(e.type == "feedback" and e.rating == "dissatisfied" for e in c.events)]
    assert len(set(second_replies) & set(dissatisfied)) >= 5  # re-handled after a dissatisfied rating
    holiday_days = {"2020-04-26", "2020-05-09", "2020-06-28", "2020-09-27", "2020-10-09", "2020-10-10"}
    assert any(e.date.isoformat() in holiday_days for c in cases for e in c.events)


def test_the_seed_bureaus_figures_are_mirrored():
    cases = load_cases(SAMPLE).cases
    ip = [(c.kind, h.role) for c in cases for h in c.handlers if h.department == "市知识产权局"]
    assert Counter(ip) == Counter({("suggestion", "lead"): 5, ("suggestion", "co"): 10,
                                   ("proposal", "lead"): 1, ("proposal", "co"): 20})


def test_events_are_not_listed_in_date_order():
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    shuffled = sum(1 for r in rows if [e["date"] for e in r["events"]] != sorted(e["date"] for e in r["events"]))
    assert shuffled > len(rows) // 2
