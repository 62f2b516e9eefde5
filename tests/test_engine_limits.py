"""The matching engine's limits are checked when the rulebook is compiled, joins compare exact
numbers, and any number of cases that crash the native engine end the run, each named, quickly.

On the program before this (commit 6748159): a rule binding 15 events passed `rules validate`
and made the workers restart without end; 65 two-event join rules failed with durable_rules'
error 303; 10^30 > 10^29 was false in a join; two crashing cases with --jobs 2 hung.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from forkrun import ROOT, scoring_within

REFERENCE = ROOT / "rules" / "proposal-handling.toml"
SAMPLE = ROOT / "samples" / "cases-2020.jsonl"


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    path = tmp_path_factory.mktemp("cases") / "cases.jsonl"
    path.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(True)[:30]), encoding="utf-8")
    return path


def with_rules(tmp_path, *rules: str, name="rules.toml"):
    """The reference rulebook with a criterion Z of these rules (TOML bodies of [[criterion.rule]])."""
    marker = "\n# ---------------------------------------------------------------- co-handler rubric"
    added = ['[[criterion]]\nid = "Z"\ntitle = "Z"\nrubric = "lead"\n'] + [f"[[criterion.rule]]\n{rule}\n" for rule in rules]
    text = REFERENCE.read_text(encoding="utf-8").replace(marker, "\n".join(["", *added, marker]), 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def z_lines(scored) -> dict[str, int]:
    found: dict[str, int] = {}
    for department in json.loads(scored.stdout)["departments"]:
        for case in department["cases"]:
            for line in case["lines"]:
                if line["criterion"] == "Z" and line["rule"]:
                    found[line["rule"]] = found.get(line["rule"], 0) + 1
    return found


def test_a_rule_binding_more_events_than_the_engine_joins_is_refused_at_its_line(tmp_path, cases):
    bind = ", ".join(f'e{i} = "contact"' for i in range(15))
    rules = with_rules(tmp_path, f'id = "Z1"\nbind = {{ {bind} }}\npoints = 1\ntext = "x"')
    expected = "criterion[7].rule[0]: the engine joins at most 14 events in one rule, and this one needs 15"
    checked = scoring_within("rules", "validate", rules)
    assert checked.returncode == 1 and expected in checked.stdout, checked.stdout + checked.stderr
    for jobs in ("0", "2"):
        scored = scoring_within("score", "--rules", rules, "--cases", cases, "--jobs", jobs)
        assert scored.returncode == 2 and expected in scored.stderr and f"{rules}:" in scored.stderr, scored.stderr


def test_a_pattern_with_more_comparisons_than_the_engine_takes_is_refused(tmp_path, cases):
    when = " and ".join(f"c.date <= add_days(r.date, {i})" for i in range(30))
    rules = with_rules(tmp_path, f'id = "Z1"\nbind = {{ r = "first reply", c = "contact" }}\nwhen = "{when}"\n'
                                 'points = 1\ntext = "x"')
    checked = scoring_within("rules", "validate", rules)
    assert checked.returncode == 1 and "30 comparisons between one event and the events before it" in checked.stdout
    assert scoring_within("score", "--rules", rules, "--cases", cases, "--jobs", "2").returncode == 2


def test_more_conditions_on_one_kind_of_event_than_a_fact_holds_are_refused(tmp_path, cases):
    rules = with_rules(tmp_path, *[f'id = "Z{i}"\nbind = {{ c = "contact" }}\nwhen = "c.date > date(\'2020-01-01\') + {i}"\n'
                                   'points = 0\ntext = "x"' for i in range(260)])
    checked = scoring_within("rules", "validate", rules)
    assert checked.returncode == 1 and "more than the engine takes (249)" in checked.stdout, checked.stdout[-2000:]
    assert scoring_within("score", "--rules", rules, "--cases", cases).returncode == 2


def test_65_two_event_join_rules_are_matched(tmp_path, cases):
    """durable_rules pushes every join test under a node a fact matches on a stack of 64: the rules are
    spread over rulesets that fit it, and each of the 65 finds what one alone finds."""
    rule = 'bind = {{ c = "contact", r = "first reply" }}\nwhen = "c.date <= r.date"\npoints = 0\ntext = "x"'
    one = scoring_within("score", "--rules", with_rules(tmp_path, 'id = "Z0"\n' + rule.format(), name="one.toml"),
                         "--cases", cases, "--format", "json")
    many = scoring_within("score", "--rules", with_rules(tmp_path, *[f'id = "Z{i}"\n' + rule.format() for i in range(65)]),
                          "--cases", cases, "--format", "json")
    assert one.returncode == 0 and many.returncode == 0, many.stderr
    fired = z_lines(one)["Z0"]
    assert fired > 0 and z_lines(many) == {f"Z{i}": fired for i in range(65)}


def test_a_join_on_integers_beyond_64_bits_compares_them_exactly(tmp_path, cases):
    exact = ("(r.date - date('2000-01-01')) * 1000000000000000000000000000000 > "
             "(a.date - date('2000-01-01')) * 1000000000000000000000000000000")
    rules = with_rules(tmp_path, f'id = "Zbig"\nbind = {{ a = "first assigned", r = "first reply" }}\nwhen = "{exact}"\n'
                                 'points = 0\ntext = "x"',
                       'id = "Zplain"\nbind = { a = "first assigned", r = "first reply" }\nwhen = "r.date > a.date"\n'
                       'points = 0\ntext = "x"')
    scored = scoring_within("score", "--rules", rules, "--cases", cases, "--format", "json")
    assert scored.returncode == 0, scored.stderr
    found = z_lines(scored)
    assert found["Zplain"] > 0 and found.get("Zbig") == found["Zplain"]


CRASHING = textwrap.dedent("""
    import ctypes, faulthandler, sys
    try:
        from scoring.engine.evaluate import CaseEvaluator
    except ImportError:  # the layout before the packages
        from scoring.evaluate import CaseEvaluator
    from scoring.cli import main

    victims = set(sys.argv[1].split(","))
    real = CaseEvaluator.evaluate

    def evaluate(self, case):
        if case.id in victims:
            faulthandler.disable()
            ctypes.string_at(0)  # SIGSEGV, as a bug in durable_rules' C code would
        return real(self, case)

    CaseEvaluator.evaluate = evaluate
    main(sys.argv[2:])
""")


@pytest.mark.parametrize("crashing", [2, 5])
def test_any_number_of_cases_that_crash_the_engine_end_the_run_each_named(crashing, tmp_path, cases):
    """A real SIGSEGV in the workers, on several cases at once: exit 3 within seconds, every case
    named, the output file untouched (two such cases with --jobs 2 hung before)."""
    ids = [json.loads(line)["id"] for line in cases.read_text(encoding="utf-8").splitlines()]
    victims = ids[3:3 + 2 * crashing:2]
    out = tmp_path / "ledger.json"
    out.write_text("kept", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", CRASHING, ",".join(victims), "score", "--rules", REFERENCE,
                           "--cases", cases, "--jobs", "2", "--format", "json", "--out", out],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 3, done.stderr
    for victim in victims:
        assert f"case {victim}: crash" in done.stderr, done.stderr
    assert out.read_text(encoding="utf-8") == "kept"
