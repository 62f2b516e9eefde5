"""Overlays and --set: the effective rulebook, where its problems are reported, and the
seed's phone-waiver proposal worked by hand on small cases."""
import tomllib

import pytest
from casekit import LEAD, REFERENCE, ROOT, case, departments, ev, lines_of, points, reference_text, score

from scoring.base.errors import InputError
from scoring.engine.compiler import compile_rulebook
from scoring.rulebook.load import parse_rulebook
from scoring.rulebook.overlay import RuleSources, apply, parse_overlay

PHONE_WAIVER = ROOT / "rules" / "overlays" / "phone-waiver.toml"
BASE = parse_rulebook(REFERENCE.read_bytes(), "base.toml")
HEAD = '[overlay]\nid = "t"\ntitle = "测试"\nversion = "1"\nbase = { id = "proposal-handling", version = "1.0.0" }\n'


def effective(overlay_text: str = "", sets=()):
    overlays = [parse_overlay(overlay_text.encode("utf-8"), "change.toml")] if overlay_text else []
    return apply(BASE, overlays, sets)


def problems(overlay_text: str = "", sets=()):
    """Every problem of the overlay and settings, applying them or compiling the result."""
    with pytest.raises(InputError) as caught:
        compile_rulebook(effective(overlay_text, sets))
    return [str(p) for p in caught.value.problems]


def waiver_text() -> str:
    return RuleSources.read(REFERENCE, [PHONE_WAIVER]).effective().text


# ---------------------------------------------------------------- the effective rulebook

def test_without_overlays_the_effective_rulebook_is_the_file_itself():
    book = RuleSources.read(REFERENCE).effective()
    assert book.text == reference_text() and book.sha256 == BASE.sha256


def test_the_effective_rulebook_records_what_it_was_made_from_and_parses_alone():
    book = RuleSources.read(REFERENCE, [PHONE_WAIVER], ["reply_points=21"]).effective()
    info = book.spec.rulebook
    assert info.version == "1.0.0+phone-waiver.1.0.0+set(reply_points=21)"
    assert info.derived_from.base.sha256 == BASE.sha256
    assert [o.id for o in info.derived_from.overlays] == ["phone-waiver"] and info.derived_from.set == {"reply_points": 21}
    again = parse_rulebook(book.text.encode("utf-8"), "exported.toml")
    assert again.spec == book.spec and again.sha256 == book.sha256
    # nothing of the machine in the text: the same sources from elsewhere give the same bytes
    moved = RuleSources((("/elsewhere/rules.toml", REFERENCE.read_bytes())), (("x/y.toml", PHONE_WAIVER.read_bytes()),),
                        ("reply_points=21",)).effective()
    assert moved.text == book.text


def test_params_merge_key_by_key_and_lets_are_replaced():
    book = effective(HEAD + '[params]\noutcome_points = { A = 32 }\n[let]\nco_due = "add_months(assigned_on, 2)"\n')
    params = book.spec.params
    assert params["outcome_points"] == {"A": 32, "B": 24, "C": 15, "D": 9}
    assert book.spec.let["co_due"] == "add_months(assigned_on, 2)" and "reply_due" in book.spec.let


def test_criteria_and_rules_are_replaced_in_place_added_where_asked_and_removed():
    book = effective(HEAD + '''
[[criterion]]
id = "L7"
title = "答复公开（新）"
rubric = "lead"
[[criterion.rule]]
id = "L7"
bind = { p = "published" }
points = 3
text = "公开"
[[criterion]]
id = "K1"
title = "新增项目"
rubric = "lead"
after = "L1"
[[criterion.rule]]
id = "K1"
points = 1
text = "一分"
[[rule]]
criterion = "L4"
id = "L4-on-time"
bind = { r = "first reply" }
when = "r.date <= reply_due"
points = 25
text = "按时"
[remove]
criteria = ["D1"]
rules = ["L2-other"]
''')
    ids = [c.id for c in book.spec.criterion]
    assert ids == ["L1", "K1", "L2", "L3", "L4", "L5", "L6", "L7", "H1", "D2"]
    by_id = {c.id: c for c in book.spec.criterion}
    assert by_id["L7"].title == "答复公开（新）" and by_id["L7"].rule[0].points == 3
    assert [r.id for r in by_id["L4"].rule] == ["L4-on-time", "L4-late"] and by_id["L4"].rule[0].points == 25
    assert [r.id for r in by_id["L2"].rule] == ["L2-f2f"]


def test_set_overrides_existing_parameters_of_the_same_kind():
    book = effective(sets=["f2f_points=4", "outcome_points.B=25", "mode_names.phone=打电话", "f2f_deduction_per_point=0.15"])
    params = book.spec.params
    assert params["f2f_points"] == 4 and params["outcome_points"]["B"] == 25 and params["mode_names"]["phone"] == "打电话"
    assert str(params["f2f_deduction_per_point"]) == "0.15"  # exact: a decimal, not a binary float
    assert tomllib.loads(book.text)["params"]["f2f_points"] == 4


@pytest.mark.parametrize("argument, message", [
    ("f2f_point=4", '--set: f2f_point: no parameter "params.f2f_point" (did you mean "f2f_points"?)'),
    ("outcome_points.E=4", '--set: outcome_points.E: no parameter "params.outcome_points.E"'),
    ("f2f_points=many", '--set: f2f_points: "many" is not a number (the parameter is 5)'),
    ("f2f_points='4'", """--set: f2f_points: "'4'" is not a number (the parameter is 5)"""),
    ("outcome_points=4", "--set: outcome_points: is a table; set its keys, such as outcome_points.A=..."),
    ("f2f_points", "--set: f2f_points: expected name=value, such as points=4"),
])
def test_set_problems_name_the_argument(argument, message):
    assert problems(sets=[argument])[0].startswith(message)


# ---------------------------------------------------------------- problems name the overlay's file and line

def test_an_overlay_for_another_base_is_refused():
    text = HEAD.replace('version = "1.0.0" }', 'version = "2.0.0" }')
    assert problems(text)[0] == ('change.toml:5: overlay.base: the overlay is for rulebook "proposal-handling" '
                                             'version 2.0.0, not "proposal-handling" version 1.0.0')


def test_unknown_names_in_an_overlay_get_its_line_and_the_closest_name():
    found = problems(HEAD + '[[rule]]\ncriterion = "L2x"\nid = "X"\npoints = 1\ntext = "x"\n'
                              '[remove]\nrules = ["L2-othr"]\ncriteria = ["D1x"]\n')
    assert found == ['change.toml:7: rule[0].criterion: unknown criterion "L2x" (did you mean "L2"?)',
                     'change.toml:12: remove.rules[0]: no rule "L2-othr" to remove (did you mean "L2-other"?)',
                     'change.toml:13: remove.criteria[0]: no criterion "D1x" to remove (did you mean "D1"?)']


def test_a_bad_expression_in_an_overlay_rule_is_reported_at_the_overlay_line():
    text = (HEAD + '[[rule]]\ncriterion = "L2"\nid = "L2-x"\nbind = { c = "contact" }\n'
            'when = "c.mood == 1"\npoints = 1\ntext = "x"\n')
    found = problems(text)
    assert len(found) == 1 and found[0].startswith("change.toml:10: rule[0].when:") and "mood" in found[0]


def test_a_problem_in_the_base_still_names_the_base_file_and_line():
    broken = parse_rulebook(reference_text().replace('when = "s.date <= sign_due"', 'when = "s.date <= sign_dew"').encode(),
                            "base.toml")
    with pytest.raises(InputError) as caught:
        compile_rulebook(apply(broken, [parse_overlay((HEAD + "[params]\nf2f_points = 4\n").encode(), "change.toml")]))
    line = reference_text().splitlines().index('when = "s.date <= sign_due"') + 1
    assert str(caught.value.problems[0]).startswith(f"base.toml:{line}: criterion[0].rule[0].when:")


def test_an_unknown_key_in_an_overlay_names_the_known_ones():
    with pytest.raises(InputError) as caught:
        parse_overlay((HEAD + "[parms]\nx = 1\n").encode(), "change.toml")
    assert str(caught.value.problems[0]).startswith('change.toml:6: parms: unknown key "parms" (did you mean "params"?)')


def test_a_rulebook_passed_as_an_overlay_is_named_as_such():
    with pytest.raises(InputError) as caught:
        parse_overlay(REFERENCE.read_bytes(), "proposal-handling.toml")
    assert "this is a rulebook, not an overlay" in str(caught.value)


# ---------------------------------------------------------------- the phone waiver, by hand

def lead_case(case_id, *contacts, waived=False, replied="2020-06-01"):
    events = [ev("assigned", "2020-03-10"), ev("signed", "2020-03-11"), *contacts, ev("reply", replied, outcome="A")]
    return case(events, case_id=case_id, waived_f2f=waived)


def test_waived_l2_gives_5_for_any_contact_on_or_before_the_first_reply():
    waiver = waiver_text()
    phone = lead_case("C1", ev("contact", "2020-06-01", mode="phone"), waived=True)  # on the day of the reply
    assert points(score([phone])[("C1", LEAD)], "L2") == 2.5
    result = score([phone], waiver)[("C1", LEAD)]
    assert points(result, "L2") == 5 and [line.rule for line in lines_of(result, "L2")] == ["L2-waived"]
    assert lines_of(result, "L2")[0].text == "提出人表示电话沟通即可，2020-06-01以电话方式沟通"
    wechat = lead_case("C2", ev("contact", "2020-04-01", mode="wechat"), ev("contact", "2020-04-02", mode="letter"), waived=True)
    assert points(score([wechat], waiver)[("C2", LEAD)], "L2") == 5  # once: one line, not 10 capped


def test_waived_l2_gives_nothing_for_a_contact_after_the_first_reply():
    late = lead_case("C1", ev("contact", "2020-06-02", mode="phone"), waived=True)
    result = score([late], waiver_text())[("C1", LEAD)]
    assert points(result, "L2") == 0 and [line.kind for line in lines_of(result, "L2")] == ["otherwise"]


def test_cases_without_the_waiver_score_as_before():
    plain = [lead_case("C1", ev("contact", "2020-04-01", mode="phone")),
             lead_case("C2", ev("contact", "2020-04-01", mode="face_to_face"))]
    before, after = score(plain), score(plain, waiver_text())
    for key in before:
        assert ([(line.rule, line.points, line.text) for line in before[key].lines]
                == [(line.rule, line.points, line.text) for line in after[key].lines])


def test_waived_cases_leave_the_d2_rate_and_all_waived_means_no_deduction():
    f2f = lead_case("C1", ev("contact", "2020-04-01", mode="face_to_face"))
    waived = lead_case("C2", ev("contact", "2020-04-01", mode="phone"), waived=True)
    # base: 1 of 2 face to face, 50% -> -min(5, 0.1 * 50) = -5; waiver: 1 of 1 -> 0
    assert points_of_department([f2f, waived], None, "D2") == -5
    assert points_of_department([f2f, waived], waiver_text(), "D2") == 0
    only_waived = [waived, lead_case("C3", ev("contact", "2020-04-01", mode="wechat"), waived=True)]
    assert points_of_department(only_waived, None, "D2") == -5
    department = departments(only_waived, waiver_text())[LEAD]
    assert department.criteria[(None, "D2")] == 0
    assert [line.text for line in department.lines if line.criterion == "D2"] == [
        "主办/分办件均为提出人表示电话沟通即可的件（或无主办/分办件），不计面商率"]


def points_of_department(cases, text, criterion):
    return departments(cases, text)[LEAD].criteria[(None, criterion)]


def test_overlay_params_keep_the_kind_of_the_base_and_an_empty_table_is_refused():
    found = problems(HEAD + '[params]\nsign_points = "five"\noutcome_points = { A = "x" }\nrating_points = {}\n')
    assert found == ['change.toml:7: params.sign_points: "five" is a text, but the base has a number here (5); '
                     'remove the parameter first to change its kind',
                     'change.toml:8: params.outcome_points.A: "x" is a text, but the base has a number here (30); '
                     'remove the parameter first to change its kind',
                     'change.toml:9: params.rating_points: an empty table changes nothing (tables merge key by key); '
                     'to remove a parameter, list it in [remove] params']


# ---------------------------------------------------------------- the sections of the full language

COMBINED = ROOT / "rules" / "combined-2020.toml"
COMBINED_HEAD = '[overlay]\nid = "t"\ntitle = "测试"\nversion = "1"\nbase = { id = "combined-2020", version = "1.0.0" }\n'


def test_categories_gates_scorers_and_department_fields_are_patched_like_criteria():
    overlay = COMBINED_HEAD + '''
[department_fields]
self_score = { kind = "number", min = 0, max = 10 }
note = "text"

[[scorer]]
id = "self"
title = "自评"
weight = 0
score = "department.self_score"

[[scorer]]
id = "peer"
title = "互评"
weight = 0.4
score = "mean(department.peer_scores)"

[[gate]]
id = "late"
title = "逾期等次限制"
before = "urged"
when = "total < 70"
grade = "合格"
text = "总分低于70分，等次不高于合格"

[[category]]
id = "proposal"
title = "提案"
of = "case.kind == 'proposal'"
weight = 0.5
min = 0
max = 100

[[category]]
id = "suggestion"
title = "建议"
of = "case.kind == 'suggestion'"
weight = 0.5
after = "proposal"

[remove]
gates = ["veto"]
department_fields = ["group"]
'''
    base = parse_rulebook(COMBINED.read_bytes(), "combined.toml")
    book = apply(base, [parse_overlay(overlay.encode("utf-8"), "change.toml")])
    spec = book.spec
    assert spec.department_fields["self_score"].max == 10
    assert "note" in spec.department_fields and "group" not in spec.department_fields
    assert [(s.id, str(s.weight)) for s in spec.scorer] == [("assessor", "0.6"), ("self", "0"), ("peer", "0.4")]
    assert [g.id for g in spec.gate] == ["late", "urged"]
    assert [(c.id, str(c.weight), c.max) for c in spec.category] == [("proposal", "0.5", 100), ("suggestion", "0.5", None)]
    # the ranking reads department.group, which the overlay removed: found when compiling, at the base's line
    with pytest.raises(InputError) as caught:
        compile_rulebook(book)
    [problem] = caught.value.problems
    line = COMBINED.read_text(encoding="utf-8").splitlines().index('group = "department.group"') + 1
    assert str(problem).startswith(f"combined.toml:{line}: ranking.group: department") and '"department.group"' in str(problem)
    # kept, the effective rulebook compiles, and its text alone gives the same rulebook
    kept = apply(base, [parse_overlay(overlay.replace('department_fields = ["group"]', "").encode("utf-8"), "change.toml")])
    assert [g.id for g in compile_rulebook(kept).gates] == ["late", "urged"]
    assert parse_rulebook(kept.text.encode("utf-8"), "exported.toml").spec == kept.spec


def test_a_misplaced_or_missing_gate_names_the_overlay_line():
    overlay = COMBINED_HEAD + '''
[[gate]]
id = "late"
title = "逾期"
before = "urgd"
when = "total < 70"
grade = "合格"
text = "x"

[remove]
scorers = ["peers"]
'''
    base = parse_rulebook(COMBINED.read_bytes(), "combined.toml")
    with pytest.raises(InputError) as caught:
        apply(base, [parse_overlay(overlay.encode("utf-8"), "change.toml")])
    assert [str(p) for p in caught.value.problems] == [
        'change.toml:10: gate[0].before: no gate "urgd" to place it before (did you mean "urged"?)',
        'change.toml:16: remove.scorers[0]: no scorer "peers" to remove (did you mean "peer"?)']
