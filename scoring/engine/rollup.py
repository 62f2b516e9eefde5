"""Roll case results up to departments: base score, department items, total, grade, rank.

Arithmetic is exact (fractions) until the total is rounded, once, half up. Each step that
changes a department total is a line: the base (from the rubric means), every
department-level rule line with its case, caps, rates, the final clamp; the lines add up
to the exact total.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from scoring.base.errors import ScoringError
from scoring.domain.cases import natural_key
from scoring.lang import values as V

from .compiler import AS_OF, RANKING, CompiledCriterion, CompiledRulebook
from .evaluate import HandlerResult, Line, base_lines, cap_lines, clamp_lines


@dataclass
class RubricSummary:
    rubric: str
    title: str
    count: int
    mean: Fraction | int | None
    weight: Fraction | int | None


@dataclass
class CategorySummary:
    category: str
    title: str
    count: int  # the department's cases in the category
    subtotal: Fraction | int  # the category scored as a department of those cases
    weight: Fraction | int  # re-scaled over the categories the department has cases in


@dataclass
class ScorerSummary:
    scorer: str
    title: str
    score: Fraction | int
    weight: Fraction | int


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
    # points per (category, criterion); category None without [[category]]; case items: the mean
    criteria: dict[tuple[str | None, str], Fraction | int] = field(default_factory=dict)
    group: str | None = None  # peer group, when the ranking has groups
    categories: list[CategorySummary] = field(default_factory=list)  # with [[category]]
    scorers: list[ScorerSummary] = field(default_factory=list)  # with [[scorer]]
    # the lines of items outside the total (in_total = false): reported, not added into exact_total
    indicators: list[Line] = field(default_factory=list)
    # what the items and gates that read the ranking need after it: the department's names, the grade limit
    context: dict = field(default_factory=dict, repr=False, compare=False)
    grade_limit: str | None = None


class RollupError(ScoringError):
    """A department-level rule failed on a department's data (its record, its rates)."""

    exit_code = 2


def roll_up(compiled: CompiledRulebook, results: list[HandlerResult], departments: dict[str, dict] | None = None,
            as_of: dt.date | None = None) -> list[DepartmentResult]:
    by_department: dict[str, list[HandlerResult]] = {}
    for result in results:
        by_department.setdefault(result.department, []).append(result)
    records = departments or {}
    scored = []
    for name, items in by_department.items():
        record = V.Record("department", records.get(name) or {"name": name})
        where = ["roll-up"]
        try:
            scored.append(_department(compiled, name, sorted(items, key=lambda r: natural_key(r.case)), record, as_of,
                                      where))
        except V.EvalError as exc:
            raise RollupError(f"{compiled.book.path}: department {name}: {where[0]}: {exc}") from None
    rank(compiled, scored)
    if compiled.reads_ranking:
        # items and gates that read the ranking: on the ranks of the totals without them; then ranked again
        places = positions(scored)
        for department in scored:
            where = ["after the ranking"]
            try:
                _after_ranking(compiled, department, places[id(department)], where)
            except V.EvalError as exc:
                raise RollupError(f"{compiled.book.path}: department {department.department}: {where[0]}: {exc}") from None
        rank(compiled, scored)
    return sorted(scored, key=ranking_order)


def positions(departments: list[DepartmentResult]) -> dict[int, V.Record]:
    """Each department's place as the items that read `ranking` see it: its rank, how many are ranked in its
    group (of), its place from the last (1: last; ties share it) and the share of its group ranked below it."""
    groups: dict[str | None, list[DepartmentResult]] = {}
    for department in departments:
        groups.setdefault(department.group, []).append(department)
    found = {}
    for members in groups.values():
        ranked = [m for m in members if m.rank is not None]
        for department in members:
            fields: dict = {"rank": department.rank, "of": len(ranked), "from_last": None, "percentile": None}
            if department.rank is not None:
                below = sum(1 for m in ranked if m.rank > department.rank)
                fields.update(from_last=below + 1, percentile=V.normal(Fraction(below, len(ranked))))
            found[id(department)] = V.Record(RANKING, fields)
    return found


def _after_ranking(compiled: CompiledRulebook, d: DepartmentResult, place: V.Record, where: list) -> None:
    """The items that read the ranking (after every other line), then the gates that read it; the total and grade
    again."""
    env = {**d.context, RANKING: place}
    found: dict[int, list[Line]] = {}
    for index in compiled.item_order or range(len(compiled.criteria)):  # scored in item order, reported in file order
        criterion = compiled.criteria[index]
        if not criterion.after_ranking:
            continue
        where[0] = criterion.id
        items = _item_points(compiled, {item: points for (_, item), points in d.criteria.items()})
        found[index] = _record_lines(compiled, criterion, {**env, "items": items})
        d.criteria[(None, criterion.id)] = sum((line.points for line in found[index]), 0)
    added: list[Line] = []
    for index in sorted(found):
        if compiled.criteria[index].in_total:
            added += found[index]
        else:
            d.indicators += found[index]
    lines = d.lines + added
    gate_lines, limit = _gates(compiled, env, lines, d.indicators, d.criteria, where, after_ranking=True)
    d.lines = lines + gate_lines
    d.exact_total = V.normal(Fraction(sum((line.points for line in d.lines), 0)))
    d.total = V.round_half_up(d.exact_total, compiled.book.spec.department.decimals)
    if limit is not None:
        d.grade_limit = limit if d.grade_limit is None else _lower_grade(compiled, d.grade_limit, limit)
    d.grade = grade_of(compiled, d.total, d.grade_limit)


def ranking_order(d: DepartmentResult) -> tuple:
    """Departments as a ranking lists them: by group; in a group the ranked ones by rank (then total and name),
    then the unranked."""
    return d.group or "", d.rank is None, d.rank or 0, -d.exact_total, d.department


def _department(compiled: CompiledRulebook, name: str, cases: list[HandlerResult], record: V.Record,
                as_of: dt.date | None, where: list) -> DepartmentResult:
    spec = compiled.book.spec.department
    texts = compiled.texts
    env = {"department": record, "category": None, AS_OF: as_of}
    categories = []
    if compiled.categories:
        lines, criteria, categories = _categories(compiled, cases, env, where)
        # the base as it counts in the total: each category's base times the category's weight
        base = V.normal(sum((c.weight * _base_of(lines, c.category) for c in categories), Fraction(0)))
    else:
        lines, criteria = _scored(compiled, cases, env, None, where)
        base = _base_of(lines, None)
    outside = {c.id for c in compiled.criteria if not c.in_total}
    indicators = [line for line in lines if line.criterion in outside]
    lines = [line for line in lines if line.criterion not in outside]
    lines += clamp_lines(sum((line.points for line in lines), 0), compiled.department.min, compiled.department.max,
                         texts["department_clamp"])
    scorer_lines, scorers = _scorer_lines(compiled, env, sum((line.points for line in lines), 0), where)
    lines += scorer_lines
    gate_lines, grade_limit = _gates(compiled, env, lines, indicators, criteria, where)
    lines += gate_lines
    exact = V.normal(Fraction(sum((line.points for line in lines), 0)))
    total = V.round_half_up(exact, spec.decimals)
    group = None
    if compiled.group is not None:
        where[0] = "ranking group"
        group = compiled.group(env)
        group = None if group is None else V.format_value(group)
    return DepartmentResult(name, exact, total, grade_of(compiled, total, grade_limit), None, base,
                            _rubric_summaries(compiled, cases), lines, cases, criteria, group, categories, scorers,
                            indicators, env, grade_limit)


def _base_of(lines: list[Line], category: str | None):
    return sum((line.points for line in lines if line.kind == "base" and line.criterion is None and line.category == category), 0)


def _rubric_summaries(compiled: CompiledRulebook, cases: list[HandlerResult]) -> list[RubricSummary]:
    spec = compiled.book.spec.department
    rubrics = []
    for rubric in compiled.rubrics:
        totals = [c.total for c in cases if c.rubric == rubric.id]
        mean = V.normal(Fraction(sum(totals), len(totals))) if totals else None
        weight = V.from_data(spec.weights.get(rubric.id)) if spec.method == "weighted_mean" else None
        rubrics.append(RubricSummary(rubric.id, rubric.title, len(totals), mean, weight))
    return rubrics


def _scored(compiled: CompiledRulebook, cases: list[HandlerResult], env: dict, category: str | None, where: list):
    """The lines of a department (or of one category of its cases): base, then every department item."""
    spec = compiled.book.spec.department
    texts = compiled.texts
    lines: list[Line] = []
    if spec.method != "none":
        base, base_text = _base(spec.method, _rubric_summaries(compiled, cases),
                                [c.total for c in cases if c.total is not None], texts)
        lines.append(Line(None, None, base, (), base_text, "base"))
    if compiled.department.base is not None:
        points = compiled.department.base
        lines.append(Line(None, None, points, (), texts["department_base"].format(points=V.format_value(points)), "base"))
    # scored in the rulebook's item order (an item after the items it reads), reported in file order
    points: dict[str, Fraction | int] = {}
    item_lines: dict[str, list[Line]] = {}
    for index in compiled.item_order or range(len(compiled.criteria)):
        criterion = compiled.criteria[index]
        if criterion.category not in (None, category):
            continue
        if criterion.after_ranking:  # scored after the ranking (_after_ranking); its place in the order kept
            points[criterion.id] = 0
            continue
        where[0] = criterion.id
        if criterion.level == "case":
            subtotals = [sum((line.points for line in c.lines if line.criterion == criterion.id), 0)
                         for c in cases if c.rubric == criterion.rubric]
            if subtotals:
                points[criterion.id] = V.normal(Fraction(sum(subtotals), len(subtotals)))
            continue
        if criterion.rate is not None:
            found = _rate_lines(compiled, criterion, cases, env)
        elif criterion.per == "department":
            found = _record_lines(compiled, criterion, {**env, "items": _item_points(compiled, points)})
        else:
            found = _rule_lines(compiled, criterion, cases, env)
        points[criterion.id] = sum((line.points for line in found), 0)
        item_lines[criterion.id] = found
    criteria: dict[tuple[str | None, str], Fraction | int] = {}
    for criterion in compiled.criteria:
        if criterion.id in points:
            criteria[(category, criterion.id)] = points[criterion.id]
        lines.extend(item_lines.get(criterion.id, []))
    if category is not None:
        for line in lines:
            line.category = category
    return lines, criteria


def _item_points(compiled: CompiledRulebook, points: dict) -> dict:
    """What `items` holds for an item that reads others: every item's points, null where the department has
    none (a case item of a rubric it has no case in, an item of another category)."""
    return {criterion.id: points.get(criterion.id) for criterion in compiled.criteria}


def _categories(compiled: CompiledRulebook, cases: list[HandlerResult], env: dict, where: list):
    """Each category scored as a department of its own cases, then weighted (re-scaled over the categories present)."""
    texts = compiled.texts
    parts = []
    criteria: dict = {}
    for category in compiled.categories:
        mine = [c for c in cases if c.category == category.id]
        if not mine:
            continue
        lines, points = _scored(compiled, mine, {**env, "category": category.id}, category.id, where)
        clamp = clamp_lines(sum((line.points for line in lines), 0), category.min, category.max, texts["category_clamp"],
                            category=category.title)
        for line in clamp:
            line.category = category.id
        lines += clamp
        parts.append((category, mine, lines))
        criteria.update(points)
    weight_sum = sum((category.weight for category, _, _ in parts), 0)
    lines = []
    summaries = []
    present = {category.id for category, _, _ in parts}
    for category in compiled.categories:
        if category.id not in present:
            lines.append(Line(None, None, 0, (), texts["category_empty"].format(category=category.title), "weight",
                              category=category.id))
    for category, mine, category_lines in parts:
        weight = V.normal(Fraction(category.weight) / weight_sum if weight_sum else Fraction(1, len(parts)))
        subtotal = sum((line.points for line in category_lines), 0)
        text = texts["category_weight"].format(category=category.title, count=len(mine), subtotal=V.format_value(subtotal),
                                               weight=V.format_value(weight))
        lines += category_lines
        lines.append(Line(None, None, V.normal(subtotal * (weight - 1)), (), text, "weight", category=category.id))
        summaries.append(CategorySummary(category.id, category.title, len(mine), subtotal, weight))
    return lines, criteria, summaries


def _scorer_lines(compiled: CompiledRulebook, env: dict, computed, where: list) -> tuple[list[Line], list[ScorerSummary]]:
    """Several scorers: the computed score gives way to each scorer's score times its weight."""
    if not compiled.scorers:
        return [], []
    texts = compiled.texts
    lines = [Line(None, None, -computed, (), texts["scorer_computed"].format(score=V.format_value(computed)), "scorer")]
    summaries = []
    for scorer in compiled.scorers:
        where[0] = f"scorer {scorer.id}"
        score = scorer.score({**env, "computed": computed})
        if V.kind(score) != "number":
            raise V.EvalError(f"the score must be a number, got {V.kind(score)} ({V.format_value(score)}); "
                              "is it missing from the department records?")
        text = texts["scorer"].format(scorer=scorer.title, score=V.format_value(score), weight=V.format_value(scorer.weight))
        lines.append(Line(None, scorer.id, V.normal(Fraction(score) * scorer.weight), (), text, "scorer"))
        summaries.append(ScorerSummary(scorer.id, scorer.title, V.normal(Fraction(score)), scorer.weight))
    return lines, summaries


def _gates(compiled: CompiledRulebook, env: dict, lines: list[Line], indicators: list[Line], criteria: dict,
           where: list, after_ranking: bool = False):
    """Vetoes and gates that hold: a line each; the total held at the gate's limit; the highest grade allowed.
    A gate on an item outside the total holds when that item's rules fired too. The gates that read the
    ranking are decided after it (after_ranking), the others before."""
    gate_lines = []
    grade_limit = None
    total = sum((line.points for line in lines), 0)
    items = {}
    for (_, criterion_id), points in criteria.items():
        items[criterion_id] = items.get(criterion_id, 0) + points
    for gate in compiled.gates:
        if gate.after_ranking != after_ranking:
            continue
        where[0] = f"gate {gate.id}"
        evidence: tuple = ()
        if gate.criterion is not None:
            fired = [line for line in lines + indicators if line.criterion == gate.criterion and line.rule is not None]
            if not fired:
                continue
            evidence = tuple(e for line in fired for e in line.evidence)
        local = {**env, "total": total, "items": items}
        if gate.when is not None and not V.truthy(gate.when(local)):
            continue
        change = 0
        if gate.total is not None and total > gate.total:
            change = gate.total - total
            total = gate.total
        text = gate.text(local)
        gate_lines.append(Line(None, gate.id, change, evidence, text, "gate"))
        if gate.grade is not None:
            grade_limit = _lower_grade(compiled, grade_limit, gate.grade)
    return gate_lines, grade_limit


def _lower_grade(compiled: CompiledRulebook, current: str | None, other: str) -> str:
    order = {g.name: g.min for g in compiled.book.spec.grade}
    return other if current is None or order[other] < order[current] else current


def _base(method: str, rubrics: list[RubricSummary], totals: list, texts: dict) -> tuple[Fraction | int, str]:
    present = [r for r in rubrics if r.count]
    if not present:
        return 0, texts["no_cases"]
    if method == "sum":
        parts = [texts["base_part_sum"].format(rubric=r.title, count=r.count, sum=V.format_value(r.mean * r.count))
                 for r in present]
        return sum(totals, 0), texts["base"].format(parts="；".join(parts))
    if method == "mean":
        value = V.normal(Fraction(sum(totals, 0), len(totals)))
        parts = [texts["base_part"].format(rubric=r.title, count=r.count, mean=V.format_value(r.mean), weight="—")
                 for r in present]
        return value, texts["base"].format(parts="；".join(parts))
    weight_sum = sum((r.weight for r in present), 0)
    # weights are re-scaled over the rubrics the department has cases in; if those all
    # weigh 0, they count equally rather than dividing by zero
    weights = {r.rubric: (Fraction(r.weight) / weight_sum if weight_sum else Fraction(1, len(present))) for r in present}
    value = V.normal(sum((weights[r.rubric] * r.mean for r in present), Fraction(0)))
    parts = [texts["base_part"].format(rubric=r.title, count=r.count, mean=V.format_value(r.mean),
                                       weight=V.format_value(weights[r.rubric])) for r in present]
    return value, texts["base"].format(parts="；".join(parts))


def _rule_lines(compiled: CompiledRulebook, criterion: CompiledCriterion, cases: list[HandlerResult], env: dict) -> list[Line]:
    lines = [line for case in cases for line in case.department_lines if line.criterion == criterion.id]
    lines = [Line(line.criterion, line.rule, line.points, tuple(f"{line.case}/{e}" for e in line.evidence),
                  line.text, line.kind, line.case)
             for line in lines]
    return _item_lines(compiled, criterion, lines, env)


def _record_lines(compiled: CompiledRulebook, criterion: CompiledCriterion, env: dict) -> list[Line]:
    """An item scored once on the department's record: a line per rule that holds (per element with each)."""
    lines = []
    for rule in criterion.department_rules:
        elements = [None] if rule.each is None else rule.each[1](env) or []
        if not isinstance(elements, list):
            raise V.EvalError(f"rule {rule.id}: each needs a list, got {V.kind(elements)}")
        for element in elements:
            local = env if rule.each is None else {**env, rule.each[0]: element}
            if rule.when is not None and not V.truthy(rule.when(local)):
                continue
            points = rule.points(local)
            if V.kind(points) != "number":
                raise V.EvalError(f"rule {rule.id}: points must be a number, got {V.kind(points)}")
            # what unlocked it: the points of the items it reads, as they were when it was scored
            read = tuple(f"items.{item}={V.format_value(local['items'].get(item))}" for item in rule.items_read)
            lines.append(Line(criterion.id, rule.id, points, rule.evidence + read, rule.text(local)))
        if lines and criterion.hit == "first":
            break
    return _item_lines(compiled, criterion, lines, env)


def _item_lines(compiled: CompiledRulebook, criterion: CompiledCriterion, lines: list[Line], env: dict) -> list[Line]:
    """A department item's lines: its base, its rule lines (or the otherwise sentence), its cap or floor."""
    if not lines:
        text = criterion.otherwise(env) if criterion.otherwise else ""
        lines = [Line(criterion.id, None, 0, (), text, "otherwise")]
    lines = base_lines(criterion, compiled.texts) + lines
    return lines + cap_lines(criterion, sum((line.points for line in lines), 0), compiled.texts)


def _rate_lines(compiled: CompiledRulebook, criterion: CompiledCriterion, cases: list[HandlerResult], env: dict) -> list[Line]:
    rate = criterion.rate
    marks = [(case.case, case.rates[criterion.id]) for case in cases if criterion.id in case.rates]
    eligible = [(case_id, mark) for case_id, mark in marks if mark.eligible]
    if rate.numerator is not None:  # a ratio of sums: the numbers of every counted case pooled
        numerator = V.normal(sum((mark.numerator for _, mark in eligible), Fraction(0)))
        denominator = V.normal(sum((mark.denominator for _, mark in eligible), Fraction(0)))
        if not denominator:
            eligible = []  # no case, or no item to count: the empty sentence, as a rate of no case
        else:
            env = {**env, "rate": V.normal(Fraction(numerator) / denominator), "numerator": numerator,
                   "denominator": denominator, "cases": len(eligible)}
            return _item_lines(compiled, criterion, [_rate_line(criterion, env, ())], env)
    if not eligible:
        line = Line(criterion.id, None, 0, (), rate.empty(env) if rate.empty else "", "rate")
        return _item_lines(compiled, criterion, [line], env)
    hits = [(case_id, mark) for case_id, mark in eligible if mark.hit]
    env = {**env, "rate": Fraction(len(hits), len(eligible)), "hits": len(hits), "cases": len(eligible)}
    evidence = tuple(f"{case_id}/{event}" for case_id, mark in hits for event in mark.evidence)
    return _item_lines(compiled, criterion, [_rate_line(criterion, env, evidence)], env)


def _rate_line(criterion: CompiledCriterion, env: dict, evidence: tuple) -> Line:
    points = criterion.rate.points(env)
    if V.kind(points) != "number":
        raise V.EvalError(f"{criterion.id}: rate points must be a number, got {V.kind(points)}")
    return Line(criterion.id, None, points, evidence, criterion.rate.text(env), "rate")


def grade_of(compiled: CompiledRulebook, total: Decimal, limit: str | None = None) -> str | None:
    """The band that holds the total (None in a gap between bands), no higher than a gate allows."""
    bands = sorted(compiled.book.spec.grade, key=lambda g: g.min, reverse=True)
    found = next((b for b in bands if total >= b.min and (b.max is None or total <= b.max)), None)
    if found is None or limit is None:
        return found.name if found else None
    return _lower_grade(compiled, found.name, limit)


def ranked_value(compiled: CompiledRulebook, department: DepartmentResult) -> Decimal:
    """What the ranking compares, as published: the rounded total, or the item it is by ([ranking] by) as the
    ledger writes an item's points (two places)."""
    by = compiled.book.spec.ranking.by
    if by is None:
        return department.total
    return V.round_half_up(department.criteria[(None, by)], ITEM_PLACES)


ITEM_PLACES = 2  # an item's points in the ledger (scoring.ledger.document.number's default)


def _has_ranked_value(compiled: CompiledRulebook, department: DepartmentResult) -> bool:
    by = compiled.book.spec.ranking.by
    rate = None if by is None else next(c for c in compiled.criteria if c.id == by).rate
    if rate is None:
        return True
    counted = [case.rates[by] for case in department.cases if by in case.rates and case.rates[by].eligible]
    if rate.numerator is not None:  # a ratio of sums counts items: some case must have one
        return sum((mark.denominator for mark in counted), 0) > 0
    return bool(counted)


def rank(compiled: CompiledRulebook, departments: list[DepartmentResult]) -> None:
    """Rank on the published (rounded) totals, or the item the ranking is by, within each peer group: equal
    values share a rank; departments with fewer scored cases than the ranking's minimum are not ranked,
    nor, ranked by a rate, those with no case the rate counts (its 0 points would read as a rate of 0)."""
    spec = compiled.book.spec.ranking
    groups: dict[str | None, list[DepartmentResult]] = {}
    for department in departments:
        department.rank = None
        if len(department.cases) >= compiled.min_cases and _has_ranked_value(compiled, department):
            groups.setdefault(department.group, []).append(department)
    sign = -1 if spec.order == "desc" else 1
    for ranked in groups.values():
        values = {id(d): ranked_value(compiled, d) for d in ranked}
        ranked.sort(key=lambda d: sign * values[id(d)])
        distinct_before = 0
        for index, department in enumerate(ranked):
            if index and values[id(department)] == values[id(ranked[index - 1])]:
                department.rank = ranked[index - 1].rank
                continue
            distinct_before += 1
            department.rank = index + 1 if spec.ties == "shared" else distinct_before
