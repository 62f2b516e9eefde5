"""Items outside the total (in_total = false) and a ranking by an item ([ranking] by): the shipped
rulebook rules/indicators-2021.toml as users see it, and the misuses a rulebook author meets."""
from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
from casekit import ROOT, line_of, rulebook_problems
from clikit import scoring, scoring_bytes

BOOK = "rules/indicators-2021.toml"
CASES = "rules/indicators-2021.tests/rates-ranking.jsonl"
RUN = ("--rules", BOOK, "--cases", CASES)


def ledger() -> dict:
    run = scoring("score", *RUN, "--format", "json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_indicators_are_reported_beside_the_total_and_rank_by_the_item():
    found = ledger()
    by_name = {d["department"]: d for d in found["departments"]}
    assert {d["rank_by"] for d in found["departments"]} == {"V4"} and "rank_by" not in found["rulebook"]
    assert [d["department"] for d in found["departments"]] == ["市财政局", "市交通委", "市规划资源局", "市发展改革委"]
    assert [d["rank"] for d in found["departments"]] == [1, 2, 3, None]
    traffic = by_name["市交通委"]
    # the total is made of nothing: no line, 0; the items are all indicators, with their lines beside it
    assert traffic["lines"] == [] and traffic["total"] == 0 and traffic["grade"] is None
    assert {c["criterion"]: (c["points"], c["in_total"]) for c in traffic["criteria"]} == {
        "V1": (66.67, False), "V2": (66.67, False), "V3": (100, False), "V4": (66.67, False), "V5": (37.5, False)}
    assert [line["text"] for line in traffic["indicator_lines"]][3] == "答复3件，解决采纳（A类）2件，解决采纳率66.67%"


def test_the_ranking_table_shows_indicators_and_no_total_of_nothing():
    run = scoring("score", *RUN)
    assert run.returncode == 0, run.stderr
    header = next(line for line in run.stdout.splitlines() if line.lstrip().startswith("排名"))  # under the figures
    assert "V4 解决采纳率" in header and "总分" not in header and "等级" not in header
    assert "V1、V2、V3、V4、V5为单列指标，不计入总分。" in run.stdout
    assert "排名按 V4 解决采纳率的得分（保留两位小数）排列，不按总分。" in run.stdout
    assert "排名为“—”的，办件数不足排名所需件数，或没有计入 V4 的办件。" in run.stdout
    explained = scoring("explain", *RUN, "--department", "市交通委")
    assert explained.stdout.startswith("市交通委  排名 2（按V4）\n")
    assert "单列指标（不计入总分）：" in explained.stdout and "部门得分构成" not in explained.stdout


def test_html_csv_and_workbook_mark_the_indicators():
    html = scoring("score", *RUN, "--format", "html").stdout
    assert "<h4>单列指标（不计入总分）</h4>" in html and "<td>单列指标</td>" in html
    assert 'aria-label="各部门解决采纳率"' in html  # the chart shows what ranks
    rows = scoring("score", *RUN, "--format", "csv").stdout.splitlines()
    assert rows[0].endswith(",in_total") and rows[1].endswith(",false")
    book = openpyxl.load_workbook(io.BytesIO(scoring_bytes("score", *RUN, "--format", "xlsx", "--out", "-")))
    sheet = book["明细"]
    header = [cell.value for cell in sheet[2]]
    assert header[-1] == "计入总分"
    footer = sheet.max_row  # the hashes
    assert str(sheet.cell(footer, 1).value).startswith("规则 sha256")
    assert {row[-1] for row in sheet.iter_rows(min_row=3, max_row=footer - 1, values_only=True) if row[0]} == {"否"}


def with_items(tmp_path: Path, extra: str = "", in_total_c2: bool = False) -> list[str]:
    """A small rulebook: a case base, C1 a department item in the total, C2 one outside it."""
    text = f"""
[rulebook]
id = "t"
title = "t"
version = "1"

[[rubric]]
id = "r"
title = "主办"
roles = ["lead", "split", "co"]

[[criterion]]
id = "H1"
title = "签收"
rubric = "r"
[[criterion.rule]]
id = "H1"
bind = {{ s = "first signed" }}
points = 10
text = "签收"

[[criterion]]
id = "C1"
title = "督办"
level = "department"
[[criterion.rule]]
id = "C1"
bind = {{ u = "urged" }}
points = -1
text = "被督办"

[[criterion]]
id = "C2"
title = "答复率"
level = "department"
in_total = {"true" if in_total_c2 else "false"}
[criterion.rate]
of = "true"
hit = "exists(reply)"
points = "rate * 100"
text = "答复率{{percent(rate)}}"

[department]
method = "mean"
{extra}
"""
    path = tmp_path / "book.toml"
    path.write_text(text, encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    events = [("e1", "assigned", "2020-03-02", "甲局"), ("e2", "signed", "2020-03-03", "甲局"),
              ("e3", "urged", "2020-04-01", "甲局"), ("e4", "assigned", "2020-03-02", "乙局")]
    case_a = {"id": "c1", "kind": "suggestion", "title": "一", "proposer": "p",
              "handlers": [{"department": "甲局", "role": "lead"}],
              "events": [{"id": i, "type": t, "date": d, "department": dep} for i, t, d, dep in events[:3]]}
    case_b = {"id": "c2", "kind": "suggestion", "title": "二", "proposer": "p",
              "handlers": [{"department": "乙局", "role": "lead"}],
              "events": [{"id": "e1", "type": "assigned", "date": "2020-03-02", "department": "乙局"},
                         {"id": "e2", "type": "reply", "date": "2020-05-02", "department": "乙局", "outcome": "A"}]}
    cases.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in (case_a, case_b)) + "\n", encoding="utf-8")
    return ["--rules", str(path), "--cases", str(cases)]


def test_an_indicator_beside_a_total_keeps_the_total_and_its_lines_exact(tmp_path):
    run = scoring("score", *with_items(tmp_path), "--format", "json")
    assert run.returncode == 0, run.stderr
    by_name = {d["department"]: d for d in json.loads(run.stdout)["departments"]}
    first, second = by_name["甲局"], by_name["乙局"]
    # 甲局: base 10, C1 -1 = 9; C2 (no reply: 0%) beside it. 乙局: base 0, C1 0; C2 100% beside it
    assert (first["total"], second["total"]) == (9, 0)
    for d in (first, second):
        assert sum(Decimal(str(line["points"])) for line in d["lines"]) == Decimal(str(d["total"]))
        assert {line["criterion"] for line in d["indicator_lines"]} == {"C2"}
        assert "C2" not in {line["criterion"] for line in d["lines"]}
    assert [c.get("in_total", True) for c in first["criteria"]] == [True, True, False]
    # ranked by the total, as before: the indicator does not count
    assert (first["rank"], second["rank"]) == (1, 2)
    ranked = scoring("score", *with_items(tmp_path, '[ranking]\nby = "C2"'), "--format", "json")
    by_name = {d["department"]: d for d in json.loads(ranked.stdout)["departments"]}
    assert (by_name["乙局"]["rank"], by_name["甲局"]["rank"]) == (1, 2)
    # the same rulebook with C2 in the total: 乙局 gets its 100
    counted = scoring("score", *with_items(tmp_path, in_total_c2=True), "--format", "json")
    assert {d["department"]: d["total"] for d in json.loads(counted.stdout)["departments"]} == {"乙局": 100, "甲局": 9}


def test_validate_leaves_the_indicator_out_of_the_total(tmp_path):
    args = with_items(tmp_path)
    run = scoring("rules", "validate", args[1])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "答复率（不计入总分）" in run.stdout
    total = next(line for line in run.stdout.splitlines() if line.startswith("total"))
    assert total.split()[-1] == "10"  # the mean of 0..10, -1 per urging (unbounded below), not + 0..100
    assert "…" in total


def test_a_gate_on_an_indicator_item_holds_when_its_rules_fire(tmp_path):
    gate = '[[grade]]\nname = "好"\nmin = 5\n[[grade]]\nname = "差"\nmin = -100\n' \
           '[[gate]]\nid = "G"\ntitle = "门槛"\nwhen = "items.C2 < 50"\ngrade = "差"\ntext = "答复率{items.C2}"'
    run = scoring("score", *with_items(tmp_path, gate), "--format", "json")
    by_name = {d["department"]: d for d in json.loads(run.stdout)["departments"]}
    assert by_name["甲局"]["grade"] == "差" and by_name["甲局"]["lines"][-1]["text"] == "答复率0"



def shipped() -> str:
    return (ROOT / BOOK).read_text(encoding="utf-8")



def test_a_total_of_nothing_needs_a_ranking_by_an_item():
    text = shipped().replace('by = "V4"\n', "")
    assert rulebook_problems(text) == [f'book.toml:{line_of(text, "method = ")}: department.method: nothing makes the total: '
                              'method = "none", no base, and no department item in the total; rank by an item '
                              '([ranking] by = "<item>") or put an item in the total']
    graded = shipped() + '\n[[grade]]\nname = "好"\nmin = 0\n'
    assert rulebook_problems(graded) == [f'book.toml:{line_of(graded, "[[grade]]")}: grade: grade bands grade the total, and '
                                'nothing makes the total here (method = "none", no base, every department item outside it)']


def test_a_ranking_by_an_unknown_or_a_case_item_is_refused_with_its_line():
    text = shipped().replace('by = "V4"', 'by = "V9"')
    assert rulebook_problems(text) == [f'book.toml:{line_of(text, "by = ")}: ranking.by: unknown criterion "V9"']
    reference = (ROOT / "rules/proposal-handling.toml").read_text(encoding="utf-8")
    reference = reference.replace('[ranking]\norder = "desc"', '[ranking]\nby = "L1"\norder = "desc"')
    at = line_of(reference, 'by = "L1"')
    assert rulebook_problems(reference) == [f'book.toml:{at}: ranking.by: "L1" is a case item; the '
                                   'ranking is by a department item (level = "department"), whose points are the '
                                   "department's"]


def test_in_total_false_is_for_department_items_only():
    text = (ROOT / "rules/proposal-handling.toml").read_text(encoding="utf-8")
    text = text.replace('id = "L1"\n', 'id = "L1"\nin_total = false\n', 1)
    found = rulebook_problems(text)
    assert found == [f'book.toml:{line_of(text, "in_total = false")}: criterion[0].in_total: only a department item '
                     '(level = "department") can stand outside the total; a case item counts in its case\'s total']


def test_a_fixture_expects_items_and_indicator_lines(tmp_path):
    (tmp_path / "indicators-2021.toml").write_text(shipped(), encoding="utf-8")
    tests = tmp_path / "indicators-2021.tests"
    tests.mkdir()
    (tests / "rates-ranking.jsonl").write_bytes((ROOT / CASES).read_bytes())
    (tests / "f.toml").write_text('[fixture]\ncases = "rates-ranking.jsonl"\n[[department]]\nname = "市交通委"\n'
                                  'items = { V4 = "66.66", V9 = 1 }\nindicator_lines = ["V1 rate 66.67"]\n',
                                  encoding="utf-8")
    run = scoring("rules", "test", str(tmp_path / "indicators-2021.toml"))
    assert run.returncode == 1
    assert 'department 市交通委: item "V4": expected 66.66, actual 66.67' in run.stdout
    assert 'department 市交通委: no item "V9" in the department\'s criteria' in run.stdout
    assert "department 市交通委: indicator_lines differ (- expected, + actual):" in run.stdout


def test_the_monthly_bulletin_ranks_by_the_item_too():
    # its ranking, figures and notes are of the item (tests/test_bulletin.py checks them against `score`)
    run = scoring("bulletin", *RUN, "--month", "2021-05", "--format", "json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["rank_by"] == {"criterion": "V4", "title": "解决采纳率"}
    ledger = json.loads(scoring("score", *RUN, "--format", "json").stdout)
    assert {r["department"] for r in document["departments"]} <= {d["department"] for d in ledger["departments"]}


def test_a_diff_lists_the_indicator_lines_that_changed(tmp_path):
    before = tmp_path / "before.json"
    before.write_text(scoring("score", *RUN, "--format", "json").stdout, encoding="utf-8")
    changed = tmp_path / "changed.toml"
    changed.write_text(shipped().replace("percent = 100", "percent = 10"), encoding="utf-8")
    after = tmp_path / "after.json"
    after.write_text(scoring("score", "--rules", changed, "--cases", CASES, "--format", "json").stdout, encoding="utf-8")
    run = scoring("diff", before, after, "--format", "json")
    traffic = next(d for d in json.loads(run.stdout)["departments"] if d["department"] == "市交通委")
    assert {line["criterion"] for line in traffic["lines"]} == {"V1", "V2", "V3", "V4", "V5"}
