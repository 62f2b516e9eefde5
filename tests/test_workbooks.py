"""`--format xlsx` of score, explain and self-check: the files a supervisor circulates, opened as Excel would."""
from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

import pytest
from casekit import ROOT, SAMPLE
from clikit import scoring
from openpyxl import load_workbook

RULES = ROOT / "rules" / "proposal-handling.toml"
COMBINED = ROOT / "rules" / "combined-2020.toml"
COMBINED_CASES = ROOT / "rules" / "combined-2020.tests" / "categories-scorers.jsonl"
COMBINED_RECORDS = ROOT / "rules" / "combined-2020.tests" / "categories-scorers-departments.jsonl"


def run_ok(*args):
    result = scoring(*args)
    assert result.returncode == 0, result.stderr
    return result


def table(sheet) -> tuple[list, list[list]]:
    """The header row (the row above the frozen pane) and the rows under it, down to the first empty row."""
    header_row = sheet.freeze_panes and int(sheet.freeze_panes[1:]) - 1
    assert header_row, f"{sheet.title}: no frozen header"
    rows = []
    for row in sheet.iter_rows(min_row=header_row, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(list(row))
    return rows[0], rows[1:]


def records(sheet) -> list[dict]:
    header, rows = table(sheet)
    return [dict(zip(header, row)) for row in rows]


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx")
    run_ok("score", "--rules", RULES, "--cases", SAMPLE, "--format", "xlsx", "--out", out / "score.xlsx")
    ledger = json.loads(run_ok("score", "--rules", RULES, "--cases", SAMPLE, "--format", "json").stdout)
    return out / "score.xlsx", ledger


def test_score_workbook_has_the_ranking_the_ledger_and_a_form_per_department(scored):
    path, ledger = scored
    book = load_workbook(path)
    departments = [d["department"] for d in ledger["departments"]]
    assert book.sheetnames == ["排名", "明细"] + departments
    ranking = records(book["排名"])
    assert [(r["排名"], r["部门"], r["总分"], r["等级"]) for r in ranking] == [
        (d["rank"], d["department"], d["total"], d["grade"]) for d in ledger["departments"]]
    first = ledger["departments"][0]
    assert ranking[0]["主办/分办件"] == first["rubrics"][0]["mean"]
    assert ranking[0]["主办/分办件件数"] == first["rubrics"][0]["cases"]
    # numbers are numbers, with two decimals shown
    cell = book["排名"].cell(4, 10)  # under the title, the city-wide figures and the header
    assert cell.value == first["total"] and isinstance(cell.value, (int, float)) and cell.number_format == "0.00"


def test_the_ledger_sheet_has_every_line_with_its_evidence_dated(scored):
    path, ledger = scored
    rows = records(load_workbook(path)["明细"])
    csv_rows = list(csv.DictReader(io.StringIO(run_ok("score", "--rules", RULES, "--cases", SAMPLE, "--format", "csv").stdout)))
    assert len(rows) == len(csv_rows) == sum(len(d["lines"]) + sum(len(c["lines"]) for c in d["cases"])
                                             for d in ledger["departments"])
    for row, line in zip(rows, csv_rows):
        assert (row["部门"], row["案号"] or "", row["分数"], row["说明"] or "") == (
            line["department"], line["case"], float(line["points"]), line["text"])
    dated = [r for r in rows if r["依据（事件@日期）"]]
    assert dated and all("@2020-" in r["依据（事件@日期）"] or "@2021-" in r["依据（事件@日期）"] for r in dated)
    # per department, the lines of its cases add up to the case totals
    case_points: dict = {}
    for r in rows:
        if r["案号"] and r["办件得分"] is not None:
            case_points.setdefault((r["部门"], r["案号"]), [r["办件得分"], Fraction(0)])[1] += Fraction(str(r["分数"]))
    assert case_points and all(Fraction(str(total)) == points for total, points in case_points.values())


def test_each_form_gives_full_points_points_and_reasons(scored):
    path, ledger = scored
    book = load_workbook(path)
    for d in ledger["departments"]:
        form = records(book[d["department"]])
        assert [(r["项目"], r["得分"]) for r in form] == [(c["criterion"], c["points"]) for c in d["criteria"]]
        full = {r["项目"]: r["分值"] for r in form}
        assert full["L4"] == 20 and full["H1"] == 100 and full["D1"] == 0
        for r in form:
            assert r["失分"] == pytest.approx(r["分值"] - r["得分"])
            if r["计分"] == "每件" and r["失分"] > 0:
                assert "未得满分" in r["说明"]
    # 市市场监管局 lost reply points on one case: the form names it and why
    form = {r["项目"]: r for r in records(book["市市场监管局"])}
    assert "2020-J0095" in form["L4"]["说明"] and "超过答复期" in form["L4"]["说明"]


def test_columns_are_wide_enough_for_chinese_names_and_headers_are_frozen(scored):
    book = load_workbook(scored[0])
    sheet = book["排名"]
    longest = max(len(r["部门"]) for r in records(sheet))
    assert sheet.column_dimensions["B"].width >= 2 * longest  # a Chinese character is two wide
    for sheet in book.worksheets:
        assert sheet.freeze_panes is not None and sheet.auto_filter.ref


@pytest.mark.slow
def test_the_workbook_is_byte_identical_run_to_run(scored, tmp_path):
    run_ok("score", "--rules", RULES, "--cases", SAMPLE, "--format", "xlsx", "--out", tmp_path / "again.xlsx")
    assert (tmp_path / "again.xlsx").read_bytes() == scored[0].read_bytes()


def test_xlsx_needs_out_and_a_failed_run_keeps_the_old_file(tmp_path):
    result = scoring("score", "--rules", RULES, "--cases", SAMPLE, "--format", "xlsx")
    assert result.returncode == 2 and "--out" in result.stderr and not result.stdout
    old = tmp_path / "score.xlsx"
    old.write_bytes(b"the published one")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    result = scoring("score", "--rules", RULES, "--cases", bad, "--format", "xlsx", "--out", old)
    assert result.returncode == 2 and old.read_bytes() == b"the published one"


def test_explain_gives_the_form_and_the_department_rows(tmp_path, scored):
    ledger = scored[1]
    entry = next(d for d in ledger["departments"] if d["department"] == "市民政局")
    run_ok("explain", "--rules", RULES, "--cases", SAMPLE, "--department", "市民政局", "--format", "xlsx",
           "--out", tmp_path / "e.xlsx")
    book = load_workbook(tmp_path / "e.xlsx")
    assert book.sheetnames == ["自评表", "明细"]
    assert [r["得分"] for r in records(book["自评表"])] == [c["points"] for c in entry["criteria"]]
    rows = records(book["明细"])
    assert {r["部门"] for r in rows} == {"市民政局"}
    assert len(rows) == len(entry["lines"]) + sum(len(c["lines"]) for c in entry["cases"])
    run_ok("explain", "--rules", RULES, "--cases", SAMPLE, "--department", "市民政局", "--case", "2020-J0072",
           "--format", "xlsx", "--out", tmp_path / "c.xlsx")
    book = load_workbook(tmp_path / "c.xlsx")
    assert book.sheetnames == ["明细"]
    case = next(c for c in entry["cases"] if c["case"] == "2020-J0072")
    assert [(r["案号"], r["项目"], r["分数"]) for r in records(book["明细"])] == [
        ("2020-J0072", line["criterion"], line["points"]) for line in case["lines"]]


def test_self_check_gives_standing_work_list_and_rows(tmp_path):
    args = ("self-check", "--rules", RULES, "--cases", SAMPLE, "--department", "市民政局", "--as-of", "2020-06-30")
    document = json.loads(run_ok(*args, "--format", "json").stdout)
    work = list(csv.reader(io.StringIO(run_ok(*args, "--format", "csv").stdout)))[1:]
    run_ok(*args, "--format", "xlsx", "--out", tmp_path / "s.xlsx")
    book = load_workbook(tmp_path / "s.xlsx")
    assert book.sheetnames == ["自查", "待办", "明细"]
    assert book["自查"]["A3"].value.startswith(f"已得分 {document['floor']:.2f}")
    assert [(r["项目"], r["已得分"], r["可达上限"]) for r in records(book["自查"])] == [
        (c["criterion"], c["floor"], c["ceiling"]) for c in document["criteria"]]
    todo = records(book["待办"])
    assert len(todo) == len(work) and todo and [r["案号"] for r in todo] == [w[1] for w in work]
    assert len(records(book["明细"])) == len(document["lines"]) + sum(len(c["lines"]) for c in document["cases"])


def test_categories_scorers_and_groups_show_in_their_own_columns(tmp_path):
    args = ("score", "--rules", COMBINED, "--cases", COMBINED_CASES, "--departments", COMBINED_RECORDS)
    ledger = json.loads(run_ok(*args, "--format", "json").stdout)
    run_ok(*args, "--format", "xlsx", "--out", tmp_path / "c.xlsx")
    book = load_workbook(tmp_path / "c.xlsx")
    header, rows = table(book["排名"])
    assert header == ["排名", "组别", "部门", "建议", "建议件数", "提案", "提案件数", "考评", "自评", "互评", "总分", "等级"]
    unranked = next(r for r in rows if r[2] == "市卫生健康委")
    assert unranked[0] == "—" and unranked[5] is None  # not ranked (as the notes say); no proposals
    form = records(book["市教育局"])
    titles = {c["category"]: c["title"] for c in ledger["departments"][0]["categories"]}
    assert {r["类别"] for r in form} == set(titles.values())
    assert "计入类别" in table(book["明细"])[0]


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:20]]  # a few: the cell is the point
    rows[0]["title"] = '=HYPERLINK("http://example.com","x")'
    cases = tmp_path / "c.jsonl"
    cases.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    run_ok("score", "--rules", RULES, "--cases", cases, "--format", "xlsx", "--out", tmp_path / "s.xlsx")
    sheet = load_workbook(tmp_path / "s.xlsx")["明细"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value == rows[0]["title"]]
    assert cells and all(c.data_type == "s" for c in cells)


def test_the_ranking_opens_with_the_pooled_figures_and_every_sheet_ends_with_the_hashes(scored, tmp_path):
    path, ledger = scored
    book = load_workbook(path)
    ranking = book["排名"]
    assert [ranking.cell(row, 1).value for row in (1, 2)] == [
        "建议提案办理质量评价（参考方案） 排名", "合计  办件 209 件 · 部门 15 个 · 面商率 68.0%（153/225）"]
    hashes = f"规则 sha256 {ledger['rulebook']['sha256'][:12]} · 输入 sha256 {ledger['input']['sha256'][:12]}"
    bulletin = tmp_path / "bulletin.xlsx"
    run_ok("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", "2020-06", "--format", "xlsx", "--out", bulletin)
    month = load_workbook(bulletin)
    assert month.active.cell(3, 1).value == "合计  办件 190 件 · 部门 15 个 · 面商率 64.4%（132/205）"
    for sheet in book.worksheets + month.worksheets:
        last = sheet.cell(sheet.max_row, 1)
        assert last.value == hashes and last.font.sz == 8, sheet.title  # the last row, in small grey type
        assert sheet.oddFooter.left.text == hashes and sheet.oddFooter.left.size == 7, sheet.title  # the printed foot
        # and nowhere above it: the header says which rulebook, not its hash
        assert not any("sha256" in str(v) for row in sheet.iter_rows(max_row=sheet.max_row - 1, values_only=True)
                       for v in row if v), sheet.title


def test_the_ledger_sheet_says_whether_an_otherwise_line_is_good_or_bad(scored):
    rows = records(load_workbook(scored[0])["明细"])
    kinds = {(r["项目"], r["行类型"]) for r in rows if r["规则"] is None and r["行类型"] in ("未得分", "未扣分")}
    assert {("L3", "未扣分"), ("D1", "未扣分"), ("L1", "未得分"), ("H1", "未得分")} <= kinds
    assert not any(r["行类型"] == "未命中" for r in rows)
    # L3 (答复前未沟通扣分) only deducts: its 0 is good news; L1 (按时签收) awards: its 0 is points not earned
    assert {k for item, k in kinds if item == "L3"} == {"未扣分"} and {k for item, k in kinds if item == "L1"} == {"未得分"}
