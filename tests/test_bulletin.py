"""`scoring bulletin`: the monthly ranking with its movement, the deadlines missed and the ones coming."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from casekit import ROOT, SAMPLE, without_steps
from clikit import scoring
from docx.oxml.ns import qn

RULES = ROOT / "rules" / "proposal-handling.toml"
COMBINED = ROOT / "rules" / "combined-2020.toml"
FIXTURES = ROOT / "rules" / "combined-2020.tests"


def run_ok(*args) -> str:
    result = scoring(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def bulletin(month: str, *extra) -> dict:
    return json.loads(run_ok("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", month, "--format", "json", *extra))


@pytest.fixture(scope="module")
def june():
    return bulletin("2020-06")


def as_it_stood(day: dt.date, tmp_path) -> str:
    """The sample as a clerk had it at the end of `day`, written independently of the engine's own truncation."""
    rows = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        assigned = {e["department"] for e in case["events"] if e["type"] == "assigned" and e["date"] <= day.isoformat()}
        case["handlers"] = [h for h in case["handlers"] if h["department"] in assigned]
        case["events"] = [e for e in case["events"] if e["date"] <= day.isoformat() and e["department"] in assigned]
        if case["handlers"]:
            rows.append(json.dumps(case, ensure_ascii=False))
    path = tmp_path / f"as-of-{day}.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_secured_is_the_score_of_the_cases_as_they_stood_at_the_month_end(june, tmp_path):
    ledger = json.loads(run_ok("score", "--rules", RULES, "--cases", as_it_stood(dt.date(2020, 6, 30), tmp_path),
                               "--format", "json"))
    scored = {d["department"]: (d["total"], d["cases_scored"]) for d in ledger["departments"]}
    assert {r["department"]: (r["secured"], r["cases"]) for r in june["departments"]} == scored
    assert june["input"]["cases"] == ledger["input"]["cases"] < 209  # cases assigned in the second half are not in
    assert (june["as_of"], june["previous_as_of"], june["final"]) == ("2020-06-30", "2020-05-31", False)


def test_the_ranking_is_by_what_each_department_can_still_reach(june, tmp_path):
    """Each department's self-check ceiling on the cases as they stood at the month's end: what is lost is gone,
    what is not yet due counts as done in time (cases assigned later are not in the month's ranking). A part-year
    total graded as if the year were over said 不合格 to everyone in March."""
    cut = as_it_stood(dt.date(2020, 6, 30), tmp_path)
    for row in june["departments"][:3] + june["departments"][-2:]:
        check = json.loads(run_ok("self-check", "--rules", RULES, "--cases", cut, "--department", row["department"],
                                  "--as-of", "2020-06-30", "--format", "json"))
        assert (row["reachable"], row["secured"]) == (check["ceiling"], check["floor"])
    ranked = [r for r in june["departments"] if r["rank"] is not None]
    assert [r["reachable"] for r in ranked] == sorted((r["reachable"] for r in ranked), reverse=True)
    assert [r["rank"] for r in ranked] == sorted(r["rank"] for r in ranked)
    assert all(r["grade"] is None for r in june["departments"])  # graded only when the assessment ends
    april = {r["department"]: r for r in bulletin("2020-04")["departments"]}
    assert (april["市民政局"]["secured"], april["市民政局"]["reachable"]) == (23.54, 97)


def test_the_change_is_against_the_month_before(june):
    may = {r["department"]: r for r in bulletin("2020-05")["departments"]}
    moved = 0
    for row in june["departments"]:
        before = may[row["department"]]
        assert row["previous"] == {"rank": before["rank"], "reachable": before["reachable"]}
        assert row["change"]["reachable"] == pytest.approx(row["reachable"] - before["reachable"])
        assert row["change"]["rank"] == before["rank"] - row["rank"]
        moved += row["change"]["rank"] != 0
    assert moved  # the sample's ranking does move between May and June


def test_missed_deadlines_are_those_of_the_month_that_fell_short(june):
    missed = june["missed"]
    assert missed and all("2020-06-01" <= m["due"] <= "2020-06-30" and m["cost"] + m["recoverable"] > 0 for m in missed)
    counts = {r["department"]: r["missed"] for r in june["departments"]}
    assert sum(counts.values()) == len(missed)
    # a department's own self-check on the same date lists the same missed items of June
    check = json.loads(run_ok("self-check", "--rules", RULES, "--cases", SAMPLE, "--department", "市住房建设局",
                              "--as-of", "2020-06-30", "--format", "json"))
    assert (sorted((m["case"], m["criterion"], m["due"], m["cost"]) for m in missed if m["department"] == "市住房建设局")
            == sorted((m["case"], m["criterion"], m["due"], m["cost"]) for m in check["missed"] if m["due"] >= "2020-06-01"))
    late = next(m for m in missed if m["case"] == "2020-J0031" and m["criterion"] == "L4")
    assert late["cost"] == 20 and late["recoverable"] == 0 and "未答复" in late["record"]


def test_a_late_step_that_can_still_earn_points_shows_what_is_lost_and_what_is_not():
    december = bulletin("2020-12")
    late = next(m for m in december["missed"] if m["case"] == "2020-J0095" and m["criterion"] == "L4")
    assert (late["cost"], late["recoverable"]) == (2, 18)  # not replied by the deadline: a reply next day still earns 18
    assert december["previous_as_of"] == "2020-11-30"


def test_items_with_a_due_date_but_no_step_are_named_not_silently_left_out(tmp_path):
    # every shipped rulebook declares its steps: the composite one without two of them
    untracked = tmp_path / "untracked.toml"
    untracked.write_text(without_steps(COMBINED.read_text(encoding="utf-8"), "L2", "H1"), encoding="utf-8")
    document = json.loads(run_ok("bulletin", "--rules", untracked, "--cases", FIXTURES / "categories-scorers.jsonl",
                                 "--departments", FIXTURES / "categories-scorers-departments.jsonl", "--month", "2020-06",
                                 "--format", "json"))
    assert {u["criterion"] for u in document["untracked"]} == {"L2", "H1"}
    text = run_ok("bulletin", "--rules", untracked, "--cases", FIXTURES / "categories-scorers.jsonl",
                  "--departments", FIXTURES / "categories-scorers-departments.jsonl", "--month", "2020-06")
    assert "L2 按时答复、H1 会办意见 规定了期限但未规定完成它的办理步骤（step）" in text
    assert "L2 按时答复" not in run_ok("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", "2020-06").split("本月到期")[0]


def test_items_due_next_month_are_open_and_fall_in_it(june):
    due = june["due_next_month"]
    assert due and all("2020-07-01" <= m["due"] <= "2020-07-31" and m["points"] > 0 for m in due)
    assert due == sorted(due, key=lambda m: m["due"])  # the earliest deadline first
    # each was still open at the month end: the case has no event of its step by then
    assert all(m["workdays_left"] is not None and m["workdays_left"] >= 0 for m in due)


def test_the_table_reads_as_a_bulletin(june):
    text = run_ok("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", "2020-06")
    assert text.startswith("2020-06 月度通报  截至 2020-06-30")
    for row in june["departments"]:
        assert row["department"] in text
    assert f"本月到期未得满分的事项（{len(june['missed'])} 项）" in text
    assert f"下月到期事项（{len(june['due_next_month'])} 项）" in text
    up = next(r for r in june["departments"] if r["change"]["rank"] > 0)
    line = next(text_line for text_line in text.splitlines() if f" {up['department']} " in text_line)
    change = up["change"]["reachable"]
    assert f"↑{up['change']['rank']}" in line and (f"{change:+.2f}" if change else " 0 ") in line
    assert "可达分" in text.splitlines()[4] and "等级" not in text.splitlines()[4]  # under the title, rules and figures


def test_the_first_month_has_nothing_to_compare_with():
    march = bulletin("2020-03")
    assert march["departments"] and all(r["previous"] is None and r["change"] is None for r in march["departments"])
    text = run_ok("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", "2020-03")
    rows = [line.split() for line in text.splitlines() if any(f" {r['department']} " in line for r in march["departments"])]
    assert len(rows) == len(march["departments"]) and all(row[1] == "—" and row[4] == "—" for row in rows)


@pytest.mark.parametrize("month, message", [("2020-13", "not a month"), ("June", "not a month"),
                                            ("2021-03", "--month: 2021-03 is after the end of the assessment "
                                                        "(2021-02-26,"),
                                            ("2019-12", "no case was assigned by 2019-12-31 (the first on 2020-03-10)")])
def test_a_bad_month_is_named(month, message):
    result = scoring("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", month)
    assert result.returncode == 2 and message in result.stderr and not result.stdout


def test_groups_and_department_records(tmp_path):
    document = json.loads(run_ok("bulletin", "--rules", COMBINED, "--cases", FIXTURES / "categories-scorers.jsonl",
                                 "--departments", FIXTURES / "categories-scorers-departments.jsonl", "--month", "2020-06",
                                 "--format", "json"))
    ledger = json.loads(run_ok("score", "--rules", COMBINED, "--cases", FIXTURES / "categories-scorers.jsonl",
                               "--departments", FIXTURES / "categories-scorers-departments.jsonl", "--format", "json"))
    # every case of the fixture is replied to by June 10 and rated by the end of June: nothing is lost after June,
    # so what each can reach in June is the year's total, or more where an outcome or a rating can still rise
    # (a reply with outcome A, a satisfied rating: the composite rulebook's steps)
    june = {r["department"]: r for r in document["departments"]}
    assert all(june[d["department"]]["reachable"] >= d["total"] and june[d["department"]]["group"] == d["group"]
               for d in ledger["departments"])
    assert any(june[d["department"]]["reachable"] > d["total"] for d in ledger["departments"])
    # the assessment's last month (it closes on 2021-05-31) ranks as `score` does, within the peer groups
    last = json.loads(run_ok("bulletin", "--rules", COMBINED, "--cases", FIXTURES / "categories-scorers.jsonl",
                             "--departments", FIXTURES / "categories-scorers-departments.jsonl", "--month", "2021-05",
                             "--format", "json"))
    assert [(r["department"], r["group"], r["rank"], r["reachable"]) for r in last["departments"]] == [
        (d["department"], d["group"], d["rank"], d["total"]) for d in ledger["departments"]]
    unranked = next(r for r in document["departments"] if r["rank"] is None)  # too few cases: no rank, but a figure
    assert unranked["change"]["rank"] is None and unranked["change"]["reachable"] == pytest.approx(
        unranked["reachable"] - unranked["previous"]["reachable"])


@pytest.mark.slow
def test_same_inputs_same_bytes(june):
    again = run_ok("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", "2020-06", "--format", "json")
    assert json.loads(again) == june
    assert again == run_ok("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", "2020-06", "--format", "json")


# ---------------------------------------------------------------- the bulletin to circulate: Word and Excel
def bulletin_file(tmp_path, fmt: str, *extra, rules=RULES, cases=SAMPLE):
    out = tmp_path / f"通报.{fmt}"
    run_ok("bulletin", "--rules", rules, "--cases", cases, "--month", "2020-06", "--format", fmt, "--out", out, *extra)
    return out


def test_the_word_bulletin_reads_as_a_notice(june, tmp_path):
    from docx import Document
    document = Document(bulletin_file(tmp_path, "docx", "--issuer", "市政府督查室", "--issued", "2020-07-03"))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[:2] == ["建议提案办理质量评价（参考方案） 2020年6月通报", "市政府督查室　2020年7月3日"]
    assert paragraphs[2].startswith(f"截至2020年6月30日，{len(june['departments'])}个单位已交办{june['input']['cases']}件，"
                                    "面商率64.4%（132/205）。")  # the rates pooled over all departments
    assert [p for p in paragraphs if p[1:2] == "、"] == [
        "一、排名", f"二、本月到期未得满分的事项（{len(june['missed'])} 项）",
        f"三、下月到期事项（{len(june['due_next_month'])} 项）"]
    ranking, missed, due = document.tables
    rows = [[cell.text for cell in row.cells] for row in ranking.rows]
    assert rows[0][:4] == ["排名", "升降", "部门", "可达分"]
    assert [(row[2], row[3], row[5]) for row in rows[1:]] == [
        (r["department"], f"{r['reachable']:.2f}", f"{r['secured']:.2f}") for r in june["departments"]]
    assert len(missed.rows) == len(june["missed"]) + 1 and len(due.rows) == len(june["due_next_month"]) + 1
    # the header row repeats on every page, and the page is A4 across
    assert all(table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None for table in document.tables)
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (297, 210)
    assert document.core_properties.author == "市政府督查室"
    # the hashes in small print, last
    hashes = f"规则 sha256 {june['rulebook']['sha256'][:12]} · 输入 sha256 {june['input']['sha256'][:12]}"
    assert paragraphs[-1] == f"规则 proposal-handling 1.0.0 · {hashes}"
    assert document.paragraphs[-1].runs[0].font.size.pt == 8
    assert sum("sha256" in p for p in paragraphs) == 1


def test_the_issuer_comes_from_the_rulebook_unless_given(tmp_path):
    from docx import Document
    text = RULES.read_text(encoding="utf-8")
    assert "\n[rulebook]\n" in text
    rules = tmp_path / "rules.toml"
    rules.write_text(text.replace("\n[rulebook]\n", '\n[rulebook]\nissuer = "市人大常委会办公厅"\n'), encoding="utf-8")
    few = tmp_path / "few.jsonl"  # the issuer does not depend on the cases: a few of them make it quick
    few.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:30]), encoding="utf-8")
    assert Document(bulletin_file(tmp_path, "docx", rules=rules, cases=few)).paragraphs[1].text == "市人大常委会办公厅"
    given = Document(bulletin_file(tmp_path, "docx", "--issuer", "市政府办公室", rules=rules, cases=few))
    assert given.paragraphs[1].text == "市政府办公室"
    # without either, no line stands between the title and the text
    assert Document(bulletin_file(tmp_path, "docx", cases=few)).paragraphs[1].text.startswith("截至")


def test_the_bulletin_workbook_keeps_numbers_as_numbers(june, tmp_path):
    from openpyxl import load_workbook
    book = load_workbook(bulletin_file(tmp_path, "xlsx"))
    assert book.sheetnames == ["排名", "本月到期未得满分的事项", "下月到期事项"]
    sheet = book["排名"]
    header = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "排名")
    rows = [row for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)]
    reachable, secured = header.index("可达分"), header.index("已得分")
    assert [(row[2], row[reachable], row[secured]) for row in rows] == [
        (r["department"], pytest.approx(r["reachable"]), pytest.approx(r["secured"])) for r in june["departments"]]
    missed = book["本月到期未得满分的事项"]
    assert sum(isinstance(row[4], (int, float)) for row in missed.iter_rows(values_only=True)) == len(june["missed"])
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 and sheet.print_title_rows


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_the_files_repeat_byte_for_byte_and_need_a_file_to_go_to(tmp_path, fmt):
    first = bulletin_file(tmp_path, fmt, "--issued", "2020-07-03").read_bytes()
    assert bulletin_file(tmp_path, fmt, "--issued", "2020-07-03").read_bytes() == first
    result = scoring("bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", "2020-06", "--format", fmt)
    assert result.returncode == 2 and f"--format {fmt} writes a file: give it with --out FILE" in result.stderr


def test_the_html_bulletin_names_its_issuer(tmp_path):
    page = bulletin_file(tmp_path, "html", "--issuer", "市政府督查室", "--issued", "2020-07-03").read_text(encoding="utf-8")
    assert "<span>市政府督查室　2020年7月3日</span>" in page


@pytest.fixture(scope="module")
def by_item(tmp_path_factory):
    """indicators-2021 (three rates published apart, ranked by V4 解决采纳率) on the 2020 sample: its year moved to
    2020, and V5's item count (an extra field the sample does not have) read as one item."""
    text = (ROOT / "rules" / "indicators-2021.toml").read_text(encoding="utf-8")
    for old, new in (("valid_from = 2021-01-01", "valid_from = 2020-01-01"),
                     ("valid_until = 2021-12-31", "valid_until = 2020-12-31"),
                     ("denominator = \"extra(case, 'items')\"", "denominator = \"coalesce(extra(case, 'items'), 1)\"")):
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path_factory.mktemp("by-item") / "indicators-2020.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_rulebook_ranked_by_an_item_has_its_bulletin_ranked_by_that_item(by_item, tmp_path):
    """[ranking] by: the rows' figures are the item's points (V4, a rate with no deadline: what it can reach is what
    it has), ranked as `score` ranks the cases as they stood at the month's end; the tables are headed by its name."""
    june = json.loads(run_ok("bulletin", "--rules", by_item, "--cases", SAMPLE, "--month", "2020-06", "--format", "json"))
    assert june["rank_by"] == {"criterion": "V4", "title": "解决采纳率"} and june["final"] is False
    ledger = json.loads(run_ok("score", "--rules", by_item, "--cases", as_it_stood(dt.date(2020, 6, 30), tmp_path),
                               "--format", "json"))
    v4 = {d["department"]: next(c["points"] for c in d["criteria"] if c["criterion"] == "V4") for d in ledger["departments"]}
    assert {r["department"]: (r["rank"], r["reachable"], r["secured"]) for r in june["departments"]} == {
        d["department"]: (d["rank"], v4[d["department"]], v4[d["department"]]) for d in ledger["departments"]}
    assert [r["reachable"] for r in june["departments"]] == sorted(v4.values(), reverse=True)  # order = "desc"
    may = json.loads(run_ok("bulletin", "--rules", by_item, "--cases", SAMPLE, "--month", "2020-05", "--format", "json"))
    before = {r["department"]: r["reachable"] for r in may["departments"]}
    assert all(r["change"]["reachable"] == round(r["reachable"] - before[r["department"]], 2)
               for r in june["departments"] if r["department"] in before)
    table = run_ok("bulletin", "--rules", by_item, "--cases", SAMPLE, "--month", "2020-06")
    assert "可达解决采纳率" in table and "已得解决采纳率" in table and "按V4 解决采纳率排名" in table and "可达分" not in table
    page = run_ok("bulletin", "--rules", by_item, "--cases", SAMPLE, "--month", "2020-06", "--format", "html")
    assert ">可达解决采纳率<" in page and ">已得解决采纳率<" in page and "可达分" not in page
    for fmt in ("xlsx", "docx"):
        out = tmp_path / f"bulletin.{fmt}"
        run_ok("bulletin", "--rules", by_item, "--cases", SAMPLE, "--month", "2020-06", "--format", fmt, "--out", out)
        assert out.stat().st_size > 0
    cells = {c.value for row in openpyxl.load_workbook(tmp_path / "bulletin.xlsx").active.iter_rows() for c in row}
    assert {"可达解决采纳率", "已得解决采纳率"} <= cells
