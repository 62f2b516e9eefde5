"""The rule expression language: what it accepts, what it refuses, what values do."""
import ast
import datetime as dt
import re
from fractions import Fraction
from pathlib import Path

import pytest

from scoring.domain.fields import expression_schema
from scoring.domain.workdays import WorkCalendar
from scoring.lang import values as V
from scoring.lang.evaluator import BY_TYPE, ExpressionCompiler, Scope
from scoring.lang.nodes import ExprError
from scoring.lang.syntax import parse
from scoring.lang.template import compile_template

PARAMS = {"points": {"A": 30, "B": 24}, "n": 3, "rate": Fraction(1, 10), "names": ["x", "y"]}
COMPILER = ExpressionCompiler(WorkCalendar(), expression_schema())
SCOPE = Scope({"case": "case", "r": "event", "d": "date", "t": "text", "x": "any"}, {"params": PARAMS},
              frozenset({"reply", "contact", "extension"}))


def event(i, kind, day, **fields):
    return V.Record("event", {"id": f"e{i}", "type": kind, "date": dt.date.fromisoformat(day), **fields}, {"note": "备注"},
                    order=i)


EVENTS = [event(0, "contact", "2020-04-01", mode="phone"), event(1, "reply", "2020-05-01", outcome="A"),
          event(2, "extension", "2020-04-20", days=30), event(3, "reply", "2020-06-01", outcome="B"),
          event(4, "contact", "2020-06-05", mode="face_to_face")]


def run(source, **names):
    env = {BY_TYPE: {}, "case": V.Record("case", {"id": "C1", "key": True}), "r": EVENTS[1],
           "d": dt.date(2020, 6, 10), "t": "文本", "x": None, **names}
    for e in EVENTS:
        env[BY_TYPE].setdefault(e.fields["type"], []).append(e)
    return COMPILER.compile(parse(source), SCOPE)(env)


@pytest.mark.parametrize("source, expected", [
    ("2.5 + 0.1", Fraction(13, 5)),  # exact, not binary floating point
    ("1 / 3 + 1 / 6", Fraction(1, 2)),
    ("params.points[r.outcome]", 30),
    ("params.points['B'] - params.n * 2", 18),
    ("first(reply).outcome", "A"),
    ("last(reply).outcome", "B"),
    ("count(contact)", 2),
    ("count(c for c in contact if c.mode == 'phone')", 1),
    ("sum(e.days for e in extension)", 30),
    ("sum(e.days for e in extension if e.days > 100)", 0),
    ("exists(c for c in contact if c.date > r.date)", True),
    ("not exists(reply)", False),
    ("min(c.date for c in contact)", dt.date(2020, 4, 1)),
    ("max(1, 2.5, 2)", Fraction(5, 2)),
    ("d + 3", dt.date(2020, 6, 13)),
    ("d - date('2020-06-01')", 9),
    ("add_months(date('2020-01-31'), 1)", dt.date(2020, 2, 29)),
    ("add_workdays(date('2020-09-30'), 2)", dt.date(2020, 10, 10)),
    ("workdays_between(date('2020-10-01'), date('2020-10-12'))", 3),
    ("0 < params.n <= 3", True),
    ("r.outcome in ['A', 'B']", True),
    ("'B' not in params.points", False),
    ("'高' if case.key else '低'", "高"),
    ("coalesce(x, 7)", 7),
    ("present(x)", False),
    ("x + 1", None),  # null passes through arithmetic
    ("x < 1", False),  # and compares false
    ("extra(r, 'note')", "备注"),
    ("percent(params.rate)", "10%"),
    ("round(2/3, 2)", Fraction(67, 100)),
    ("clamp(120, 0, 100)", 100),
    ("'逾期' + 3 + '天'", "逾期3天"),
    ("len(params.names)", 2),
])
def test_values(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, message", [
    ("__import__('os')", 'unknown function "__import__"'),
    ("r.__class__", 'starting with "_"'),
    ("(lambda: 1)()", "only the rule language's functions can be called"),
    ("[c for c in contact]", "list comprehension"),
    ("2 ** 100000", "** is not part of the rule language"),
    ("open('/etc/passwd')", 'unknown function "open"'),
    ("x.y.z if x.ok else 2", None),  # fine: x is of unknown kind
    # a condition decides by true or false, never by a number being non-zero or a text non-empty
    ("1 if params.n else 2", "a condition must be true or false, and this is a number"),
    ("not t", "a condition must be true or false, and this is a text"),
    ("present(x) and params.n", "this is a number: compare it"),
    ("count(c for c in contact if c.date)", "this is a date"),
    ("r.dat", 'event has no field "dat" (did you mean "date"?)'),
    ("params.pionts", 'no "pionts" in params (did you mean "points"?)'),
    ("frist(reply)", 'unknown function "frist" (did you mean "first"?)'),
    ("reply", '"reply" is an event type'),
    ("x == null", "never true; write present(x)"),
    ("d < 3", "cannot compare date with number"),
    ("r.date + r", "cannot use event in arithmetic"),
    ("count(c for c in contact for d in reply)", "only one 'for'"),
    ("max(c for c in contact, 1)", "syntax error"),
    ("max(1, c for c in contact)", "syntax error"),
    ("first(reply, 1)", "takes 1 argument(s), got 2"),
    ("t < 3", "cannot compare text with number"),
    ("f'{x}'", "f-string"),
    ("x := 1", "syntax error"),
    ("date(t)", "literal text"),
    ("date('2020-13-01')", "is not a date"),
    ("params.n / 0", "division by zero"),
    ("x" * 5000, "longer than"),
])
def test_refused_with_a_clear_message(source, message):
    if message is None:
        COMPILER.compile(parse(source), SCOPE)
        return
    with pytest.raises(ExprError) as info:
        COMPILER.compile(parse(source), SCOPE)
    assert message in info.value.message


def test_error_columns_point_into_the_expression():
    with pytest.raises(ExprError) as info:
        COMPILER.compile(parse("r.date <= frist_reply"), SCOPE)
    assert info.value.column == 10


@pytest.mark.parametrize("source, message", [
    ("x < 3", "cannot compare text with number"),
    ("add_workdays(d, 1.5)", "whole number"),
    ("d + 0.5", "fraction of a day"),
    ("params.points[t]", 'no "文本" in params.points'),
])
def test_runtime_errors_name_the_problem(source, message):
    with pytest.raises(V.EvalError) as info:
        run(source, x="文本", t="文本")
    assert message in str(info.value)


@pytest.mark.parametrize("start, n, expected", [
    ("2020-01-31", 1, "2020-02-29"),
    ("2020-02-29", 12, "2021-02-28"),
    ("2020-03-31", -1, "2020-02-29"),
    ("2021-03-31", -1, "2021-02-28"),
    ("2020-01-15", 0, "2020-01-15"),
    ("2020-05-31", 1, "2020-06-30"),
    ("2020-11-30", 3, "2021-02-28"),
    ("2020-12-15", 1, "2021-01-15"),
    ("2021-01-15", -1, "2020-12-15"),
    ("2020-01-31", -13, "2018-12-31"),
    ("2020-08-31", -6, "2020-02-29"),
    ("2020-02-29", 48, "2024-02-29"),
    ("2020-03-15", 25, "2022-04-15"),
])
def test_add_months(start, n, expected):
    assert V.add_months(dt.date.fromisoformat(start), n) == dt.date.fromisoformat(expected)


def test_mixed_kinds_are_never_equal_and_never_silently_ordered():
    assert V.compare("==", 5, "5") is False
    assert V.compare("!=", 5, "5") is True
    assert V.compare("==", True, 1) is False
    with pytest.raises(V.EvalError):
        V.compare("<", dt.date(2020, 1, 1), 5)


def test_round_half_up_is_exact():
    assert str(V.round_half_up(Fraction(793, 8))) == "99.13"  # 99.125
    assert str(V.round_half_up(Fraction(-793, 8))) == "-99.13"
    assert str(V.round_half_up(Fraction(1, 3))) == "0.33"
    assert V.format_number(Fraction(10, 3)) == "3.33" and V.format_number(100) == "100"


def test_templates():
    fill = compile_template("{r.date}答复，{'超期' if d > r.date else '按期'}，{{保留}}{x}", COMPILER, SCOPE)
    env = {BY_TYPE: {}, "r": EVENTS[1], "d": dt.date(2020, 6, 10), "x": None, "case": None, "t": ""}
    assert fill(env) == "2020-05-01答复，超期，{保留}—"
    for bad, column in [("a {r.dat} b", 3), ("{", 0), ("}", 0)]:
        with pytest.raises(ExprError) as info:
            compile_template(bad, COMPILER, SCOPE)
        assert info.value.column == column


# ---------------------------------------------------------------- the language stands alone

LANG = Path(V.__file__).parent


def test_lang_imports_nothing_of_scoring_but_base():
    """What expressions read comes in as data (lang/schema.py); the domain is not imported."""
    found = []
    for path in sorted(LANG.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                # from . import x stays in lang; from .. import x leaves it
                modules = [node.module or ""] if node.level == 0 else ["scoring"] if node.level > 1 else []
            else:
                continue
            found += [f"{path.name}:{node.lineno}: {module}" for module in modules
                      if module.split(".")[0] == "scoring" and not module.startswith("scoring.base")]
    assert found == []


def domain_words() -> set[str]:
    """The event types, fields and enum values of the case model (words of the language itself left out)."""
    records = expression_schema().records.values()
    words = {name for record in records for name in record.fields}
    words |= {value for record in records for field in record.fields.values() for value in field.values or ()}
    # words of the language too: a kind and a function (date), "event type", a record's kind, and the
    # fields a record prints as (id, name); one-letter values (outcome "A") say nothing
    return {word for word in words if len(word) > 1} - {"date", "type", "kind", "id", "name"}


def test_lang_names_no_domain_word():
    """No string in lang (messages included; docstrings aside) names an event type, a field or an enum value."""
    words = domain_words()
    assert {"reply", "contact", "outcome", "mode", "days", "face_to_face", "waived_f2f"} <= words
    found = []
    for path in sorted(LANG.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                      and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                found += [f"{path.name}:{node.lineno}: {word}" for word in re.findall(r"\w+", node.value)
                          if word in words]
    assert found == []


def test_the_language_reference_lists_exactly_the_declared_functions():
    """docs/rule-language.md's table of functions against the one registry (scoring/lang/builtins.py)."""
    import re

    from casekit import ROOT

    from scoring.lang.builtins import BUILTINS
    text = (ROOT / "docs" / "rule-language.md").read_text(encoding="utf-8")
    table = text[text.index("| function |"):text.index("A **source**")]
    rows = [row for row in table.splitlines()[2:] if row.startswith("|")]
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert documented == set(BUILTINS)
