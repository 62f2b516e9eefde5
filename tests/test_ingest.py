"""Reading case files: every problem at once, with file, line, case and field."""
import json

import pytest
from casekit import case, ev

from scoring.base.errors import InputError
from scoring.domain.cases import case_json_schema
from scoring.inputs.case_file import load_cases


def write(tmp_path, lines, name="cases.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines) + "\n",
                    encoding="utf-8")
    return path


def good(case_id="C1"):
    return case([ev("assigned", "2020-03-10"), ev("reply", "2020-05-01", outcome="A")], case_id=case_id)


def problems(path, **kwargs):
    with pytest.raises(InputError) as info:
        load_cases(path, **kwargs)
    return [str(p) for p in info.value.problems]


def test_every_problem_is_reported_with_line_case_and_field(tmp_path):
    bad_type = good("C2")
    bad_type["events"][1]["type"] = "replied"
    bad_date = good("C3")
    bad_date["events"][0]["date"] = "2020-02-30"
    no_outcome = good("C4")
    del no_outcome["events"][1]["outcome"]
    stranger = good("C5")
    stranger["events"].append({"id": "e9", "type": "contact", "date": "2020-04-01", "department": "丙局", "mode": "phone"})
    bad_role = good("C6")
    bad_role["handlers"][0]["role"] = "leader"
    path = write(tmp_path, [good("C1"), bad_type, bad_date, no_outcome, stranger, bad_role, "{not json", good("C1")])
    found = problems(path)
    expected = [
        ":2: case C2, events[1] (e2).type: unknown value \"replied\" (did you mean \"reply\"?)",
        ":3: case C3, events[0] (e1).date: \"2020-02-30\" is not a valid date",
        ":4: case C4, events[1] (e2): a \"reply\" event needs \"outcome\"",
        ":5: case C5, events[2] (e9): department \"丙局\" is not a handler of this case",
        ":6: case C6, handlers[0].role: unknown value \"leader\"",
        ":7: not valid JSON",
        ":1: case C1: duplicate case id (also on line 8)",
        ":8: case C1: duplicate case id (also on line 1)",
    ]
    for fragment in expected:
        assert any(fragment in problem for problem in found), (fragment, found)
    assert all(problem.startswith(str(path)) for problem in found)


def test_cross_checks(tmp_path):
    duplicate_event = good()
    duplicate_event["events"][1]["id"] = "e1"
    no_assigned = case([ev("assigned", "2020-03-10")], handlers=(("甲局", "lead"), ("乙局", "co")), case_id="C2")
    co_reply_by_lead = case([ev("assigned", "2020-03-10"), ev("co_reply", "2020-03-20")], case_id="C3")
    mode_on_reply = good("C4")
    mode_on_reply["events"][1]["mode"] = "phone"
    found = problems(write(tmp_path, [duplicate_event, no_assigned, co_reply_by_lead, mode_on_reply]))
    assert any('duplicate event id "e1"' in p for p in found)
    assert any('"乙局" has no "assigned" event' in p for p in found)
    assert any("a co_reply comes from a co-handler" in p for p in found)
    assert any('"mode" belongs to "contact" events, not to "reply"' in p for p in found)


def test_skip_invalid_keeps_the_valid_cases_and_lists_the_others(tmp_path):
    bad = good("C2")
    bad["events"][0]["date"] = "2020/03/10"
    loaded = load_cases(write(tmp_path, [good("C1"), bad, good("C3")]), skip_invalid=True)
    assert [c.id for c in loaded.cases] == ["C1", "C3"]
    assert [(s.case_id, s.line) for s in loaded.skipped] == [("C2", 2)]


def test_a_json_array_is_accepted_and_lines_point_at_each_case(tmp_path):
    bad = good("C2")
    bad["kind"] = "motion"
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([good("C1"), bad], ensure_ascii=False, indent=2), encoding="utf-8")
    found = problems(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("  {", 2) + 1  # the second object starts here
    assert any(f":{start}: case C2, kind" in p for p in found), found


def test_extra_fields_are_kept(tmp_path):
    data = good()
    data["session"] = "六届六次"
    data["events"][0]["note"] = "批量交办"
    loaded = load_cases(write(tmp_path, [data]))
    assert loaded.cases[0].model_extra == {"session": "六届六次"}
    assert loaded.cases[0].events[0].model_extra == {"note": "批量交办"}


def test_content_hash_ignores_order_of_cases_events_and_handlers(tmp_path):
    one = case([ev("assigned", "2020-03-10"), ev("assigned", "2020-03-10", "乙局"), ev("co_reply", "2020-03-20", "乙局")],
               handlers=(("甲局", "lead"), ("乙局", "co")))
    other = json.loads(json.dumps(one))
    other["events"].reverse()
    other["handlers"].reverse()
    a = load_cases(write(tmp_path, [one, good("C2")], "a.jsonl"))
    b = load_cases(write(tmp_path, [good("C2"), other], "b.jsonl"))
    assert a.sha256 == b.sha256 and a.file_sha256 != b.file_sha256


def test_empty_and_unreadable_files(tmp_path):
    assert "holds no cases" in problems(write(tmp_path, [""]))[0]
    assert "cannot read" in problems(tmp_path / "missing.jsonl")[0]
    (tmp_path / "latin.jsonl").write_bytes(b'{"id": "\xff"}\n')
    assert "not UTF-8" in problems(tmp_path / "latin.jsonl")[0]


def test_the_published_json_schema_accepts_the_sample_and_rejects_bad_cases():
    import jsonschema  # a test dependency (pyproject: test extras)
    from casekit import SAMPLE
    schema = case_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        validator.validate(json.loads(line))
    bad = good()
    bad["events"][0]["type"] = "replied"
    assert list(validator.iter_errors(bad))


def test_the_committed_schema_file_is_current():
    from casekit import ROOT
    committed = json.loads((ROOT / "schemas" / "case.schema.json").read_text(encoding="utf-8"))
    assert committed == case_json_schema(), "regenerate with: scoring schema --out schemas/case.schema.json"
