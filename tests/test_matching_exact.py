"""What the differential tester (scripts/difftest.py) found, each pinned on its exact ledger.

Every rulebook here is the smallest one on which the product and the independent interpreter
(tests/ruleinterp.py) disagreed before the fix. The engine's facts are asserted in every order
(`in_every_fact_order`), since absence (negated patterns) is where the engine's result could
depend on it.
"""
from __future__ import annotations

import itertools

import pytest
from casekit import case, ev

from scoring.base.errors import InputError
from scoring.domain.cases import Case
from scoring.engine.compiler import compile_rulebook
from scoring.engine.evaluate import CaseEvaluator
from scoring.rulebook.load import parse_rulebook

HEAD = """
[rulebook]
id = "pins"
title = "t"
version = "1"

[[rubric]]
id = "all"
title = "all"
roles = ["lead", "split", "co"]

[department]
method = "mean"

[let]
{lets}

[[criterion]]
id = "X"
title = "X"
rubric = "all"
otherwise = "none"

[[criterion.rule]]
id = "X1"
bind = {{ {bind} }}
{when}
points = 1
text = "hit"
"""


def rulebook(bind: str, when: str | None, lets: str = "") -> str:
    return HEAD.format(bind=bind, when=f'when = "{when}"' if when else "", lets=lets)


def in_every_fact_order(text: str, events: list[dict]) -> set[tuple]:
    """The case's ledger lines, scored once for every order in which the engine can be given the facts."""
    evaluator = CaseEvaluator(compile_rulebook(parse_rulebook(text.encode("utf-8"), "pins.toml")))
    match = evaluator.engine.match
    found = set()
    try:
        facts_seen = []
        evaluator.engine.match = lambda facts: facts_seen.append(len(facts)) or match(facts)
        data = Case.model_validate(case(events))
        evaluator.evaluate(data)
        for order in itertools.permutations(range(facts_seen[0])):
            def permuted(facts, order=order):
                fired = match([facts[i] for i in order])
                return [(name, {alias: order[i] for alias, i in matched.items()}) for name, matched in fired]
            evaluator.engine.match = permuted
            (result,) = evaluator.evaluate(data)
            found.add(tuple((line.rule, line.points, line.evidence, line.kind) for line in result.lines))
    finally:
        evaluator.close()
    return found


def lines(*items) -> set[tuple]:
    return {tuple(items)}


HIT = "X1", 1
NONE = (None, 0, (), "otherwise")


def test_a_bound_event_blocks_an_absence():
    """The issue's rulebook: the published event after the assignment is also the exists() witness;
    the engine never lets one fact take two patterns, so it did not block the not-exists."""
    text = rulebook('a = "first assigned"', "exists(published) and not exists(p for p in published if p.date > a.date)")
    after = [ev("assigned", "2020-03-10"), ev("published", "2020-03-20")]
    assert in_every_fact_order(text, after) == lines(NONE)
    before = [ev("assigned", "2020-03-10"), ev("published", "2020-03-05")]
    assert in_every_fact_order(text, before) == lines((*HIT, ("e2", "e1"), "rule"))


def test_two_bindings_of_one_type_take_the_same_event():
    text = rulebook('a = "contact", b = "contact"', None)
    one = [ev("contact", "2020-03-10", mode="phone")]
    assert in_every_fact_order(text, one) == lines((*HIT, ("e1",), "rule"))
    two = [ev("contact", "2020-03-10", mode="phone"), ev("contact", "2020-03-11", mode="phone")]
    # a, b = e1 e1 / e1 e2 / e2 e1 / e2 e2: the earliest evidence first, then by the bound events in bind order
    assert in_every_fact_order(text, two) == {(
        (*HIT, ("e1",), "rule"), (*HIT, ("e1", "e2"), "rule"), (*HIT, ("e1", "e2"), "rule"), (*HIT, ("e2",), "rule"))}


def test_first_and_last_of_one_event():
    text = rulebook('f = "first reply", l = "last reply"', None)
    assert in_every_fact_order(text, [ev("reply", "2020-03-10", outcome="A")]) == lines((*HIT, ("e1",), "rule"))


def test_the_witness_may_be_the_bound_event():
    text = rulebook('r = "reply"', "exists(x for x in reply if x.date >= r.date)")
    assert in_every_fact_order(text, [ev("reply", "2020-03-10", outcome="A")]) == lines((*HIT, ("e1",), "rule"))


def test_a_join_with_a_null_value_is_false_and_does_not_crash():
    """The engine fails the whole assertion on a join test that reads a field the other fact lacks."""
    text = rulebook('a = "last published", b = "first contact"',
                    "b.date - 7 < max(x.date for x in extension if x.date == a.date)")
    events = [ev("published", "2020-03-02"), ev("contact", "2020-03-03", mode="phone")]
    assert in_every_fact_order(text, events) == lines(NONE)


def test_an_absence_compared_with_a_null_value_holds():
    text = rulebook('a = "published"',
                    "not exists(x for x in contact if x.date < max(e.date for e in extension if e.date > a.date))")
    events = [ev("published", "2020-03-02"), ev("contact", "2020-03-01", mode="phone")]
    assert in_every_fact_order(text, events) == lines((*HIT, ("e1",), "rule"))


def test_a_null_on_the_patterns_own_side():
    """The engine fails the whole assertion on a join test on a null field of the fact's own pattern."""
    text = rulebook('a = "reply", b = "last reply"',
                    "a.date >= last(x.date for x in extension if add_days(x.date, 3) == b.date + 5)")
    assert in_every_fact_order(text, [ev("reply", "2020-03-05", outcome="A")]) == lines(NONE)


def test_not_equal_to_a_null_is_false():
    """The engine takes a null it refers to as different from anything (!=)."""
    text = rulebook('a = "assigned", b = "assigned"',
                    "b.date != last(x.date for x in published if a.date + 5 != add_days(x.date, 3))")
    assert in_every_fact_order(text, [ev("assigned", "2020-03-08")]) == lines(NONE)


def test_not_equal_to_what_may_be_null_inside_not_exists_is_refused():
    text = rulebook('a = "reply"',
                    "not exists(x for x in contact if x.date != last(e.date for e in extension if e.date > a.date))")
    with pytest.raises(InputError) as caught:
        compile_rulebook(parse_rulebook(text.encode("utf-8"), "pins.toml"))
    message = str(caught.value.problems[0])
    assert message.startswith("pins.toml:27: criterion[0].rule[0].when: a's side of this != can be null"), message
    assert message.endswith("at column 34"), message


def test_a_let_may_name_a_let_written_after_it():
    text = rulebook('r = "reply"', "r.date <= due", lets='due = "add_days(start, n)"\nstart = "first(assigned).date"\n'
                                                          'n = "count(reply)"')
    events = [ev("assigned", "2020-03-02"), ev("reply", "2020-03-03", outcome="A")]
    assert in_every_fact_order(text, events) == lines((*HIT, ("e2",), "rule"))


def test_exists_over_every_event_names_its_witness():
    text = rulebook("", "exists(x for x in events if x.type == 'urged')")
    events = [ev("reply", "2020-03-05", outcome="A"), ev("urged", "2020-03-07"), ev("urged", "2020-03-06")]
    assert in_every_fact_order(text, events) == lines((*HIT, ("e3",), "rule"))


def test_exists_and_not_exists_of_every_event():
    """exists(events) and not exists(events) load (the generator's variable was the name
    "events" itself, refused as already a name once exists() over events became a pattern)."""
    events = [ev("reply", "2020-03-05", outcome="A"), ev("urged", "2020-03-04")]
    assert in_every_fact_order(rulebook("", "exists(events)"), events) == lines((*HIT, ("e2",), "rule"))
    assert in_every_fact_order(rulebook("", "not exists(events)"), events) == lines(NONE)
    assert in_every_fact_order(rulebook("", "not exists(events)"), []) == lines((*HIT, (), "rule"))
