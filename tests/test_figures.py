"""The figures a report opens with: every rate item of the rulebook pooled over all departments (the hits of
all over the cases of all, exact), the cases and the departments; a rulebook without rates gives counts only."""
from __future__ import annotations

import re
from fractions import Fraction

from casekit import REFERENCE, ROOT, SAMPLE, reference_text
from clikit import scoring

from scoring import app
from scoring.reports.text import rate_text

COUNTY = ROOT / "rules" / "county-2017.toml"
COUNTY_CASES = ROOT / "rules" / "county-2017.tests"


def test_the_pooled_rate_is_the_sum_of_every_departments_hits_over_the_sum_of_their_cases():
    result = app.score(app.Request(str(REFERENCE), str(SAMPLE)))
    (rate,) = result.figures.rates
    # each department's rate line says its own hits and cases: "主办/分办件面商率…（hits/cases件）"
    counts = [tuple(map(int, re.search(r"（(\d+)/(\d+)件）", line["text"]).groups()))
              for d in result.ledger["departments"] for line in d["lines"] if line["kind"] == "rate" and line["text"]]
    assert len(counts) == 15
    assert (rate.criterion, rate.name, rate.hits, rate.cases) == ("D2", "面商率", sum(h for h, _ in counts),
                                                                 sum(c for _, c in counts))
    assert rate.rate == Fraction(153, 225)  # exact, not the mean of the departments' rates
    assert (result.figures.cases, result.figures.departments) == (209, 15)
    assert rate_text(rate) == "面商率 68.0%（153/225）"


def test_the_percentage_rounds_half_up_from_the_exact_rate_and_counts_have_separators():
    from scoring.app.figures import PooledRate
    assert rate_text(PooledRate("X", "满意率", 1283 - 49, 1283)) == "满意率 96.2%（1,234/1,283）"
    assert rate_text(PooledRate("X", "按时答复率", 1, 8)) == "按时答复率 12.5%（1/8）"
    assert rate_text(PooledRate("X", "按时答复率", 1, 16)) == "按时答复率 6.3%（1/16）"  # 6.25 half up
    assert rate_text(PooledRate("X", "面商率", 0, 0)) == "面商率 —（无计入件）"


def test_another_rulebooks_rates_appear_by_their_own_names():
    run = scoring("score", "--rules", COUNTY, "--cases", COUNTY_CASES / "grades.jsonl",
                  "--departments", COUNTY_CASES / "grades-departments.jsonl")
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    # 办理程序：面商率, 办理成效：满意率, 办理成效：解决率, named without their headings
    assert re.fullmatch(r"合计  办件 8 件 · 部门 4 个 · 面商率 [\d.]+%（\d+/\d+） · 满意率 [\d.]+%（\d+/\d+）"
                        r" · 解决率 [\d.]+%（\d+/\d+）", first), first


def test_a_rulebook_without_rates_shows_the_counts_only(tmp_path):
    text = reference_text()
    start, end = text.index('[[criterion]]\nid = "D2"'), text.index("[department]")
    rules = tmp_path / "no-rates.toml"
    rules.write_text(text[:start] + text[end:], encoding="utf-8")
    run = scoring("score", "--rules", rules, "--cases", SAMPLE)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "合计  办件 209 件 · 部门 15 个"


def test_the_bulletin_opens_with_the_month_ends_figures():
    result = app.bulletin(app.Request(str(REFERENCE), str(SAMPLE)), "2020-06")
    figures = result.figures
    assert figures.cases == result.document["input"]["cases"] == 190  # the cases assigned by the month's end
    assert figures.departments == len(result.document["departments"])
    (rate,) = figures.rates
    assert rate.cases < 225 and rate_text(rate) == "面商率 64.4%（132/205）"
    run = scoring("bulletin", "--rules", REFERENCE, "--cases", SAMPLE, "--month", "2020-06")
    assert run.stdout.splitlines()[2] == "合计  办件 190 件 · 部门 15 个 · 面商率 64.4%（132/205）"


def test_a_ratio_of_sums_is_pooled_as_its_numerators_over_its_denominators():
    """indicators-2021's V5: the suggestions' items adopted over the items proposed, summed over every answered
    case of every department (recounted here from the case file)."""
    import json
    fixture = ROOT / "rules" / "indicators-2021.tests" / "rates-ranking.jsonl"
    cases = [json.loads(line) for line in fixture.read_text(encoding="utf-8").splitlines() if line.strip()]
    adopted = proposed = 0
    for case in cases:
        for handler in case["handlers"]:
            replies = [e for e in case["events"] if e["type"] == "reply" and e["department"] == handler["department"]]
            if handler["role"] in ("lead", "split") and replies:
                adopted += max(replies, key=lambda e: (e["date"], e["id"])).get("adopted_items", 0)
                proposed += case["items"]
    result = app.score(app.Request(str(ROOT / "rules" / "indicators-2021.toml"), str(fixture)))
    rate = next(r for r in result.figures.rates if r.criterion == "V5")
    assert (rate.hits, rate.cases) == (adopted, proposed) and proposed > adopted > 0
    assert rate_text(rate) == f"建议条目采纳率 {float(round(Fraction(adopted, proposed) * 100, 1))}%（{adopted}/{proposed}）"
