"""The command line, run as a user runs it (a separate process), on real files."""
import csv
import datetime as dt
import io
import json
import subprocess
import sys

import pytest
from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring, shuffled_sample
from wcwidth import wcswidth

RULES = ("--rules", REFERENCE)


@pytest.fixture(scope="module")
def ledger():
    run = scoring("score", *RULES, "--cases", SAMPLE, "--format", "json")
    assert run.returncode == 0, run.stderr
    return run.stdout


COMBINED = ROOT / "rules" / "combined-2020.tests"
COMBINED_RUN = ("--rules", ROOT / "rules" / "combined-2020.toml", "--cases", COMBINED / "categories-scorers.jsonl",
                "--departments", COMBINED / "categories-scorers-departments.jsonl")


def test_with_categories_and_scorers_the_table_shows_each_category_and_scorer():
    run = scoring("score", *COMBINED_RUN)
    assert run.returncode == 0, run.stderr
    figures, blank, *lines = run.stdout.splitlines()
    assert figures.startswith("合计  办件 ") and "建议面商率 " in figures and not blank  # the category's rate, pooled
    assert lines[0].split() == ["排名", "组别", "部门", "建议", "提案", "考评", "自评", "互评", "总分", "等级"]
    rows = {line.split()[2]: line.split() for line in lines[2:lines.index("")]}
    # 市财政局: 建议 35 (1 case), 提案 54 (2); 0.6 x 35 + 0.4 x 54 = 42.6; 0.6 x 42.6 + 0.1 x 90 + 0.3 x 87.5
    assert rows["市财政局"] == ["2", "经济", "市财政局", "35.00", "(1)", "54.00", "(2)", "42.60", "90.00", "87.50", "60.81",
                             "合格"]
    assert rows["市卫生健康委"][0] == "—" and rows["市卫生健康委"][5] == "—"  # 1 case: not ranked; no proposal
    assert "总分 = 考评×0.6 + 自评×0.1 + 互评×0.3。" in lines and "排名在各组别内计算。" in lines
    ledger = json.loads(scoring("score", *COMBINED_RUN, "--format", "json").stdout)
    finance = next(d for d in ledger["departments"] if d["department"] == "市财政局")
    assert finance["categories"] == [
        {"category": "suggestion", "title": "建议", "cases": 1, "subtotal": 35, "weight": 0.6},
        {"category": "proposal", "title": "提案", "cases": 2, "subtotal": 54, "weight": 0.4}]
    assert [(s["scorer"], s["score"], s["weight"]) for s in finance["scorers"]] == [
        ("assessor", 42.6, 0.6), ("self", 90, 0.1), ("peer", 87.5, 0.3)]
    assert finance["base"] == 47.2  # the categories' bases 42 and 55, weighted 0.6 and 0.4
    # CSV: the category of each line, as the same item (D1) counts in each category
    rows = list(csv.DictReader(io.StringIO(scoring("score", *COMBINED_RUN, "--format", "csv").stdout)))
    urged = [(r["category"], r["points"]) for r in rows if r["department"] == "市财政局" and r["rule"] == "D1"]
    assert urged == [("suggestion", "-1"), ("suggestion", "-1"), ("proposal", "-1")]
    explained = scoring("explain", *COMBINED_RUN, "--department", "市财政局").stdout
    assert (explained.index(" 建议：") < explained.index(" 提案：") < explained.index(" 合计：")
            < explained.index("考评42.6分×权重0.6"))


def test_score_prints_an_aligned_ranking_table(ledger):
    run = scoring("score", *RULES, "--cases", SAMPLE)
    assert run.returncode == 0, run.stderr
    figures, blank, *lines = run.stdout.splitlines()
    assert figures == "合计  办件 209 件 · 部门 15 个 · 面商率 68.0%（153/225）" and not blank
    header, rule, rows = lines[0], lines[1], lines[2:lines.index("")]
    for word in ("排名", "部门", "主办/分办件", "会办件", "基础分", "D1 督办", "D2 面商率", "总分", "等级"):
        assert word in header
    data = json.loads(ledger)
    assert len(rows) == len(data["departments"]) >= 8
    for row, department in zip(rows, data["departments"]):
        cells = row.split()
        assert cells[0] == str(department["rank"]) and cells[1] == department["department"]
        assert cells[-2] == f"{department['total']:.2f}" and cells[-1] == department["grade"]
        # Chinese text aligned by display width: the grade column starts at the same place
        assert wcswidth(row[:row.rindex(department["grade"])]) == wcswidth(rule[:rule.rindex(" ") + 1])
    assert "规则 proposal-handling 1.0.0" in run.stdout
    # the hashes an auditor checks against close the report
    book, source = data["rulebook"], data["input"]
    assert lines[-1] == f"规则 sha256 {book['sha256'][:12]} · 输入 sha256 {source['sha256'][:12]}"


def test_python_cli_py_runs_the_same_commands():
    run = subprocess.run([sys.executable, "cli.py", "score", *RULES, "--cases", SAMPLE], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "市知识产权局" in run.stdout


def test_json_ledger_contract(ledger):
    data = json.loads(ledger)
    assert set(data["rulebook"]) >= {"id", "version", "sha256"} and set(data["input"]) >= {"sha256", "cases"}
    assert data["input"]["cases"] == len(SAMPLE.read_text(encoding="utf-8").splitlines())
    for department in data["departments"]:
        assert set(department) >= {"department", "total", "grade", "rank", "cases"}
        assert isinstance(department["total"], (int, float)) and round(department["total"], 2) == department["total"]
        for case in department["cases"]:
            assert set(case) >= {"case", "role", "total", "lines"}
            for line in case["lines"]:
                assert set(line) >= {"criterion", "rule", "points", "evidence", "text"}
                assert isinstance(line["points"], (int, float)) and isinstance(line["evidence"], list)
            assert abs(sum(line["points"] for line in case["lines"]) - case["total"]) < 0.01 * len(case["lines"])
        assert abs(sum(line["points"] for line in department["lines"]) - department["total"]) < 0.01 * len(department["lines"])


def test_same_inputs_give_the_same_bytes_whatever_the_order_of_cases_and_events(ledger, tmp_path):
    run = scoring("score", *RULES, "--cases", shuffled_sample(tmp_path, 3), "--format", "json", "--jobs", "1")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ledger


def test_csv_has_one_row_per_ledger_line(ledger):
    run = scoring("score", *RULES, "--cases", SAMPLE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    data = json.loads(ledger)
    expected = sum(len(d["lines"]) + sum(len(c["lines"]) for c in d["cases"]) for d in data["departments"])
    assert len(rows) == expected
    assert {"department", "case", "criterion", "rule", "points", "evidence", "text"} <= set(rows[0])


def test_explain_shows_every_point_with_its_events_and_dates():
    run = scoring("explain", *RULES, "--cases", SAMPLE, "--department", "市城市管理和综合执法局")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith("市城市管理和综合执法局  总分 34.33  等级 不合格  排名 15")
    assert "基础分" in out and "督办最低-5分" in out
    assert "2020-J0012  建议·会办  0分" in out
    assert "超过期限2020-04-10 40个工作日" in out  # why the points were not earned
    assert "（依据 e10@2020-06-08）" in out


def test_explain_says_whether_a_line_where_no_rule_fired_is_good_or_bad():
    out = scoring("explain", *RULES, "--cases", SAMPLE, "--department", "市民政局").stdout
    lines = out.splitlines()
    # L3 only deducts (no contact before the reply): nothing deducted is good news
    assert "  L3   0分  （未扣分）答复前已与提出人沟通，不扣分" in lines
    assert "  D1   0分  （未扣分）" in lines  # never urged
    # H1 awards (the co-handler's opinion in time): 0 is points not earned
    assert "  H1   0分  （未得分）未向主办单位提交会办意见（期限2020-04-24）" in lines
    assert "未命中" not in out


def test_explain_one_case():
    run = scoring("explain", *RULES, "--cases", SAMPLE, "--department", "市城市管理和综合执法局", "--case", "2020-J0021")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("2020-J0021  建议·主办")
    assert "（计入部门得分）" in run.stdout


def test_unknown_department_names_the_closest(tmp_path):
    run = scoring("explain", *RULES, "--cases", SAMPLE, "--department", "市教育厅")
    assert run.returncode == 2
    assert 'no department "市教育厅"' in run.stderr and '"市教育局"' in run.stderr


def bad_file(tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:5]
    broken = json.loads(lines[2])
    broken["events"][0]["type"] = "signd"
    lines[2] = json.dumps(broken, ensure_ascii=False)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, broken["id"]


def test_bad_input_exits_2_and_never_overwrites_good_output(tmp_path):
    path, case_id = bad_file(tmp_path)
    out = tmp_path / "ledger.json"
    out.write_text("previous good ledger", encoding="utf-8")
    run = scoring("score", *RULES, "--cases", path, "--format", "json", "--out", out)
    assert run.returncode == 2
    assert f"bad.jsonl:3: case {case_id}, events[0]" in run.stderr and '"signd" (did you mean "signed"?)' in run.stderr
    assert out.read_text(encoding="utf-8") == "previous good ledger"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ledger.json")]


def test_skip_invalid_scores_the_rest_and_lists_the_skipped(tmp_path):
    path, case_id = bad_file(tmp_path)
    out = tmp_path / "ledger.json"
    run = scoring("score", *RULES, "--cases", path, "--format", "json", "--out", out, "--skip-invalid")
    assert run.returncode == 0, run.stderr
    assert f"skipped: {path}:3: case {case_id}: case {case_id}, events[0]" in run.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["input"]["cases"] == 4 and [s["case"] for s in data["input"]["skipped"]] == [case_id]


def test_bad_rulebook_exits_2_with_the_line(tmp_path):
    text = REFERENCE.read_text(encoding="utf-8").replace("s.date <= sign_due", "s.date <= sign_deu")
    book = tmp_path / "book.toml"
    book.write_text(text, encoding="utf-8")
    run = scoring("score", "--rules", book, "--cases", SAMPLE)
    line = next(i for i, text_line in enumerate(text.splitlines(), 1) if "sign_deu" in text_line)
    assert run.returncode == 2
    assert f"book.toml:{line}: criterion[0].rule[0].when: unknown name \"sign_deu\" (did you mean \"sign_due\"?)" in run.stderr


def test_a_year_the_calendar_does_not_cover_is_a_clear_error(tmp_path):
    row = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    for event in row["events"]:
        event["date"] = "2031" + event["date"][4:]
    path = tmp_path / "future.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    run = scoring("score", *RULES, "--cases", path)
    assert run.returncode == 2
    assert "2031" in run.stderr and "[calendar.years.2031]" in run.stderr


def test_schema_command_prints_the_case_schema():
    run = scoring("schema")
    assert run.returncode == 0 and json.loads(run.stdout)["title"].startswith("Case history")


# ---------------------------------------------------------------- self-check

SELF_CHECK = ("self-check", *RULES, "--cases", SAMPLE, "--department", "市教育局", "--as-of", "2020-05-20")


@pytest.fixture(scope="module")
def self_assessment():
    run = scoring(*SELF_CHECK, "--format", "json")
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_self_check_json_contract(self_assessment, ledger):
    data = json.loads(self_assessment)
    assert data["department"] == "市教育局" and data["as_of"] == "2020-05-20"
    official = json.loads(ledger)
    assert data["rulebook"] == official["rulebook"] and data["input"]["sha256"] == official["input"]["sha256"]
    assert isinstance(data["floor"], (int, float)) and isinstance(data["ceiling"], (int, float))
    assert data["floor"] <= data["ceiling_own_steps"] <= data["ceiling"] <= 100
    assert data["at_risk"], "mid-May, this department has open cases"
    for entry in data["at_risk"]:
        assert set(entry) >= {"case", "criterion", "due", "workdays_left", "points"}
        assert dt.date.fromisoformat(entry["due"]) > dt.date(2020, 5, 20)
        assert isinstance(entry["workdays_left"], int) and isinstance(entry["points"], (int, float))
    for case in data["cases"]:
        assert set(case) >= {"case", "role", "total", "ceiling", "lines"}
    # the ledger lines add up to the floor, as in `score`
    assert abs(sum(line["points"] for line in data["lines"]) - data["floor"]) < 0.01 * len(data["lines"])


def test_self_check_table_reads_like_the_issue(self_assessment):
    run = scoring(*SELF_CHECK)
    assert run.returncode == 0, run.stderr
    data = json.loads(self_assessment)
    text = run.stdout
    assert f"已得分（此后不再有任何进展）  {data['floor']:.2f}" in text
    assert f"可达上限（剩余事项均于次日完成）  {data['ceiling']:.2f}" in text
    first = data["at_risk"][0]
    row = next(line for line in text.splitlines() if line.startswith(first["case"]) and first["due"] in line)
    assert row.split()[1:6] == [first["criterion"], first["title"], first["due"], str(first["workdays_left"]),
                                str(first["points"])]
    for heading in ("未到期事项", "尚无期限的事项", "取决于他人的事项", "已错过的期限", "缺少的记录", "各件明细"):
        assert heading in text
    # the per-case ledger, as `explain` prints it, only with events up to the date
    assert "（依据" in text and "2020-05-21" not in text.split("各件明细")[1]


def test_self_check_is_the_same_bytes_whatever_the_input_order(self_assessment, tmp_path):
    run = scoring("self-check", *RULES, "--cases", shuffled_sample(tmp_path, 5), "--department", "市教育局",
                  "--as-of", "2020-05-20", "--format", "json", "--jobs", "1")
    assert run.returncode == 0, run.stderr
    assert run.stdout == self_assessment


def test_self_check_csv_is_a_work_list(self_assessment):
    run = scoring(*SELF_CHECK, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    data = json.loads(self_assessment)
    sections = {section: sum(1 for r in rows if r["section"] == section)
                for section in ("at_risk", "undated", "decided_by_others", "missed", "missing_evidence")}
    assert sections == {section: len(data[section]) for section in sections}
    assert rows[0]["section"] == "at_risk" and rows[0]["due"] == data["at_risk"][0]["due"]


def test_self_check_bad_date_exits_2_and_keeps_the_old_output(tmp_path):
    out = tmp_path / "self.json"
    out.write_text("good", encoding="utf-8")
    run = scoring("self-check", *RULES, "--cases", SAMPLE, "--department", "市教育局", "--as-of", "2021-03-01",
                  "--out", out)
    assert run.returncode == 2
    assert "2021-03-01 is after the end of the assessment (2021-02-26" in run.stderr
    assert out.read_text(encoding="utf-8") == "good"
    run = scoring("self-check", *RULES, "--cases", SAMPLE, "--department", "市教育厅", "--as-of", "2020-05-20")
    assert run.returncode == 2 and 'did you mean "市教育局"' in run.stderr


def test_a_case_id_short_of_a_zero_suggests_the_id_meant():
    # difflib alone found 2020-J0092 as close as 2020-J0002 and picked it
    run = scoring("explain", *RULES, "--cases", SAMPLE, "--department", "市交通运输局", "--case", "2020-J002")
    assert run.returncode == 2
    assert 'has no case "2020-J002" (did you mean "2020-J0002"?)' in run.stderr


def test_the_closest_name_is_the_same_whatever_the_order_of_the_candidates():
    from scoring.base.errors import closest
    ids = [f"2020-J{n:04d}" for n in range(1, 210)]
    assert closest("2020-j2", ids) == closest("2020-J０００2", ids[::-1]) == ' (did you mean "2020-J0002"?)'
    assert closest("2020-J0202x", ids) == closest("2020-J0202x", ids[::-1])
    assert closest("市教育厅", ["市民政局", "市教育局"]) == ' (did you mean "市教育局"?)'
    assert closest("完全不同", ids) == ""


@pytest.mark.parametrize("args", [["-h"], ["score", "-h"], ["rules", "validate", "-h"]])
def test_dash_h_is_help_as_in_other_tools(args):
    run = scoring(*args)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Usage: ") and "-h, --help" in run.stdout


@pytest.mark.parametrize("written", ["2020/5/20", "2020.05.20", "2020年5月20日", "２０２０-05-20"])
def test_as_of_takes_the_dates_a_register_takes(written):
    iso = json.loads(scoring(*SELF_CHECK, "--format", "json").stdout)
    run = scoring(*SELF_CHECK[:-1], written, "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == iso


@pytest.mark.parametrize(("written", "why"), [("2020-06-31", "is not a valid date (day is out of range for month)"),
                                             ("20/5/2020", "is not a date: write 2020-03-10, 2020/3/10")])
def test_an_impossible_or_unreadable_date_is_refused_with_the_reason(written, why):
    run = scoring(*SELF_CHECK[:-1], written)
    assert run.returncode == 2
    assert f"Invalid value for '--as-of': \"{written}\" {why}" in run.stderr


def test_quiet_leaves_out_notes_on_what_was_done_but_never_a_skipped_case(tmp_path):
    out = tmp_path / "ledger.json"
    assert scoring("score", *RULES, "--cases", SAMPLE, "--format", "json", "--out", out).stderr == f"wrote {out}\n"
    quiet = scoring("-q", "score", *RULES, "--cases", SAMPLE, "--format", "json", "--out", out)
    assert quiet.returncode == 0 and quiet.stderr == "" and out.exists()
    broken = tmp_path / "cases.jsonl"
    broken.write_text(SAMPLE.read_text(encoding="utf-8") + "not json\n", encoding="utf-8")
    skipped = scoring("--quiet", "score", *RULES, "--cases", broken, "--skip-invalid", "--out", out)
    assert skipped.returncode == 0 and skipped.stderr.startswith("skipped: ") and "wrote" not in skipped.stderr


def test_the_items_not_yet_due_can_be_listed_by_the_nearest_deadline():
    args = ("self-check", *RULES, "--cases", SAMPLE, "--department", "市市场监管局", "--as-of", "2020-06-05")

    def listed(*more):
        out = scoring(*args, *more).stdout.split("未到期事项，")[1].split("\n\n")[0].splitlines()[3:]
        return [(line.split()[3], float(line.split()[5])) for line in out]

    by_points, by_deadline = listed(), listed("--sort", "deadline")
    assert sorted(by_points) == sorted(by_deadline) and len(by_points) >= 5
    assert by_deadline == sorted(by_deadline, key=lambda item: (item[0], -item[1])) != by_points
    assert [points for _, points in by_points] == sorted((points for _, points in by_points), reverse=True)


def test_cases_failing_for_one_reason_are_told_once_with_their_ids(tmp_path):
    """A rule that reads what the file does not have fails on every case alike: one problem naming the first
    cases and how many, not two hundred lines; two cases failing alike are still named one by one."""
    text = (ROOT / "rules" / "indicators-2021.toml").read_text(encoding="utf-8")
    text = text.replace("valid_from = 2021-01-01", "valid_from = 2020-01-01").replace("valid_until = 2021-12-31",
                                                                                      "valid_until = 2020-12-31")
    book = tmp_path / "indicators-2020.toml"
    book.write_text(text, encoding="utf-8")
    every = scoring("--lang", "en", "score", "--rules", book, "--cases", SAMPLE)
    lines = every.stderr.splitlines()
    assert every.returncode == 2 and lines[0].startswith("error: 206 case(s) could not be scored")
    assert lines[1:] == [f"  {SAMPLE}: 206 cases (2020-J0001, 2020-J0002, 2020-J0003, 2020-J0004, 2020-J0005, 2020-J0006, "
                         "2020-J0007, 2020-J0008, 2020-J0009, 2020-J0010 and 196 more): V5 rate denominator: the "
                         "denominator must be a number, got null; write coalesce(..., 0) if none means 0"], lines
    two = tmp_path / "two.jsonl"
    two.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    alone = scoring("--lang", "en", "score", "--rules", book, "--cases", two).stderr.splitlines()
    assert len(alone) == 3 and all(": case 2020-J000" in line and ": V5 rate denominator:" in line for line in alone[1:])
