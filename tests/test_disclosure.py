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
assigned_label = "受理"

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
    ('', 18, 'events: exactly one event type must assign a handler in a case of kind "b" (assigns_handler = true), not 0'),
    ('[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\nfor_kinds = ["c"]\n', 28,
     'events[1].for_kinds: unknown kind "c"'),
    ('[[events]]\ntype = "filed"\nlabel = "登记"\nfor_kinds = ["b"]\n', 27,
     "events[1].for_kinds: only an event that assigns a handler (assigns_handler = true) has for_kinds"),
    ('[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\n', 18,
     'events: exactly one event type must assign a handler in a case of kind "a" (assigns_handler = true), not 2'),
    ('[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\nfor_kinds = ["b"]\n'
     '[[events]]\ntype = "closed"\nlabel = "结案"\nafter = ["opend"]\n', 32,
     'events[2].after: unknown event type "opend" (did you mean "opened"?)'),
])
def test_a_bad_kind_assignment_or_order_names_the_line(tmp_path, extra, line, message):
    path = tmp_path / "toy.toml"
    path.write_text(TOY + "\n" + extra, "utf-8")
    with pytest.raises(InputError) as caught:
        parse_domain(path.read_bytes(), str(path))
    assert any(str(p).startswith(f"{path}:{line}: {message}") for p in caught.value.problems), caught.value.problems


def test_a_domain_assigning_per_kind_names_the_word_for_its_cases(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY.replace('assigned_label = "受理"\n', "")
                    + '\n[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\nfor_kinds = ["b"]\n', "utf-8")
    with pytest.raises(InputError) as caught:
        parse_domain(path.read_bytes(), str(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1: domain: a domain whose kinds start with different events names the word for the cases a department "
        'is given: assigned_label = "..."']


def test_a_domain_assigning_per_kind_loads(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY + '\n[[events]]\ntype = "filed"\nlabel = "登记"\nassigns_handler = true\nfor_kinds = ["b"]\n', "utf-8")
    domain = parse_domain(path.read_bytes(), str(path))
    assert domain.assigning_for("a") == "opened" and domain.assigning_for("b") == "filed"
    assert domain.labels()["given"] == "受理"


# ---------------------------------------------------------------- the register

REGISTER = ROOT / "samples" / "disclosure-register-2024.xlsx"


@pytest.mark.slow  # the whole sample year (3,519 cases), scored in process
def test_the_register_sample_gives_the_ledger_of_the_case_file(tmp_path):
    imported = tmp_path / "imported.jsonl"
    ran = scoring("import", str(REGISTER), "--domain", "disclosure", "--out", str(imported))
    assert ran.returncode == 0, ran.stderr
    first = {json.loads(line)["id"]: json.loads(line) for line in imported.read_text("utf-8").splitlines()}
    sample = {json.loads(line)["id"]: json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines()}
    assert set(first) == set(sample)
    case = first["2024-D01-R"]  # a report's year is read as a whole number
    assert case["year"] == 2023 and case["events"][0] == {"id": "e1", "type": "listed", "date": "2024-01-01",
                                                          "department": "市发展改革委"}
    from_register = scoring("score", "--rules", str(JINZHOU), "--cases", str(REGISTER), "--format", "json")
    from_jsonl = scoring("score", "--rules", str(JINZHOU), "--cases", str(SAMPLE), "--format", "json")
    assert from_register.returncode == from_jsonl.returncode == 0
    assert json.loads(from_register.stdout)["departments"] == json.loads(from_jsonl.stdout)["departments"]


def test_a_bad_year_in_a_register_names_its_cell(tmp_path):
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "政务公开台账"
    sheet.append(["编号", "类别", "标题", "报告年度", "责任单位", "单位类型", "列入日期", "公开日期"])
    sheet.append(["R1", "年度报告", "甲局年度报告", "二〇二三", "甲局", "责任单位", "2024-01-01", "2024-03-20"])
    sheet.append(["R2", "年报", "乙局年度报告", 1999, "乙局", "责任单位", "2024-01-01", "2024-03-20"])
    path = tmp_path / "bad.xlsx"
    workbook.save(path)
    ran = scoring("import", str(path), "--domain", "disclosure", "--out", "-")
    assert ran.returncode == 2
    bad_text = f'{path}:2: sheet 政务公开台账, column 报告年度 (D), case R1: "二〇二三" is not a whole number'
    assert bad_text in ran.stderr, ran.stderr
    assert f"{path}:3: sheet 政务公开台账, column 报告年度 (D), case R2: 1999 is below 2000" in ran.stderr, ran.stderr


# ---------------------------------------------------------------- the whole product on the sample year

BEIJING = ROOT / "rules" / "disclosure-beijing-2024.toml"
BEIJING_ARGS = ("--rules", str(BEIJING), "--cases", str(SAMPLE), "--departments", str(RECORDS))
# the domain's internal values, which a user never reads (labels stand for them)
INTERNAL = {*load_domain("disclosure").events, *load_domain("disclosure").roles, *load_domain("disclosure").kinds,
            *(v for values in load_domain("disclosure").value_labels.values() for v in values)}
PROPOSALS_WORDS = ("建议", "提案", "提出人", "代表", "委员")


def _user_words(text: str) -> set[str]:
    import re
    return {v for v in INTERNAL if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text)} | {
        w for w in PROPOSALS_WORDS if w in text}


def _workbook_text(data: bytes) -> str:
    import io

    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(data))
    return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None)


@pytest.mark.slow  # the whole sample year (3,519 cases), scored in process
def test_score_explain_and_reports_show_labels_only(tmp_path):
    ran = scoring("--lang", "zh", "score", *BEIJING_ARGS)
    assert ran.returncode == 0, ran.stderr
    assert "市城乡规划局" in ran.stdout and "总分 = 综合考评×0.6 + 三方评估×0.3 + 自查自评×0.1" in ran.stdout
    assert _user_words(ran.stdout) == set()
    explained = scoring("--lang", "zh", "explain", *BEIJING_ARGS, "--department", "市城乡规划局")
    assert explained.returncode == 0, explained.stderr
    assert "依申请公开·责任单位" in explained.stdout and "年度报告·责任单位" in explained.stdout
    assert _user_words(explained.stdout) == set()
    one = scoring("--lang", "zh", "explain", *BEIJING_ARGS, "--department", "市城乡规划局", "--case", "2024-D45-S026")
    assert one.returncode == 0, one.stderr
    assert "2024-D45-S026  依申请公开·责任单位" in one.stdout
    for fmt in ("xlsx", "html"):
        out = tmp_path / f"ranking.{fmt}"
        ran = scoring("--lang", "zh", "score", *BEIJING_ARGS, "--format", fmt, "--out", str(out))
        assert ran.returncode == 0, ran.stderr
        text = _workbook_text(out.read_bytes()) if fmt == "xlsx" else out.read_text("utf-8")
        assert "市城乡规划局" in text
        if fmt == "xlsx":
            assert _user_words(text) == set(), fmt


@pytest.mark.slow  # the whole sample year (3,519 cases), scored in process
def test_self_check_and_bulletin_on_the_sample(tmp_path):
    checked = scoring("--lang", "zh", "self-check", "--rules", str(JINZHOU), "--cases", str(SAMPLE),
                      "--department", "市城乡规划局", "--as-of", "2024-06-30")
    assert checked.returncode == 0, checked.stderr
    # an information item not yet due is at stake; one overdue can still be published late
    assert "规则 disclosure-jinzhou-2024 1.0.0 · 已纳入考核 60 件" in checked.stdout  # not 交办, the proposals' word
    assert "市城乡规划局行政处罚（29）尚未公开（期限2024-07-12）" in checked.stdout
    assert "2024-D45-X031  Z1 主动公开    2024-03-25  0.5       0.5" in checked.stdout
    assert _user_words(checked.stdout) == set()
    bulletin = tmp_path / "bulletin.html"
    ran = scoring("--lang", "zh", "bulletin", *BEIJING_ARGS, "--month", "2024-06", "--format", "html",
                  "--out", str(bulletin))
    assert ran.returncode == 0, ran.stderr
    assert "已纳入考核" in bulletin.read_text("utf-8") and "交办" not in bulletin.read_text("utf-8")


@pytest.mark.slow  # the whole sample year (3,519 cases), scored in process
def test_verify_record_replay_and_diff_on_the_sample(tmp_path):
    ledger = tmp_path / "ledger.json"
    store = tmp_path / "runs.db"
    ran = scoring("score", *BEIJING_ARGS, "--format", "json", "--out", str(ledger), "--record", "--store", str(store))
    assert ran.returncode == 0, ran.stderr
    run_id = ran.stderr.split()[2]
    verified = scoring("verify", str(ledger), *BEIJING_ARGS)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    replayed = scoring("replay", run_id, "--store", str(store))
    assert replayed.returncode == 0 and replayed.stdout.startswith(f"reproduced: run {run_id}"), replayed.stdout
    # the same year under a heavier deduction for a late answer: the units with late answers move
    changed = scoring("replay", run_id, "--store", str(store), "--set", "answer_late=4", "--record")
    assert changed.returncode == 0, changed.stderr
    second = changed.stderr.split()[2]
    diff = scoring("diff", run_id, second, "--store", str(store), "--format", "json")
    assert diff.returncode == 0, diff.stderr
    moved = {d["department"] for d in json.loads(diff.stdout)["departments"] if d["delta"] != 0}
    assert "市城乡规划局" in moved and "市统计局" not in moved
