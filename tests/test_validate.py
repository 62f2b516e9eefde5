"""`scoring rules validate`: clean on every shipped rulebook; each deliberate mistake named with its line."""
from __future__ import annotations

from pathlib import Path

import pytest
from casekit import REFERENCE, ROOT
from clikit import scoring

from scoring.checks.validate import validate
from scoring.lang.interval import format_interval

SHIPPED = sorted((ROOT / "rules").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_rulebook_is_clean(path):
    report = validate(path)
    assert report.problems == []
    assert report.ranges[-1][0] == "total"


def test_the_reference_reaches_its_full_score_and_each_item_its_published_points():
    ranges = {item: str(found) for item, _, found in validate(REFERENCE).ranges}
    assert ranges["L4"] == "0 … 20" and ranges["L5"] == "0 … 30" and ranges["D2"] == "−5 … 0"
    assert ranges["rubric lead"] == "0 … 100" and ranges["total"] == "0 … 100"


def broken(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = REFERENCE.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_broken_copy_has_each_problem_named_with_its_line(tmp_path):
    path = broken(tmp_path, ('when = "s.date <= sign_due"', 'when = "s.date <= sign_deu"'),
                  ('weights = { lead = 0.7, co = 0.3 }', 'weights = { lead = 0.6, co = 0.3 }'),
                  ('name = "良好"\nmin = 80', 'name = "良好"\nmin = 80\nmax = 90'),
                  ("c.mode == 'face_to_face' and c.date", "c.mode == 'face-to-face' and c.date"))
    run = scoring("rules", "validate", str(path))
    assert run.returncode == 1
    lines = (run.stdout + run.stderr).splitlines()
    text = REFERENCE.read_text(encoding="utf-8").splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(text, start=1) if fragment in line)
    sign_line = line_of('when = "s.date <= sign_due"')
    assert (f'  {path}:{sign_line}: criterion[0].rule[0].when: unknown name "sign_deu" (did you mean "sign_due"?) '
            '— in "s.date <= sign_deu" at column 11') in lines
    assert any(f"{path}:{line_of('weights = {')}: department.weights: rubric weights add up to 0.9, not 1" in line
               for line in lines)
    assert any('grade[1].max: grade bands overlap: "良好" runs to 90, "优秀" starts at 90' in line for line in lines)
    assert any('criterion[1].rule[0].when: never holds' in line and 'did you mean "face_to_face"' in line for line in lines)


def test_full_score_gaps_unused_params_and_tiers(tmp_path):
    path = broken(tmp_path, ("full_score = 100", "full_score = 120"),
                  ("sign_points = 5", "sign_points = 5\nspare = 3\ntiers = [ { below = 20, d = 0 }, { from = 25, d = 10 } ]"),
                  ('name = "良好"\nmin = 80', 'name = "良好"\nmin = 80\nmax = 89'))
    messages = [p.message for p in validate(path).problems]
    assert "the total can reach at most 100 (0 … 100), not the declared full score 120" in messages
    assert "no expression reads this parameter" in messages
    assert "a gap between tiers: values from 20 up to 25 are in no tier" in messages
    assert any(m.startswith('totals above 89 and below 90 fall in no grade band') for m in messages)
    assert len(messages) == 5  # spare, tiers (unused), the tier gap, the band gap, the full score


def test_declared_field_ranges_and_constant_checklists_bound_the_total(tmp_path):
    path = tmp_path / "book.toml"
    path.write_text("""
[rulebook]
id = "x"
title = "x"
version = "1"
full_score = 100

[params]
elements = ["a", "b", "c"]

[department_fields]
present = "texts"
self_score = { kind = "number", min = 0, max = 100 }
peer_scores = { kind = "numbers", min = 0, max = 100 }

[[criterion]]
id = "K"
title = "checklist"
level = "department"
per = "department"

[[criterion.rule]]
id = "K"
each = "e in params.elements"
when = "e not in department.present"
points = -1
text = "{e}"

[[criterion]]
id = "M"
title = "articles"
level = "department"
per = "department"

[[criterion.rule]]
id = "M"
each = "a in department.present"
points = 1
text = "{a}"

[department]
method = "none"
base = 90
max = 100

[[scorer]]
id = "assessor"
title = "assessor"
weight = 0.5
score = "computed"

[[scorer]]
id = "self"
title = "self"
weight = 0.2
score = "department.self_score"

[[scorer]]
id = "peer"
title = "peer"
weight = 0.3
score = "mean(department.peer_scores)"
""", encoding="utf-8")
    report = validate(path)
    ranges = {item: format_interval(found) for item, _, found in report.ranges}
    assert ranges["K"] == "−3 … 0"  # one line per element of a list of 3
    assert ranges["M"] == "0 … +∞"  # a list known only from the records: any number of lines
    assert ranges["total"] == "43.5 … 100"  # 0.5 x (90 - 3 … 100) + 0.2 x (0 … 100) + 0.3 x (0 … 100)
    assert report.problems == []
    # without the declared ranges a score read from the records could be anything
    path.write_text(path.read_text(encoding="utf-8").replace(
        'self_score = { kind = "number", min = 0, max = 100 }', 'self_score = "number"'), encoding="utf-8")
    report = validate(path)
    assert {item: format_interval(found) for item, _, found in report.ranges}["total"] == "−∞ … +∞"
    assert report.problems[0].message == "the total has no upper bound (−∞ … +∞), not the declared full score 100"


@pytest.mark.parametrize("total,lowest,problem", [
    ('"params.floor"', "-5", "get no grade"),  # the gate bounds the total from below (here below the lowest band)
    ('"zero"', None, 'unknown name "zero"'),  # a wrong one is reported, and the total's lower bound is unknown
    ('"params.x"', None, 'no "x" in params'),
])
def test_a_gate_s_total_may_be_an_expression_and_a_wrong_one_is_a_finding_not_a_crash(tmp_path, total, lowest, problem):
    text = (ROOT / "rules" / "combined-2020.toml").read_text(encoding="utf-8")
    assert "\ntotal = 0\n" in text and "[params]\n" in text
    text = text.replace("\ntotal = 0\n", f"\ntotal = {total}\n", 1).replace("[params]\n", "[params]\nfloor = -5\n", 1)
    path = tmp_path / "gate.toml"
    path.write_text(text, encoding="utf-8")
    report = validate(path)
    found = {item: interval for item, _title, interval in report.ranges}["total"]
    assert (None if found.lo is None else str(found.lo)) == lowest
    messages = [p.message for p in report.problems]
    assert any(problem in m for m in messages), messages


@pytest.mark.parametrize("expression,where", [
    ("rate", "a rate's points and text"), ("computed", "a scorer's score"), ("items.L2", "department items' rules"),
    ("total", "a gate's when and text"),
])
def test_a_name_read_only_elsewhere_is_told_where_not_unknown(tmp_path, expression, where):
    text = REFERENCE.read_text(encoding="utf-8")
    assert 'points = "params.sign_points"' in text
    path = tmp_path / "elsewhere.toml"
    path.write_text(text.replace('points = "params.sign_points"', f'points = "{expression}"', 1), encoding="utf-8")
    [problem] = validate(path).problems
    name = expression.split(".")[0]
    assert f'"{name}" cannot be read here; it is read in {where}' in problem.message and "unknown" not in problem.message


def test_a_finding_the_scheme_accepts_is_waived_with_its_reason_and_a_stale_waiver_is_a_finding(tmp_path):
    text = REFERENCE.read_text(encoding="utf-8")
    assert "[params]\n" in text
    text = text.replace("[params]\n", "[params]\nfor_the_report = 1\n", 1)
    path = tmp_path / "waived.toml"
    path.write_text(text, encoding="utf-8")
    [unused] = validate(path).problems
    assert unused.where == "params.for_the_report" and "no expression reads this parameter" in unused.message

    reason = "印发稿列出此参数供报告引用，规则不读"
    path.write_text(text + f'\n[[waiver]]\nfinding = "params.for_the_report"\nreason = "{reason}"\n', encoding="utf-8")
    report = validate(path)
    assert report.problems == [] and [(p.where, r) for p, r in report.waived] == [("params.for_the_report", reason)]
    shown = scoring("--lang", "en", "rules", "validate", path)
    assert shown.returncode == 0 and f"{path}: clean" in shown.stdout
    assert f"{path}: 1 finding(s) waived by the rulebook ([[waiver]])" in shown.stdout and f"waived: {reason}" in shown.stdout

    # a waiver that matches nothing (misspelled, or its finding fixed) is a finding; a loading error cannot be waived
    path.write_text(text + '\n[[waiver]]\nfinding = "params.for_the_reprot"\nreason = "x"\n', encoding="utf-8")
    stale = validate(path).problems
    assert [p.where for p in stale] == ["params.for_the_report", "waiver[0].finding"]
    assert 'no finding at "params.for_the_reprot" to waive (did you mean "params.for_the_report"?)' in stale[1].message
    broken = text.replace('points = "params.sign_points"', 'points = "params.nope"', 1)
    path.write_text(broken + '\n[[waiver]]\nfinding = "criterion[0].rule[0].points"\nreason = "x"\n', encoding="utf-8")
    assert {p.where for p in validate(path).problems} >= {"criterion[0].rule[0].points", "waiver[0].finding"}
