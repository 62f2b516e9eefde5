"""Excel ledgers (办理台账): the same cases as the JSON sample, every problem with sheet, row and column."""
import datetime as dt
import importlib.util
import json
import tomllib
from importlib import resources

import pytest
from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring
from openpyxl import Workbook, load_workbook

from scoring.base.errors import InputError
from scoring.domain.spec import default_domain
from scoring.engine.compiler import load_compiled
from scoring.engine.session import Session
from scoring.inputs.case_file import canonical_case_json, load_cases, parse_cases
from scoring.inputs.register import cases_to_jsonl, load_mapping, load_register, read_register

LEDGER = ROOT / "samples" / "register-2020.xlsx"
MAIN = ("案号", "类别", "标题", "提出人", "会议", "承办单位", "办理类型", "交办日期", "签收日期", "答复日期", "办理结果",
        "反馈日期", "满意度", "公开日期")
PROCESS = ("案号", "单位", "日期", "事项", "方式", "天数", "办理结果", "满意度", "备注", "事件编号")


def ledger(tmp_path, main_rows, process_rows=None, main_headers=MAIN, process_headers=PROCESS, name="ledger.xlsx"):
    """A workbook with sheet 办理台账 (and 办理过程 when process rows are given); rows as dicts header -> value."""
    workbook = Workbook()
    sheets = [(workbook.active, "办理台账", main_headers, main_rows)]
    if process_rows is not None:
        sheets.append((workbook.create_sheet(), "办理过程", process_headers, process_rows))
    for sheet, title, headers, rows in sheets:
        sheet.title = title
        sheet.append(list(headers))
        for row in rows:
            sheet.append([row.get(h) for h in headers])
    path = tmp_path / name
    workbook.save(path)
    return path


def unit(case_id, department, role="主办", assigned="2020-03-10", kind="提案", **more):
    return {"案号": case_id, "类别": kind, "标题": f"关于{case_id}的提案", "提出人": "张委员", "承办单位": department,
            "办理类型": role, "交办日期": assigned, **more}


def step(case_id, department, date, what, **more):
    return {"案号": case_id, "单位": department, "日期": date, "事项": what, **more}


def problems_of(path, **kwargs):
    with pytest.raises(InputError) as info:
        load_register(path, **kwargs)
    return [str(p) for p in info.value.problems]


def dump(case):
    return json.loads(canonical_case_json(case))


def without_ids(case):
    data = dump(case)
    events = [{k: v for k, v in e.items() if k != "id"} for e in data.pop("events")]
    return data, sorted(events, key=lambda e: json.dumps(e, ensure_ascii=False, sort_keys=True))


# ------------------------------------------------------------------------- the sample

@pytest.fixture(scope="module")
def sample_import():
    return load_register(LEDGER)


def test_the_sample_ledger_imports_to_exactly_the_json_sample(sample_import):
    expected = load_cases(SAMPLE)
    assert [canonical_case_json(c) for c in sample_import.cases] == [canonical_case_json(c) for c in expected.cases]
    assert sample_import.sha256 == expected.sha256
    assert sample_import.skipped == []


@pytest.mark.slow
def test_make_register_is_deterministic_and_wrote_the_sample_ledger(tmp_path):
    spec = importlib.util.spec_from_file_location("make_register", ROOT / "samples" / "make_register.py")
    make_register = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_register)
    cases = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    written = make_register.workbook_bytes(make_register.build_workbook(cases))
    assert written == make_register.workbook_bytes(make_register.build_workbook(cases))
    # the committed file has the same content (its bytes may differ under another openpyxl or zlib)
    (tmp_path / "fresh.xlsx").write_bytes(written)
    assert content(tmp_path / "fresh.xlsx") == content(LEDGER)


def content(path):
    workbook = load_workbook(path)
    return [(sheet.title, list(sheet.iter_rows(values_only=True)), sorted(str(r) for r in sheet.merged_cells.ranges),
             [c.number_format for row in sheet.iter_rows() for c in row]) for sheet in workbook.worksheets]


def test_the_sample_ledger_is_kept_like_a_clerk_keeps_it():
    workbook = load_workbook(LEDGER)
    main, process = workbook["办理台账"], workbook["办理过程"]
    assert main.merged_cells.ranges and main["A2"].value == "序号"  # a title row, case cells merged over units
    headers = [c.value for c in main[2]]
    kinds = {header: {type(row[headers.index(header)]) for row in main.iter_rows(min_row=3, values_only=True)} - {type(None)}
             for header in ("交办日期", "签收日期", "答复日期", "反馈日期", "公开日期")}
    assert kinds == {"交办日期": {dt.datetime}, "签收日期": {str}, "答复日期": {str}, "反馈日期": {dt.datetime},
                     "公开日期": {str}}
    written = {c.value for (c,) in process.iter_rows(min_row=2, min_col=3, max_col=3) if isinstance(c.value, str)}
    assert {w[4] for w in written} == {"-", "/", ".", "年"}


def test_without_event_ids_only_the_ids_differ_and_the_scores_are_the_same(tmp_path, sample_import):
    workbook = load_workbook(LEDGER)
    for sheet in workbook.worksheets:  # blank the 事件编号 headers: the columns are then ignored
        for cell in sheet[2 if sheet.title == "办理台账" else 1]:
            if cell.value and str(cell.value).endswith("事件编号"):
                cell.value = None
    path = tmp_path / "no-ids.xlsx"
    workbook.save(path)
    imported = load_register(path)
    assert [without_ids(c) for c in imported.cases] == [without_ids(c) for c in sample_import.cases]
    ids = {e.id for c in imported.cases for e in c.events}
    assert "办理台账!K3" in ids and any(i.startswith("办理过程!C") for i in ids)

    def scores(cases):
        result = Session(load_compiled(REFERENCE), jobs=0).run(cases)
        return ([(d.department, d.exact_total, d.grade, d.rank, d.criteria) for d in result.departments],
                sorted((h.case, h.department, h.total) for d in result.departments for h in d.cases))
    assert scores(imported) == scores(sample_import)


def test_the_json_lines_writer_round_trips_and_is_stable(sample_import):
    text = cases_to_jsonl(reversed(sample_import.cases))
    assert text == cases_to_jsonl(sample_import.cases)
    reread = parse_cases(text.encode("utf-8"), "imported.jsonl")
    assert [canonical_case_json(c) for c in reread.cases] == [canonical_case_json(c) for c in sample_import.cases]
    first = json.loads(text.splitlines()[0])
    assert first["id"] == "2020-J0001" and list(first)[-3:] == ["session", "handlers", "events"]
    assert [e["date"] for e in first["events"]] == sorted(e["date"] for e in first["events"])


# -------------------------------------------------------------------------- layouts

def test_a_single_sheet_holds_the_first_events_of_each_unit(tmp_path):
    path = ledger(tmp_path, [
        unit("T2", "甲局", 会议="政协全会", 签收日期="2020-03-11", 答复日期="2020-05-20", 办理结果="解决采纳",
             反馈日期="2020-05-30", 满意度="基本满意", 公开日期="2020-06-01"),
        unit("T2", "乙局", role="协办", 答复日期="2020-04-01"),
        unit("T10", "甲局", role="分办", kind="建议", 签收日期="2020-03-12"),
    ])
    case_file = load_register(path)
    assert [c.id for c in case_file.cases] == ["T2", "T10"]
    t2, t10 = (dump(c) for c in case_file.cases)
    assert t2["session"] == "政协全会" and t2["kind"] == "proposal" and t10["kind"] == "suggestion"
    assert t2["handlers"] == [{"department": "乙局", "role": "co"}, {"department": "甲局", "role": "lead"}]
    assert t10["handlers"] == [{"department": "甲局", "role": "split"}]
    assert sorted((e["id"], e["type"], e["date"], e.get("outcome"), e.get("rating")) for e in t2["events"]) == [
        ("办理台账!H2", "assigned", "2020-03-10", None, None), ("办理台账!H3", "assigned", "2020-03-10", None, None),
        ("办理台账!I2", "signed", "2020-03-11", None, None), ("办理台账!J2", "reply", "2020-05-20", "A", None),
        ("办理台账!J3", "co_reply", "2020-04-01", None, None),
        ("办理台账!L2", "feedback", "2020-05-30", None, "basically_satisfied"),
        ("办理台账!N2", "published", "2020-06-01", None, None)]


def test_the_process_sheet_expresses_every_event_type(tmp_path):
    main = [unit("C1", "甲局", 签收日期="2020-03-11"), unit("C1", "乙局", role="会办")]
    process = [
        step("C1", "甲局", "2020-04-01", "联系", 方式="走访", 备注="调研座谈"),
        step("C1", "甲局", "2020-04-02", "联系", 方式="电子邮件"),
        step("C1", "甲局", "2020-05-01", "申请延期", 天数="30天"),
        step("C1", "甲局", "2020-05-02", "催办"),
        step("C1", "甲局", "2020-06-01", "答复", 办理结果="B类", 事件编号="r1"),
        step("C1", "甲局", "2020-06-10", "反馈", 满意度="不满意"),
        step("C1", "甲局", "2020-06-11", "公开"),
        step("C1", "乙局", "2020-03-12", "签收"),
        step("C1", "乙局", "2020-03-20", "退办"),
        step("C1", "乙局", "2020-03-25", "重新交办"),
        step("C1", "乙局", "2020-04-10", "会办意见"),
    ]
    case = dump(load_register(ledger(tmp_path, main, process)).cases[0])
    assert {e["type"] for e in case["events"]} == set(default_domain().events)
    by_id = {e["id"]: e for e in case["events"]}
    assert by_id["办理过程!C2"] == {"id": "办理过程!C2", "type": "contact", "date": "2020-04-01", "department": "甲局",
                                   "mode": "face_to_face", "note": "调研座谈"}
    assert by_id["办理过程!C3"]["mode"] == "email" and by_id["办理过程!C4"]["days"] == 30
    assert by_id["r1"]["outcome"] == "B" and by_id["办理过程!C7"]["rating"] == "dissatisfied"


@pytest.mark.parametrize("written", [
    dt.date(2020, 3, 10), dt.datetime(2020, 3, 10, 0, 0), "2020-03-10", "2020/3/10", "2020.3.10", "2020年3月10日",
    " 2020年03月10日 ", "２０２０／３／１０"])
def test_every_date_form(tmp_path, written):
    path = ledger(tmp_path, [unit("C1", "甲局", assigned=written)], [step("C1", "甲局", written, "签收")])
    assert {e.date for e in load_register(path).cases[0].events} == {dt.date(2020, 3, 10)}


def test_merged_cells_and_a_title_row(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["2020年提案办理台账"])
    sheet.merge_cells("A1:E1")
    sheet.append(["案号", "类别", "承办单位", "办理类型", "交办日期"])
    sheet.append(["C1", "提案", "甲局", "主办", "2020-03-10"])
    sheet.append([None, None, "乙局", "会办", "2020-03-10"])
    sheet.merge_cells("A3:A4")
    sheet.merge_cells("B3:B4")
    path = tmp_path / "merged.xlsx"
    workbook.save(path)
    (case,) = load_register(path).cases
    assert case.kind == "proposal" and [h.department for h in case.handlers] == ["甲局", "乙局"]


# ------------------------------------------------------------------------- problems

def test_bad_cells_and_a_missing_header_are_listed_at_once(tmp_path):
    path = ledger(tmp_path, [
        unit("C1", "甲局", assigned="2020-3-1x"),
        unit("C2", "甲局", role="牵头办"),
        unit(None, "乙局"),
        unit("C3", "甲局", 答复日期="2020-05-01", 办理结果="A", 反馈日期="2020-05-09", 满意度="很满意"),
    ], [step("C1", "甲局", "2020-04-01", "联系", 方式="飞鸽传书")],
        process_headers=("案号", "单位", "日期", "办理事", "方式"))
    assert problems_of(path) == [
        f'{path}:1: sheet 办理过程: no column 事项 (required; headers accepted: 事项, 办理事项, 环节, 办理环节); '
        f'column D is headed "办理事" (did you mean "办理事项"?)',
        f'{path}:2: sheet 办理台账, column 交办日期 (H), case C1: "2020-3-1x" is not a date: write 2020-03-10, '
        f'2020/3/10, 2020.3.10 or 2020年3月10日, or use a date cell',
        f'{path}:3: sheet 办理台账, column 办理类型 (G), case C2: "牵头办" is not a known 办理类型 (did you mean "牵头"?): '
        f'the mapping knows 主办, 承办, 牵头, 分办, 会办, 协办 (add it under [values.role] in a mapping)',
        f"{path}:4: sheet 办理台账, column 案号 (A): no 案号: the row belongs to no case",
        f'{path}:5: sheet 办理台账, column 满意度 (M), case C3: "很满意" is not a known 满意度 (did you mean "满意"?): '
        f'the mapping knows 满意, 基本满意, 不满意 (add it under [values.rating] in a mapping)',
        f'{path}:2: sheet 办理过程, column 方式 (E), case C1: "飞鸽传书" is not a known 方式: the mapping knows 面商, '
        f'面对面, 走访, 座谈, 现场, 现场视察, 电话, 微信, 书面, 信函, 邮件, 电子邮件, 其他 '
        '(add it under [values.mode] in a mapping)',
    ]


def test_problems_of_putting_cases_together_name_rows_and_columns(tmp_path):
    path = ledger(tmp_path, [
        unit("C1", "甲局", 答复日期="2020-05-01"),
        unit("C1", "乙局", role="会办", kind="建议", 办理结果="A"),
        unit("C2", "甲局", 满意度="满意"),
    ], [
        step("C1", "甲局", "2020-04-01", "联系"),
        step("C1", "甲局", "2020-04-02", "催办", 天数=5),
        step("C9", "甲局", "2020-04-02", "催办"),
    ])
    assert problems_of(path) == [
        f"{path}:2: sheet 办理台账, column 办理结果 (K), case C1: no 办理结果, although 答复日期 is given",
        f'{path}:3: sheet 办理台账, column 类别 (B), case C1: "建议" differs from "提案" on row 2',
        f'{path}:3: sheet 办理台账, column 办理结果 (K), case C1: "A": the opinion of a "会办" unit (a co_reply) has no 办理结果',
        f'{path}:4: sheet 办理台账, column 满意度 (M), case C2: "满意" is given, but 反馈日期 is blank',
        f'{path}:2: sheet 办理过程, column 方式 (E), case C1: no 方式: a "联系" (contact) needs it',
        f'{path}:3: sheet 办理过程, column 天数 (F), case C1: 5: 天数 belongs to extension events, not to a "催办" (urged)',
        f"{path}:4: sheet 办理过程, column 案号 (A), case C9: the case is not on sheet 办理台账, which lists its units",
    ]


def test_skip_invalid_keeps_the_good_cases_and_lists_the_bad(tmp_path):
    path = ledger(tmp_path, [
        unit("C1", "甲局"),
        unit("C2", "甲局", assigned="2020-02-30"),
        unit("C3", "甲局"),
        unit(None, "甲局"),
    ], [step("C3", "丙局", "2020-04-01", "催办")])
    expected = [
        f"{path}:3: sheet 办理台账, column 交办日期 (H), case C2: \"2020-02-30\" is not a valid date "
        "(day is out of range for month)",
        f"{path}:5: sheet 办理台账, column 案号 (A): no 案号: the row belongs to no case",
        # found by the validation of ingest.py, put on the row of the event
        f'{path}:2: sheet 办理过程, case C3, events[1] (办理过程!C2): department "丙局" is not a handler of this case',
    ]
    assert problems_of(path) == expected
    case_file = load_register(path, skip_invalid=True)
    assert [c.id for c in case_file.cases] == ["C1"]
    assert [(s.case_id, s.line) for s in case_file.skipped] == [("C2", 3), ("C3", 4), (None, 5)]
    assert sorted(str(p) for s in case_file.skipped for p in s.problems) == sorted(expected)


def test_a_sheet_of_process_records_under_another_name_is_not_ignored_silently(tmp_path):
    path = ledger(tmp_path, [unit("C1", "甲局")], [step("C1", "甲局", "2020-03-11", "签收")])
    workbook = load_workbook(path)
    workbook["办理过程"].title = "Sheet2"
    workbook.save(path)
    assert problems_of(path) == [f"{path}: sheet Sheet2: looks like process records but is not read: name it 办理过程 "
                                 f"or add its name to [sheets] process in a mapping"]


def test_a_file_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(b"not a zip")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: cannot be read as an Excel workbook")


# -------------------------------------------------------------------------- mapping

def test_a_user_mapping_overrides_a_header_and_values(tmp_path):
    mapping = tmp_path / "mine.toml"
    mapping.write_text('[main.columns]\ndepartment = ["责任单位"]\n\n'
                       '[values.role]\n"承办" = "split"\n\n[values.rating]\n"比较满意" = "basically_satisfied"\n',
                       encoding="utf-8")
    headers = tuple("责任单位" if h == "承办单位" else h for h in MAIN)
    rows = [{**unit("C1", None, role="承办", 答复日期="2020-05-01", 办理结果="A", 反馈日期="2020-05-09", 满意度="比较满意"),
             "责任单位": "甲局"}]
    (case,) = load_register(ledger(tmp_path, rows, main_headers=headers), mapping_path=mapping).cases
    assert [(h.department, h.role) for h in case.handlers] == [("甲局", "split")]
    assert [e.rating for e in case.events if e.type == "feedback"] == ["basically_satisfied"]

    # the user's list of headers replaces the default one
    default_headers = ledger(tmp_path, [unit("C1", "甲局")], name="default.xlsx")
    assert problems_of(default_headers, mapping_path=mapping) == [
        f"{default_headers}:1: sheet 办理台账: no column 责任单位 (required; headers accepted: 责任单位)",
        f'{default_headers}:1: sheet 办理台账, column 承办单位 (F): no field of the mapping has the header "承办单位". Name '
        "its column under [main.columns] (or [main.extra]) in a mapping, or list the header in [main] ignore if the "
        "column is not to be read"]


def test_a_bad_user_mapping_is_reported_with_its_lines(tmp_path):
    mapping = tmp_path / "mine.toml"
    mapping.write_text('[main.colums]\ndepartment = ["责任单位"]\n\n[main.extra]\ntitle = ["题目"]\n\n'
                       '[values.mode]\n"视频" = "video"\n\n[process]\nrequired = ["case", "unit"]\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_mapping(mapping)
    assert [str(p) for p in info.value.problems] == [
        f'{mapping}:1: main.colums: unknown key (did you mean "columns"?)',
        f"{mapping}:5: main.extra.title: is a field of the case format or of the register; map its column under columns, "
        f"not as an extra field",
        f"{mapping}:8: values.mode.\"视频\": 'video' is not one of \"face_to_face\", \"phone\", \"wechat\", \"letter\", "
        f"\"email\", \"other\"",
        f'{mapping}:11: process.required: unknown field "unit"',
    ]


def test_the_default_mapping_can_say_every_value_of_the_format():
    mapping = load_mapping()
    meanings = {table: {meaning for _, meaning in values.values()} for table, values in mapping.values.items()}
    domain = default_domain()
    enums = {f.name: [v.value for v in f.values] for f in domain.event_fields.values() if f.kind == "enum"}
    assert set(enums) == {"mode", "outcome", "rating"}
    for table, values in (("kind", domain.kinds), ("role", domain.roles), ("event", domain.events), *enums.items()):
        assert meanings[table] == set(values), table
    assert meanings["flag"] == {True, False}
    default = tomllib.loads(resources.files("scoring").joinpath("domains/registers/proposals.toml").read_text("utf-8"))
    assert set(default["main"]["columns"]) == set(mapping.main.kinds) - set(mapping.main.extra)


def test_records_before_validation(tmp_path):
    path = ledger(tmp_path, [unit("C1", "甲局", 签收日期=dt.datetime(2020, 3, 11))])
    records = read_register(path)
    assert records.problems == [] and [c.case_id for c in records.cases] == ["C1"]
    assert records.cases[0].record == {
        "id": "C1", "kind": "proposal", "title": "关于C1的提案", "proposer": "张委员",
        "handlers": [{"department": "甲局", "role": "lead"}],
        "events": [{"id": "办理台账!H2", "type": "assigned", "date": "2020-03-10", "department": "甲局"},
                   {"id": "办理台账!I2", "type": "signed", "date": "2020-03-11", "department": "甲局"}]}


# ---------------------------------------------------------------- on the command line

@pytest.mark.slow
def test_import_and_cases_xlsx_on_the_command_line_score_as_the_json_sample(tmp_path):
    out = tmp_path / "cases.jsonl"
    run = scoring("import", LEDGER, "--out", out)
    assert run.returncode == 0, run.stderr
    json_ledger = scoring("score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "json").stdout
    for cases in (out, LEDGER):  # the imported file, and the ledger given directly
        assert scoring("score", "--rules", REFERENCE, "--cases", cases, "--format", "json").stdout == json_ledger
    # a recorded run keeps the workbook's bytes, and a replay reads them as a ledger again
    store = tmp_path / "runs.db"
    recorded = scoring("score", "--rules", REFERENCE, "--cases", LEDGER, "--record", "--store", store, "--format", "json")
    assert recorded.returncode == 0, recorded.stderr
    run_id = recorded.stderr.split()[2]
    replay = scoring("replay", run_id, "--store", store)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.startswith(f"reproduced: run {run_id}: the ledger is byte-identical")


def test_a_bad_ledger_on_the_command_line_writes_nothing_and_names_each_cell(tmp_path):
    workbook = load_workbook(LEDGER)
    sheet = workbook["办理台账"]
    sheet["J3"] = "牵头办"
    sheet["L4"] = "2020/13/45"
    bad = tmp_path / "bad.xlsx"
    workbook.save(bad)
    out = tmp_path / "cases.jsonl"
    out.write_text("good\n", encoding="utf-8")
    run = scoring("import", bad, "--out", out)
    assert run.returncode == 2
    assert f'{bad}:3: sheet 办理台账, column 办理类型 (J), case 2020-J0001: "牵头办" is not a known 办理类型' in run.stderr
    assert f'{bad}:4: sheet 办理台账, column 签收日期 (L), case 2020-J0001: "2020/13/45" is not a valid date' in run.stderr
    assert out.read_text(encoding="utf-8") == "good\n"  # the good output is not overwritten
    kept = scoring("import", bad, "--out", out, "--skip-invalid")
    assert kept.returncode == 0 and "skipped: case 2020-J0001 (row 3)" in kept.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 208
