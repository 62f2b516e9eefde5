"""`scoring rules test`: rule fixtures with expected results, and coverage.

Through the command line (a separate process, real files) and through scoring.ruletests.
The small fixtures written here are worked by hand from the reference rulebook (2020 calendar).
"""
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from casekit import LEAD, REFERENCE, ROOT, case, ev
from clikit import scoring

from scoring.base.errors import InputError
from scoring.checks import ruletests
from scoring.engine.compiler import load_compiled
from scoring.engine.session import Session
from scoring.inputs.case_file import load_cases

SHIPPED_TESTS = ROOT / "rules" / "proposal-handling.tests"

# One lead case of 甲局: signed 3/12 (due 3/13, +5), face to face 4/2 (+5), reply A 5/20 (due 6/10: +20, +30),
# no feedback (0), not published by 6/17 (0): 60. Face to face in 1/1 lead cases: D2 0. 60, 合格.
CASES = [case([ev("assigned", "2020-03-10"), ev("signed", "2020-03-12"), ev("contact", "2020-04-02", mode="face_to_face"),
               ev("reply", "2020-05-20", outcome="A")])]
CASE_LINES = ["L1 L1 5 e2", "L2 L2-f2f 5 e3", "L3 otherwise 0", "L4 L4-on-time 20 e4", "L5 L5 30 e4",
              "L6 otherwise 0", "L7 otherwise 0"]

GOOD = f"""\
[fixture]
title = "一件主办件"
cases = "one.jsonl"

[[department]]
name = "{LEAD}"
total = 60
grade = "合格"
rank = 1
lines = ["- base 60", "D1 otherwise 0", "D2 rate 0 C1/e3"]

[[case]]
id = "C1"
department = "{LEAD}"
total = "60.00"
lines = {json.dumps(CASE_LINES, ensure_ascii=False)}
"""

WRONG = f"""\
[fixture]
title = "错误的期望"
cases = "one.jsonl"

[[case]]
id = "C1"
total = 61
lines = {json.dumps([line.replace("L2 L2-f2f 5 e3", "L2 L2-other 2.5 e3") for line in CASE_LINES], ensure_ascii=False)}

[[department]]
name = "{LEAD}"
grade = "良好"
"""


def make_dir(root: Path, fixtures: dict[str, str], cases=CASES, rulebook: str = "book") -> Path:
    """root/<rulebook>.toml (the reference rulebook) and its fixtures in root/<rulebook>.tests/."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REFERENCE, root / f"{rulebook}.toml")
    tests = root / f"{rulebook}.tests"
    tests.mkdir(exist_ok=True)
    (tests / "one.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    for name, text in fixtures.items():
        (tests / name).write_text(text, encoding="utf-8")
    return root


# ---------------------------------------------------------------- the command


def test_the_shipped_rules_directory_passes_with_all_but_the_unreachable_path_covered():
    run = scoring("rules", "test", "rules/")
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    # every shipped rulebook has fixtures, in file-name order; overlays/ is a subdirectory, not a rulebook
    shipped = sorted(f"rules/{p.name}" for p in (ROOT / "rules").glob("*.toml"))
    assert [line for line in out.splitlines() if line.startswith("rules/")] == shipped
    assert "FAIL" not in out
    names = [line.split()[1] for line in out.splitlines() if line.startswith("  PASS")]
    assert {"co-and-department.toml", "face-to-face-rate.toml", "lead-items.toml"} <= set(names)
    # the one path no fixture reaches is the reference rulebook's case clamp (it cannot fire there)
    assert out.count("not covered:") == 1 and "coverage 29/30 (96.67%); not covered:" in out
    assert out.count("(100%)") == len(shipped) - 1
    assert f"{len(names)} fixture(s) of {len(shipped)} rulebook(s): {len(names)} passed, 0 failed" in out


def test_a_passing_fixture_directory_exits_0(tmp_path):
    root = make_dir(tmp_path / "rules", {"good.toml": GOOD})
    run = scoring("rules", "test", root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS  good.toml  一件主办件" in run.stdout


def test_none_expects_no_rank_or_no_grade(tmp_path):
    neither = GOOD.replace("rank = 1", 'rank = "none"').replace('grade = "合格"', 'grade = "none"')
    root = make_dir(tmp_path / "rules", {"neither.toml": neither})
    run = scoring("rules", "test", root)
    assert run.returncode == 1
    assert f"department {LEAD}: rank: expected none, actual 1" in run.stdout
    assert f"department {LEAD}: grade: expected none, actual 合格" in run.stdout
    # with a minimum of 2 cases and bands from 70 the same department is neither ranked nor graded
    book = root / "book.toml"
    text = book.read_text(encoding="utf-8").replace('ties = "shared"', 'ties = "shared"\nmin_cases = 2')
    text = (text.replace('name = "合格"\nmin = 60', 'name = "合格"\nmin = 61')
            .replace('name = "不合格"\nmin = 0', 'name = "不合格"\nmin = 0\nmax = 59'))
    book.write_text(text, encoding="utf-8")
    run = scoring("rules", "test", root)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_failing_fixture_shows_each_mismatch_and_the_line_diff_and_exits_1(tmp_path):
    root = make_dir(tmp_path / "rules", {"good.toml": GOOD, "wrong.toml": WRONG})
    run = scoring("rules", "test", root)
    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout
    assert "PASS  good.toml" in out and "FAIL  wrong.toml  错误的期望" in out
    assert f"department {LEAD}: grade: expected 良好, actual 合格" in out
    assert f"case C1 ({LEAD}): total: expected 61, actual 60" in out
    assert f"case C1 ({LEAD}): lines differ (- expected, + actual):" in out
    diff = [line.strip() for line in out.splitlines()]
    assert "- L2 L2-other 2.5 e3" in diff
    # actual lines carry their sentence, so the writer sees why
    assert any(line.startswith("+ L2 L2-f2f 5 e3") and line.endswith("# 2020-04-02与提出人面对面沟通") for line in diff)
    assert any(line.startswith("L1 L1 5 e2") and "2020-03-12签收" in line for line in diff)
    assert "1 passed, 1 failed" in out


def test_a_malformed_fixture_is_bad_input_with_its_line_and_the_closest_key(tmp_path):
    bad = '[fixture]\ntitel = "x"\ncases = "one.jsonl"\n\n[[case]]\nid = "C1"\ntotl = 60\n'
    missing = '[fixture]\ncases = "ones.jsonl"\n\n[[case]]\nid = "C1"\n'
    root = make_dir(tmp_path / "rules", {"bad.toml": bad, "missing.toml": missing, "good.toml": GOOD})
    run = scoring("rules", "test", root)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == ""  # nothing was run
    tests = root / "book.tests"
    assert f'{tests / "bad.toml"}:2: fixture.titel: unknown key "titel" (did you mean "title"?)' in run.stderr
    assert f'{tests / "bad.toml"}:7: case[0].totl: unknown key "totl" (did you mean "total"?)' in run.stderr
    assert f'{tests / "missing.toml"}:2: fixture.cases: no case file "ones.jsonl"' in run.stderr
    assert '(did you mean "one.jsonl"?)' in run.stderr
    assert "3 problem(s)" in run.stderr


def test_min_coverage_above_the_achieved_coverage_exits_1_at_or_below_exits_0():
    above = scoring("rules", "test", "rules/", "--min-coverage", "97")
    assert above.returncode == 1, above.stdout + above.stderr
    assert "coverage below 97%: rules/proposal-handling.toml (96.67%)" in above.stdout
    assert "coverage below 97%: rules/county-2017.toml" not in above.stdout  # 100%
    assert " 0 failed" in above.stdout
    for enough in ("96.67", "50", "0"):
        run = scoring("rules", "test", "rules/", "--min-coverage", enough)
        assert run.returncode == 0, (enough, run.stdout)
    assert scoring("rules", "test", "rules/", "--min-coverage", "101").returncode == 2


def test_json_format_is_a_stable_document():
    run = scoring("rules", "test", "rules/", "--format", "json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["format"] == "scoring-rule-tests/1"
    books = {book["rulebook"]: book for book in document["rulebooks"]}
    assert list(books) == sorted(books) and len(books) == len(list((ROOT / "rules").glob("*.toml")))
    book = books["rules/proposal-handling.toml"]
    assert [Path(f["file"]).name for f in book["fixtures"]] == ["co-and-department.toml", "face-to-face-rate.toml",
                                                                 "lead-items.toml"]
    for fixture in book["fixtures"]:
        assert set(fixture) == {"file", "title", "passed", "failures"} and fixture["passed"] and fixture["failures"] == []
    assert book["coverage"] == {"covered": 29, "total": 30, "percent": 96.67,
                                "missing": [{"path": "clamp:case", "description": book["coverage"]["missing"][0]["description"]}]}
    assert document["summary"]["failed"] == 0
    assert scoring("rules", "test", "rules/", "--format", "json").stdout == run.stdout


def test_json_failures_name_department_case_field_expected_and_actual(tmp_path):
    root = make_dir(tmp_path / "rules", {"wrong.toml": WRONG})
    run = scoring("rules", "test", root / "book.toml", "--format", "json")
    assert run.returncode == 1
    [fixture] = json.loads(run.stdout)["rulebooks"][0]["fixtures"]
    assert not fixture["passed"]
    by_field = {f["field"]: f for f in fixture["failures"]}
    assert by_field["total"] | {"message": "", "diff": None} == {
        "department": LEAD, "case": "C1", "field": "total", "expected": 61, "actual": 60, "message": "", "diff": None}
    assert by_field["grade"]["expected"] == "良好" and by_field["grade"]["actual"] == "合格" and by_field["grade"]["case"] is None
    lines = by_field["lines"]
    assert lines["actual"] == CASE_LINES
    assert {"op": "+", "line": "L2 L2-f2f 5 e3", "text": "2020-04-02与提出人面对面沟通"} in lines["diff"]
    assert {"op": "-", "line": "L2 L2-other 2.5 e3", "text": None} in lines["diff"]


def test_a_rulebook_without_fixtures_has_none_and_no_coverage(tmp_path):
    root = make_dir(tmp_path / "rules", {"good.toml": GOOD})
    shutil.copy(REFERENCE, root / "other.toml")
    run = scoring("rules", "test", root)
    assert run.returncode == 0, run.stdout
    assert f"no fixtures (no directory {root / 'other.tests'})" in run.stdout
    assert "coverage 0/30 (0%); not covered:" in run.stdout
    assert scoring("rules", "test", root, "--min-coverage", "1").returncode == 1
    only = scoring("rules", "test", root / "book.toml")
    assert only.returncode == 0 and "other.toml" not in only.stdout


def test_a_case_file_with_problems_fails_its_fixture_not_the_command(tmp_path):
    root = make_dir(tmp_path / "rules",
                    {"good.toml": GOOD, "broken.toml": '[fixture]\ncases = "broken.jsonl"\n[[case]]\nid = "C1"\n'})
    (root / "book.tests" / "broken.jsonl").write_text('{"id": "C1", "kind": "proposl", "handlers": []}\n', encoding="utf-8")
    run = scoring("rules", "test", root)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAIL  broken.toml" in run.stdout and "PASS  good.toml" in run.stdout
    assert 'unknown value "proposl" (did you mean "proposal"?)' in run.stdout


def test_a_missing_directory_is_bad_input(tmp_path):
    run = scoring("rules", "test", tmp_path / "nowhere")
    assert run.returncode == 2 and "no such rulebook or directory" in run.stderr


# ---------------------------------------------------------------- the functions


def test_expectations_naming_what_is_not_in_the_run_fail_with_the_closest_name(tmp_path):
    text = """[fixture]
cases = "one.jsonl"
[[department]]
name = "甲"
[[case]]
id = "C11"
[[case]]
id = "C1"
department = "乙局"
"""
    root = make_dir(tmp_path / "rules", {"names.toml": text})
    [suite] = ruletests.run_tests(root).suites
    [result] = suite.fixtures
    messages = [(f.field, f.message) for f in result.failures]
    assert messages == [
        ("department", f'no department "甲" in the run (did you mean "{LEAD}"?); the run has: {LEAD}'),
        ("case", 'no case "C11" in the run (did you mean "C1"?)'),
        ("department", f'no department "乙局" in the run; the run has: {LEAD}'),
    ]


def test_a_case_of_several_handlers_needs_its_department(tmp_path):
    cases = [case([ev("assigned", "2020-03-10"), ev("assigned", "2020-03-10", "乙局"), ev("co_reply", "2020-04-01", "乙局")],
                  handlers=((LEAD, "lead"), ("乙局", "co")))]
    text = ('[fixture]\ncases = "one.jsonl"\n'
            '[[case]]\nid = "C1"\ntotal = 0\n'
            '[[case]]\nid = "C1"\ndepartment = "乙局"\ntotal = 100\n')
    root = make_dir(tmp_path / "rules", {"two.toml": text}, cases)
    [result] = ruletests.run_tests(root).suites[0].fixtures
    [failure] = result.failures
    assert failure.field == "department" and "has 2 handlers" in failure.message


def test_compact_lines_print_points_as_the_ledger_does():
    line = {"criterion": "L2", "rule": "L2-other", "kind": "rule", "points": 2.5, "evidence": ["e3"], "text": ""}
    assert ruletests.compact(line) == "L2 L2-other 2.5 e3"
    assert ruletests.compact({**line, "rule": None, "kind": "cap", "points": -2.5, "evidence": []}) == "L2 cap -2.5"
    assert ruletests.compact({**line, "criterion": None, "rule": None, "kind": "base", "points": 93,
                              "evidence": []}) == "- base 93"
    assert ruletests.compact({**line, "criterion": "D2", "rule": None, "kind": "rate", "points": -0.25,
                              "evidence": ["c1/e3", "c2/e1"]}) == "D2 rate -0.25 c1/e3,c2/e1"


@pytest.mark.parametrize("expected, actual, same", [
    (95, 95, True), ("95.5", 95.5, True), ("95.50", 95.5, True), (Decimal("95.5"), 95.5, True), (95, 95.5, False),
    ("95.49", 95.5, False), (Decimal("55.67"), 55.67, True), (Decimal("55.666"), 55.67, False), (0, None, False)])
def test_totals_are_compared_exactly_with_the_number_as_printed(expected, actual, same):
    # TOML floats are read as exact decimals; text holds a decimal number
    assert ruletests.same_number(expected, actual) is same


def test_coverage_paths_of_the_reference_rulebook():
    compiled = load_compiled(REFERENCE)
    paths = ruletests.coverage_paths(compiled)
    assert paths == [
        "rule:L1", "otherwise:L1", "rule:L2-f2f", "rule:L2-other", "otherwise:L2", "cap:L2", "rule:L3", "otherwise:L3",
        "rule:L4-on-time", "rule:L4-late", "otherwise:L4", "rule:L5", "otherwise:L5", "rule:L6", "otherwise:L6",
        "rule:L7", "otherwise:L7", "rule:H1-on-time", "rule:H1-late", "otherwise:H1", "rule:D1", "floor:D1",
        "rate:D2", "rate-empty:D2", "grade:优秀", "grade:良好", "grade:合格", "grade:不合格", "clamp:case", "clamp:department"]
    assert all(p.description for p in paths)
    assert paths[paths.index("cap:L2")].description == "L2 沟通协商: the sum is cut to its max 5"


def test_each_shipped_fixture_reaches_its_own_paths():
    [suite] = [s for s in ruletests.run_tests(ROOT / "rules").suites if s.suite.rulebook.name == "proposal-handling.toml"]
    reached = {r.fixture.path.name: r.reached for r in suite.fixtures}
    assert {"rule:H1-late", "otherwise:H1", "floor:D1", "rate-empty:D2", "clamp:department"} <= reached["co-and-department.toml"]
    assert {"cap:L2", "rule:L4-late", "grade:优秀", "grade:良好", "grade:合格"} <= reached["lead-items.toml"]
    assert "rate-empty:D2" not in reached["lead-items.toml"] and "rate:D2" in reached["face-to-face-rate.toml"]
    assert [str(p) for p in suite.missing] == ["clamp:case"]


def test_clamp_case_is_reached_when_a_rubric_can_cut_a_case_total(tmp_path):
    # the reference lead items sum to between 0 and 100, so its clamp never fires; with max = 90 it does
    text = REFERENCE.read_text(encoding="utf-8").replace('roles = ["lead", "split"]\nmin = 0\nmax = 100',
                                                         'roles = ["lead", "split"]\nmin = 0\nmax = 90')
    assert "max = 90" in text
    book = tmp_path / "capped.toml"
    book.write_text(text, encoding="utf-8")
    compiled = load_compiled(book)
    ledger = Session(compiled, jobs=0).run(load_cases(SHIPPED_TESTS / "lead-items.jsonl")).ledger
    reached = ruletests.reached_paths(compiled, ledger)
    assert "clamp:case" in reached and "clamp:department" not in reached


def test_department_records_are_passed_when_a_fixture_names_them(tmp_path):
    text = GOOD.replace('cases = "one.jsonl"', 'cases = "one.jsonl"\ndepartments = "records.jsonl"')
    root = make_dir(tmp_path / "rules", {"good.toml": text})
    records = root / "book.tests" / "records.jsonl"
    # the reference rulebook declares no fields: a record with one is refused, so it was read
    records.write_text(json.dumps({"department": LEAD, "group": "经济"}, ensure_ascii=False) + "\n", encoding="utf-8")
    [result] = ruletests.run_tests(root).suites[0].fixtures
    [failure] = result.failures
    assert failure.field == "run"
    assert f"{records}:1: department {LEAD}, group: not a field the rulebook declares" in failure.message
    records.write_text(json.dumps({"department": LEAD}, ensure_ascii=False) + "\n", encoding="utf-8")
    [result] = ruletests.run_tests(root).suites[0].fixtures
    assert result.passed


def test_fixture_problems_are_all_reported_before_anything_runs(tmp_path):
    text = '[fixture]\ncases = "one.jsonl"\n\n[[department]]\nname = "甲局"\nrank = "1"\n[[department]]\nname = "甲局"\n'
    root = make_dir(tmp_path / "rules", {"a.toml": text, "b.toml": '[fixture]\ncases = "one.jsonl"\n'})
    with pytest.raises(InputError) as raised:
        ruletests.run_tests(root)
    where = [(Path(p.source).name, p.line, p.where) for p in raised.value.problems]
    assert where == [("a.toml", 6, "department[0].rank"), ("b.toml", 1, "fixture")]
    text = text.replace('rank = "1"', "rank = 1")
    (root / "book.tests" / "a.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        ruletests.run_tests(root)
    first = raised.value.problems[0]
    assert (first.line, first.message) == (8, 'department "甲局" is expected twice (also department[0])')


def test_tier_rows_are_coverage_paths_reached_while_the_fixtures_are_scored():
    [suite] = ruletests.run_tests(ROOT / "rules" / "combined-2020.toml").suites
    tiers = [str(p) for p in suite.paths if str(p).startswith("tier:")]
    assert tiers == ["tier:workload_tiers[0]", "tier:workload_tiers[1]", "tier:workload_tiers[2]"]
    reached = {r.fixture.path.name: {t for t in tiers if t in r.reached} for r in suite.fixtures}
    # 市城管局 handles 6 cases, 市住建局 20; the top tier (50 or more) only in its own fixture
    assert reached["gates-deadlines.toml"] == {"tier:workload_tiers[0]", "tier:workload_tiers[1]"}
    assert reached["workload-top-tier.toml"] == {"tier:workload_tiers[2]"}
    assert ruletests.TIERS_PICKED.get() is None  # the recorder is reset after each fixture


def test_a_fixture_gives_the_period_a_periodic_rulebook_scores(tmp_path):
    # the one case (assigned 10 March) plus one of April: the first quarter, whose assessment ends 90 days after it (29
    # June, after the March case's reply), scores the March case alone, as GOOD says
    april = case([ev("assigned", "2020-04-10"), ev("signed", "2020-04-20")], case_id="C2")
    root = make_dir(tmp_path / "rules", {"q1.toml": GOOD.replace('cases = "one.jsonl"',
                                                                 'cases = "one.jsonl"\nperiod = "2020-Q1"')},
                    cases=CASES + [april])
    book = root / "book.toml"
    book.write_text(book.read_text(encoding="utf-8").replace(
        'version = "1.0.0"\n', 'version = "1.0.0"\nperiod = "quarter"\nperiod_closing_days = 90\n', 1),
                    encoding="utf-8")
    run = scoring("rules", "test", root)
    assert run.returncode == 0, run.stdout + run.stderr
    # without a period, or with a month, the fixture fails and says what to write
    for period, expected in (("", "is assessed per quarter: give the period to score with --period, such as 2020-Q2"),
                             ('period = "2020-03"', "--period 2020-03 is a month; write it as 2020-Q2")):
        (root / "book.tests" / "q1.toml").write_text(GOOD.replace('cases = "one.jsonl"', f'cases = "one.jsonl"\n{period}'),
                                                     encoding="utf-8")
        run = scoring("rules", "test", root)
        assert run.returncode == 1 and expected in run.stdout, run.stdout
