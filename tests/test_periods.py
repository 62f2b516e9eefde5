"""Rulebooks assessed per quarter or month: `--period` scores one slice of a year's file.

The slice is the cases first assigned in the period, judged as of the period's end (plus
`period_closing_days`); the cases assigned outside it are left out and counted, on stderr and in
the ledger. A period of the wrong kind, outside the rulebook's validity, given to a yearly
rulebook or missing for a periodic one is an error.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from casekit import REFERENCE, SAMPLE, reference_text
from clikit import scoring

from scoring.domain.cases import assigned_on
from scoring.inputs.case_file import load_cases

VERSION = 'version = "1.0.0"\n'


def periodic(tmp_path, kind: str = "quarter", extra: str = "", name: str = "periodic.toml", text: str | None = None):
    """The reference rulebook assessed per `kind`, with more [rulebook] keys (extra)."""
    text = (text or reference_text()).replace(VERSION, f'{VERSION}period = "{kind}"\n{extra}', 1)
    assert f'period = "{kind}"' in text
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def ledger(*args) -> tuple[dict, str]:
    run = scoring("score", *args, "--format", "json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout), run.stderr


def error(*args) -> str:
    run = scoring("score", *args)
    assert run.returncode == 2, run.stdout + run.stderr
    return run.stderr


def scored_cases(document: dict) -> set[str]:
    return {c["case"] for d in document["departments"] for c in d["cases"]}


def test_a_quarter_scores_the_cases_assigned_in_it_and_says_how_many_it_left_out(tmp_path):
    whole = load_cases(SAMPLE)
    in_q2 = {c.id for c in whole.cases if dt.date(2020, 4, 1) <= assigned_on(c) <= dt.date(2020, 6, 30)}
    assert 0 < len(in_q2) < len(whole.cases)
    document, stderr = ledger("--rules", periodic(tmp_path), "--cases", SAMPLE, "--period", "2020-Q2")
    assert scored_cases(document) == in_q2
    outside = len(whole.cases) - len(in_q2)
    assert document["input"]["period"] == {"period": "2020-Q2", "first": "2020-04-01", "last": "2020-06-30",
                                           "ends": "2020-06-30", "outside": outside}
    assert f"{outside} case(s) assigned outside 2020-Q2 (2020-04-01 to 2020-06-30) are left out; {len(in_q2)} scored" \
        in stderr
    late = sum(1 for c in whole.cases if c.id in in_q2 for e in c.events if e.date > dt.date(2020, 6, 30))
    assert late and document["input"]["after_closing"] == late
    assert f"{late} event(s) dated after 2020-06-30, the end of period 2020-Q2's assessment, are not scored" in stderr
    table = scoring("score", "--rules", periodic(tmp_path), "--cases", SAMPLE, "--period", "2020-Q2").stdout
    assert f"考核期 2020-Q2：2020-04-01至2020-06-30交办的办件，截至 2020-06-30；期外交办的 {outside} 件未计入。" in table


def test_a_period_is_the_same_as_its_cases_split_by_hand(tmp_path):
    # the slice, cut at the period's end, scored by the yearly rulebook: the same departments, totals and lines
    whole = load_cases(SAMPLE)
    end = dt.date(2020, 7, 10)
    split = tmp_path / "q2.jsonl"
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines()
             if dt.date(2020, 4, 1) <= assigned_on(next(c for c in whole.cases if c.id == json.loads(line)["id"]))
             <= dt.date(2020, 6, 30)]
    cut = [dict(data, events=[e for e in data["events"] if e["date"] <= end.isoformat()])
           for data in map(json.loads, lines)]
    split.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cut), encoding="utf-8")
    period, _ = ledger("--rules", periodic(tmp_path, extra="period_closing_days = 10\n"), "--cases", SAMPLE,
                       "--period", "2020-Q2")
    by_hand, _ = ledger("--rules", REFERENCE, "--cases", split)
    assert period["input"]["period"]["ends"] == "2020-07-10"
    assert period["departments"] == by_hand["departments"]
    assert period["input"]["sha256"] == by_hand["input"]["sha256"]


def test_a_month_of_a_monthly_rulebook(tmp_path):
    whole = load_cases(SAMPLE)
    in_may = {c.id for c in whole.cases if assigned_on(c).month == 5}
    document, _ = ledger("--rules", periodic(tmp_path, "month"), "--cases", SAMPLE, "--period", "2020-05")
    assert scored_cases(document) == in_may
    assert document["input"]["period"]["first"] == "2020-05-01" and document["input"]["period"]["last"] == "2020-05-31"


@pytest.mark.parametrize(("kind", "period", "expected"), [
    ("quarter", "2020-05", "rulebook proposal-handling 1.0.0 is assessed per quarter: --period 2020-05 is a month; "
                           "write it as 2020-Q2"),
    ("month", "2020-Q2", "rulebook proposal-handling 1.0.0 is assessed per month: --period 2020-Q2 is a quarter; "
                         "write it as 2020-05"),
    ("quarter", None, "rulebook proposal-handling 1.0.0 is assessed per quarter: give the period to score with "
                      "--period, such as 2020-Q2"),
    ("quarter", "2020-13", '--period "2020-13" is not a period: write a quarter as 2020-Q2 or a month as 2020-05'),
    ("quarter", "Q2", '--period "Q2" is not a period'),
])
def test_a_wrong_period_is_an_error_that_says_what_to_write(tmp_path, kind, period, expected):
    args = ("--rules", periodic(tmp_path, kind), "--cases", SAMPLE) + (("--period", period) if period else ())
    assert expected in error(*args)


def test_a_yearly_rulebook_refuses_a_period():
    assert ("rulebook proposal-handling 1.0.0 is assessed per year; --period is for a rulebook assessed per quarter "
            "or month") in error("--rules", REFERENCE, "--cases", SAMPLE, "--period", "2020-Q1")


def test_a_period_outside_the_rulebooks_validity_is_an_error(tmp_path):
    rules = periodic(tmp_path, extra="valid_from = 2020-01-01\nvalid_until = 2020-12-31\n")
    assert ("--period 2021-Q1 (2021-01-01 to 2021-03-31) is not within the period of rulebook proposal-handling "
            "1.0.0 (2020-01-01 to 2020-12-31)") in error("--rules", rules, "--cases", SAMPLE, "--period", "2021-Q1")
    document, _ = ledger("--rules", rules, "--cases", SAMPLE, "--period", "2020-Q4")
    assert document["input"]["period"]["period"] == "2020-Q4"


def test_period_closing_days_is_only_for_a_periodic_rulebook(tmp_path):
    path = tmp_path / "year.toml"
    path.write_text(reference_text().replace(VERSION, f"{VERSION}period_closing_days = 10\n", 1), encoding="utf-8")
    assert "period_closing_days is for a rulebook assessed per quarter or month" in error(
        "--rules", path, "--cases", SAMPLE)


def test_the_closing_date_bounds_a_periods_end(tmp_path):
    rules = periodic(tmp_path, extra="period_closing_days = 60\nclosing_date = 2021-01-15\n")
    document, _ = ledger("--rules", rules, "--cases", SAMPLE, "--period", "2020-Q4")
    assert document["input"]["period"]["ends"] == "2021-01-15"
    document, _ = ledger("--rules", rules, "--cases", SAMPLE, "--period", "2020-Q3")
    assert document["input"]["period"]["ends"] == "2020-11-29"


def test_the_minimum_case_count_for_ranking_counts_the_periods_cases(tmp_path):
    text = reference_text()
    assert 'ties = "shared"\n' in text
    rules = periodic(tmp_path, text=text.replace('ties = "shared"\n', 'ties = "shared"\nmin_cases = 4\n', 1))
    quarter, _ = ledger("--rules", rules, "--cases", SAMPLE, "--period", "2020-Q2")
    for department in quarter["departments"]:
        assert (department["rank"] is None) == (len(department["cases"]) < 4), department["department"]
    unranked = {d["department"] for d in quarter["departments"] if d["rank"] is None}
    assert unranked and any(d["rank"] for d in quarter["departments"])
    # over the year, the same departments have enough cases to be ranked
    year, _ = ledger("--rules", REFERENCE, "--cases", SAMPLE)
    assert all(len(d["cases"]) >= 4 for d in year["departments"] if d["department"] in unranked)


def test_a_recorded_period_replays_and_verifies(tmp_path):
    rules, store = periodic(tmp_path), tmp_path / "runs.db"
    run = scoring("score", "--rules", rules, "--cases", SAMPLE, "--period", "2020-Q3", "--record", "--store", store,
                  "--format", "json", "--out", tmp_path / "q3.json")
    assert run.returncode == 0, run.stderr
    run_id = run.stderr.split("recorded run ")[1].split()[0]
    replayed = scoring("replay", run_id, "--store", store, "--format", "json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["replay"]["reproduced"] is True
    # verify reads the period from the ledger
    verified = scoring("verify", tmp_path / "q3.json", "--rules", rules, "--cases", SAMPLE)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_self_check_within_a_period_ends_at_the_periods_end(tmp_path):
    rules = periodic(tmp_path)
    department = "市民政局"
    run = scoring("self-check", "--rules", rules, "--cases", SAMPLE, "--period", "2020-Q1", "--department", department,
                  "--format", "json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["as_of"] == "2020-03-31"
    late = scoring("self-check", "--rules", rules, "--cases", SAMPLE, "--period", "2020-Q1", "--department",
                   department, "--as-of", "2020-04-02")
    assert late.returncode == 2 and "after the end of the assessment (2020-03-31, the end of period 2020-Q1)" in late.stderr


def test_the_bulletin_refuses_a_periodic_rulebook(tmp_path):
    run = scoring("bulletin", "--rules", periodic(tmp_path), "--cases", SAMPLE, "--period", "2020-Q1", "--month",
                  "2020-03")
    assert run.returncode == 2 and "the monthly bulletin ranks a year's cases" in run.stderr


def test_exclusions_and_records_of_cases_outside_the_period_are_not_errors(tmp_path):
    decisions = SAMPLE.parent / "decisions-2020.jsonl"
    document, stderr = ledger("--rules", periodic(tmp_path), "--cases", SAMPLE, "--period", "2020-Q1",
                              "--exclusions", decisions)
    assert document["input"]["period"]["period"] == "2020-Q1"
    assert "taken out of the assessment by decision" in stderr


def test_a_periodic_rulebook_reading_as_of_needs_no_closing_date(tmp_path):
    urged = 'text = "{u.date}因{case.id}被督办/催办'
    text = reference_text().replace(urged + '"', urged + '（截至{as_of}）"', 1)
    assert "{as_of}" in text
    yearly = tmp_path / "yearly.toml"
    yearly.write_text(text, encoding="utf-8")
    assert "no closing_date says when the assessment ends" in scoring("rules", "validate", yearly).stdout
    # a quarter's assessment ends at the quarter's end
    assert "no closing_date" not in scoring("rules", "validate", periodic(tmp_path, text=text)).stdout


# ---------------------------------------------------------------- combining the periods into a year
def combined(tmp_path, method: str = 'method = "mean"', extra: str = "") -> object:
    return periodic(tmp_path, extra=extra, name="combined.toml",
                    text=reference_text() + f"\n[combine]\n{method}\n")


def combine(*args) -> dict:
    run = scoring("combine", *args, "--format", "json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize(("method", "of"), [
    ('method = "mean"', lambda totals: sum(totals) / len(totals)),
    ('method = "sum"', sum),
    ('method = "last"', lambda totals: totals[-1]),
    ('method = "expression"\nexpression = "0.5 * max(totals) + 0.5 * min(totals)"',
     lambda totals: (max(totals) + min(totals)) / 2),
])
def test_combine_makes_each_departments_year_of_its_period_totals(tmp_path, method, of):
    from decimal import ROUND_HALF_UP, Decimal
    rules = combined(tmp_path, method)
    document = combine("--rules", rules, "--cases", SAMPLE, "--year", "2020")
    quarters = {}
    for quarter in ("2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"):
        run = scoring("score", "--rules", rules, "--cases", SAMPLE, "--period", quarter, "--format", "json")
        assert run.returncode == 0, run.stderr
        quarters[quarter] = json.loads(run.stdout)
        cited = next(p for p in document["periods"] if p["period"] == quarter)
        assert cited["ledger_sha256"] == hashlib.sha256(run.stdout.encode("utf-8")).hexdigest()
        assert cited["cases"] == quarters[quarter]["input"]["cases"]
    assert [p["period"] for p in document["periods"]] == list(quarters) and document["without_cases"] == []
    for department in document["departments"]:
        totals = [Decimal(str(d["total"])) for q in quarters.values() for d in q["departments"]
                  if d["department"] == department["department"]]
        assert [Decimal(str(p["total"])) for p in department["periods"]] == totals
        expected = Decimal(of(totals)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(str(department["total"])) == expected, department
    ranked = sorted((d for d in document["departments"]), key=lambda d: -Decimal(str(d["total"])))
    assert ranked[0]["rank"] == 1
    # the same inputs, the same bytes
    twice = [scoring("combine", "--rules", rules, "--cases", SAMPLE, "--year", "2020", "--format", "json").stdout
             for _ in range(2)]
    assert twice[0] == twice[1] and json.loads(twice[0]) == document


def test_combine_records_each_period_and_cites_its_run(tmp_path):
    rules, store = combined(tmp_path), tmp_path / "runs.db"
    run = scoring("combine", "--rules", rules, "--cases", SAMPLE, "--year", "2020", "--record", "--store", store,
                  "--format", "json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    listed = json.loads(scoring("runs", "list", "--store", store, "--format", "json").stdout)
    assert [p["run"] for p in document["periods"]] == [r["id"] for r in listed]
    for period in document["periods"]:
        replayed = scoring("replay", period["run"], "--store", store, "--format", "json")
        assert json.loads(replayed.stdout)["replay"]["reproduced"] is True, replayed.stderr
    table = scoring("combine", "--rules", rules, "--cases", SAMPLE, "--year", "2020").stdout
    assert "2020年 4 个考核期合成：各期得分之平均" in table
    assert f"2020-Q1：办件 {document['periods'][0]['cases']} 件" in table


def test_combine_ranks_on_the_cases_over_the_periods_and_says_the_periods_without_cases(tmp_path):
    text = reference_text().replace('ties = "shared"\n', 'ties = "shared"\nmin_cases = 12\n', 1)
    rules = periodic(tmp_path, "month", name="monthly.toml", text=text + '\n[combine]\nmethod = "mean"\n')
    document = combine("--rules", rules, "--cases", SAMPLE, "--year", "2020")
    for department in document["departments"]:
        cases = sum(p["cases"] for p in department["periods"])
        assert (department["rank"] is None) == (cases < 12), department["department"]
    months = [p["period"] for p in document["periods"]] + document["without_cases"]
    assert sorted(months) == [f"2020-{m:02d}" for m in range(1, 13)]
    whole = load_cases(SAMPLE)
    assert sum(p["cases"] for p in document["periods"]) + document["outside_every_period"] == len(whole.cases)


@pytest.mark.parametrize(("change", "expected"), [
    (("", ""), "combine makes a year of the quarters or months of a rulebook assessed per period"),
    (('period = "quarter"', '--period", "2020-Q1'), "combine scores every period of the year; --period is for score"),
])
def test_combine_refuses_what_it_cannot_combine(tmp_path, change, expected):
    if change[0]:
        run = scoring("combine", "--rules", combined(tmp_path), "--cases", SAMPLE, "--period", "2020-Q1")
    else:
        run = scoring("combine", "--rules", REFERENCE, "--cases", SAMPLE)
    assert run.returncode == 2 and expected in run.stderr, run.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ('[combine]\nmethod = "mean"\n', "[combine] makes a year of the periods of a rulebook assessed per quarter or month"),
    ('[combine]\nmethod = "expression"\n', 'method = "expression" goes with an expression'),
    ('[combine]\nmethod = "sum"\nexpression = "sum(totals)"\n', 'method = "expression" goes with an expression'),
    ('[combine]\nmethod = "expression"\nexpression = "sum(totls)"\n', 'unknown name "totls" (did you mean "totals"?)'),
])
def test_a_wrong_combine_table_is_refused_with_its_line(tmp_path, text, expected):
    path = tmp_path / "book.toml"
    # the first is given to a yearly rulebook, the others to one assessed per quarter
    base = reference_text() if "mean" in text else reference_text().replace(VERSION, f'{VERSION}period = "quarter"\n', 1)
    path.write_text(base + "\n" + text, encoding="utf-8")
    out = scoring("rules", "validate", path).stdout
    assert expected in out and "book.toml:" in out, out


def test_the_shipped_monthly_rulebooks_year_is_the_mean_of_its_months_worked_by_hand():
    # rules/monthly-2020.tests/ works May and June by hand; April: 甲局's one case, signed and answered on time, 100
    from casekit import ROOT
    rules, cases = ROOT / "rules" / "monthly-2020.toml", ROOT / "rules" / "monthly-2020.tests" / "months.jsonl"
    document = combine("--rules", rules, "--cases", cases)
    assert document["year"] == 2020 and [p["period"] for p in document["periods"]] == ["2020-04", "2020-05", "2020-06"]
    found = {d["department"]: (d["total"], d["grade"], d["rank"]) for d in document["departments"]}
    # 甲局 (100 + 80 + 100) / 3 = 93.33 over 6 cases; 乙局 75 (3 cases); 戊局 23.33 (3 cases); 丁局 and 丙局 have
    # fewer than 3 cases over the year: not ranked
    assert found == {"甲局": (93.33, "优秀", 1), "乙局": (75, "合格", 2), "戊局": (23.33, "不合格", 3),
                     "丁局": (100, "优秀", None), "丙局": (100, "优秀", None)}
    text = next(d["text"] for d in document["departments"] if d["department"] == "甲局")
    assert text == "3个考核期得分之平均：（2020-04 100、2020-05 80、2020-06 100）÷3=93.33分"
