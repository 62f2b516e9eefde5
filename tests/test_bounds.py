"""Static bounds of points expressions and conditions that can never hold (scoring.lang.bounds)."""
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scoring.domain.fields import expression_schema
from scoring.engine.compiler import RECORD_NAMES
from scoring.lang import values as V
from scoring.lang.bounds import BoundsEnv, bounds, never_true, source_text
from scoring.lang.evaluator import BY_TYPE, ExpressionCompiler, Scope
from scoring.lang.interval import Interval, format_interval
from scoring.lang.nodes import Attr, Call, ExprError, Name
from scoring.lang.syntax import parse

PARAMS = {
    "sign_points": 5,
    "urge_penalty": 1,
    "reply_points": 20,
    "late_penalty_per_workday": 2,
    "outcome_points": {"A": 30, "B": 24, "C": 15, "D": 9},
    "f2f_deduction_max": 5,
    "f2f_deduction_per_point": 0.1,  # as TOML gives it: a float, read exactly as 1/10
    "a": 7,
    "b": -3,
    "names": ["x", "y", "z"],
    "nested": {"p": {"x": 1, "y": 5}, "q": {"x": -2, "label": "text"}},
    "table": [{"min": 0, "points": 0}, {"min": 3, "points": 4}, {"min": 10, "points": Fraction(15, 2)}],
}
RANGES = {"rate": Interval(0, 1), "hits": Interval(0, None), "cases": Interval(1, None)}
ENUMS = {"rubric": ("lead", "co")}
SCHEMA = expression_schema()
LETS = {"extension_days": "sum(e.days for e in extension)", "reply_due": "add_months(assigned_on, 3) + extension_days"}
LATE = "max(0, params.reply_points - params.late_penalty_per_workday * workdays_between(reply_due, r.date))"


def env(*facts, **extra):
    return BoundsEnv(constants={"params": PARAMS}, ranges=RANGES, facts=[parse(f) for f in facts], enums=ENUMS,
                     lets=LETS, schema=SCHEMA, records=RECORD_NAMES, **extra)


def I(lo, hi):  # noqa: E743 - short on purpose: the tables below are easier to read
    return Interval(lo, hi)


# ---------------------------------------------------------------- Interval

def test_interval_is_exact_and_checked():
    assert Interval(Fraction(4, 2), Fraction(7, 2)).lo == 2 and type(Interval(Fraction(4, 2), 3).lo) is int
    assert Interval(0.1, 0.5) == Interval(Fraction(1, 10), Fraction(1, 2))
    with pytest.raises(ValueError):
        Interval(2, 1)
    with pytest.raises(TypeError):
        Interval(True, 2)
    assert 3 in Interval(0, None) and -1 not in Interval(0, None) and 10**9 in Interval()
    assert Interval.point(5).is_point and not Interval(0, None).is_bounded


@pytest.mark.parametrize("a, b, product", [
    (I(2, 3), I(4, 5), I(8, 15)),
    (I(-2, 3), I(4, 5), I(-10, 15)),
    (I(-3, -2), I(4, 5), I(-15, -8)),
    (I(-3, -2), I(-5, -4), I(8, 15)),
    (I(-2, 3), I(-5, 4), I(-15, 12)),
    (I(-3, -2), I(-5, 4), I(-12, 15)),
    (I(Fraction(1, 2), 1), I(Fraction(-1, 3), Fraction(2, 3)), I(Fraction(-1, 3), Fraction(2, 3))),
    # unbounded ends
    (I(0, 0), I(None, None), I(0, 0)),
    (I(0, 2), I(1, None), I(0, None)),
    (I(-1, 0), I(1, None), I(None, 0)),
    (I(1, 2), I(None, None), I(None, None)),
    (I(None, -1), I(None, -1), I(1, None)),
    (I(-2, None), I(3, 3), I(-6, None)),
    (I(1, None), I(-1, -1), I(None, -1)),
    (I(1, None), I(2, None), I(2, None)),
    (I(None, 0), I(0, None), I(None, 0)),
])
def test_multiplication_sign_cases(a, b, product):
    assert a * b == product
    assert b * a == product


@pytest.mark.parametrize("a, b, quotient", [
    (I(1, 2), I(4, 8), I(Fraction(1, 8), Fraction(1, 2))),
    (I(-1, 2), I(-4, -2), I(-1, Fraction(1, 2))),
    (I(1, 2), I(1, None), I(0, 2)),
    (I(-6, 3), I(None, -3), I(-1, 2)),
    (I(1, 2), I(-1, 1), I(None, None)),   # the divisor may be 0
    (I(1, 2), I(0, 5), I(None, None)),
    (I(0, 0), I(-1, 1), I(0, 0)),          # 0 / y is 0 whenever it is defined
])
def test_division(a, b, quotient):
    assert a / b == quotient


def test_interval_operations():
    assert I(1, 2) + I(None, 5) == I(None, 7)
    assert I(1, 2) - I(0, None) == I(None, 2)
    assert -I(None, 3) == I(-3, None)
    assert 10 - I(0, 4) == I(6, 10) and I(1, 2) * 3 == I(3, 6) and 1 / I(2, 4) == I(Fraction(1, 4), Fraction(1, 2))
    assert I(0, 10).min(I(5, None)) == I(0, 10) and I(None, 3).min(I(1, 2)) == I(None, 2)
    assert I(0, 10).max(I(5, None)) == I(5, None) and I(None, 3).max(I(1, 2)) == I(1, 3)
    assert abs(I(-3, 2)) == I(0, 3) and abs(I(-3, -1)) == I(1, 3) and I(None, 2).abs() == I(0, None)
    assert I(None, None).clamp(0, 5) == I(0, 5) and I(2, 9).clamp(0, 5) == I(2, 5) and I(-4, -1).clamp(0, 5) == I(0, 0)
    assert I(Fraction(1, 3), Fraction(5, 2)).round() == I(0, 3)  # half away from zero
    assert I(Fraction(-5, 4), Fraction(2, 3)).round(1) == I(Fraction(-13, 10), Fraction(7, 10))
    assert I(0, 1).hull(I(5, 6)) == I(0, 6) and (I(0, 1) | I(None, -2)) == I(None, 1)
    assert I(0, 5).intersect(I(3, None)) == I(3, 5) and I(0, 1).intersect(I(2, 3)) is None


@pytest.mark.parametrize("interval, text", [
    (I(0, 20), "0 … 20"),
    (I(None, 0), "−∞ … 0"),
    (I(0, None), "0 … +∞"),
    (I(None, None), "−∞ … +∞"),
    (I(-5, Fraction(5, 2)), "−5 … 2.5"),
    (I(Fraction(1, 8), Fraction(1, 3)), "0.125 … ≈0.3333"),
    (I(7, 7), "7"),
    (None, "—"),
])
def test_format_interval(interval, text):
    assert format_interval(interval) == text


# ---------------------------------------------------------------- bounds

@pytest.mark.parametrize("source, expected", [
    ("5", I(5, 5)),
    ("2.5", I(Fraction(5, 2), Fraction(5, 2))),
    ("params.sign_points", I(5, 5)),
    ("-params.urge_penalty", I(-1, -1)),
    ("params.outcome_points[r.outcome]", I(9, 30)),
    ("params.outcome_points['B']", I(24, 24)),
    ("params.outcome_points[r.outcome] / 3", I(3, 10)),
    ("-min(params.f2f_deduction_max, params.f2f_deduction_per_point * 100 * (1 - rate))", I(-5, 0)),
    ("params.a if x > 3 else params.b", I(-3, 7)),
    ("params.a if params.sign_points > 3 else params.b", I(7, 7)),      # the test folds
    ("params.a if count(reply) < 0 else params.b", I(-3, -3)),          # the test never holds
    # a name with a range, compared with a number in the test, is narrowed in each branch
    ("0 if rate >= 0.98 else -(0.03 * 100 * (0.98 - rate))", I(Fraction(-294, 100), 0)),
    ("rate * 10 if rate < 0.5 else 5", I(0, 5)),
    ("rate * 10 if rate == 0.5 else 0", I(0, 5)),
    ("params.a if rate > 0.5 and rate < 0.6 else rate", I(0, 7)),
    ("params.a if hits + 0 > 3 else params.b", I(-3, 7)),
    ("hits if hits <= 3 else 3", I(0, 3)),
    ("clamp(x, 0, 5)", I(0, 5)),
    ("clamp(rate * 10, 2, 5)", I(2, 5)),
    ("round(rate * 10 / 3, 1)", I(0, Fraction(33, 10))),
    ("round(x, 1)", I(None, None)),
    ("round(rate, hits)", I(Fraction(-1, 2), Fraction(3, 2))),            # places unknown, at least 0
    ("abs(x)", I(0, None)),
    ("abs(-params.urge_penalty)", I(1, 1)),
    ("count(reply) * 2", I(0, None)),
    ("count(c for c in contact if c.mode == 'phone') * -2.5", I(None, 0)),
    ("sum(e.days for e in extension)", I(0, None)),
    ("sum(-e.days for e in extension)", I(None, 0)),
    ("sum(extra(e, 'amount') for e in extension)", I(None, None)),
    ("sum(x for x in [1, 2, 3])", I(6, 6)),
    ("sum(x for x in [1, 2, 3] if x > 1)", I(5, 5)),
    ("count(x for x in params.names if x == t)", I(0, 3)),
    ("len(x)", I(0, None)),
    ("len(params.names)", I(3, 3)),
    ("min(params.table[0].points, params.a)", I(0, 0)),
    ("params.nested[k].x", I(-2, 1)),
    ("params.nested[k][j]", I(-2, 5)),     # the text value is not a number
    ("params.table[i].points * hits", I(0, None)),
    ("first(e.days for e in extension)", I(0, None)),
    ("max(e.days for e in extension)", I(0, None)),
    ("coalesce(x, 0)", I(None, None)),
    ("coalesce(rate, 0)", I(0, 1)),
    ("hits / cases", I(0, None)),
    ("rate / cases", I(0, 1)),
    ("x - x", I(None, None)),
    ("rate - rate", I(-1, 1)),              # each occurrence varies on its own
    ("extension_days * 2", I(0, None)),      # a let, analysed where it is used
    ("days_between(date('2020-01-01'), date('2020-03-01'))", I(60, 60)),
    ("workdays_between(date('2020-01-01'), date('2020-03-01'))", I(0, 60)),
    ("workdays_between(r.date, r.date)", I(0, 0)),
    ("days_between(a, b) * 2", I(None, None)),
    ("x + 1", I(None, None)),                # unknown, used arithmetically
])
def test_bounds(source, expected):
    assert bounds(parse(source), env()) == expected


@pytest.mark.parametrize("source", [
    "r.date", "'text'", "r.outcome", "x", "add_days(r.date, 3)", "percent(rate)", "r.date > reply_due",
    "params.names", "true", "extra(r, 'note')", "reply_due",
])
def test_not_a_number(source):
    assert bounds(parse(source), env()) is None


def test_late_reply_needs_the_fact():
    assert bounds(parse(LATE), env()) == I(0, None)
    for fact in ("r.date > reply_due", "r.date >= reply_due", "reply_due < r.date", "reply_due <= r.date"):
        assert bounds(parse(LATE), env(fact)) == I(0, 20), fact
    # the `and` parts of a whole `when`, or a fact unrelated to the day count
    assert bounds(parse(LATE), env("c.mode == 'phone' and r.date > reply_due")) == I(0, 20)
    assert bounds(parse(LATE), env("r.date > assigned_on")) == I(0, None)
    # the reverse order: no working days late, so never below the full points
    assert bounds(parse(LATE), env("r.date <= reply_due")) == I(20, None)
    assert bounds(parse("workdays_between(reply_due, r.date)"), env("r.date < reply_due")) == I(None, 0)


def test_facts_as_text_and_dict_env():
    as_dict = {"constants": {"params": PARAMS}, "facts": ["r.date > reply_due"]}
    assert bounds(LATE, as_dict) == I(0, 20)


def test_facts_follow_scope():
    # inside the generator, r is another variable: the fact about the outer r says nothing
    assert bounds(parse("sum(workdays_between(reply_due, r.date) for r in reply)"), env("r.date > reply_due")) \
        == I(None, None)
    # the test of a conditional holds in its first branch
    assert bounds(parse("workdays_between(a, b) if b > a else 0"), env()) == I(0, None)
    assert bounds(parse("0 if b > a else workdays_between(a, b)"), env()) == I(None, None)


def test_points_of_the_shipped_co_handler_rule():
    points = "max(0, params.co_points - params.co_late_penalty_per_workday * workdays_between(co_due, x.date))"
    e = BoundsEnv(constants={"params": {"co_points": 100, "co_late_penalty_per_workday": 10}},
                  facts=[parse("x.date > co_due")])
    assert bounds(parse(points), e) == I(0, 100)


def test_a_branch_that_cannot_be_taken():
    # the test pins the name outside its range: only the other branch is left
    assert bounds(parse("params.a if rate == 2 else params.b"), env()) == I(-3, -3)
    # but a test that every number passes still fails on null: the other branch stays
    assert bounds(parse("params.a if rate < 5 else params.b"), env()) == I(-3, 7)
    assert bounds(parse("params.a if rate <= 1 else rate - 5"), env()) == I(-4, 7)  # rate ≥ 1 there: the closed hull


def test_tier_and_mean():
    # tier(x, table) picks one row: .points ranges over every row
    tier = Attr(Call("tier", (Name("hits"), parse("params.table"))), "points")
    assert bounds(tier, env()) == I(0, Fraction(15, 2))
    assert bounds(Attr(Call("tier", (Name("hits"), Name("unknown_table"))), "points"), env()) is None
    gen = parse("sum(e.days for e in extension)").args[0]
    assert bounds(Call("mean", (gen,)), env()) == I(0, None)
    assert bounds(Call("mean", (parse("[1, 2.5, rate]"),)), env()) == I(0, Fraction(5, 2))
    assert bounds(Call("mean", (parse("[params.a, params.b]"),)), env()) == I(-3, 7)
    assert bounds(Call("mean", (Name("somewhere"),)), env()) is None


# ---------------------------------------------------------------- never_true

@pytest.mark.parametrize("source, reason", [
    ("c.mode == 'face-to-face'", 'c.mode is never "face-to-face" (it is one of: face_to_face, phone, wechat, letter, '
                                 'email, other; did you mean "face_to_face"?)'),
    ("r.outcome == 'E'", 'r.outcome is never "E" (it is one of: A, B, C, D)'),
    ("'E' == r.outcome and r.date > reply_due", 'r.outcome is never "E" (it is one of: A, B, C, D)'),
    ("f.rating == 'happy'", 'f.rating is never "happy" (it is one of: satisfied, basically_satisfied, dissatisfied)'),
    ("case.kind == 'suggestions'", 'case.kind is never "suggestions" (it is one of: suggestion, proposal; '
                                   'did you mean "suggestion"?)'),
    ("rubric == 'leed'", 'rubric is never "leed" (it is one of: lead, co; did you mean "lead"?)'),
    ("x.outcome in ['E', 'F']", 'x.outcome is never any of "E", "F" (it is one of: A, B, C, D)'),
    ("x.mode == 'phone' and x.mode != 'phone'", 'x.mode == "phone" and x.mode != "phone" cannot both hold'),
    ("x.outcome == 'A' and x.outcome == 'B'", 'x.outcome == "A" and x.outcome == "B" cannot both hold'),
    ("n > 5 and n < 3", "n > 5 and n < 3 cannot both hold"),
    ("n >= 3 and 3 > n", "n >= 3 and 3 > n cannot both hold"),
    ("n == 4 and n > 5", "n == 4 and n > 5 cannot both hold"),
    ("x.outcome in ['A', 'B'] and x.outcome in ['C']", 'x.outcome in ["A", "B"] and x.outcome in ["C"] cannot both hold'),
    ("x.date > date('2021-01-01') and x.date < date('2020-01-01')",
     'x.date > date("2021-01-01") and x.date < date("2020-01-01") cannot both hold'),
    ("x.outcome != 'A' and x.outcome not in ['B', 'C', 'D']",
     'no value of x.outcome satisfies x.outcome != "A" and x.outcome not in ["B", "C", "D"] '
     '(it is one of: A, B, C, D)'),
    ("false", "false is always false"),
    ("params.sign_points > 10", "params.sign_points > 10 is always false (params.sign_points is 5)"),
    ("count(reply) < 0", "count(reply) < 0 is always false (count(reply) is 0 … +∞)"),
    ("rate > 1 and c.mode == 'phone'", "rate > 1 is always false (rate is 0 … 1)"),
    ("x.mode == 'f2f' or x.mode == 'mail'",
     'none of the alternatives can hold: x.mode is never "f2f" (it is one of: face_to_face, phone, wechat, letter, '
     'email, other); x.mode is never "mail" (it is one of: face_to_face, phone, wechat, letter, email, other; '
     'did you mean "email"?)'),
    ("exists(c for c in contact if c.mode == 'phone ')",
     'exists(c for c in contact if c.mode == "phone ") is always false: c.mode is never "phone " (it is one of: '
     'face_to_face, phone, wechat, letter, email, other; did you mean "phone"?)'),
])
def test_never_true(source, reason):
    assert never_true(parse(source), env()) == reason


@pytest.mark.parametrize("source", [
    "c.mode == 'face_to_face' and c.date <= contact_until",
    "c.mode != 'face_to_face' and c.date <= contact_until",
    "not exists(c for c in contact if c.date <= r.date)",
    "exists(c for c in contact if c.mode == 'face_to_face')",
    "r.date > reply_due",
    "rubric == 'lead'",
    "case.kind == 'proposal'",
    "r.outcome in ['A', 'E']",            # one of them can hold
    "x.mode == 'phone' or x.mode == 'email'",
    "x.mode == 'phone' or x.mode == 'mail'",
    "x.outcome != 'A' and x.outcome != 'B'",
    "n > 3 and n < 5",
    "n >= 3 and n <= 3",
    "n > 3 and m < 2",
    "params.sign_points < 10",
    "count(reply) >= 0",
    "rate >= 1",
    "x.note == 'anything'",               # no known set of values for this field
    "extra(x, 'mode') == 'face-to-face'",  # an extra field is not the schema's mode
])
def test_possible_conditions_give_none(source):
    assert never_true(parse(source), env()) is None


def test_enums_are_the_callers():
    assert never_true("rubric == 'leed'", BoundsEnv()) is None
    assert never_true("x.colour == 'red'", BoundsEnv(enums={"colour": ["blue"]})) == \
        'x.colour is never "red" (it is one of: blue)'


def test_source_text_round_trips():
    for text in [LATE, "-min(params.f2f_deduction_max, params.f2f_deduction_per_point * 100 * (1 - rate))",
                 "a - (b - c) / (d * e)", "x if not (a and b or c) else y", "count(c for c in contact if c.mode == \"x\")",
                 "params.outcome_points[r.outcome]"]:
        assert parse(source_text(parse(text))) == parse(text)


# ---------------------------------------------------------------- soundness, by random expressions

COMPILER = ExpressionCompiler(None)  # no calendar: these expressions use no working days
SCOPE = Scope({"x": "number"})

numbers = st.fractions(min_value=-6, max_value=6, max_denominator=4)


def literal(value: Fraction) -> str:
    text = str(value.numerator) if value.denominator == 1 else f"({value.numerator} / {value.denominator})"
    return f"({text})" if value < 0 else text


def expressions():
    leaves = st.one_of(st.just("x"), st.just("x"), numbers.map(literal))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"-({e})"),
            inner.map(lambda e: f"abs({e})"),
            st.tuples(inner, st.integers(0, 2)).map(lambda t: f"round({t[0]}, {t[1]})"),
            st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"clamp({t[0]}, {t[1]}, {t[2]})"),
            st.tuples(inner, st.sampled_from([">", "<=", "=="]), numbers.map(literal), inner, inner)
              .map(lambda t: f"({t[3]} if {t[0]} {t[1]} {t[2]} else {t[4]})"),
        )
    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def ranges(draw, unbounded=0.2):
    """Mostly bounded intervals; now and then an end is left open."""
    a, b = sorted([draw(numbers), draw(numbers)])
    lo = None if draw(st.floats(0, 1)) < unbounded else a
    hi = None if draw(st.floats(0, 1)) < unbounded else b
    return Interval(lo, hi)


def points_in(data, interval: Interval) -> list[Fraction]:
    """The ends, the middle, 0 when inside, and a few random points (far out on an open end)."""
    lo = interval.lo if interval.lo is not None else (interval.hi if interval.hi is not None else 0) - 1000
    hi = interval.hi if interval.hi is not None else lo + 2000
    chosen = [lo, hi, Fraction(lo + hi) / 2] + ([0] if interval.contains(0) else [])
    drawn = data.draw(st.lists(st.fractions(min_value=lo, max_value=hi, max_denominator=12), max_size=8))
    return [Fraction(point) for point in chosen + drawn]  # exact: a float end (3.0) would make 1 / 3.0 inexact


OPERATIONS = {
    "+": (lambda a, b: a + b, lambda x, y: x + y),
    "-": (lambda a, b: a - b, lambda x, y: x - y),
    "*": (lambda a, b: a * b, lambda x, y: x * y),
    "/": (lambda a, b: a / b, lambda x, y: None if y == 0 else Fraction(x) / y),
    "min": (lambda a, b: a.min(b), min),
    "max": (lambda a, b: a.max(b), max),
    "hull": (lambda a, b: a.hull(b), lambda x, y: x),
}


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(OPERATIONS)), ranges(unbounded=0.3), ranges(unbounded=0.3), st.data())
def test_interval_arithmetic_is_sound(op, a, b, data):
    on_intervals, on_numbers = OPERATIONS[op]
    result = on_intervals(a, b)
    ys = points_in(data, b)
    for x in points_in(data, a):
        for y in ys:
            value = on_numbers(x, y)
            assert value is None or value in result, f"{x} {op} {y} = {value} is outside {a} {op} {b} = {result}"
    if op in "+-*" and a.is_bounded and b.is_bounded:
        # tight: both ends are reached at corners
        corners = {on_numbers(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)}
        assert result.lo in corners and result.hi in corners


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(), ranges(), st.data())
def test_evaluation_always_lands_inside_the_bounds(text, interval, data):
    node = parse(text)
    try:
        closure = COMPILER.compile(node, SCOPE)
    except ExprError:  # a constant part divides by zero
        assume(False)
    found = bounds(node, BoundsEnv(ranges={"x": interval}))
    assert found is not None
    for x in points_in(data, interval):
        try:
            result = closure({BY_TYPE: {}, "x": V.normal(Fraction(x))})
        except V.EvalError:  # division by zero at this point
            continue
        assert result in found, f"{text} at x={x}: {result} is outside {found}"
