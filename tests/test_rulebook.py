"""Rulebooks: a malformed one names the file, the key path, the line and the closest name."""
import pytest
from casekit import REFERENCE, reference_text

from scoring.base.errors import InputError
from scoring.base.tomlpos import key_lines, line_of
from scoring.engine.compiler import compile_rulebook
from scoring.rulebook.load import parse_rulebook


def problems_of(text: str, compile_too: bool = True) -> list[str]:
    with pytest.raises(InputError) as info:
        book = parse_rulebook(text.encode("utf-8"), "book.toml")
        if compile_too:
            compile_rulebook(book)
    return [str(p) for p in info.value.problems]


def line_number(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_the_reference_rulebook_compiles():
    book = parse_rulebook(REFERENCE.read_bytes(), str(REFERENCE))
    compiled = compile_rulebook(book)
    assert [c.id for c in compiled.criteria] == ["L1", "L2", "L3", "L4", "L5", "L6", "L7", "H1", "D1", "D2"]


def test_unknown_key_gets_the_line_and_closest_key():
    text = reference_text().replace('hit = "first"', 'hti = "first"')
    [problem] = problems_of(text)
    assert problem.startswith(f"book.toml:{line_number(text, 'hti = ')}: "
                              "criterion[1].hti: unknown key \"hti\" (did you mean \"hit\"?)")


def test_expression_errors_are_all_reported_with_lines_and_columns():
    text = (reference_text().replace('when = "s.date <= sign_due"', 'when = "s.date <= sing_due"')
            .replace('points = "params.outcome_points[r.outcome]"', 'points = "params.outcome_pionts[r.outcome]"')
            .replace('text = "{f.date}提出人反馈', 'text = "{f.dat}提出人反馈'))
    found = problems_of(text)
    assert len(found) == 3
    assert found[0] == (f'book.toml:{line_number(text, "sing_due")}: criterion[0].rule[0].when: unknown name "sing_due" '
                        '(did you mean "sign_due"?) — in "s.date <= sing_due" at column 11')
    assert f":{line_number(text, 'outcome_pionts')}: criterion[4].rule[0].points: no \"outcome_pionts\" in params" in found[1]
    assert f":{line_number(text, 'f.dat}')}: criterion[5].rule[0].text: event has no field \"dat\"" in found[2]


@pytest.mark.parametrize("change, message", [
    (('rubric = "co"\ndue', 'rubric = "coo"\ndue'), 'unknown rubric "coo" (did you mean "co"?)'),
    (('weights = { lead = 0.7, co = 0.3 }', 'weights = { lead = 0.7 }'), 'no weight for rubric "co"'),
    (('bind = { x = "first co_reply" }\nwhen = "x.date <= co_due"',
      'bind = { x = "first co_replied" }\nwhen = "x.date <= co_due"'),
     'unknown event type "co_replied" (did you mean "co_reply"?)'),
    (('assigned_on = "first(assigned).date"', 'assigned = "first(assigned).date"'), 'is an event type'),
    (('co_due = "add_months(assigned_on, params.co_months)"', 'co_due = "add_months(co_due, params.co_months)"'),
     "lets refer to each other in a circle: co_due -> co_due"),
    (('id = "L3"\ntitle', 'id = "L2"\ntitle'), 'criterion id "L2" is used twice'),
    (('name = "良好"\nmin = 80', 'name = "良好"\nmin = 90'), "start at the same score 90"),
    (('roles = ["co"]', 'roles = ["co", "lead"]'), 'role "lead" is already in rubric "lead"'),
    (('[[grade]]\nname = "优秀"', '[[grade]]\nname = "优秀"\nmin = "high"'), None),
])
def test_structural_problems(change, message):
    text = reference_text()
    assert change[0] in text
    found = problems_of(text.replace(change[0], change[1], 1))
    if message is not None:
        assert any(message in p for p in found), found
    assert all(p.startswith("book.toml") for p in found)


@pytest.mark.parametrize("when, message", [
    ("c.date <= r.date or c.mode == 'phone'", "must be one comparison"),
    ("c.date - r.date < days_between(p.date, r.date)", "compare two events at most"),
    ("exists(x for x in contact if exists(y for y in reply if y.date > x.date))", "exists() inside exists()"),
    ("exists(x for x in contact if r.date > date('2020-01-01'))", "must be about x"),
    ("extra(c, 'a') < extra(r, 'b')", "two values of unknown kind"),
    ("c.date < r.outcome", "cannot compare date with text"),
])
def test_conditions_the_engine_cannot_match_are_refused_with_a_reason(when, message):
    rule = f'''
[[criterion]]
id = "X1"
title = "x"
rubric = "lead"
[[criterion.rule]]
id = "X1"
bind = {{ c = "contact", r = "reply", p = "published" }}
when = "{when}"
points = 1
text = "x"
'''
    text = reference_text().replace("# ---------------------------------------------------------------- co-handler rubric", rule)
    found = problems_of(text)
    assert any(message in p for p in found), found


def test_not_toml():
    [problem] = problems_of("[rulebook\nid = 1")
    assert problem.startswith("book.toml:1: not valid TOML")


def test_key_lines_follow_arrays_of_tables_and_skip_multiline_values():
    text = '''[params]
m = { A = 30 }
doc = """
[[fake]]
"""
lst = [
  1,
]
[[criterion]]
id = "a"
[[criterion.rule]]
id = "r0"
[[criterion.rule]]
points = 1
[[criterion]]
[criterion.rate]
of = "x"
'''
    lines = key_lines(text)
    assert line_of(lines, ("params", "m", "A")) == 2
    assert line_of(lines, ("params", "lst")) == 6
    assert line_of(lines, ("criterion", 0, "rule", 1, "points")) == 14
    assert line_of(lines, ("criterion", 1, "rate", "of")) == 17
    assert line_of(lines, ("fake",)) is None


@pytest.mark.parametrize("change", [
    ('step = { event = { type = "signed" },', 'step = { event = { type = "singed" },'),
    ('step = { event = { type = "co_reply" },', 'step = { event = { type = "co_reply", date = "2020-01-01" },'),
    ('event = { type = "reply", outcome = "A" }, missing = "尚未答复（', 'event = { type = "reply" }, missing = "尚未答复（'),
    ('due = "sign_due"', 'due = "params.sign_points"'),
    ('due = "co_due"', 'due = "co_dew"'),
    ('step = { event = { type = "published" }, missing',
     'step = { event = { type = "published" }, when = "exists(feedbak)", missing'),
])
def test_self_check_declarations_are_checked_with_their_line(change):
    text = reference_text()
    assert change[0] in text
    changed = text.replace(change[0], change[1], 1)
    [problem] = problems_of(changed)
    line = next(i for i, text_line in enumerate(changed.splitlines(), start=1) if change[1] in text_line)
    assert problem.startswith(f"book.toml:{line}: criterion["), problem
    expected = {"singed": 'unknown event type "singed" (did you mean "signed"?)', "date =": '"date" is set by the self-check',
                'type = "reply" }': 'a "reply" event needs "outcome"', "sign_points": "must give a date, but gives number",
                "co_dew": 'unknown name "co_dew" (did you mean "co_due"?)', "feedbak": "feedbak"}
    assert next(v for k, v in expected.items() if k in change[1]) in problem


def with_clamps_from_params(text: str) -> str:
    """The reference rulebook with its rubric and department clamps written as expressions of params."""
    text = text.replace("[params]\n", "[params]\nfull = 100\nfloor = 0\n", 1)
    clamps_from_params = 'min = "params.floor"\nmax = "params.full"'
    text = text.replace('roles = ["lead", "split"]\nmin = 0\nmax = 100', f'roles = ["lead", "split"]\n{clamps_from_params}', 1)
    weights = "weights = { lead = 0.7, co = 0.3 }"
    text = text.replace(f"{weights}   # re-weighted over the rubrics a department has cases in\nmin = 0\nmax = 100",
                        f"{weights}\n{clamps_from_params}", 1)
    assert text.count("params.full") == 2
    return text


def test_clamps_may_be_expressions_of_params(tmp_path):
    import json

    from casekit import SAMPLE
    from clikit import scoring
    rules = tmp_path / "clamps.toml"
    rules.write_text(with_clamps_from_params(reference_text()), encoding="utf-8")

    def totals(*args):
        run = scoring("score", "--rules", *args, "--cases", SAMPLE, "--format", "json")
        assert run.returncode == 0, run.stderr
        return {d["department"]: d["total"] for d in json.loads(run.stdout)["departments"]}

    assert totals(rules) == totals(REFERENCE)
    lowered = totals(rules, "--set", "full=90")
    assert all(total <= 90 for total in lowered.values()) and lowered != totals(REFERENCE)
    # rules validate reads the same numbers: the ranges it reports are the reference's
    assert scoring("rules", "validate", rules).stdout.replace(str(rules), "R") == \
        scoring("rules", "validate", REFERENCE).stdout.replace(str(REFERENCE), "R")


def test_a_clamp_from_params_is_checked_once_the_params_are_known():
    text = with_clamps_from_params(reference_text()).replace("floor = 0\n", "floor = 101\n", 1)
    line = line_number(text, 'min = "params.floor"')
    problems = problems_of(text)
    assert f"book.toml:{line}: rubric[0].min: min 101 is above max 100" in problems, problems
    text = with_clamps_from_params(reference_text()).replace('max = "params.full"', 'max = "department.cases"', 1)
    line = line_number(text, "department.cases")
    problems = problems_of(text)
    assert any(p.startswith(f"book.toml:{line}: rubric[0].max") and "department" in p for p in problems), problems


@pytest.mark.parametrize(("change", "expected"), [
    (("[department]\nmethod", "[department]\nbase = [1]\nmethod"),
     "department.base: must be a number or an expression (a text), not a list"),
    (('roles = ["lead", "split"]\nmin = 0', 'roles = ["lead", "split"]\nmin = true'),
     "rubric[0].min: must be a number or an expression (a text), not true or false (got True)"),
    (("weights = { lead = 0.7", "weights = { lead = true"), "department.weights.lead: must be a number, not true or false"),
    (("min = 90", 'min = "90"'), "grade[0].min: must be a number, not a text (got '90')"),
])
def test_a_value_of_the_wrong_kind_is_one_problem_in_the_authors_words(change, expected):
    # a union of types gave one problem per type (base.int, base.decimal, base.str), and true was taken for 1
    text = reference_text().replace(*change, 1)
    problems = problems_of(text)
    assert len(problems) == 1 and expected in problems[0], problems


BUDGET_RULEBOOK = '''[rulebook]
id = "budget"
title = "扣完为止"
version = "1.0.0"

[params]
case_budget = 3                  # a case loses at most 3 points (扣完为止)
urge_points = 2
min_ranked = 2

[[rubric]]
id = "lead"
title = "主办件"
roles = ["lead"]
min = "-params.case_budget"
max = 0

[[criterion]]
id = "U"
title = "督办"
rubric = "lead"
otherwise = "未被督办"

[[criterion.rule]]
id = "U"
bind = { u = "urged" }
points = "-params.urge_points"
text = "{u.date}被督办"

[department]
method = "sum"

[ranking]
min_cases = "params.min_ranked"
'''


def test_a_per_case_budget_and_the_minimum_case_count_from_params_follow_set_and_overlays(tmp_path):
    import json

    from casekit import LEAD, case, ev
    from clikit import scoring
    rules = tmp_path / "budget.toml"
    rules.write_text(BUDGET_RULEBOOK, encoding="utf-8")
    urged = [ev("assigned", "2020-03-01"), ev("urged", "2020-04-01"), ev("urged", "2020-05-01"),
             ev("urged", "2020-06-01")]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in [
        case(urged, case_id="C1"), case(urged[:2], case_id="C2"),
        case([ev("assigned", "2020-03-01", "乙局")], handlers=(("乙局", "lead"),), case_id="C3")]), encoding="utf-8")

    def departments(*args) -> dict:
        run = scoring("score", "--rules", rules, "--cases", cases, *args, "--format", "json")
        assert run.returncode == 0, run.stderr
        return {d["department"]: d for d in json.loads(run.stdout)["departments"]}

    scored = departments()
    # C1 loses 6 points, stopped at the budget of 3 (a clamp line); C2 loses 2
    assert scored[LEAD]["total"] == -5 and scored[LEAD]["rank"] == 1 and scored["乙局"]["rank"] is None
    clamp = [line for c in scored[LEAD]["cases"] if c["case"] == "C1" for line in c["lines"] if line["kind"] == "clamp"]
    assert len(clamp) == 1 and clamp[0]["points"] == 3
    lowered = departments("--set", "case_budget=5", "--set", "min_ranked=1")
    assert lowered[LEAD]["total"] == -7 and lowered["乙局"]["rank"] is not None
    overlay = tmp_path / "overlay.toml"
    overlay.write_text('[overlay]\nid = "more"\ntitle = "预算"\nversion = "1.0.0"\n'
                       'base = { id = "budget", version = "1.0.0" }\n[params]\ncase_budget = 4\n', encoding="utf-8")
    assert departments("--overlay", overlay)[LEAD]["total"] == -6
    # rules validate computes the bounds from the same numbers
    assert "rubric lead  主办件  −3 … 0" in scoring("rules", "validate", rules).stdout
    rules.write_text(BUDGET_RULEBOOK.replace("case_budget = 3 ", "case_budget = 4 "), encoding="utf-8")
    assert "rubric lead  主办件  −4 … 0" in scoring("rules", "validate", rules).stdout
    rules.write_text(BUDGET_RULEBOOK.replace("min_ranked = 2", "min_ranked = -1"), encoding="utf-8")
    line = line_number(rules.read_text(encoding="utf-8"), 'min_cases = "params.min_ranked"')
    assert (f"budget.toml:{line}: ranking.min_cases: must be a whole number of cases, not negative (got -1)"
            in scoring("rules", "validate", rules).stdout)
