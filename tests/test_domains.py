"""Domains: the case model is a data file. The shipped proposals domain reproduces the model the
program always had; a bad domain file names its lines; a second, unrelated domain (a toy of 12345
hotline tickets, tests/domains/) is validated, scored, explained and described through the CLI;
and nothing under scoring/ names a value of the proposals domain."""
from __future__ import annotations

import ast
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from casekit import ROOT, SAMPLE
from clikit import scoring
from openpyxl import Workbook, load_workbook

from scoring.base.errors import InputError
from scoring.domain.spec import default_domain, parse_domain

TOYS = ROOT / "tests" / "domains"
TICKETS_RULES = TOYS / "tickets-rules.toml"
TICKETS_CASES = TOYS / "tickets.jsonl"
RULES = ROOT / "rules" / "proposal-handling.toml"


# ---------------------------------------------------------------- the proposals domain

def test_the_proposals_domain_is_the_model_the_program_had():
    domain = default_domain()
    assert list(domain.kinds) == ["suggestion", "proposal"]
    assert list(domain.roles) == ["lead", "split", "co"]
    assert list(domain.events) == ["assigned", "signed", "returned", "contact", "extension", "reply", "feedback",
                                   "published", "co_reply", "urged"]
    assert domain.assigning == "assigned"
    assert domain.required_fields == {"contact": "mode", "extension": "days", "reply": "outcome", "feedback": "rating"}
    assert [f.name for f in domain.spec.case_fields] == ["title", "proposer", "key", "waived_f2f"]
    schema = json.loads((ROOT / "schemas" / "case.schema.json").read_text("utf-8"))
    found = json.loads(scoring("schema").stdout)
    assert found == schema  # the case format's schema, as committed, from the domain file


def test_a_rulebook_naming_the_proposals_domain_scores_as_one_naming_none(tmp_path):
    named = tmp_path / "named.toml"
    named.write_text(RULES.read_text("utf-8").replace("[rulebook]\n", '[rulebook]\ndomain = "proposals"\n', 1), "utf-8")
    plain = scoring("score", "--rules", str(RULES), "--cases", str(SAMPLE), "--format", "json")
    with_domain = scoring("score", "--rules", str(named), "--cases", str(SAMPLE), "--format", "json")
    assert plain.returncode == with_domain.returncode == 0
    drop = ("rulebook", "engine")  # the rulebook's file and hash differ, nothing scored does
    assert ({k: v for k, v in json.loads(plain.stdout).items() if k not in drop}
            == {k: v for k, v in json.loads(with_domain.stdout).items() if k not in drop})


def test_a_rulebook_naming_an_unknown_domain_is_refused_at_its_line(tmp_path):
    book = tmp_path / "book.toml"
    book.write_text(RULES.read_text("utf-8").replace("[rulebook]\n", '[rulebook]\ndomain = "proposal"\n', 1), "utf-8")
    ran = scoring("score", "--rules", str(book), "--cases", str(SAMPLE))
    assert ran.returncode == 2
    line = book.read_text("utf-8").splitlines().index('domain = "proposal"') + 1
    assert f'{book}:{line}: rulebook.domain: unknown domain "proposal" (did you mean "proposals"?)' in ran.stderr


# ---------------------------------------------------------------- bad domain files

GOOD = '''[domain]
id = "toy"
label = "玩具"

[[kinds]]
id = "k"
label = "件"

[[roles]]
id = "owner"
label = "承办"

[[events]]
type = "opened"
label = "立案"
assigns_handler = true
'''


@pytest.mark.parametrize("extra, line, message", [
    ('[[events]]\ntype = "closed"\nlabel = "结案"\n[[events.fields]]\nname = "how"\nkind = "colour"\n', 23,
     "events[1].fields[0].kind: Input should be 'text', 'bool', 'number', 'integer', 'date', 'enum' or 'list' "
     "(got 'colour')"),
    ('[[events]]\ntype = "opened"\nlabel = "再立案"\n', 19, 'events[1].type: "opened" is declared twice'),
    ('[[events]]\ntype = "closed"\nlabel = "结案"\n[[events.fields]]\nname = "n"\nkind = "text"\n'
     '[[events.fields]]\nname = "n"\nkind = "text"\n', 25, 'events[1].fields[1].name: "n" is declared twice'),
    ('[[events]]\ntype = "closed"\nlabel = "结案"\n[[events.fields]]\nname = "result"\nkind = "enum"\n', 21,
     'events[1].fields[0].values: the enum "result" needs its values'),
    ('[[events]]\ntype = "closed"\nlabel = "结案"\nfrom_roles = ["boss"]\n', 21,
     'events[1].from_roles: unknown role "boss"; the roles are owner'),
    ('[[events]]\ntype = "closed"\nlabel = "结案"\nnot_from_roles = ["ownr"]\n', 21,
     'events[1].not_from_roles: unknown role "ownr" (did you mean "owner"?); the roles are owner'),
    ('[[events]]\ntype = "closed"\nlable = "结案"\n', 20,
     'events[1].lable: unknown key "lable" (did you mean "label"?)'),
    ('[[events]]\ntype = "closed"\nlabel = "结案"\nassigns_handler = true\n', 13,
     "events: exactly one event type must assign a handler (assigns_handler = true), not 2"),
    ('[[events]]\ntype = "closed"\nlabel = "结案"\n[[events.fields]]\nname = "n"\nkind = "text"\nge = 1\n', 24,
     'events[1].fields[0].ge: only an integer has bounds; "n" is text'),
    ('[[events]]\ntype = "closed"\nlabel = "结案"\nrole_message = "{who} sent it"\n', 21,
     "events[1].role_message: may name only {type}, {department} and {role}"),
    ('[[case_fields]]\nname = "urgent"\nkind = "bool"\ndefault = "no"\n', 21,
     'case_fields[0].default: \'no\' is not a value of the bool "urgent"'),
])
def test_a_bad_domain_file_names_the_line(tmp_path, extra, line, message):
    path = tmp_path / "toy.toml"
    path.write_text(GOOD + "\n" + extra, "utf-8")
    with pytest.raises(InputError) as caught:
        parse_domain(path.read_bytes(), str(path))
    assert any(str(p).startswith(f"{path}:{line}: {message}") for p in caught.value.problems), caught.value.problems
    ran = scoring("schema", "--domain", str(path))  # the command line says the same
    assert ran.returncode == 2 and f"{path}:{line}: {message}" in ran.stderr


def test_the_good_toy_file_loads(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(GOOD, "utf-8")
    assert parse_domain(path.read_bytes(), str(path)).assigning == "opened"


# ---------------------------------------------------------------- a second domain end to end

def test_a_tickets_case_file_is_validated_against_its_domain(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "W9", "kind": "complaint", "handlers": [{"department": "城管局", "role": "owner"}, '
        '{"department": "水务局", "role": "helper"}], "events": ['
        '{"id": "e1", "type": "dispatched", "date": "2024-03-01", "department": "城管局"}, '
        '{"id": "e2", "type": "dispatched", "date": "2024-03-01", "department": "水务局"}, '
        '{"id": "e3", "type": "answered", "date": "2024-03-02", "department": "水务局", "result": "solved"}, '
        '{"id": "e4", "type": "answered", "date": "2024-03-02", "department": "城管局", "result": "solve"}, '
        '{"id": "e5", "type": "rated", "date": "2024-03-03", "department": "城管局", "stars": 6}, '
        '{"id": "e6", "type": "reply", "date": "2024-03-03", "department": "城管局"}]}\n'
        '{"id": "W10", "kind": "proposal", "handlers": [{"department": "城管局", "role": "lead"}]}\n', "utf-8")
    ran = scoring("score", "--rules", str(TICKETS_RULES), "--cases", str(bad))
    assert ran.returncode == 2
    for expected in [
        f"{bad}:1: case W9, events[3] (e4).result: unknown value \"solve\" (did you mean \"solved\"?); "
        "expected one of 'solved' or 'explained'",
        f"{bad}:1: case W9, events[4] (e5).stars: Input should be less than or equal to 5",
        f"{bad}:1: case W9, events[5] (e6).type: unknown value \"reply\"",
        f"{bad}:2: case W10, kind: unknown value \"proposal\"",
        f"{bad}:2: case W10, handlers[0].role: unknown value \"lead\"",
    ]:
        assert expected in ran.stderr, ran.stderr
    # the domain's cross-check: an answer does not come from a helper; the helper was dispatched
    cross = tmp_path / "cross.jsonl"
    cross.write_text(bad.read_text("utf-8").splitlines()[0].replace('"solve"', '"solved"').replace('"stars": 6', '"stars": 5')
                     .replace(', {"id": "e6", "type": "reply", "date": "2024-03-03", "department": "城管局"}', "") + "\n",
                     "utf-8")
    ran = scoring("score", "--rules", str(TICKETS_RULES), "--cases", str(cross))
    assert ran.returncode == 2
    assert (f'{cross}:1: case W9, events[2] (e3): a "answered" event cannot come from a handler whose role is helper'
            in ran.stderr), ran.stderr


def test_a_tickets_year_is_scored_explained_and_described():
    ran = scoring("score", "--rules", str(TICKETS_RULES), "--cases", str(TICKETS_CASES), "--format", "json")
    assert ran.returncode == 0, ran.stderr
    ledger = json.loads(ran.stdout)
    owner = next(d for d in ledger["departments"] if d["department"] == "城管局")
    assert [(c["case"], c["kind"], c["role"], c["title"], c["total"]) for c in owner["cases"]] == [
        ("W1", "complaint", "owner", "占道经营", 100), ("W2", "request", "owner", "路面积水", 0)]

    explained = scoring("explain", "--rules", str(TICKETS_RULES), "--cases", str(TICKETS_CASES), "--department", "城管局")
    assert explained.returncode == 0, explained.stderr
    assert "W1  投诉·承办  100分  占道经营" in explained.stdout
    assert "W2  求助·承办  0分  路面积水" in explained.stdout
    assert "T2   +40分  回访5星  （依据 e3@2024-03-08）" in explained.stdout

    described = scoring("schema", "--domain", str(TOYS / "tickets.toml"))
    assert described.returncode == 0
    schema = json.loads(described.stdout)
    assert schema["$defs"]["Kind"]["enum"] == ["complaint", "request"]
    assert schema["$defs"]["EventType"]["enum"] == ["dispatched", "answered", "rated", "assisted"]
    assert set(schema["$defs"]["Event"]["properties"]) == {"id", "type", "date", "department", "result", "stars"}
    assert set(schema["properties"]) == {"id", "kind", "summary", "caller", "urgent", "handlers", "events"}

    checked = scoring("rules", "validate", str(TICKETS_RULES))
    assert "unknown" not in checked.stdout + checked.stderr


def test_a_tickets_rulebook_may_not_read_what_its_domain_lacks(tmp_path):
    book = tmp_path / "book.toml"
    book.write_text(TICKETS_RULES.read_text("utf-8").replace('domain = "tickets.toml"', f'domain = "{TOYS / "tickets.toml"}"')
                    .replace('bind = { r = "rated" }', 'bind = { r = "feedback" }'), "utf-8")
    ran = scoring("score", "--rules", str(book), "--cases", str(TICKETS_CASES))
    assert ran.returncode == 2
    assert 'unknown event type "feedback"' in ran.stderr
    book.write_text(TICKETS_RULES.read_text("utf-8").replace('domain = "tickets.toml"', f'domain = "{TOYS / "tickets.toml"}"')
                    .replace('when = "r.stars >= 4"', 'when = "r.rating >= 4"'), "utf-8")
    ran = scoring("rules", "validate", str(book))
    assert ran.returncode == 1
    assert ('criterion[1].rule[0].when: event has no field "rating"; its fields are id, type, date, department, result, '
            'stars, role' in ran.stdout + ran.stderr)


def _tickets_register(path: Path, stars="5星") -> Path:
    workbook = Workbook()
    main = workbook.active
    main.title = "工单台账"
    main.append(["工单号", "类别", "诉求", "来电人", "紧急", "承办单位", "办理类型", "派单日期", "办结日期", "办理结果"])
    main.append(["W1", "投诉", "占道经营", "张先生", "否", "城管局", "承办", "2024-03-01", "2024-03-05", "已解决"])
    main.append(["W2", "求助", "路面积水", None, "是", "城管局", "承办", "2024-03-04", "2024-03-20", "已解释"])
    main.append(["W2", None, None, None, None, "水务局", "协办", "2024-03-04", "2024-03-06", None])
    process = workbook.create_sheet("办理过程")
    process.append(["工单号", "单位", "日期", "事项", "办理结果", "星级"])
    process.append(["W1", "城管局", "2024-03-08", "回访", None, stars])
    workbook.save(path)
    return path


def test_a_tickets_register_is_read_with_its_domains_mapping(tmp_path):
    register = _tickets_register(tmp_path / "tickets.xlsx")
    ran = scoring("import", str(register), "--domain", str(TOYS / "tickets.toml"), "--out", "-")
    assert ran.returncode == 0, ran.stderr
    cases = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [(c["id"], c["kind"], c["summary"], c["urgent"]) for c in cases] == [
        ("W1", "complaint", "占道经营", False), ("W2", "request", "路面积水", True)]
    # a helper's 办结日期 is its assisted event (the domain's `instead`), the process sheet's 星级 an integer
    assert [(e["type"], e["department"], e.get("result"), e.get("stars")) for e in cases[1]["events"]] == [
        ("dispatched", "城管局", None, None), ("dispatched", "水务局", None, None), ("assisted", "水务局", None, None),
        ("answered", "城管局", "explained", None)]
    assert cases[0]["events"][-1] == {"id": "办理过程!C2", "type": "rated", "date": "2024-03-08", "department": "城管局",
                                      "stars": 5}
    # the rulebook's domain reads the workbook given as --cases: the same ledger as the JSON Lines file
    from_register = scoring("score", "--rules", str(TICKETS_RULES), "--cases", str(register), "--format", "json")
    from_jsonl = scoring("score", "--rules", str(TICKETS_RULES), "--cases", str(TICKETS_CASES), "--format", "json")
    assert ([d["total"] for d in json.loads(from_register.stdout)["departments"]]
            == [d["total"] for d in json.loads(from_jsonl.stdout)["departments"]])

    bad = _tickets_register(tmp_path / "bad.xlsx", stars="5颗")
    ran = scoring("import", str(bad), "--domain", str(TOYS / "tickets.toml"), "--out", "-")
    assert ran.returncode == 2
    assert (f'{bad}:2: sheet 办理过程, column 星级 (F), case W1: "5颗" is not a whole number (such as 30 or "30星")'
            in ran.stderr), ran.stderr
    assert scoring("import", str(register), "--out", "-").returncode == 2  # read as proposals: no such columns


# ---------------------------------------------------------------- labels, never internal values

def _words(text: str) -> set[str]:
    """The proposals domain's internal values that appear in a user's text as words of their own."""
    domain = default_domain()
    values = {*domain.events, *domain.roles, *domain.kinds,
              *(v for values in domain.value_labels.values() for v in values if len(v) > 1)}
    return {v for v in values if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text)}


def _cells(workbook: bytes) -> str:
    book = load_workbook(io.BytesIO(workbook))
    return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None)


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S))


@pytest.mark.parametrize("command", ["self-check", "explain"])
def test_no_internal_value_reaches_a_user(tmp_path, command):
    common = ["--rules", str(RULES), "--cases", str(SAMPLE), "--department", "市民政局"]
    if command == "self-check":
        common += ["--as-of", "2020-06-05"]
        formats = {"table": None, "csv": None, "xlsx": "xlsx"}
    else:
        formats = {"text": None, "xlsx": "xlsx"}
    for fmt, binary in formats.items():
        out = tmp_path / f"{command}.{fmt}"
        ran = scoring(command, *common, "--format", fmt, "--out", str(out))
        assert ran.returncode == 0, ran.stderr
        text = _cells(out.read_bytes()) if binary else out.read_text("utf-8-sig")
        assert _words(text) == set(), (command, fmt)
    if command == "self-check":
        html = tmp_path / "score.html"
        assert scoring("score", "--rules", str(RULES), "--cases", str(SAMPLE), "--format", "html",
                       "--out", str(html)).returncode == 0
        assert _words(_text(html.read_text("utf-8"))) == set()


def test_the_self_check_page_of_the_workbench_shows_labels():
    from scoring import app
    from scoring.reports.html import page_html, self_check_page
    result = app.self_check(app.Request(str(RULES), str(SAMPLE), jobs=0), "市民政局", dt.date(2020, 6, 5))
    text = _text(page_html(self_check_page(result)))
    assert _words(text) == set() and "答复（A类）" in text


def test_the_old_work_list_words_were_internal_values():
    # what the work list said before the domain's labels (the check above finds it)
    assert _words("missing_evidence,2020-J0073,L5,reply outcome=A") == {"reply"}
    assert _words("2020-J0073  答复（A）  feedback rating=satisfied") == {"feedback", "satisfied"}


# ---------------------------------------------------------------- the program names no value of the domain

def _string_literals(path: Path):
    """Every string literal of a module that is not a docstring, with its line."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_code_under_scoring_names_a_value_of_the_proposals_domain():
    domain = default_domain()
    # event types, their fields, kinds, roles and enum values; single letters (outcome A-D) are left out, a
    # spreadsheet's column "A" is not an outcome
    names = {*domain.events, *domain.event_fields, *domain.kinds, *domain.roles,
             *(v for values in domain.value_labels.values() for v in values if len(v) > 1)}
    # a name with an underscore is no English word: found inside any text too
    joined = re.compile("|".join(rf"(?<![\w-]){re.escape(n)}(?![\w-])" for n in sorted(names) if "_" in n))
    found = []
    for path in sorted((ROOT / "scoring").rglob("*.py")):
        for line, text in _string_literals(path):
            if text in names or joined.search(text):
                found.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert found == []


def test_a_directory_of_rulebooks_picks_the_one_whose_domain_reads_the_cases(tmp_path):
    for path in (RULES, TICKETS_RULES, TOYS / "tickets.toml", TOYS / "tickets-register.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    tickets = scoring("score", "--rules", str(tmp_path), "--cases", str(TICKETS_CASES), "--format", "json")
    assert tickets.returncode == 0, tickets.stderr
    assert json.loads(tickets.stdout)["rulebook"]["id"] == "tickets-toy"
    proposals = scoring("score", "--rules", str(tmp_path), "--cases", str(SAMPLE), "--format", "json")
    assert proposals.returncode == 0, proposals.stderr
    assert json.loads(proposals.stdout)["rulebook"]["id"] == "proposal-handling"
