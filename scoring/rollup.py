"""Roll case results up to departments: base score, department items, total, grade, rank.

Arithmetic is exact (fractions) until the total is rounded, once, half up. Each step that
changes a department total is a line: the base (from the rubric means), every
department-level rule line with its case, caps, rates, the final clamp; the lines add up
to the exact total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from .cases import natural_key
from .compiler import CompiledCriterion, CompiledRulebook
from .evaluate import HandlerResult, Line, cap_lines, clamp_lines
from .lang import values as V


@dataclass
class RubricSummary:
    rubric: str
    title: str
    count: int
    mean: Fraction | int | None
    weight: Fraction | int | None


@dataclass
class DepartmentResult:
    department: str
    exact_total: Fraction | int
    total: Decimal
    grade: str | None
    rank: int | None  # None: fewer scored cases than the ranking's minimum
    base: Fraction | int
    rubrics: list[RubricSummary]
    lines: list[Line]  # department-level lines; they add up to exact_total
    cases: list[HandlerResult] = field(default_factory=list)
    criteria: dict[str, Fraction | int] = field(default_factory=dict)  # points per criterion (case ones: mean)


def roll_up(compiled: CompiledRulebook, results: list[HandlerResult]) -> list[DepartmentResult]:
    by_department: dict[str, list[HandlerResult]] = {}
    for result in results:
        by_department.setdefault(result.department, []).append(result)
    departments = [_department(compiled, name, sorted(items, key=lambda r: natural_key(r.case)))
                   for name, items in by_department.items()]
    _rank(compiled, departments)
    return sorted(departments, key=lambda d: (d.rank is None, d.rank or 0, -d.exact_total, d.department))


def _department(compiled: CompiledRulebook, name: str, cases: list[HandlerResult]) -> DepartmentResult:
    spec = compiled.book.spec.department
    texts = compiled.texts
    rubrics = []
    for rubric in compiled.rubrics:
        totals = [c.total for c in cases if c.rubric == rubric.id]
        mean = V.normal(Fraction(sum(totals), len(totals))) if totals else None
        weight = V.from_data(spec.weights.get(rubric.id)) if spec.method == "weighted_mean" else None
        rubrics.append(RubricSummary(rubric.id, rubric.title, len(totals), mean, weight))
    base, base_text = _base(spec.method, rubrics, [c.total for c in cases if c.total is not None], texts)
    lines = [Line(None, None, base, (), base_text, "base")]
    criteria: dict[str, Fraction | int] = {}
    for criterion in compiled.criteria:
        if criterion.level == "case":
            subtotals = [sum((l.points for l in c.lines if l.criterion == criterion.id), 0)
                         for c in cases if c.rubric == criterion.rubric]
            if subtotals:
                criteria[criterion.id] = V.normal(Fraction(sum(subtotals), len(subtotals)))
            continue
        item_lines = (_rate_lines(compiled, criterion, cases, name) if criterion.rate is not None
                      else _rule_lines(compiled, criterion, cases, name))
        criteria[criterion.id] = sum((l.points for l in item_lines), 0)
        lines.extend(item_lines)
    lines += clamp_lines(sum((l.points for l in lines), 0), V.from_data(spec.min), V.from_data(spec.max),
                         texts["department_clamp"])
    exact = V.normal(Fraction(sum((l.points for l in lines), 0)))
    total = V.round_half_up(exact, spec.decimals)
    return DepartmentResult(name, exact, total, _grade(compiled, total), None, base, rubrics, lines, cases, criteria)


def _base(method: str, rubrics: list[RubricSummary], totals: list, texts: dict) -> tuple[Fraction | int, str]:
    present = [r for r in rubrics if r.count]
    if not present:
        return 0, texts["no_cases"]
    if method == "sum":
        parts = [texts["base_part_sum"].format(rubric=r.title, count=r.count, sum=V.format_value(r.mean * r.count)) for r in present]
        return sum(totals, 0), texts["base"].format(parts="；".join(parts))
    if method == "mean":
        value = V.normal(Fraction(sum(totals, 0), len(totals)))
        parts = [texts["base_part"].format(rubric=r.title, count=r.count, mean=V.format_value(r.mean), weight="—") for r in present]
        return value, texts["base"].format(parts="；".join(parts))
    weight_sum = sum((r.weight for r in present), 0)
    # weights are re-scaled over the rubrics the department has cases in; if those all
    # weigh 0, they count equally rather than dividing by zero
    weights = {r.rubric: (Fraction(r.weight) / weight_sum if weight_sum else Fraction(1, len(present))) for r in present}
    value = V.normal(sum((weights[r.rubric] * r.mean for r in present), Fraction(0)))
    parts = [texts["base_part"].format(rubric=r.title, count=r.count, mean=V.format_value(r.mean),
                                       weight=V.format_value(weights[r.rubric])) for r in present]
    return value, texts["base"].format(parts="；".join(parts))


def _rule_lines(compiled: CompiledRulebook, criterion: CompiledCriterion, cases: list[HandlerResult], department: str) -> list[Line]:
    lines = [line for case in cases for line in case.department_lines if line.criterion == criterion.id]
    lines = [Line(l.criterion, l.rule, l.points, tuple(f"{l.case}/{e}" for e in l.evidence), l.text, l.kind, l.case) for l in lines]
    if not lines:
        text = criterion.otherwise({"department": department}) if criterion.otherwise else ""
        return [Line(criterion.id, None, 0, (), text, "otherwise")]
    return lines + cap_lines(criterion, sum((l.points for l in lines), 0), compiled.texts)


def _rate_lines(compiled: CompiledRulebook, criterion: CompiledCriterion, cases: list[HandlerResult], department: str) -> list[Line]:
    rate = criterion.rate
    marks = [(case.case, case.rates[criterion.id]) for case in cases if criterion.id in case.rates]
    eligible = [(case_id, mark) for case_id, mark in marks if mark.eligible]
    env = {"department": department}
    if not eligible:
        text = rate.empty(env) if rate.empty else ""
        return [Line(criterion.id, None, 0, (), text, "rate")]
    hits = [(case_id, mark) for case_id, mark in eligible if mark.hit]
    env.update(rate=Fraction(len(hits), len(eligible)), hits=len(hits), cases=len(eligible))
    points = rate.points(env)
    if V.kind(points) != "number":
        raise V.EvalError(f"{criterion.id}: rate points must be a number, got {V.kind(points)}")
    evidence = tuple(f"{case_id}/{event}" for case_id, mark in hits for event in mark.evidence)
    lines = [Line(criterion.id, None, points, evidence, rate.text(env), "rate")]
    return lines + cap_lines(criterion, points, compiled.texts)


def _grade(compiled: CompiledRulebook, total: Decimal) -> str | None:
    for band in sorted(compiled.book.spec.grade, key=lambda g: g.min, reverse=True):
        if total >= band.min:
            return band.name
    return None


def _rank(compiled: CompiledRulebook, departments: list[DepartmentResult]) -> None:
    """Rank on the published (rounded) totals: equal published totals share a rank."""
    spec = compiled.book.spec.ranking
    ranked = [d for d in departments if len(d.cases) >= spec.min_cases]
    sign = -1 if spec.order == "desc" else 1
    ranked.sort(key=lambda d: sign * d.total)
    distinct_before = 0
    for index, department in enumerate(ranked):
        if index and department.total == ranked[index - 1].total:
            department.rank = ranked[index - 1].rank
            continue
        distinct_before += 1
        department.rank = index + 1 if spec.ties == "shared" else distinct_before
