"""Rulebooks: TOML files that state a whole scoring scheme, loaded into typed models.

This module checks the shape of a rulebook (keys, types, references between its parts) and
reports every problem with the file, the line and the key path; unknown keys get the
closest known one. The expressions inside are checked when the rulebook is compiled
(scoring.compiler), with the same kind of message.

A rulebook, top to bottom:

    [rulebook]      id, title, version
    [params]        numbers, texts, tables that rules refer to as params.<name>
    [let]           per-handler values computed from the case: name = "expression"
    [department_fields]  facts of the department records file (--departments) and their kinds
    [[rubric]]      case rubrics by handler role (lead/split vs co), with the case clamp
    [[category]]    optional: case categories (suggestions, proposals) scored apart and weighted
    [[criterion]]   scored items; each has [[criterion.rule]]s (or a [criterion.rate]), and
                    optionally its due date, the step that completes it and who decides it
    [department]    how case totals roll up into a department total
    [departments]   optional: the departments assessed, and aliases of their names
    [[gate]]        optional: vetoes and grade gates
    [[scorer]]      optional: several scorers (self, peer, assessor) combined with weights
    [[grade]]       grade bands on the rounded total
    [ranking]       ranking order, ties, peer groups, minimum case count
    [calendar]      extra holidays / working days, years the official calendar lacks
"""
from __future__ import annotations

import datetime as dt
import functools
import keyword
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from pydantic import ValidationError

from scoring.base.errors import InputError, Problem, closest
from scoring.base.i18n import _
from scoring.base.tomlmodel import Locator, format_path, model_problems, parse_toml, problems_in
from scoring.domain.cases import models
from scoring.domain.records import department_counts
from scoring.domain.spec import DEFAULT_DOMAIN, Domain, load_domain
from scoring.lang.limits import MAX_NESTING, number_problem

from .model import BUILTIN_NAMES, GradeSpec, RulebookSpec


@dataclass(frozen=True)
class Rulebook:
    spec: RulebookSpec
    path: str
    text: str
    sha256: str
    locator: Locator  # for an effective rulebook, one that names the base or overlay file a key came from

    def problem(self, path: tuple, message: str) -> Problem:
        return self.locator.problem(path, message)

    @functools.cached_property
    def domain(self) -> Domain:
        """The case model the rulebook scores (proposals unless [rulebook] names another)."""
        return load_domain(self.spec.rulebook.domain or DEFAULT_DOMAIN, self.path)


def parse_rulebook(raw: bytes, source: str, locator: Locator | None = None) -> Rulebook:
    """The rulebook in raw; problems are placed by locator (default: lines of raw itself)."""
    book, problems = read_rulebook(raw, source, locator)
    if problems:
        raise problems_in(source, "rulebook", problems)
    return book


def read_rulebook(raw: bytes, source: str, locator: Locator | None = None) -> tuple[Rulebook | None, list[Problem]]:
    """The rulebook and the problems found loading it, collected: `rules validate` lists them all and goes
    on analysing a rulebook whose references are broken. Bytes that are not UTF-8 TOML raise InputError."""
    toml = parse_toml(raw, source, "rulebook")
    locator = locator or toml.locator
    problems = [locator.problem(path, message) for path, message in value_problems(toml.data)]
    if problems:  # nothing else looks at a number that could not be computed with
        return None, problems
    spec, problems = model_problems(RulebookSpec, toml.data, locator)
    if spec is None:
        return None, problems
    book = Rulebook(spec, source, toml.text, toml.sha256, locator)
    return book, check_references(book)


def check_references(book: Rulebook) -> list[Problem]:
    """What the models cannot check alone: ids, names and references between sections."""
    spec = book.spec
    problems: list[Problem] = []

    def problem(path: tuple, message: str):
        problems.append(book.problem(path, message))

    rubric_ids = [r.id for r in spec.rubric]
    _unique(rubric_ids, ("rubric",), _('rubric id "{id}" is used twice (also #{n})'), problem)
    _unique([c.id for c in spec.criterion], ("criterion",), _('criterion id "{id}" is used twice (also #{n})'), problem)
    rule_paths: dict[str, tuple] = {}
    for ci, criterion in enumerate(spec.criterion):
        for ri, rule in enumerate(criterion.rule):
            path = ("criterion", ci, "rule", ri, "id")
            if rule.id in rule_paths:
                problem(path, _('rule id "{id}" is used twice (also {where})').format(
                    id=rule.id, where=format_path(rule_paths[rule.id])))
            rule_paths.setdefault(rule.id, path)

    try:
        domain = book.domain
    except InputError as exc:  # the domain file's own problems, with its lines; an unknown name at [rulebook] domain
        return problems + [book.problem(("rulebook", "domain"), p.message) if p.where == "rulebook.domain" else p
                           for p in exc.problems]
    roles = list(domain.roles)
    seen_roles: dict[str, str] = {}
    for index, rubric in enumerate(spec.rubric):
        for number, role in enumerate(rubric.roles):
            if role not in roles:  # worded as the model's enums are
                quoted = [f"'{r}'" for r in roles]
                expected = " or ".join(filter(None, [", ".join(quoted[:-1]), quoted[-1]]))
                problem(("rubric", index, "roles", number), _("Input should be {expected} (got {value})").format(
                    expected=expected, value=repr(role)))
                continue
            if role in seen_roles:
                problem(("rubric", index, "roles"), _('role "{role}" is already in rubric "{rubric}"').format(
                    role=role, rubric=seen_roles[role]))
            seen_roles.setdefault(role, rubric.id)
        if _numbers(rubric.min, rubric.max) and rubric.min > rubric.max:  # of expressions: when compiled
            problem(("rubric", index, "min"), _("min {min} is above max {max}").format(min=rubric.min, max=rubric.max))

    for ci, criterion in enumerate(spec.criterion):
        base = ("criterion", ci)
        if criterion.rubric is not None and criterion.rubric not in rubric_ids:
            problem(base + ("rubric",), _('unknown rubric "{rubric}"{hint}').format(
                rubric=criterion.rubric, hint=closest(criterion.rubric, rubric_ids)))
        if criterion.level == "case" and criterion.rubric is None:
            problem(base, _('a case-level criterion needs rubric = "<rubric id>"'))
        if criterion.rate is not None:
            if criterion.level != "department":
                problem(base + ("rate",), _('a rate is a department-level item: add level = "department"'))
            if criterion.rule:
                problem(base + ("rule",), _("a criterion has either rules or a rate, not both"))
            problems.extend(book.problem(base + path, message) for path, message in _rate_form(criterion))
        elif not criterion.rule:
            problem(base, _("a criterion needs at least one [[criterion.rule]] (or a [criterion.rate])"))
        if criterion.step is not None:
            problems.extend(book.problem(base + ("step", "event") + path, message)
                            for path, message in step_event_problems(criterion.step.event, domain))
        if criterion.per == "department" and (criterion.due or criterion.step):
            problem(base, _("due and step belong to items matched on cases (and rates), not to items scored on the "
                            "department's record"))
        for ri, rule in enumerate(criterion.rule):
            for name in rule.bind:
                if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                    problem(base + ("rule", ri, "bind", name), _('"{name}" cannot name an event').format(name=name))
                elif name in BUILTIN_NAMES or name in spec.let or name in domain.events:
                    problem(base + ("rule", ri, "bind", name),
                            _('"{name}" is already the name of a let, a built-in or an event type').format(name=name))

    event_types = domain.events
    for name in spec.let:
        if name in BUILTIN_NAMES:
            problem(("let", name), _('"{name}" is a built-in name; choose another').format(name=name))
        elif name in event_types:
            problem(("let", name), _('"{name}" is an event type (as in first({name})); choose another name, '
                                    'such as {name}_on').format(name=name))

    _check_combine(spec, problem)

    department = spec.department
    if department.method == "weighted_mean":
        for rubric_id in department.weights:
            if rubric_id not in rubric_ids:
                problem(("department", "weights", rubric_id), _('unknown rubric "{rubric}"{hint}').format(
                    rubric=rubric_id, hint=closest(rubric_id, rubric_ids)))
        for rubric_id in rubric_ids:
            if rubric_id not in department.weights:
                problem(("department", "weights"), _('no weight for rubric "{rubric}"').format(rubric=rubric_id))
        for rubric_id, weight in department.weights.items():
            if weight < 0:
                problem(("department", "weights", rubric_id), _("a weight cannot be negative"))
    elif department.weights:
        problem(("department", "weights"), _('weights are used only with method = "weighted_mean", not "{method}"').format(
            method=department.method))
    if _numbers(department.min, department.max) and department.min > department.max:
        problem(("department", "min"), _("min {min} is above max {max}").format(min=department.min, max=department.max))

    problems.extend(book.problem(path, message) for path, message in grade_problems(spec.grade))
    _unique([grade.name for grade in spec.grade], ("grade",), _('grade name "{id}" is used twice (also #{n})'), problem)
    _check_parts(spec, domain, problem)
    for path, message in tier_problems(spec.params):
        problem(path, message)
    return problems


def _check_parts(spec: RulebookSpec, domain: Domain, problem) -> None:
    """Categories, department items, gates, scorers and department fields."""
    category_ids = [c.id for c in spec.category]
    criterion_ids = [c.id for c in spec.criterion]
    grade_names = [g.name for g in spec.grade]
    _unique(category_ids, ("category",), _('category id "{id}" is used twice (also #{n})'), problem)
    _weights(spec.category, ("category",), _("category weights add up to {total}, not 1: {parts}"), problem)
    for index, category in enumerate(spec.category):
        if _numbers(category.min, category.max) and category.min > category.max:
            problem(("category", index, "min"), _("min {min} is above max {max}").format(min=category.min, max=category.max))
    if not spec.rubric and spec.department.method != "none":
        problem(("department", "method"),
                _('method = "{method}" rolls up case rubrics, but there is no [[rubric]]; '
                  'use method = "none" for a scheme of department items only').format(method=spec.department.method))

    for ci, criterion in enumerate(spec.criterion):
        base = ("criterion", ci)
        if criterion.category is not None and criterion.category not in category_ids:
            problem(base + ("category",), _('unknown category "{category}"{hint}').format(
                category=criterion.category, hint=closest(criterion.category, category_ids))
                if category_ids else _("category is used only with [[category]] sections"))
        if criterion.per == "department":
            if criterion.level != "department":
                problem(base + ("per",), _('per = "department" is for department items: add level = "department"'))
            if criterion.rate is not None or criterion.multiply is not None:
                problem(base + ("per",), _('an item scored once per department has rules, not a rate or a multiplier'))
            for ri, rule in enumerate(criterion.rule):
                if rule.bind or rule.once:
                    problem(base + ("rule", ri),
                            _("a department item (per = \"department\") sees the department, not events: no bind or once"))
        else:
            for ri, rule in enumerate(criterion.rule):
                if rule.each is not None:
                    problem(base + ("rule", ri, "each"), _('each is for department items (per = "department")'))

    _check_indicators(spec, problem)

    _unique([g.id for g in spec.gate], ("gate",), _('gate id "{id}" is used twice (also #{n})'), problem)
    for index, gate in enumerate(spec.gate):
        path = ("gate", index)
        if gate.criterion is None and gate.when is None:
            problem(path, _("a gate needs criterion (an item whose rules mark the failure) or when (a condition), or both"))
        if gate.grade is None and gate.total is None:
            problem(path, _("a gate needs grade (the highest grade allowed) or total (the highest total), or both"))
        if gate.criterion is not None:
            target = next((c for c in spec.criterion if c.id == gate.criterion), None)
            if target is None:
                problem(path + ("criterion",), _('unknown criterion "{criterion}"{hint}').format(
                    criterion=gate.criterion, hint=closest(gate.criterion, criterion_ids)))
            elif target.level != "department" or target.rate is not None:
                problem(path + ("criterion",), _('"{criterion}" must be a department item with rules').format(
                    criterion=gate.criterion))
        if gate.grade is not None and gate.grade not in grade_names:
            problem(path + ("grade",), _('unknown grade "{grade}"{hint}').format(
                grade=gate.grade, hint=closest(gate.grade, grade_names)))

    assessed = spec.departments.assessed
    _unique(assessed, ("departments", "assessed"), _('department "{id}" is used twice (also #{n})'), problem)
    for alias, name in spec.departments.aliases.items():
        if alias in assessed:
            problem(("departments", "aliases", alias), _('"{alias}" is itself a department assessed; '
                                                         'an alias is another name').format(alias=alias))
        elif assessed and name not in assessed:
            problem(("departments", "aliases", alias),
                    _('"{name}" is not a department of [departments] assessed{hint}').format(
                        name=name, hint=closest(name, assessed)))

    _unique([s.id for s in spec.scorer], ("scorer",), _('scorer id "{id}" is used twice (also #{n})'), problem)
    _weights(spec.scorer, ("scorer",), _("scorer weights add up to {total}, not 1: {parts}"), problem)
    for name in spec.department_fields:
        if name in department_counts(domain):
            problem(("department_fields", name),
                    _('"{name}" is counted from the case file ({counts}); choose another name').format(
                        name=name, counts=", ".join(department_counts(domain))))


def _rate_form(criterion) -> list[tuple[tuple, str]]:
    """A rate counts hits (hit) or pools two per-case numbers (numerator and denominator), one or the other."""
    rate = criterion.rate
    ratio = rate.numerator is not None or rate.denominator is not None
    if not ratio:
        return [(("rate",), _("a rate needs hit (a condition), or numerator and denominator (numbers per case)"))] \
            if rate.hit is None else []
    found = []
    if rate.hit is not None:
        found.append((("rate", "hit"), _("a rate has either hit or numerator and denominator, not both")))
    for key in ("numerator", "denominator"):
        if getattr(rate, key) is None:
            found.append((("rate",), _("a ratio of sums needs both numerator and denominator; {key} is missing").format(key=key)))
    if criterion.rubric is not None:
        found.append((("rubric",), _("a ratio of sums counts the cases its of names: write the rubric there "
                                      "(of = \"rubric == '{rubric}' and ...\") instead of rubric = ...").format(
            rubric=criterion.rubric)))
    if criterion.step is not None:
        found.append((("step",), _("a step is not supported with a ratio of sums (self-check sees hits, not numbers)")))
    return found


def _check_indicators(spec: RulebookSpec, problem) -> None:
    """Items outside the total (in_total = false), a ranking by an item, and a total made of nothing."""
    criteria = {c.id: c for c in spec.criterion}
    for ci, criterion in enumerate(spec.criterion):
        if criterion.in_total:
            continue
        if criterion.level != "department":
            problem(("criterion", ci, "in_total"), _("only a department item (level = \"department\") can stand outside "
                                                     "the total; a case item counts in its case's total"))
        elif spec.category:
            problem(("criterion", ci, "in_total"), _("items outside the total are not supported with [[category]]"))
    by = spec.ranking.by
    if by is not None:
        target = criteria.get(by)
        if target is None:
            problem(("ranking", "by"), _('unknown criterion "{criterion}"{hint}').format(
                criterion=by, hint=closest(by, list(criteria))))
        elif target.level != "department":
            problem(("ranking", "by"), _('"{criterion}" is a case item; the ranking is by a department item '
                                         '(level = "department"), whose points are the department\'s').format(criterion=by))
        elif spec.category:
            problem(("ranking", "by"), _("a ranking by an item is not supported with [[category]]"))
    in_total = [c for c in spec.criterion if c.level == "department" and c.in_total]
    empty = (spec.department.method == "none" and spec.department.base is None and not spec.scorer and not in_total)
    if empty:
        if by is None:
            problem(("department", "method"), _('nothing makes the total: method = "none", no base, and no department '
                                                "item in the total; rank by an item ([ranking] by = \"<item>\") or put "
                                                "an item in the total"))
        if spec.grade:
            problem(("grade",), _("grade bands grade the total, and nothing makes the total here (method = \"none\", "
                                  "no base, every department item outside it)"))


def _weights(items: list, path: tuple, message: str, problem) -> None:
    """Weights of categories or scorers are used as written: they must add up to 1."""
    if not items:
        return
    for index, item in enumerate(items):
        if item.weight < 0:
            problem(path + (index, "weight"), _("a weight cannot be negative"))
    total = sum((Decimal(item.weight) for item in items), Decimal(0))
    if total != 1:
        parts = " + ".join(f"{item.weight} ({item.id})" for item in items)
        problem(path + (0, "weight"), message.format(total=total, parts=parts))


def grade_problems(grades: list[GradeSpec]) -> list[tuple[tuple, str]]:
    """Bands that overlap (a total would have two grades) or are upside down."""
    found = []
    for index, band in enumerate(grades):
        if band.max is not None and band.max < band.min:
            found.append((("grade", index, "max"), _("max {max} is below min {min}").format(max=band.max, min=band.min)))
    order = sorted(range(len(grades)), key=lambda i: grades[i].min)
    for low, high in pairwise(order):
        a, b = grades[low], grades[high]
        if a.min == b.min:
            found.append((("grade", high, "min"), _('grade bands "{a}" and "{b}" start at the same score {min}').format(
                a=a.name, b=b.name, min=b.min)))
        elif a.max is not None and a.max >= b.min:
            found.append((("grade", low, "max"),
                          _('grade bands overlap: "{a}" runs to {max}, "{b}" starts at {min}').format(
                              a=a.name, max=a.max, b=b.name, min=b.min)))
    return found


def tier_problems(params: dict) -> list[tuple[tuple, str]]:
    """Tier tables (lists of tables with from/below) must be in order and must not overlap."""
    found = []
    for name, table in params.items():
        if not is_tier_table(table):
            continue
        bad = mixed_tier(table)
        if bad is not None:
            found.append((("params", name, bad), _("from and below are numbers (or dates), all of one kind in a table")))
            continue
        for index, tier in enumerate(table):
            low, high = tier.get("from"), tier.get("below")
            if low is not None and high is not None and low >= high:
                found.append((("params", name, index), _("from {low} is not below {high}").format(low=low, high=high)))
        for index, (a, b) in enumerate(pairwise(table), start=1):
            end, start = a.get("below"), b.get("from")
            if end is None or start is None:
                found.append((("params", name, index), _("only the first tier may omit from and only the last may omit below")))
            elif start < end:
                found.append((("params", name, index),
                              _("tiers overlap: the tier before runs below {end}, this one starts at {start}").format(
                                  end=end, start=start)))
    return found


def mixed_tier(table: list) -> int | None:
    """The first tier whose from or below is not a number (or a date), or not of the kind of the first tier's."""
    kinds = [(index, _bound_kind(tier[key])) for index, tier in enumerate(table) for key in ("from", "below") if key in tier]
    return next((index for index, kind in kinds if kind != kinds[0][1] or kind not in ("number", "date")), None)


def _bound_kind(value) -> str:
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return "number"
    return "date" if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else type(value).__name__


def is_tier_table(value) -> bool:
    return (isinstance(value, list) and bool(value) and all(isinstance(t, dict) for t in value)
            and all("from" in t or "below" in t for t in value))


def value_problems(data: dict) -> list[tuple[tuple, str]]:
    """Numbers of a rule file beyond the limits (scoring.lang.limits: their size, their digits,
    NaN and infinity) and values nested too deeply, anywhere in the file: checked before
    anything computes with them (exact arithmetic with 1e999999999 would not finish)."""
    found = []
    stack = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, (dict, list)):
            if len(path) > MAX_NESTING:
                found.append((path, _("values nested more than {n} deep").format(n=MAX_NESTING)))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(reversed([(path + (key,), inner) for key, inner in items]))  # in file order
        elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            message = number_problem(value)
            if message:
                found.append((path, message))
    return found


def _check_combine(spec: RulebookSpec, problem) -> None:
    """[combine] is for a rulebook assessed per period, and its expression is given exactly when the method is one."""
    combine = spec.combine
    if combine is None:
        return
    if spec.rulebook.period == "year":
        problem(("combine",), _('[combine] makes a year of the periods of a rulebook assessed per quarter or month; '
                                'this one is assessed per year ([rulebook] period)'))
    if (combine.method == "expression") != (combine.expression is not None):
        problem(("combine", "expression" if combine.expression is not None else "method"),
                _('method = "expression" goes with an expression, and an expression with method = "expression"'))
    if spec.ranking.group is not None or spec.ranking.by is not None:
        problem(("combine",), _("combining periods ranks the departments on their combined totals: not supported yet "
                                "with [ranking] group or by"))


def _numbers(*values) -> bool:
    """All given as numbers (not expressions, not left out)."""
    return all(isinstance(value, (int, Decimal)) for value in values)


STEP_PLACEHOLDER = {"id": "step", "date": "2000-01-01", "department": "step"}


def step_event_problems(event: dict, domain: Domain) -> list[tuple[tuple, str]]:
    """A step's event is checked as a case file's event is (the engine fills id, date, department)."""
    fixed = [key for key in STEP_PLACEHOLDER if key in event]
    if fixed:
        return [((key,), _('"{key}" is set by the self-check (the step is dated the day after the check date)').format(key=key))
                for key in fixed]
    types = list(domain.events)
    if event.get("type") not in types:
        return [(("type",), _('unknown event type "{type}"{hint}; expected one of: {types}').format(
            type=event.get("type"), hint=closest(event.get("type"), types), types=", ".join(types)))]
    try:
        placeholder = {**STEP_PLACEHOLDER, "date": "2000-01-01T00:00"} if domain.timed else STEP_PLACEHOLDER
        models(domain).event.model_validate({**event, **placeholder})
    except ValidationError as exc:
        return [(tuple(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, ")) for err in exc.errors()]
    return []


def _unique(ids: list[str], path: tuple, message: str, problem) -> None:
    """`message`: '... "{id}" is used twice (also #{n})', translated."""
    seen: dict[str, int] = {}
    for index, item in enumerate(ids):
        if item in seen:
            problem(path + (index,), message.format(id=item, n=seen[item] + 1))
        seen.setdefault(item, index)


