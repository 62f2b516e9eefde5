"""`scoring rules validate`: check a rulebook before using it, beyond "it loads".

Every problem that stops a rulebook from loading is listed (syntax, unknown names with the
closest known one, references between sections, weights of categories and scorers that do
not add up to 1, overlapping grade bands or tiers). Then, on a rulebook that compiles:

* the range each criterion can give, from the rules' points (scoring.lang.bounds), counting
  whether a rule fires once or per event, items' bases, caps and floors; the range of each
  rubric's case total and of the department total, and whether the maximum equals the
  declared full score;
* rules that can never fire (a value outside a field's known values, contradictory parts);
* totals that fall in no grade band (gaps, at the total's rounding), tiers with gaps;
* rubric weights that do not add up to 1 (they are re-scaled, but it is usually a slip);
* parameters no expression reads.

A finding names the file, the line and the key, like a loading error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

from scoring.base.errors import InputError, Problem, closest
from scoring.base.files import read_file
from scoring.base.i18n import _
from scoring.domain.fields import expression_schema
from scoring.engine.compiler import RECORD_NAMES, compile_rulebook
from scoring.lang import values as V
from scoring.lang.bounds import BoundsEnv, bounds, never_true
from scoring.lang.interval import Interval, format_interval
from scoring.lang.nodes import Compare, ExprError, conjuncts
from scoring.lang.operators import NEGATION
from scoring.lang.syntax import parse
from scoring.rulebook.load import Rulebook, is_tier_table, mixed_tier, read_rulebook

ANY = Interval(None, None)
ZERO = Interval(0, 0)


@dataclass
class ValidationReport:
    path: str
    problems: list[Problem]  # each one a reason the check fails
    ranges: list[tuple[str, str, Interval | None]]  # (item, title, range); empty when it does not compile
    waived: list[tuple[Problem, str]] = field(default_factory=list)  # findings the rulebook accepts, with its reason


def validate(path: str | Path) -> ValidationReport:
    source = str(path)
    try:
        book, problems = read_rulebook(read_file(path, "rulebook"), source)
    except InputError as exc:  # not readable, not UTF-8 TOML
        return ValidationReport(source, exc.problems, [])
    if book is None:
        return ValidationReport(source, problems, [])
    params_used = None
    findings: list[Problem] = []  # what the rulebook may waive (not what stops it from loading)
    try:
        compiled = compile_rulebook(book)
        params_used = compiled.params_used
        # a quarter's or month's assessment ends at the period's end: it needs no closing date
        if compiled.reads_as_of and book.spec.rulebook.closing_date is None and book.spec.rulebook.period == "year":
            findings.append(book.problem(("rulebook",), _(
                "expressions read as_of, but no closing_date says when the assessment ends; `score` then judges the "
                "cases as of the end of the period or of their year (or their last event, if later)")))
    except InputError as exc:
        problems += exc.problems
    except Exception:  # broken references can trip the compiler; they are reported above
        if not problems:
            raise
    # the rest needs only the typed rulebook: it runs even when an expression is wrong
    analysis = _Findings(book, params_used)
    findings += analysis.findings()
    kept, waived = _waived(book, findings)
    return ValidationReport(source, problems + kept, analysis.ranges, waived)


def _waived(book: Rulebook, findings: list[Problem]) -> tuple[list[Problem], list[tuple[Problem, str]]]:
    """The findings the rulebook does not waive, and those it does with its reasons; a waiver that matches
    no finding is a finding itself (the rule it excused was fixed, or its key is misspelled)."""
    reasons = {w.finding: w.reason for w in book.spec.waiver}
    kept = [p for p in findings if p.where not in reasons]
    waived = [(p, reasons[p.where]) for p in findings if p.where in reasons]
    found = {p.where for p in findings}
    for index, waiver in enumerate(book.spec.waiver):
        if waiver.finding not in found:
            kept.append(book.problem(("waiver", index, "finding"), _(
                'no finding at "{key}" to waive{hint}; remove the waiver, or name the key a finding prints').format(
                key=waiver.finding, hint=closest(waiver.finding, sorted(found)))))
    return kept, waived


def item_ranges(book: Rulebook) -> dict[str, tuple]:
    """Criterion id -> (lowest, highest) points it can give, per case or per department; None: unbounded.

    The reports' 分值 (full points of an item): the same analysis as `rules validate`."""
    analysis = _Findings(book, None)
    found = {c.id: analysis.criterion(index, c) for index, c in enumerate(book.spec.criterion)}
    return {cid: (None, None) if item is None else (item.lo, item.hi) for cid, item in found.items()}


class _Findings:
    def __init__(self, book: Rulebook, params_used: frozenset[str] | None):
        self.book = book
        self.spec = book.spec
        self.params_used = params_used  # None when the rulebook does not compile
        self.problems: list[Problem] = []
        self.ranges: list[tuple[str, str, Interval | None]] = []
        self.enums = {"rubric": tuple(r.id for r in self.spec.rubric), "category": tuple(c.id for c in self.spec.category)}
        self.constants = {"params": self.spec.params}
        # what records hold: the case model's enums and ranges, the declared ranges of a department's numbers
        self.schema = expression_schema(book.domain, self.spec.department_fields)
        self.lets = {name: node for name, source in self.spec.let.items() if (node := _parsed(source)) is not None}

    def problem(self, path: tuple, message: str) -> None:
        self.problems.append(self.book.problem(path, message))

    def env(self, facts=(), **ranges) -> BoundsEnv:
        return BoundsEnv(self.constants, ranges, facts, self.enums, self.lets, self.schema, RECORD_NAMES)

    def findings(self) -> list[Problem]:
        items = {}
        for index, criterion in enumerate(self.spec.criterion):
            items[criterion.id] = self.criterion(index, criterion)
            title = criterion.title if criterion.in_total else f"{criterion.title}（不计入总分）"
            self.ranges.append((criterion.id, title, items[criterion.id]))
        total = self.total(items)
        self.ranges.append(("total", "总分", total))
        full = self.spec.rulebook.full_score
        if full is not None and total is not None and total.hi != V.from_data(full):
            reach = _("has no upper bound") if total.hi is None else _("can reach at most {most}").format(
                most=format_interval(Interval.point(total.hi)))
            self.problem(("rulebook", "full_score"), _("the total {reach} ({range}), not the declared full score {full}").format(
                reach=reach, range=format_interval(total), full=full))
        self.grades(total)
        self.tiers()
        self.weights()
        self.unused()
        return self.problems

    # ------------------------------------------------------------------ ranges
    def criterion(self, index: int, criterion) -> Interval | None:
        path = ("criterion", index)
        if criterion.rate is not None:
            if criterion.rate.hit is None:  # a ratio of sums: 0 <= numerator <= denominator on every case
                found = self.points(criterion.rate.points, (), rate=(0, 1), numerator=(0, None),
                                    denominator=(0, None), cases=(1, None))
            else:
                found = self.points(criterion.rate.points, (), rate=(0, 1), hits=(0, None), cases=(1, None))
            self.never(path + ("rate", "of"), criterion.rate.of)
            item = found.hull(ZERO) if found is not None else ANY
        else:
            parts = []
            for ri, rule in enumerate(criterion.rule):
                rule_path = path + ("rule", ri)
                facts = self.never(rule_path + ("when",), rule.when) if rule.when else ()
                found = self.points(rule.points, facts) or ANY
                times = self.times(rule)
                repeated = (criterion.level == "department" and criterion.per == "case") or (
                    not rule.once and any(len(spec.split()) == 1 for spec in rule.bind.values())) or rule.each is not None
                if not repeated:
                    found = found.hull(ZERO)
                elif times is None:
                    found = _repeat(found)
                else:  # each over a list known now: at most one line per element
                    found = found.hull(ZERO) * Interval(0, times)
                parts.append((rule, found, repeated))
            if criterion.hit == "first":
                item = ZERO
                for _, found, _ in parts:
                    item = item.hull(found)
            else:
                item = _sum_exclusive(parts)
        if criterion.base is not None:
            item = item + Interval.point(self.constant(criterion.base))
        if criterion.multiply is not None:
            factor = self.points(criterion.multiply.by, ()) or ANY
            item = item.hull(item * factor)
        return _clamp(item, self.constant(criterion.min), self.constant(criterion.max))

    def times(self, rule) -> int | None:
        """How many times a rule written with `each` can fire, when its list is known now."""
        parts = rule.each_parts()
        found = None if parts is None else self.points(f"len({parts[1]})", ())
        return found.hi if found is not None and found.is_point else None

    def points(self, source, facts, **ranges) -> Interval | None:
        if not isinstance(source, str):
            return Interval.point(V.from_data(source))
        node = _parsed(source)
        return None if node is None else bounds(node, self.env(facts, **ranges))

    def constant(self, value):
        """A number, or an expression of params with one value (None: a range, or a wrong expression)."""
        found = self.range_of(value)
        return found.lo if found is not None and found.is_point else None

    def lowest(self, value):
        """The lowest value a number or an expression of params can have (None: unbounded, or not known
        because the expression is wrong, which the loading checks report)."""
        found = self.range_of(value)
        return None if found is None else found.lo

    def range_of(self, value) -> Interval | None:
        if value is None or not isinstance(value, str):
            return None if value is None else Interval.point(V.from_data(value))
        node = _parsed(value)
        return None if node is None else bounds(node, self.env())

    def never(self, path: tuple, condition: str | None) -> tuple:
        """Report a condition that cannot hold; give its parts as facts for the points."""
        node = None if condition is None else _parsed(condition)
        if node is None:
            return ()
        reason = never_true(node, self.env())
        if reason:
            self.problem(path, _("never holds, so the rule can never fire: {reason}").format(reason=reason))
        return tuple(conjuncts(node))

    def total(self, items: dict) -> Interval | None:
        spec = self.spec
        rubric_totals = []
        for rubric in spec.rubric:
            case_items = [items[c.id] for c in spec.criterion if c.level == "case" and c.rubric == rubric.id]
            found = _sum(case_items)
            found = _clamp(found, self.constant(rubric.min), self.constant(rubric.max))
            self.ranges.append((f"rubric {rubric.id}", rubric.title, found))
            rubric_totals.append(found)
        method = spec.department.method
        if method == "none" or not rubric_totals:
            total = ZERO
        elif method == "sum":
            total = _repeat(_hull_all(rubric_totals))
        else:  # a mean, weighted or not, lies within the rubrics' range
            total = _hull_all(rubric_totals)
        if spec.department.base is not None:
            total = total + Interval.point(self.constant(spec.department.base))
        total = total + _sum([items[c.id] for c in spec.criterion if c.level == "department" and c.in_total])
        for category in spec.category:  # a weighted mean of the category subtotals lies within their range
            total = _clamp(total, self.constant(category.min), self.constant(category.max))
        total = _clamp(total, self.constant(spec.department.min), self.constant(spec.department.max))
        if spec.scorer:
            weighted = ZERO
            for scorer in spec.scorer:
                score = self.points(scorer.score, (), computed=total) or ANY
                weighted = weighted + score * Interval.point(V.from_data(scorer.weight))
            total = weighted
        for gate in spec.gate:  # a gate holding puts the total at most at its `total`: the lowest it can be
            if gate.total is not None:
                cap = self.lowest(gate.total)
                total = Interval(None if total.lo is None or cap is None else min(total.lo, cap), total.hi)
        return total

    # ------------------------------------------------------------------ other checks
    def grades(self, total: Interval | None) -> None:
        bands = sorted(enumerate(self.spec.grade), key=lambda pair: pair[1].min)
        if not bands:
            return
        step = Fraction(1, 10 ** self.spec.department.decimals)
        for (ia, a), (_ib, b) in pairwise(bands):
            if a.max is not None and Fraction(b.min) - Fraction(a.max) > step:
                self.problem(("grade", ia, "max"), _(
                    'totals above {above} and below {below} fall in no grade band (between "{a}" and "{b}", at {places} '
                    'decimals)').format(above=a.max, below=b.min, a=a.name, b=b.name, places=self.spec.department.decimals))
        low_index, low = bands[0]
        if total is not None and (total.lo is None or total.lo < Fraction(low.min)):
            self.problem(("grade", low_index, "min"), _(
                'totals below {min} (the lowest band, "{name}") get no grade; the total {reach}').format(
                min=low.min, name=low.name, reach=_("has no lower bound") if total.lo is None else
                _("can go down to {least}").format(least=format_interval(Interval.point(total.lo)))))
        top_index, top = bands[-1]
        if top.max is not None and total is not None and (total.hi is None or total.hi > Fraction(top.max)):
            self.problem(("grade", top_index, "max"), _('totals above {max} (the highest band, "{name}") get no grade').format(
                max=top.max, name=top.name))

    def tiers(self) -> None:
        for name, table in self.spec.params.items():
            if is_tier_table(table) and mixed_tier(table) is None:
                for index, (a, b) in enumerate(pairwise(table), start=1):
                    if a.get("below") is not None and b.get("from") is not None and b["from"] > a["below"]:
                        self.problem(("params", name, index), _(
                            "a gap between tiers: values from {low} up to {high} are in no tier").format(
                            low=a["below"], high=b["from"]))

    def weights(self) -> None:
        department = self.spec.department
        if department.method == "weighted_mean" and department.weights:
            total = sum((Decimal(w) for w in department.weights.values()), Decimal(0))
            if total != 1:
                self.problem(("department", "weights"), _(
                    "rubric weights add up to {total}, not 1 (they are re-scaled, but a weight is probably mistyped)").format(
                    total=total))

    def unused(self) -> None:
        if self.params_used is None:
            return  # an expression that does not compile may be the one reading it
        for name in self.spec.params:
            if name not in self.params_used:
                self.problem(("params", name), _("no expression reads this parameter"))


def _parsed(source: str):
    """The expression's tree; None when it does not parse (loading reports that)."""
    try:
        return parse(source)
    except ExprError:
        return None


def _clamp(found: Interval, low, high) -> Interval:
    if low is not None:
        found = found.max(low)
    if high is not None:
        found = found.min(high)
    return found


def _hull_all(items: list[Interval]) -> Interval:
    found = items[0]
    for item in items[1:]:
        found = found.hull(item)
    return found


def _sum(items: list) -> Interval:
    total = ZERO
    for item in items:
        total = total + (item if item is not None else ANY)
    return total


def _repeat(found: Interval) -> Interval:
    """A rule that may fire any number of times: from 0 to unbounded in the direction of its sign."""
    return Interval(None if found.lo is None or found.lo < 0 else 0, None if found.hi is None or found.hi > 0 else 0)


def _sum_exclusive(parts: list) -> Interval:
    """Rules that fire once and exclude each other (same events, opposite conditions) add as one: the hull."""
    groups: list[list] = []
    for rule, found, repeated in parts:
        group = next((g for g in groups if not repeated and all(_exclusive(rule, other) for other, _, _ in g)), None)
        if group is None:
            groups.append([(rule, found, repeated)])
        else:
            group.append((rule, found, repeated))
    return _sum([_hull_all([found for _, found, _ in group]) for group in groups])


def _exclusive(a, b) -> bool:
    """Both bind the same first/last events and their conditions hold a comparison and its negation."""
    if a.bind != b.bind or a.once or b.once or not a.when or not b.when:
        return False
    if any(len(spec.split()) == 1 for spec in a.bind.values()):
        return False
    left, right = _parsed(a.when), _parsed(b.when)
    if left is None or right is None:
        return False
    left, right = conjuncts(left), conjuncts(right)
    return any(isinstance(x, Compare) and isinstance(y, Compare) and x.op in NEGATION and y.op == NEGATION[x.op]
               and x.left == y.left and x.right == y.right for x in left for y in right)
