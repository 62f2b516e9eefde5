"""A rate as a ratio of sums (numerator and denominator per counted case, pooled over the cases): the
shipped V5 of rules/indicators-2021.toml, the exact pooled ratio, and the misuses an author meets."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from casekit import ROOT, line_of, rulebook_problems
from clikit import scoring

BOOK = ROOT / "rules/indicators-2021.toml"

RATE = """
[rulebook]
id = "t"
title = "t"
version = "1"

[[criterion]]
id = "A"
title = "条目采纳率"
level = "department"
{criterion}
[criterion.rate]
of = "handler.role != 'co'"
{form}
points = "rate * 100"
text = "{{numerator}}/{{denominator}}"
empty = "无可计条目"

[department]
method = "none"
"""
RATIO = 'numerator = "coalesce(extra(case, \'adopted\'), 0)"\ndenominator = "extra(case, \'items\')"'


def case(case_id: str, department: str, role: str = "lead", **extra) -> dict:
    return {"id": case_id, "kind": "suggestion", "title": case_id, "proposer": "p", **extra,
            "handlers": [{"department": department, "role": role}],
            "events": [{"id": "e1", "type": "assigned", "date": "2020-03-02", "department": department}]}


def run(tmp_path: Path, cases: list[dict], form: str = RATIO, criterion: str = ""):
    (tmp_path / "book.toml").write_text(RATE.format(form=form, criterion=criterion), encoding="utf-8")
    (tmp_path / "cases.jsonl").write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n",
                                          encoding="utf-8")
    return scoring("score", "--rules", tmp_path / "book.toml", "--cases", tmp_path / "cases.jsonl", "--format", "json")


def lines(result) -> dict[str, tuple]:
    assert result.returncode == 0, result.stderr
    return {d["department"]: (d["lines"][0]["points"], d["lines"][0]["text"]) for d in json.loads(result.stdout)["departments"]}


def test_the_rate_is_the_pooled_ratio_not_the_mean_of_the_cases_shares(tmp_path):
    # 甲局: 1 of 1 and 1 of 3 items: 2/4 = 50 (the mean of the shares would be 66.67); a co-handled
    # case is not counted; 乙局: items of no case, 0 of 0: the empty sentence
    cases = [case("c1", "甲局", items=1, adopted=1), case("c2", "甲局", items=3, adopted=1),
             case("c3", "甲局", role="co", items=9), case("c4", "乙局", items=0)]
    assert lines(run(tmp_path, cases)) == {"甲局": (50, "2/4"), "乙局": (0, "无可计条目")}


def test_one_third_is_exact(tmp_path):
    cases = [case("c1", "甲局", items=3, adopted=1)]
    result = run(tmp_path, cases, criterion="max = 100")
    assert lines(result)["甲局"] == (33.33, "1/3")


@pytest.mark.parametrize("extra, message", [
    ({}, "A rate denominator: the denominator must be a number, got null; write coalesce(..., 0) if none means 0"),
    ({"items": 2, "adopted": 3}, "A rate: the numerator 3 is above the denominator 2"),
    ({"items": -1}, "A rate denominator: the denominator -1 is negative"),
    ({"items": "三"}, "A rate denominator: the denominator must be a number, got text (三)"),
])
def test_a_case_whose_numbers_are_not_a_share_is_an_error_naming_it(tmp_path, extra, message):
    result = run(tmp_path, [case("c1", "甲局", items=1), case("c2", "甲局", **extra)])
    assert result.returncode == 2
    assert f"cases.jsonl: case c2: 甲局: {message}\n" in result.stderr




@pytest.mark.parametrize("form, criterion, where, message", [
    ('hit = "exists(reply)"\n' + RATIO, "", "hit = ", "criterion[0].rate.hit: a rate has either hit or numerator and "
                                                     "denominator, not both"),
    ('numerator = "1"', "", "[criterion.rate]", "criterion[0].rate: a ratio of sums needs both numerator and "
                                                "denominator; denominator is missing"),
    ("", "", "[criterion.rate]", "criterion[0].rate: a rate needs hit (a condition), or numerator and denominator "
                                 "(numbers per case)"),
    (RATIO, 'rubric = "r"', "rubric = ", "criterion[0].rubric: a ratio of sums counts the cases its of names: write "
                                         "the rubric there (of = \"rubric == 'r' and ...\") instead of rubric = ..."),
    (RATIO, 'step = { event = { type = "reply", outcome = "A" } }', "step = ",
     "criterion[0].step: a step is not supported with a ratio of sums (self-check sees hits, not numbers)"),
])
def test_the_form_of_a_rate_is_checked_with_its_line(form, criterion, where, message):
    text = RATE.format(form=form, criterion=criterion)
    found = rulebook_problems(text)
    assert f"book.toml:{line_of(text, where)}: {message}" in found, found


@pytest.mark.parametrize("form, where, message", [
    ('numerator = "first(reply).date"\ndenominator = "1"', "numerator = ",
     'criterion[0].rate.numerator: must give a number, but gives date'),
    ('numerator = "1"\ndenominator = "exists(reply)"', "denominator = ",
     'criterion[0].rate.denominator: must give a number, but gives bool'),
    # a numeric hit stays refused: it would count by being non-zero
    ('hit = "count(reply)"', "hit = ", "criterion[0].rate.hit: "),
])
def test_numbers_and_conditions_are_of_their_kind(form, where, message):
    text = RATE.format(form=form, criterion="")
    found = rulebook_problems(text)
    assert any(p.startswith(f"book.toml:{line_of(text, where)}: {message}") for p in found), found


def test_the_points_of_a_ratio_read_numerator_and_denominator_not_hits():
    text = RATE.format(form=RATIO, criterion="").replace('points = "rate * 100"', 'points = "hits"')
    [problem] = rulebook_problems(text)
    assert problem.startswith(f'book.toml:{line_of(text, "points = ")}: criterion[0].rate.points: "hits" cannot '
                              "be read here; it is read in a rate's points and text, when it counts hits (a ratio of sums has "
                              "numerator and denominator)")


def test_validate_bounds_a_ratio_like_a_rate(tmp_path):
    (tmp_path / "book.toml").write_text(RATE.format(form=RATIO, criterion=""), encoding="utf-8")
    result = scoring("rules", "validate", tmp_path / "book.toml")
    assert result.returncode == 0, result.stdout
    assert any(line.split()[:1] == ["A"] and line.endswith("0 … 100") for line in result.stdout.splitlines())


def test_the_shipped_item_rate_pools_the_items():
    result = scoring("explain", "--rules", BOOK, "--cases", ROOT / "rules/indicators-2021.tests/rates-ranking.jsonl",
                     "--department", "市交通委")
    assert "V5   +37.5分  答复3件，所提8条中采纳3条，条目采纳率37.5%" in result.stdout
