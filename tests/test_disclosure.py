"""The shipped disclosure domain (政务公开): its case model, the format it needed (one assigning event
type per kind of case, events that need an earlier event), its sample year and register, its
rulebooks, and the whole command line on them."""
from __future__ import annotations

import json

import pytest
from casekit import ROOT
from clikit import scoring

from scoring.base.errors import InputError
from scoring.domain.spec import load_domain, parse_domain

SAMPLE = ROOT / "samples" / "disclosure-2024.jsonl"
RECORDS = ROOT / "samples" / "disclosure-2024-departments.jsonl"
JINZHOU = ROOT / "rules" / "disclosure-jinzhou-2024.toml"

APPLICATION = {"id": "S1", "kind": "application", "title": "申请公开征收补偿方案", "applicant": "person",
               "handlers": [{"department": "市自然资源局", "role": "owner"}],
               "events": [{"id": "e1", "type": "registered", "date": "2024-03-01", "department": "市自然资源局"},
                          {"id": "e2", "type": "answered", "date": "2024-03-20", "department": "市自然资源局",
                           "answer": "partly"}]}


def _write(path, *cases) -> None:
    path.write_text("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases), "utf-8")


# ---------------------------------------------------------------- the domain

def test_each_kind_of_disclosure_work_starts_with_its_own_event():
    domain = load_domain("disclosure")
    assert domain.kinds == {"info": "主动公开信息", "column": "公开栏目", "report": "年度报告", "application": "依申请公开"}
    assert domain.assigning_types == {"info": "formed", "column": "listed", "report": "listed", "application": "registered"}
    assert domain.required_fields == {"answered": "answer", "challenged": "result"}
    # no event of the proposals domain is borrowed
    assert not set(domain.events) & {"assigned", "signed", "reply", "co_reply"}


def test_the_sample_year_reads_with_no_problem_and_has_a_citys_sizes():
    ran = scoring("score", "--rules", str(JINZHOU), "--cases", str(SAMPLE), "--format", "json")
    assert ran.returncode == 0, ran.stderr
    ledger = json.loads(ran.stdout)
    assert len(ledger["departments"]) == 48
    kinds = {}
    for line in SAMPLE.read_text("utf-8").splitlines():
        kind = json.loads(line)["kind"]
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == {"info": 2820, "column": 192, "report": 48, "application": 459}


def test_an_answer_to_an_application_never_registered_is_refused_at_its_line(tmp_path):
    cases = tmp_path / "cases.jsonl"
    early = json.loads(json.dumps(APPLICATION))
    early["id"] = "S2"
    early["events"][1]["date"] = "2024-02-28"  # answered before the application was registered
    helper = json.loads(json.dumps(APPLICATION))
    helper["id"] = "S3"
    helper["handlers"].append({"department": "市住房城乡建设局", "role": "helper"})
    helper["events"] += [{"id": "e3", "type": "registered", "date": "2024-03-01", "department": "市住房城乡建设局"},
                         {"id": "e4", "type": "extended", "date": "2024-03-05", "department": "市住房城乡建设局",
                          "days": 20, "approver": "主任"}]
    wrong_start = json.loads(json.dumps(APPLICATION))
    wrong_start["id"] = "S4"
    wrong_start["events"][0]["type"] = "formed"  # an application starts with its registration
    _write(cases, APPLICATION, early, helper, wrong_start)
    ran = scoring("score", "--rules", str(JINZHOU), "--cases", str(cases))
    assert ran.returncode == 2
    for expected in [
        f'{cases}:2: case S2, events[1] (e2): a "answered" event needs an earlier "registered" event of "市自然资源局"',
        f'{cases}:3: case S3, events[3] (e4): only the unit that answers extends its time limit; "市住房城乡建设局" is helper',
        f'{cases}:4: case S4, events[1] (e2): a "answered" event needs an earlier "registered" event of "市自然资源局"',
        f'{cases}:4: case S4, handlers[0]: "市自然资源局" has no "registered" event',
    ]:
        assert expected in ran.stderr, ran.stderr
    assert ":1:" not in ran.stderr


def test_an_extension_beyond_twenty_working_days_or_without_approver_is_refused(tmp_path):
    cases = tmp_path / "cases.jsonl"
    case = json.loads(json.dumps(APPLICATION))
    case["events"].append({"id": "e3", "type": "extended", "date": "2024-03-10", "department": "市自然资源局", "days": 30,
                           "approver": "主任"})
    unapproved = json.loads(json.dumps(APPLICATION))
    unapproved["id"] = "S2"
    unapproved["events"].append({"id": "e3", "type": "extended", "date": "2024-03-10", "department": "市自然资源局", "days": 20})
    _write(cases, case, unapproved)
    ran = scoring("score", "--rules", str(JINZHOU), "--cases", str(cases))
    assert ran.returncode == 2
    assert f"{cases}:1: case S1, events[2] (e3).days: Input should be less than or equal to 20" in ran.stderr, ran.stderr
    assert f'{cases}:2: case S2, events[2] (e3): a "extended" event needs "approver"' in ran.stderr, ran.stderr


# ---------------------------------------------------------------- the format's two additions

TOY = '''[domain]
id = "toy"
label = "玩具"

[[kinds]]
id = "a"
label = "甲"

[[kinds]]
id = "b"
label = "乙"

[[roles]]
id = "owner"
label = "承办"

[[events]]
type = "opened"
label = "立案"
assigns_handler = true
for_kinds = ["a"]
'''


@pytest.mark.parametrize("extra, line, message", [
    ('', 17, 'events: exactly one event type must assign a handler in a case of kind "b" (assigns_handler = true), not 0'),
    ('[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\nfor_kinds = ["c"]\n', 27,
     'events[1].for_kinds: unknown kind "c"'),
    ('[[events]]\ntype = "filed"\nlabel = "登记"\nfor_kinds = ["b"]\n', 26,
     "events[1].for_kinds: only an event that assigns a handler (assigns_handler = true) has for_kinds"),
    ('[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\n', 17,
     'events: exactly one event type must assign a handler in a case of kind "a" (assigns_handler = true), not 2'),
    ('[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\nfor_kinds = ["b"]\n'
     '[[events]]\ntype = "closed"\nlabel = "结案"\nafter = ["opend"]\n', 31,
     'events[2].after: unknown event type "opend" (did you mean "opened"?)'),
])
def test_a_bad_kind_assignment_or_order_names_the_line(tmp_path, extra, line, message):
    path = tmp_path / "toy.toml"
    path.write_text(TOY + "\n" + extra, "utf-8")
    with pytest.raises(InputError) as caught:
        parse_domain(path.read_bytes(), str(path))
    assert any(str(p).startswith(f"{path}:{line}: {message}") for p in caught.value.problems), caught.value.problems


def test_a_domain_assigning_per_kind_loads(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY + '\n[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\nfor_kinds = ["b"]\n', "utf-8")
    domain = parse_domain(path.read_bytes(), str(path))
    assert domain.assigning_for("a") == "opened" and domain.assigning_for("b") == "filed"
