"""Compiled rules, matched by durable_rules, against brute force over every combination.

For each rule below, the engine's matches on random timelines (events in random order)
must equal what evaluating the whole `when` in Python over every combination of bound
events gives, and an exists() witness must be the earliest event that satisfies it.
This covers what the compiler splits apart: conditions on one event (flags), joins
between two events (ordering and equality), first/last, exists and not exists.
"""
import itertools

import pytest
from casekit import evaluator_for
from randomcases import random_cases

from scoring.domain.cases import Case
from scoring.engine.evaluate import case_events_of, handler_environment
from scoring.lang import values as V
from scoring.lang.syntax import parse

RULES = {
    "join-before": ({"c": "contact", "r": "first reply"}, "c.date <= r.date and c.mode != 'phone'"),
    "last-no-later-contact": ({"r": "last reply"}, "not exists(x for x in contact if x.date > r.date)"),
    "window": ({"p": "published", "r": "first reply"}, "p.date <= add_workdays(r.date, 5) and p.date >= r.date"),
    "same-type-equality": ({"a": "contact", "b": "contact"}, "a.date < b.date and a.mode == b.mode"),
    "exists-after": ({"r": "reply"}, "exists(f for f in feedback if f.date >= r.date and f.rating == 'dissatisfied')"),
    "exists-two-refs": ({"e": "extension", "r": "first reply"},
                        "e.days > 10 and exists(s for s in signed if s.date <= e.date and s.date < r.date)"),
    "case-only": ({}, "exists(c for c in contact if c.mode == 'face_to_face') and not exists(urged)"),
    "local-aggregate": ({"r": "reply"}, "count(c for c in contact if c.date <= r.date) >= 2"),
    "or-on-one-event": ({"c": "contact"}, "c.mode == 'email' or c.date > date('2020-08-01')"),
    "any-event-exists": ({"r": "first reply"}, "exists(e for e in events if e.date > r.date and e.type != 'feedback')"),
    "date-arithmetic-join": ({"s": "first signed", "a": "first assigned"}, "s.date - 2 > a.date"),
    "no-condition": ({"u": "urged"}, None),
}


def rulebook() -> str:
    parts = ['[rulebook]\nid = "matching"\ntitle = "t"\nversion = "1"\n',
             '[[rubric]]\nid = "all"\ntitle = "all"\nroles = ["lead", "split", "co"]\n',
             '[department]\nmethod = "mean"\n']
    for index, (name, (bind, when)) in enumerate(RULES.items()):
        binding = ", ".join(f'{var} = "{spec}"' for var, spec in bind.items())
        text = "|".join("{" + var + ".id}" for var in bind) or "case"
        parts.append(f'[[criterion]]\nid = "K{index}"\ntitle = "{name}"\nrubric = "all"\n'
                     f'[[criterion.rule]]\nid = "{name}"\nbind = {{ {binding} }}\n'
                     + (f'when = "{when}"\n' if when else "") + f'points = 1\ntext = "{text}"\n')
    return "\n".join(parts)


def brute_force(evaluator, case: Case, handler, rule_name: str):
    """(binding ids, witness ids) for every combination where the whole condition holds."""
    bind, when = RULES[rule_name]
    env, records = handler_environment(evaluator.c, V.Record("case", {"id": case.id}), case_events_of(case), handler)
    scope = compiled_scope(evaluator, bind)
    condition = evaluator_expr(evaluator, when, scope)
    pools = []
    for spec in bind.values():
        words = spec.split()
        of_type = [r for r in records if r.fields["type"] == words[-1]]
        if words[0] == "first":
            of_type = of_type[:1]
        elif words[0] == "last":
            of_type = of_type[-1:]
        pools.append(of_type)
    found = []
    for combo in itertools.product(*pools):
        for var, record in zip(bind, combo):
            env[var] = record
        if condition is None or V.truthy(condition(env)):
            found.append(tuple(r.fields["id"] for r in combo))
    return sorted(found)


def compiled_scope(evaluator, bind):
    from scoring.lang.evaluator import Scope
    names = {"case": "case", "handler": "handler", "rubric": "text", "events": "events"}
    names.update(dict.fromkeys(bind, "event"))
    return Scope(names, {"params": {}}, evaluator.c.event_types)


def evaluator_expr(evaluator, when, scope):
    if when is None:
        return None
    from scoring.domain.fields import expression_schema
    from scoring.lang.evaluator import ExpressionCompiler
    return ExpressionCompiler(evaluator.c.calendar, expression_schema()).compile(parse(when), scope)


def engine_matches(result, rule_name: str):
    lines = [line for line in result.lines if line.rule == rule_name]
    return sorted(tuple(line.text.split("|")) if line.text != "case" else () for line in lines), lines


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_engine_matches_brute_force(seed):
    evaluator = evaluator_for(rulebook(), "matching.toml")
    cases = random_cases(100 + seed, 120, departments=4)
    checked = 0
    for data in cases:
        case = Case.model_validate(data)
        results = {r.department: r for r in evaluator.evaluate(case)}
        for handler in case.handlers:
            for rule_name in RULES:
                expected = brute_force(evaluator, case, handler, rule_name)
                got, _ = engine_matches(results[handler.department], rule_name)
                assert got == expected, (case.id, handler.department, rule_name)
                checked += len(expected)
    assert checked > 500  # the rules do fire: the comparison is not vacuous


def test_exists_witness_is_the_earliest_event():
    evaluator = evaluator_for(rulebook(), "matching.toml")
    for data in random_cases(7, 150, departments=3):
        case = Case.model_validate(data)
        for result in evaluator.evaluate(case):
            events = sorted((e for e in case.events if e.department == result.department), key=lambda e: (e.date, _natural(e.id)))
            contacts = [e for e in events if e.type == "contact" and e.mode == "face_to_face"]
            lines = [line for line in result.lines if line.rule == "case-only"]
            if lines:
                assert lines[0].evidence == (contacts[0].id,)


def _natural(text):
    from scoring.domain.cases import natural_key
    return natural_key(text)
