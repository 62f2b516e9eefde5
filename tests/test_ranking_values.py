"""Ranks as values: department items (per = "department") and gates that read `ranking` (rank, of,
from_last, percentile) are decided after a first ranking and the departments are ranked again; the
shipped rules/honor-roll-2020.toml (红黑榜, a bonus for the first, a warning for the last) and misuse."""
from __future__ import annotations

import json
from pathlib import Path

from casekit import ROOT, line_of, rulebook_problems
from clikit import scoring

BOOK = ROOT / "rules/honor-roll-2020.toml"
CASES = ROOT / "rules/honor-roll-2020.tests/roll.jsonl"


def ledger(*args) -> dict:
    run = scoring("score", *args, "--format", "json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_roll_the_bonus_and_the_warning_read_the_ranking():
    found = {d["department"]: d for d in ledger("--rules", BOOK, "--cases", CASES)["departments"]}
    texts = {name: [line["text"] for line in d["lines"]] for name, d in found.items()}
    assert texts["市教育局"] == ["主办件1件平均100分×权重—", "列入红榜：第1名（共11个单位排名）", "未列入黑榜", "排名第一，加2分"]
    assert found["市教育局"]["total"] == 102 and found["市教育局"]["rank"] == 1
    # a tie at the edge of the black roll joins it: the two at 60 are both 5th from the last
    assert texts["市住建局"][2] == texts["市生态环境局"][2] == "列入黑榜：倒数第5名（共11个单位排名）"
    assert texts["市人社局"][2] == "未列入黑榜"
    # the two last share rank 10 and are both warned
    for name in ("市农业农村局", "市商务局"):
        assert texts[name][-1] == "排名末位（第10名，共11个单位），予以警示，等次最高为合格"
    assert [d["rank"] for d in found.values()] == [1, 2, 2, 4, 5, 6, 6, 8, 9, 10, 10]


RANKED = """
[rulebook]
id = "t"
title = "t"
version = "1"

[[rubric]]
id = "r"
title = "主办件"
roles = ["lead", "split", "co"]

[[criterion]]
id = "S"
title = "签收"
rubric = "r"
[[criterion.rule]]
id = "S"
bind = {{ s = "first signed" }}
points = 10
text = "签收"

[[criterion]]
id = "P"
title = "名次"
level = "department"
per = "department"
{item}

[department]
method = "sum"

[[grade]]
name = "好"
min = 15
[[grade]]
name = "差"
min = -100
{more}
"""
LAST_BONUS = """[[criterion.rule]]
id = "P"
when = "ranking.from_last == 1"
points = 15
text = "末位扶持：倒数第{ranking.from_last}名，前{ranking.of}名中第{ranking.rank}名，之下{ranking.percentile}"
"""


def write(tmp_path: Path, item: str = LAST_BONUS, more: str = "") -> list:
    (tmp_path / "book.toml").write_text(RANKED.format(item=item, more=more), encoding="utf-8")
    cases = []
    for department, signed in (("甲局", 3), ("乙局", 2), ("丙局", 0)):  # 30, 20 and 0 points before the item
        for n in range(3):
            events = [{"id": "e1", "type": "assigned", "date": "2020-03-02", "department": department}]
            if n < signed:
                events.append({"id": "e2", "type": "signed", "date": "2020-03-03", "department": department})
            cases.append({"id": f"{department}{n}", "kind": "suggestion", "title": "t", "proposer": "p",
                          "handlers": [{"department": department, "role": "lead"}], "events": events})
    (tmp_path / "cases.jsonl").write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n",
                                          encoding="utf-8")
    return ["--rules", tmp_path / "book.toml", "--cases", tmp_path / "cases.jsonl"]


def test_items_read_the_first_ranking_and_the_published_one_is_of_the_final_totals(tmp_path):
    found = {d["department"]: d for d in ledger(*write(tmp_path))["departments"]}
    # 丙局 was last with 0: +15; the final totals 30, 20, 15 are ranked again
    assert {n: (d["total"], d["rank"]) for n, d in found.items()} == {"甲局": (30, 1), "乙局": (20, 2), "丙局": (15, 3)}
    assert found["丙局"]["lines"][-1]["text"] == "末位扶持：倒数第1名，前3名中第3名，之下0"
    assert found["丙局"]["grade"] == "好"  # the grade is of the final total
    # a bonus that overtakes: 丙局 +25 reaches 25, above 乙局's 20, and is published 2nd (it read "last")
    overtaking = LAST_BONUS.replace("points = 15", "points = 25")
    found = {d["department"]: d for d in ledger(*write(tmp_path, overtaking))["departments"]}
    assert {n: d["rank"] for n, d in found.items()} == {"甲局": 1, "丙局": 2, "乙局": 3}


def test_a_department_not_ranked_reads_null_and_a_gate_reads_the_ranking(tmp_path):
    first = ('[[criterion.rule]]\nid = "P"\nwhen = "ranking.rank == 1"\npoints = 1\ntext = "第一"\n'
             '[[criterion.rule]]\nid = "P0"\nwhen = "not present(ranking.rank)"\npoints = 0\ntext = "未排名，共{ranking.of}名"\n')
    gate = ('[[gate]]\nid = "G"\ntitle = "末位"\nwhen = "ranking.from_last == 1"\ngrade = "差"\n'
            'text = "末位：{ranking.percentile}"\n[ranking]\nmin_cases = 3\n')
    args = write(tmp_path, first, gate)
    cases = (tmp_path / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "cases.jsonl").write_text("\n".join(c for c in cases if '"丙局2"' not in c) + "\n", encoding="utf-8")
    found = {d["department"]: d for d in ledger(*args)["departments"]}
    assert found["丙局"]["rank"] is None and found["丙局"]["lines"][-1]["text"] == "未排名，共2名"
    assert found["甲局"]["total"] == 31 and found["乙局"]["grade"] == "差"
    assert found["乙局"]["lines"][-1]["text"] == "末位：0"




def test_a_gate_before_the_ranking_cannot_read_an_item_after_it():
    gate = '[[gate]]\nid = "G"\ntitle = "门槛"\nwhen = "items.P > 0"\ngrade = "差"\ntext = "t"\n'
    text = RANKED.format(item=LAST_BONUS, more=gate)
    assert rulebook_problems(text) == [
        f'book.toml:{line_of(text, "[[gate]]")}: gate[0]: gate "G" is decided before the ranking, but reads P, which '
        "reads the ranking (a cycle: ranking → item → gate → total → ranking); let the gate read the ranking too, "
        "so that it is decided after it"]
    whole = gate.replace('when = "items.P > 0"', 'when = "len(items) > 0"')
    assert len(rulebook_problems(RANKED.format(item=LAST_BONUS, more=whole))) == 1


def test_the_ranking_cannot_be_by_an_item_that_reads_it():
    text = RANKED.format(item=LAST_BONUS, more='[ranking]\nby = "P"\n')
    assert rulebook_problems(text) == [f'book.toml:{line_of(text, "by = ")}: ranking.by: the ranking cannot be by "P", which '
                              "reads the ranking (a cycle: ranking → item → ranking)"]


def test_ranking_is_read_only_by_department_items_and_gates():
    text = RANKED.format(item=LAST_BONUS, more="").replace('text = "签收"', 'text = "签收{ranking.rank}"')
    [problem] = rulebook_problems(text)
    assert problem.startswith(f'book.toml:{line_of(text, "签收{ranking")}: criterion[0].rule[0].text: "ranking" '
                              "cannot be read here; it is read in department items' rules and a gate's when and text")


def test_self_check_and_bulletin_refuse_a_rulebook_that_reads_the_ranking():
    message = ("ranking: items or gates of this rulebook read the ranking, which a department's self-check (and the "
               "monthly bulletin built on it) cannot know: not supported yet; `scoring score` scores them")
    check = scoring("self-check", "--rules", BOOK, "--cases", CASES, "--department", "市教育局", "--as-of", "2020-06-01")
    assert check.returncode == 2 and message in check.stderr
    bulletin = scoring("bulletin", "--rules", BOOK, "--cases", CASES, "--month", "2020-06")
    assert bulletin.returncode == 2 and message in bulletin.stderr


def test_validate_bounds_the_items_that_read_the_ranking():
    run = scoring("rules", "validate", BOOK)
    assert run.returncode == 0, run.stdout
    rows = {line.split()[0]: line for line in run.stdout.splitlines() if line.strip()}
    assert rows["B3"].endswith("0 … 2") and rows["total"].endswith("0 … 102")
