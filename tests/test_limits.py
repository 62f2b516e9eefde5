"""No rule file hangs or exhausts the engine: every limit (scoring/lang/limits.py) is met with an
error that names the file, the line and the key, quickly, in `rules validate` and in `score`.

Each rulebook here is the reference rulebook with one change. On the program before the limits
(commit 6748159) each of them ran for ever, or ended in a traceback.
"""
from __future__ import annotations

import json

import pytest
from forkrun import ROOT, scoring_within

REFERENCE = ROOT / "rules" / "proposal-handling.toml"
SAMPLE = ROOT / "samples" / "cases-2020.jsonl"
SECONDS = 20  # the run must end by then; each ends in about a second


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    path = tmp_path_factory.mktemp("cases") / "cases.jsonl"
    path.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(True)[:30]), encoding="utf-8")
    return path


def changed(old: str, new: str) -> str:
    text = REFERENCE.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def lets(*lines: str) -> str:
    return changed("[let]\n", "[let]\n" + "".join(line + "\n" for line in lines))


SIGN_POINTS = 'points = "params.sign_points"'

# name -> (rulebook text, what validate and score must say: the key path and the message)
REFUSED = {
    "a huge literal": (changed(SIGN_POINTS, 'points = "1e999999999"'),
                       "criterion[0].rule[0].points: 1e999999999 is out of range"),
    "a huge negative literal": (changed(SIGN_POINTS, 'points = "-1e999999999"'),
                                "criterion[0].rule[0].points: 1e999999999 is out of range"),
    "a tiny literal": (changed(SIGN_POINTS, 'points = "1e-999999999"'), "1e-999999999 is out of range"),
    "a literal of many digits": (changed(SIGN_POINTS, 'points = "0.' + "3" * 40 + '"'), "has 40 significant digits"),
    "round to a billion places": (changed(SIGN_POINTS, 'points = "round(params.sign_points / 3, 1000000000)"'),
                                  "criterion[0].rule[0].points: 1000000000 places: at most 30"),
    "percent to a billion places": (changed("面商率{percent(rate)}", "面商率{percent(rate, 1000000000)}"),
                                    "criterion[9].rate.text: 1000000000 places: at most 30"),
    "a huge full score": (changed("full_score = 100", "full_score = 1e999999999"), "rulebook.full_score: 1E+999999999"),
    "a huge rubric max": (changed("max = 100\n", "max = 1e999999999\n"), "rubric[0].max: 1E+999999999 is out of range"),
    "a huge criterion max": (changed('max = "params.contact_points_max"', "max = 1e999999999"),
                             "criterion[1].max: 1E+999999999 is out of range"),
    "a huge department base": (changed("decimals = 2", "decimals = 2\nbase = 1e999999999"),
                               "department.base: 1E+999999999 is out of range"),
    "a huge grade band": (changed("min = 90", "min = 1e999999999"), "grade[0].min: 1E+999999999 is out of range"),
    "a huge weight": (changed("lead = 0.7", "lead = 1e999999999"), "department.weights.lead: 1E+999999999"),
    "an integer of 5000 digits": (changed("sign_points = 5", "sign_points = 1" + "0" * 5000), "a number too large to read"),
    "NaN": (changed("sign_points = 5", "sign_points = nan"), "params.sign_points: NaN is not a finite number"),
    "infinity": (changed("sign_points = 5", "sign_points = -inf"), "params.sign_points: -Infinity is not a finite number"),
    "lists nested 3000 deep": (changed("sign_points = 5", "sign_points = 5\ndeep = " + "[" * 3000 + "]" * 3000),
                               "values nested too deeply"),
    "lists nested 30 deep": (changed("sign_points = 5", "sign_points = 5\ndeep = " + "[" * 30 + "]" * 30),
                             "params.deep[0][0][0]"),
    "an expression nested 200 deep": (changed(SIGN_POINTS, 'points = "' + "-" * 200 + '1"'), "nested more than 100 deep"),
    "a let squaring a constant": (lets('q0 = "99999999"', *[f'q{i} = "q{i - 1} * q{i - 1}"' for i in range(1, 40)]),
                                  "let.q6: a number computed by the rules grew beyond 2^1000"),
    "a let doubling a text": (lets("t0 = \"'abcdefgh'\"", *[f't{i} = "t{i - 1} + t{i - 1}"' for i in range(1, 45)]),
                              "let.t14: a text computed by the rules grew beyond 100,000 characters"),
    "lets chained 60 deep": (lets('c0 = "1"', *[f'c{i} = "c{i - 1} + 1"' for i in range(1, 61)]),
                             "lets build on each other more than 50 deep"),
    "add_days of a huge number": (changed(SIGN_POINTS, 'points = "5 if add_days(s.date, 1000000000000) > s.date else 0"'),
                                  "add_days() of 1000000000000 is past the calendar"),
    "a date plus a huge number": (changed('co_due = "add_months(assigned_on, params.co_months)"',
                                          'co_due = "add_months(assigned_on, params.co_months) + 9000000"'),
                                  "let.co_due: a date + 9000000 is past the calendar"),
    "add_months past year 9999": (changed('co_due = "add_months(assigned_on, params.co_months)"',
                                          'co_due = "add_months(assigned_on, 200000)"'),
                                  "add_months() of 200000 is past the calendar"),
    "a date past year 9999": (changed("date('9999-12-31')", "date('9999-12-31') + 1"), "let.contact_until: date out of range"),
    "[texts] with an unknown key": (changed("[ranking]", '[texts]\ncap = "{criterion}最高{nope}分"\n\n[ranking]'),
                                    "texts.cap: {nope} cannot be filled in; this sentence takes {criterion}, {limit}"),
    "[texts] with a positional field": (changed("[ranking]", '[texts]\nfloor = "{0}最低{}分"\n\n[ranking]'),
                                        "texts.floor: {0} cannot be filled in"),
    "[texts] with a format spec": (changed("[ranking]", '[texts]\ncap = "{criterion:>999999999}"\n\n[ranking]'),
                                   "texts.cap: {criterion:>999999999} cannot be filled in"),
    "[texts] with an attribute": (changed("[ranking]", '[texts]\ncap = "{criterion.__class__}"\n\n[ranking]'),
                                  "texts.cap: {criterion.__class__} cannot be filled in"),
    "a tier table of texts": (changed("sign_points = 5", 'sign_points = 5\ntiers = [ { from = "a", below = 3 }, { from = 3 } ]'),
                              "params.tiers[0]: from and below are numbers (or dates), all of one kind in a table"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_rule_file_beyond_a_limit_is_refused_at_its_line_quickly(name, tmp_path, cases):
    text, expected = REFUSED[name]
    rules = tmp_path / "rules.toml"
    rules.write_text(text, encoding="utf-8")
    checked = scoring_within("rules", "validate", rules, seconds=SECONDS)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    assert expected in checked.stdout and f"{rules}:" in checked.stdout, checked.stdout
    scored = scoring_within("score", "--rules", rules, "--cases", cases, seconds=SECONDS)
    assert scored.returncode == 2 and "Traceback" not in scored.stderr, scored.stderr
    assert expected in scored.stderr and f"{rules}:" in scored.stderr, scored.stderr


# values that grow from a case's data: no error before a case is read, a located one on the first case
GROWING = {
    "a let squaring a number of the case": (
        lets("q0 = \"first(assigned).date - date('2000-01-01')\"", *[f'q{i} = "q{i - 1} * q{i - 1}"' for i in range(1, 40)]),
        "let q7: a number computed by the rules grew beyond 2^1000"),
    "a let doubling the case's title": (lets('t0 = "case.title"', *[f't{i} = "t{i - 1} + t{i - 1}"' for i in range(1, 45)]),
                                        "a text computed by the rules grew beyond 100,000 characters"),
    "a date pushed past year 9999": (changed('co_due = "add_months(assigned_on, params.co_months)"',
                                             'co_due = "add_months(assigned_on, params.co_months) + 3000000"'),
                                     "let co_due: date out of range"),
}


@pytest.mark.parametrize("name", GROWING)
def test_a_value_that_grows_beyond_a_limit_on_a_case_stops_the_run_naming_it(name, tmp_path, cases):
    text, expected = GROWING[name]
    rules = tmp_path / "rules.toml"
    rules.write_text(text, encoding="utf-8")
    checked = scoring_within("rules", "validate", rules, seconds=SECONDS)
    assert checked.returncode in (0, 1) and "Traceback" not in checked.stderr, checked.stderr
    scored = scoring_within("score", "--rules", rules, "--cases", cases, seconds=SECONDS)
    assert scored.returncode == 2 and "Traceback" not in scored.stderr, scored.stderr
    assert f"{cases}:" in scored.stderr and expected in scored.stderr, scored.stderr


def test_a_let_used_before_its_definition_is_computed_in_dependency_order(tmp_path, cases):
    """Two lines of [let] swapped: the same ledger as the reference rulebook, not a KeyError on every case."""
    text = REFERENCE.read_text(encoding="utf-8")
    first, second = 'assigned_on = "first(assigned).date"\n', 'sign_due = "add_workdays(assigned_on, params.sign_workdays)"\n'
    swapped = tmp_path / "swapped.toml"
    swapped.write_text(text.replace(first + second, second + first), encoding="utf-8")
    assert swapped.read_text(encoding="utf-8") != text
    reference = scoring_within("score", "--rules", REFERENCE, "--cases", cases, "--format", "json")
    scored = scoring_within("score", "--rules", swapped, "--cases", cases, "--format", "json")
    assert scored.returncode == 0, scored.stderr
    ledger, expected = json.loads(scored.stdout), json.loads(reference.stdout)
    assert ledger["departments"] == expected["departments"]
    assert scoring_within("rules", "validate", swapped).returncode == 0


def test_a_deep_chain_of_lets_that_use_a_let_twice_is_analysed_in_linear_time(tmp_path):
    """`rules validate` analyses each let once: a chain of 40 lets each using the one before twice
    (2^40 expansions when each use was analysed again)."""
    chain = lets('w0 = "first(assigned).date - date(\'2000-01-01\')"',
                 *[f'w{i} = "min(w{i - 1}, w{i - 1})"' for i in range(1, 40)])
    rules = tmp_path / "rules.toml"
    rules.write_text(chain.replace(SIGN_POINTS, 'points = "min(5, w39)"'), encoding="utf-8")
    checked = scoring_within("rules", "validate", rules, seconds=SECONDS)
    assert checked.returncode in (0, 1) and "Traceback" not in checked.stderr, checked.stderr
