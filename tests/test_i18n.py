"""Chinese by default, English on request: the catalog is complete and current, and the command line
speaks the language chosen by --lang, SCORING_LANG or the locale.

The rest of the suite runs in English (tests/conftest.py sets SCORING_LANG=en); the commands here
run with the environment a user has (no SCORING_LANG, LANG=C.UTF-8), unless a test says otherwise.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import re
import sqlite3
import tomllib

import click
import pytest
from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring

from scoring.base import i18n
from scoring.base.library_text import library_message, toml_error
from scoring.cli.commands import main

SPEC = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
messages = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(messages)

# what a Chinese office's server has: no language asked for, the C locale
CHINESE = {"SCORING_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


def chinese(*args, **kwargs):
    return scoring(*args, env=CHINESE, **kwargs)


def changed_reference(tmp_path, *changes: tuple[str, str]):
    """bad.toml: the reference rulebook with each (old, new) made once, in order."""
    text = REFERENCE.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    return bad


# ---------------------------------------------------------------- the catalog
@pytest.fixture(scope="module")
def catalog():
    return messages.read_catalog()


def test_the_compiled_catalog_is_the_catalog(catalog):
    assert messages.MO.read_bytes() == messages.mo_bytes(catalog), "run: python scripts/messages.py compile"


def test_every_message_of_the_code_has_a_chinese_translation(catalog):
    extracted = messages.template()
    assert len(extracted) > 100
    translated = {(m.context, m.id) for m in catalog if m.id and all(messages.translations(m))}
    missing = [m.id for m in extracted if m.id and (m.context, m.id) not in translated]
    assert not missing, f"run: python scripts/messages.py extract, then translate: {missing}"


PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:![rsa])?(?::[^}]*)?\}|%\([a-z_]+\)[sd]")


@pytest.mark.parametrize("form", ["singular", "plural"])
def test_translations_have_the_placeholders_of_their_message(catalog, form):
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        source = ids[0] if form == "singular" or len(ids) == 1 else ids[1]
        for text in messages.translations(message):
            # a language with one plural form has one translation: it stands for the plural message
            expected = source if isinstance(message.id, str) else ids[-1]
            if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(expected)):
                wrong.append((source, text))
    assert not wrong


def test_placeholders_are_named_so_a_translation_can_reorder_them():
    positional = [m.id for m in messages.template() if m.locations and m.locations[0][0].startswith("scoring/")
                  and any(re.search(r"\{\}|\{\d+\}|%s|%d", text) for text in ([m.id] if isinstance(m.id, str) else m.id))]
    assert not positional


# ---------------------------------------------------------------- choosing the language
def test_the_default_is_chinese_help():
    run = chinese("--help")
    assert run.returncode == 0
    assert "用法:" in run.stdout and "选项:" in run.stdout and "命令:" in run.stdout
    assert "对各部门办理人大代表建议和政协委员提案的工作进行评分。" in run.stdout
    assert "显示本帮助并退出。" in run.stdout and "Show this message" not in run.stdout
    # each command's line is the start of its first sentence, cut to the line (click's cut by words, which
    # Chinese does not separate, left "..." alone)
    rules = chinese("rules", "--help").stdout
    assert "  validate  检查规则：" in rules and not any(line.rstrip().endswith(" ...") for line in rules.splitlines())


def test_a_command_s_help_is_chinese():
    run = chinese("score", "--help")
    assert "为每个部门排名" in run.stdout and "规则文件（TOML）" in run.stdout
    assert "[默认：table]" in run.stdout and "[必填]" in run.stdout
    assert "退出状态：0 完成" in run.stdout


def _command_paths(group, path=()):
    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*path, name))


def test_chinese_help_keeps_to_80_columns_and_breaks_between_characters_not_inside_names():
    """click wraps by characters at spaces: a Chinese line (two columns a character, no spaces) ran to
    116 columns. Every command's help at 80 columns, measured by display width."""
    from wcwidth import wcswidth
    paths = [()] + list(_command_paths(main))
    for path in paths:
        shown = scoring(*path, "--help", env={**CHINESE, "COLUMNS": "80"}).stdout
        lines = shown.splitlines()
        assert all(wcswidth(line) <= 80 for line in lines), (path, [line for line in lines if wcswidth(line) > 80])
        assert not [line for line in lines if line.strip()[:1] in set("，。、；：）")], path  # no line starts with a closing mark
        assert not [line for line in lines if line.rstrip()[-1:] in set("（《「")], path  # nor ends with an opening one
    shown = scoring("score", "--help", env={**CHINESE, "COLUMNS": "80"}).stdout
    assert "--out）" in shown and "table.key=4" in shown and "$SCORING_STORE" in shown  # narrow runs stay whole
    assert shown.count("  [必填]") == 2  # click's addition: whole, after its two spaces


@pytest.mark.parametrize("env,args", [
    ({**CHINESE, "SCORING_LANG": None}, ["--lang", "en"]),
    ({**CHINESE, "SCORING_LANG": "en"}, []),
    ({**CHINESE, "LANG": "en_US.UTF-8"}, []),
    ({**CHINESE, "LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, []),
], ids=["--lang", "SCORING_LANG", "LANG", "LC_ALL"])
def test_english_is_chosen_by_option_or_environment(env, args):
    run = scoring(*args, "score", "--help", env=env)
    assert run.returncode == 0
    assert "Usage:" in run.stdout and "Rank every department" in run.stdout and "[default: table]" in run.stdout
    top = scoring(*args, "--help", env=env).stdout  # the top command's -h line too, made before --lang is read
    assert "Show this message and exit." in top and not re.search(r"[\u4e00-\u9fff]{3}", top.replace("办理台账", "")
                                                                   .replace("月度通报", "")), top


def test_the_option_wins_over_the_environment():
    run = scoring("--lang", "zh", "score", "--help", env={**CHINESE, "SCORING_LANG": "en"})
    assert "为每个部门排名" in run.stdout


def test_a_chinese_locale_and_an_unknown_setting_give_chinese():
    assert "用法:" in scoring("--help", env={**CHINESE, "LANG": "zh_CN.UTF-8"}).stdout
    run = scoring("score", "--help", env={**CHINESE, "SCORING_LANG": "fr"})
    assert "为每个部门排名" in run.stdout
    assert "SCORING_LANG=fr 不是可用的语言" in run.stderr


def test_click_s_own_errors_are_chinese():
    run = chinese("score", "--rules", REFERENCE, "--cases", SAMPLE, "--bogus")
    assert run.returncode == 2
    assert "错误：没有选项 '--bogus'。" in run.stderr and "用法:" in run.stderr


# ---------------------------------------------------------------- errors, warnings, verdicts
BAD_DATE = ('{"id": "2020-J0003", "kind": "suggestion", "handlers": [{"department": "甲局", "role": "lead"}], '
            '"events": [{"id": "e1", "type": "assigned", "date": "2020-13-10", "department": "甲局"}]}\n')


def test_an_input_error_is_framed_in_chinese(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(BAD_DATE, encoding="utf-8")
    run = chinese("score", "--rules", REFERENCE, "--cases", bad)
    assert run.returncode == 2
    first, located = run.stderr.splitlines()[:2]
    assert first == f"错误：{bad}：1 个办件中有 1 个问题；未评分："
    assert located.startswith(f"  {bad}:1: ")


def test_a_missing_file_and_an_unknown_department_are_told_in_chinese(tmp_path):
    run = chinese("score", "--rules", REFERENCE, "--cases", tmp_path / "absent.jsonl")
    assert run.returncode == 2 and "无法读取办件文件：没有那个文件或目录" in run.stderr
    run = chinese("explain", "--rules", REFERENCE, "--cases", SAMPLE, "--department", "市民正局")
    assert run.returncode == 2 and "错误：评分的办件中没有部门“市民正局”（是不是“市民政局”？）" in run.stderr


def test_verdicts_are_chinese(tmp_path):
    ledger = tmp_path / "ledger.json"
    written = chinese("score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "json", "--out", ledger)
    assert written.returncode == 0 and f"已写入 {ledger}" in written.stderr
    run = chinese("verify", ledger, "--rules", REFERENCE, "--cases", SAMPLE)
    assert run.returncode == 0 and run.stdout == f"已核实：{ledger}：重新评分得到逐字节相同的账本\n"
    tests = chinese("rules", "test", ROOT / "rules")
    assert tests.returncode == 0
    assert "  通过  " in tests.stdout and "覆盖率 " in tests.stdout and "个测试用例：" in tests.stdout
    assert "PASS" not in tests.stdout


def test_quiet_leaves_out_notes_in_chinese_too(tmp_path):
    out = tmp_path / "ranking.csv"
    run = scoring("-q", "score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "csv", "--out", out, env=CHINESE)
    assert run.returncode == 0 and run.stderr == "" and out.exists()


# ---------------------------------------------------------------- outputs: CSV headers and the work list
def test_csv_headers_are_chinese_and_english_on_request():
    ranking = chinese("score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "csv").stdout
    assert ranking.splitlines()[0] == "部门,排名,等级,总分,案号,类别,标题,承办类型,办件得分,项目,规则,行类型,分数,依据,说明"
    work = chinese("self-check", "--rules", REFERENCE, "--cases", SAMPLE, "--department", "市民政局", "--as-of", "2020-06-05",
                   "--format", "csv").stdout
    assert work.splitlines()[0] == "事项,案号,项目,标题,期限,剩余工作日,分数,评价方,说明"
    english = scoring("--lang", "en", "score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "csv", env=CHINESE).stdout
    assert english.splitlines()[0].startswith("department,rank,grade,department_total,case,")


def test_the_work_list_sheet_is_chinese(tmp_path):
    import openpyxl
    book = tmp_path / "self-check.xlsx"
    run = chinese("self-check", "--rules", REFERENCE, "--cases", SAMPLE, "--department", "市民政局", "--as-of", "2020-06-05",
                  "--format", "xlsx", "--out", book)
    assert run.returncode == 0
    sheet = openpyxl.load_workbook(book)["待办"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("事项", "案号", "项目", "名称", "期限", "剩余工作日", "分数", "评价方", "说明")
    assert rows[2][0] == "未到期" and "尚未答复" in rows[2][8]


# ---------------------------------------------------------------- located problems
def test_a_case_file_s_problems_are_located_in_chinese(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(BAD_DATE, encoding="utf-8")
    located = chinese("score", "--rules", REFERENCE, "--cases", bad).stderr.splitlines()[1]
    assert located == f"  {bad}:1: 办件 2020-J0003, events[0] (e1).date: “2020-13-10”不是有效的日期（月份须在 1 至 12 之间）"
    english = scoring("--lang", "en", "score", "--rules", REFERENCE, "--cases", bad, env=CHINESE).stderr.splitlines()[1]
    assert english.endswith('case 2020-J0003, events[0] (e1).date: "2020-13-10" is not a valid date (month must be in 1..12)')


def test_a_shipped_domain_s_own_messages_are_chinese(tmp_path):
    """role_message is written in the domain file (English, like the code's messages) and translated by the
    catalog, which scripts/messages.py fills from the shipped domain files."""
    case = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    lead = next(h["department"] for h in case["handlers"] if h["role"] == "lead")
    case["events"].append({"id": "e99", "type": "co_reply", "date": case["events"][-1]["date"], "department": lead})
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    said = chinese("score", "--rules", REFERENCE, "--cases", bad).stderr
    assert f"co_reply 应来自会办单位，但“{lead}”是 lead" in said, said
    english = scoring("--lang", "en", "score", "--rules", REFERENCE, "--cases", bad, env=CHINESE).stderr
    assert f'a co_reply comes from a co-handler, but "{lead}" is lead' in english


def test_a_register_s_bad_cells_are_named_in_chinese(tmp_path):
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "办理台账"
    sheet.append(["案号", "类别", "标题", "承办单位", "办理类型", "交办日期"])
    sheet.append(["C1", "提案", "关于C1的提案", "甲局", "牵头办", "2020-3-1x"])
    register = tmp_path / "register.xlsx"
    workbook.save(register)
    run = chinese("import", register, "--out", tmp_path / "cases.jsonl")
    assert run.returncode == 2
    assert run.stderr.splitlines()[0] == f"错误：{register}：1 个办件中有 2 个问题；未评分："
    role = '工作表 办理台账, 列 办理类型（E）, 办件 C1: "牵头办" 不是已知的办理类型（是不是“牵头”？）'
    assert f"  {register}:2: {role}" in run.stderr
    assert f'  {register}:2: 工作表 办理台账, 列 交办日期（F）, 办件 C1: "2020-3-1x" 不是日期：请写作 ' in run.stderr
    assert "或使用日期格式的单元格" in run.stderr


def test_a_rulebook_s_problems_are_located_in_chinese(tmp_path):
    bad = changed_reference(tmp_path, ('when = "s.date <= sign_due"', 'when = "s.date <= sing_due"'),
                            ("[rulebook]", "[rulebook]\nversio = 1"))
    run = chinese("rules", "validate", bad)
    assert run.returncode == 1
    assert "rulebook.versio: 未知的键“versio”（是不是“version”？）；应为以下之一：" in run.stdout
    run = chinese("score", "--rules", bad, "--cases", SAMPLE)
    assert run.returncode == 2 and "未知的键“versio”" in run.stderr


def test_the_version_is_said_in_the_language_chosen():
    assert "，版本 0." in chinese("--version").stdout  # (the program is "main" in click's test runner)
    assert ", version 0." in scoring("--lang", "en", "--version", env=CHINESE).stdout


def test_the_run_store_s_listings_are_chinese(tmp_path):
    store = tmp_path / "runs.db"
    recorded = chinese("score", "--rules", REFERENCE, "--cases", SAMPLE, "--record", "--store", store)
    assert recorded.returncode == 0 and "已记录运行 " in recorded.stderr
    listed = chinese("runs", "list", "--store", store).stdout
    assert listed.split()[:4] == ["运行", "#", "记录时间（UTC）", "规则"]
    run_id = listed.splitlines()[2].split()[0]
    shown = chinese("runs", "show", run_id, "--store", store).stdout.splitlines()
    assert shown[0] == f"运行         {run_id} (#1)" and shown[1].startswith("哈希         ")
    assert any(line.startswith("输入 ") and "办件 209 件，承办记录 407 条，跳过 0 件" in line for line in shown)
    assert chinese("runs", "check", "--store", store).stdout.startswith(f"{store}：正常：1 次运行")

    with sqlite3.connect(store) as db:  # the store's own checks: an altered ledger, an unknown run
        db.execute("DROP TRIGGER blobs_append_only_update")
        db.execute("UPDATE blobs SET content = X'00' WHERE sha256 = (SELECT min(sha256) FROM blobs)")
    damaged = chinese("runs", "check", "--store", store)
    assert damaged.returncode != 0 and "记录后被改动过" in damaged.stdout + damaged.stderr
    assert "只追加触发器已被删除" in damaged.stdout + damaged.stderr
    unknown = chinese("runs", "show", "ffffffff", "--store", store)
    assert "中没有运行“ffffffff”" in unknown.stderr and "`scoring runs list` 可列出全部运行" in unknown.stderr

def test_a_ledger_is_the_same_bytes_in_either_language_skipped_cases_included(tmp_path):
    """The problems of skipped cases are data of the ledger: written in English whatever the language, so that
    a ledger made in Chinese is confirmed byte for byte in English (and a run replays in either)."""
    cases = tmp_path / "cases.jsonl"
    cases.write_text(SAMPLE.read_text(encoding="utf-8") + BAD_DATE, encoding="utf-8")
    args = ["score", "--rules", REFERENCE, "--cases", cases, "--skip-invalid", "--format", "json"]
    made = chinese(*args)
    assert made.returncode == 0 and "已跳过：" in made.stderr
    assert made.stdout == scoring("--lang", "en", *args, env=CHINESE).stdout
    assert "is not a valid date (month must be in 1..12)" in made.stdout
    ledger = tmp_path / "ledger.json"
    ledger.write_text(made.stdout, encoding="utf-8")
    verified = scoring("--lang", "en", "verify", ledger, *args[1:6], env=CHINESE)
    assert verified.returncode == 0 and "the same ledger, byte for byte" in verified.stdout


def test_a_rulebook_s_cross_checks_are_chinese(tmp_path):
    bad = changed_reference(tmp_path, ('id = "co"', 'id = "lead"'))
    run = chinese("rules", "validate", bad)
    assert run.returncode == 1
    assert "评分表编号“lead”重复使用（另见第 1 个）" in run.stdout
    assert "is used twice" not in run.stdout


def test_a_rulebook_s_matching_problems_are_chinese(tmp_path):
    bad = changed_reference(tmp_path, ('bind = { s = "first signed" }', 'bind = { s = "first of signed" }'))
    run = chinese("rules", "validate", bad)
    assert run.returncode == 1
    assert '事件应写作 "<type>"、"first <type>" 或 "last <type>"，而不是“first of signed”' in run.stdout


def test_department_records_problems_are_chinese(tmp_path):
    fixtures = ROOT / "rules" / "combined-2020.tests"
    records = tmp_path / "records.jsonl"
    records.write_text((fixtures / "categories-scorers-departments.jsonl").read_text(encoding="utf-8")
                       .replace('"self_score": 90', '"self_score": 190', 1), encoding="utf-8")
    run = chinese("score", "--rules", ROOT / "rules" / "combined-2020.toml", "--cases", fixtures / "categories-scorers.jsonl",
                  "--departments", records)
    assert run.returncode == 2
    assert run.stderr.splitlines()[0] == f"错误：{records}：部门记录中有 1 个问题；未评分："
    assert f"  {records}:1: 部门 市发展改革委, self_score: 190 高于声明的最大值 100" in run.stderr


def test_a_case_file_s_reading_problems_are_chinese(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(BAD_DATE.replace('"kind": "suggestion", ', '"kind": "suggestion", "kind": "proposal", '), encoding="utf-8")
    run = chinese("score", "--rules", REFERENCE, "--cases", bad)
    assert run.returncode == 2
    assert f"  {bad}:1: 不是有效的 JSON：键“kind”在同一个对象中出现两次（只能有一个值）" in run.stderr


def test_a_register_s_process_sheet_problems_are_chinese(tmp_path):
    from openpyxl import Workbook
    workbook = Workbook()
    main = workbook.active
    main.title = "办理台账"
    main.append(["案号", "类别", "标题", "承办单位", "办理类型", "交办日期"])
    main.append(["C1", "提案", "关于C1的提案", "甲局", "主办", "2020-03-01"])
    process = workbook.create_sheet("办理过程")
    process.append(["案号", "单位", "日期", "事项", "方式", "天数"])
    process.append(["C9", "甲局", "2020-04-02", "催办", None, None])
    register = tmp_path / "register.xlsx"
    workbook.save(register)
    run = chinese("import", register, "--out", tmp_path / "cases.jsonl")
    assert run.returncode == 2
    assert f"  {register}:2: 工作表 办理过程, 列 案号（A）, 办件 C9: 该办件不在列出其承办单位的工作表 办理台账 中" in run.stderr


def test_a_setting_s_problems_are_chinese():
    run = chinese("score", "--rules", REFERENCE, "--cases", SAMPLE, "--set", "sign_points=five", "--set", "sing_points=4")
    assert run.returncode == 2
    assert "sign_points: “five”不是数值（该参数为 5）" in run.stderr
    assert "sing_points: 没有参数“params.sing_points”" in run.stderr and "--set 只能改写已有的参数" in run.stderr


def test_the_rule_language_s_problems_are_chinese(tmp_path):
    bad = changed_reference(tmp_path, ('when = "s.date <= sign_due"', 'when = "s.date <= sign_due % 2"'))
    run = chinese("rules", "validate", bad)
    assert run.returncode == 1
    assert "规则语言中没有 % —— 见“s.date <= sign_due % 2”第 11 列" in run.stdout


def test_the_rule_language_s_literals_are_checked_in_chinese(tmp_path):
    bad = changed_reference(tmp_path, ('when = "s.date <= sign_due"', 'when = "s.date <= date(\'2020-02-30\')"'))
    run = chinese("rules", "validate", bad)
    assert run.returncode == 1
    assert "“2020-02-30”不是 YYYY-MM-DD 格式的日期" in run.stdout


def test_cases_that_cannot_be_scored_are_told_in_chinese(tmp_path):
    bad = changed_reference(tmp_path, ('points = "params.sign_points"', 'points = "params.sign_points / (count(signed) - 1)"'))
    run = chinese("score", "--rules", bad, "--cases", SAMPLE)
    assert run.returncode == 2
    assert "件办件无法评分；未写出任何内容（--skip-invalid 可对其余办件评分）" in run.stderr
    assert f"  {SAMPLE}: 160 件办件（2020-J0002, " in run.stderr and " 等，另有 150 件）: rule L1 points: " in run.stderr


@pytest.mark.parametrize("bad,parse", [
    ("a = ", tomllib.loads), ("[t]\nx = 1\n[t]\n", tomllib.loads), ("a = [1, 2", tomllib.loads), ("a = 1 b", tomllib.loads),
    ('{"a" 1}', json.loads), ('{"a": 1,}', json.loads), ("[1] 2", json.loads), ('"abc', json.loads),
    ("(a", ast.parse), ("a)", ast.parse), ("a b", ast.parse), ("f(a b)", ast.parse), ("1a", ast.parse),
], ids=lambda v: v if isinstance(v, str) else v.__module__.split(".")[0])
def test_the_parsers_words_are_told_in_chinese(bad, parse):
    """tomllib's, json's and Python's messages (in rule files, case files, expressions) come from the
    catalog, each one as this Python writes it; one it does not know would stay as written."""
    try:
        parse(bad)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, SyntaxError) as exc:
        text = exc.msg if isinstance(exc, (json.JSONDecodeError, SyntaxError)) else str(exc)
    with i18n.speaking("zh"):
        shown = toml_error(text) if parse is tomllib.loads else library_message(text)
    assert shown != text and re.search(r"[\u4e00-\u9fff]", shown), (text, shown)
    with i18n.speaking("en"):
        assert (toml_error(text) if parse is tomllib.loads else library_message(text)) == text


def test_every_plain_message_of_tomllib_is_known():
    import inspect
    source = inspect.getsource(tomllib._parser)
    literals = re.findall(r'suffixed_err\(\s*src,\s*\w+,\s*"([^"{]*)"\s*\)', source)
    assert len(literals) >= 10
    with i18n.speaking("zh"):
        assert [m for m in literals if library_message(m.replace("\\\\", "\\")) == m.replace("\\\\", "\\")] == []


def test_pydantic_s_messages_are_known_as_this_pydantic_writes_them():
    from pydantic_core._pydantic_core import list_all_errors

    from scoring.base.library_text import _PYDANTIC
    templates = {e["type"]: e["message_template_python"].replace("{expected_plural}", "(s)") for e in list_all_errors()}
    assert {kind: message for kind, message in _PYDANTIC.items() if templates.get(kind) != message} == {}


def test_pydantic_s_words_in_a_case_file_are_chinese_and_english_as_pydantic_writes_them(tmp_path):
    case = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    case["events"].append({"id": "e98", "type": "extension", "date": case["events"][-1]["date"],
                           "department": case["handlers"][0]["department"], "days": -3})
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    said = chinese("score", "--rules", REFERENCE, "--cases", bad).stderr
    assert "events[" in said and "(e98).days: 应大于或等于 0" in said, said
    english = scoring("--lang", "en", "score", "--rules", REFERENCE, "--cases", bad, env=CHINESE).stderr
    assert "(e98).days: Input should be greater than or equal to 0" in english, english


def test_rules_validate_s_findings_are_chinese(tmp_path):
    bad = changed_reference(tmp_path, ("c.mode == 'face_to_face'", "c.mode == 'face-to-face'"),
                            ("[params]\n", "[params]\nnobody_reads_me = 1\n"))
    said = chinese("rules", "validate", bad).stdout
    assert "条件永远不成立，规则永远不会触发：c.mode 永远不会是 \"face-to-face\"（它是以下之一：face_to_face, " in said
    assert "params.nobody_reads_me: 没有表达式读取这个参数" in said
    english = scoring("--lang", "en", "rules", "validate", bad, env=CHINESE).stdout
    assert 'never holds, so the rule can never fire: c.mode is never "face-to-face" (it is one of: face_to_face' in english
