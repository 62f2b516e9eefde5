"""Items that read other items (items.X in a per = "department" item): scored after the items they read,
their ledger line naming the points that unlocked it; cycles and unknown items refused with their line.
The shipped rules/bonus-stage-2019.toml is the example."""
from __future__ import annotations

import json

from casekit import ROOT, line_of, rulebook_problems
from clikit import scoring

BOOK = ROOT / "rules/bonus-stage-2019.toml"
HERE = ROOT / "rules/bonus-stage-2019.tests"
RUN = ("--cases", HERE / "stage.jsonl", "--departments", HERE / "stage-departments.jsonl")


def departments(rules) -> dict:
    run = scoring("score", "--rules", rules, *RUN, "--format", "json")
    assert run.returncode == 0, run.stderr
    return {d["department"]: d for d in json.loads(run.stdout)["departments"]}


def test_the_bonus_stage_opens_on_the_procedure_points_and_says_so():
    found = departments(BOOK)
    assert {n: d["total"] for n, d in found.items()} == {"市甲局": 60, "市乙局": 50, "市丙局": 40, "市丁局": 30}
    opened = found["市乙局"]["lines"][-1]
    assert opened["evidence"] == ["department.praised_cases", "items.P1=15"]
    assert opened["text"] == "办理程序得15分（不低于15分），受表扬1件，加5分"
    explained = scoring("explain", "--rules", BOOK, *RUN, "--department", "市丙局").stdout
    assert "B1   [B1-closed] 0分  办理程序得10分，低于15分，受表扬3件不加分  （依据 department.praised_cases, items.P1=10）" \
        in explained


def test_an_item_is_scored_after_the_items_it_reads_whatever_the_file_order(tmp_path):
    text = BOOK.read_text(encoding="utf-8")
    start, end = text.index('[[criterion]]\nid = "P1"'), text.index('[[criterion]]\nid = "R1"')
    moved = text[:start] + text[end:].replace("[department_fields]", text[start:end] + "[department_fields]")
    assert moved.index('id = "B1"') < moved.index('id = "P1"')
    (tmp_path / "moved.toml").write_text(moved, encoding="utf-8")
    found = departments(tmp_path / "moved.toml")
    assert {n: d["total"] for n, d in found.items()} == {"市甲局": 60, "市乙局": 50, "市丙局": 40, "市丁局": 30}
    # reported in file order: B1's line before P1's
    assert [line["criterion"] for line in found["市乙局"]["lines"]] == ["R1", "B1", "P1", "P1"]




def test_items_that_read_each_other_are_a_cycle_named_with_its_line():
    text = BOOK.read_text(encoding="utf-8").replace(
        'text = "办理成效基础分{params.results_points}分"',
        'when = "coalesce(items.B1, 0) >= 0"\ntext = "办理成效基础分{params.results_points}分"').replace(
        'when = "items.P1 >= params.bonus_threshold and department.praised_cases > 0"',
        'when = "items.R1 > 0 and items.P1 >= params.bonus_threshold and department.praised_cases > 0"')
    assert rulebook_problems(text) == [f'book.toml:{line_of(text, "[[criterion]]" + chr(10) + "id = " + chr(34) + "R1")}: '
                              "criterion[1]: items read each other in a cycle: R1 → B1 → R1 (an item is scored after "
                              "the items it reads)"]
    itself = BOOK.read_text(encoding="utf-8").replace('text = "办理程序得{items.P1}分，低于', 'text = "{items.B1}低于')
    assert rulebook_problems(itself)[0].endswith("criterion[2]: items read each other in a cycle: B1 → B1 (an item is scored "
                                        "after the items it reads)")


def test_an_unknown_item_or_a_read_of_all_items_is_refused_with_its_line():
    text = BOOK.read_text(encoding="utf-8").replace("items.P1 >= params", "items.P2 >= params")
    rule = "[[criterion.rule]]" + chr(10) + "id = " + chr(34) + "B1-open"
    assert rulebook_problems(text) == [f'book.toml:{line_of(text, rule)}: criterion[2].rule[0]: reads items.P2, but there is '
                              'no item "P2"']
    whole = BOOK.read_text(encoding="utf-8").replace("items.P1 >= params", "len(items) >= params")
    assert rulebook_problems(whole) == [f'book.toml:{line_of(whole, rule)}: criterion[2].rule[0]: an '
                               'item reads other items by name (items.X or items["X"]), so that the order in which '
                               "the items are scored is known"]


def test_an_item_with_no_points_for_the_department_reads_as_null(tmp_path):
    # a case item of a rubric the department has no case in: null, so coalesce and present() decide
    text = """
[rulebook]
id = "t"
title = "t"
version = "1"

[[rubric]]
id = "co"
title = "会办件"
roles = ["co"]

[[rubric]]
id = "lead"
title = "主办件"
roles = ["lead", "split"]

[[criterion]]
id = "H1"
title = "会办"
rubric = "co"
[[criterion.rule]]
id = "H1"
bind = { r = "co_reply" }
points = 10
text = "会办"

[[criterion]]
id = "B"
title = "无会办件"
level = "department"
per = "department"
[[criterion.rule]]
id = "B"
when = "not present(items.H1)"
points = 1
text = "无会办件（{items.H1}）"

[department]
method = "mean"
weights = {}
"""
    text = text.replace('method = "mean"\nweights = {}', 'method = "mean"')
    (tmp_path / "book.toml").write_text(text, encoding="utf-8")
    case = {"id": "c1", "kind": "suggestion", "title": "t", "proposer": "p",
            "handlers": [{"department": "甲局", "role": "lead"}],
            "events": [{"id": "e1", "type": "assigned", "date": "2020-03-02", "department": "甲局"}]}
    (tmp_path / "cases.jsonl").write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    run = scoring("score", "--rules", tmp_path / "book.toml", "--cases", tmp_path / "cases.jsonl", "--format", "json")
    assert run.returncode == 0, run.stderr
    [department] = json.loads(run.stdout)["departments"]
    assert department["lines"][-1]["text"] == "无会办件（—）" and department["lines"][-1]["evidence"] == ["items.H1=—"]
