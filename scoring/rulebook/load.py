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
    [[gate]]        optional: vetoes and grade gates
    [[scorer]]      optional: several scorers (self, peer, assessor) combined with weights
    [[grade]]       grade bands on the rounded total
    [ranking]       ranking order, ties, peer groups, minimum case count
    [calendar]      extra holidays / working days, years the official calendar lacks
"""
from __future__ import annotations

import datetime as dt
import hashlib
import keyword
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scoring.base.errors import InputError, Problem, closest
from scoring.base.tomlpos import key_lines, line_of
from scoring.domain.cases import Event, EventType, Role
from scoring.domain.fields import DEPARTMENT_COUNTS

Number = Union[int, Decimal]
NumberOrExpr = Union[int, Decimal, str]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ItemId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class Source(_Spec):
    """A rule file an effective rulebook was made from."""

    id: ItemId
    version: Annotated[str, Field(min_length=1)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class DerivedFrom(_Spec):
    """Written by scoring.overlay into an effective rulebook: what it was made from."""

    base: Source
    overlays: list[Source] = []
    set: dict[str, Any] = {}  # --set name=value, in the order given


class RulebookInfo(_Spec):
    id: ItemId
    title: str
    version: Annotated[str, Field(min_length=1)]
    full_score: Number | None = None
    description: str = ""
    valid_from: dt.date | None = None  # the period the scheme applies to: cases assigned from ...
    valid_until: dt.date | None = None  # ... up to and including this day
    derived_from: DerivedFrom | None = None

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_until is None or day <= self.valid_until)

    def period(self) -> str:
        return f"{self.valid_from or '…'} to {self.valid_until or '…'}"


class RuleSpec(_Spec):
    id: ItemId
    bind: dict[str, str] = {}  # variable -> "[first|last] <event type>"
    when: str | None = None  # condition, compiled to the matching engine
    points: NumberOrExpr
    text: str  # the explanation sentence template
    once: bool = False  # at most one line per case and handler (the earliest events win)
    each: str | None = None  # per = "department" items: "x in <list>", one line per element the rule holds for

    def each_parts(self) -> tuple[str, str] | None:
        """(x, list expression) of `each = "x in <list>"`; None when it is not written that way."""
        match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.+)", self.each or "", re.S)
        return None if match is None else (match.group(1), match.group(2))


class MultiplySpec(_Spec):
    """An item's points of one case multiplied (a leader's endorsement counts double)."""

    by: str  # expression over the case: the factor (1 leaves the points alone)
    text: str


class RateSpec(_Spec):
    of: str  # which of the department's case-handlers count (condition over the handler)
    hit: str  # which of those count as hits (condition, compiled to the matching engine)
    points: NumberOrExpr  # from rate, hits, cases
    text: str
    empty: str = ""  # sentence when the department has no eligible case (points are 0)


class StepSpec(_Spec):
    """What a handler can still do for an item; `scoring self-check` adds it to see what is reachable."""

    event: dict[str, Any]  # the event that completes the item: type and fields, e.g. {type = "reply", outcome = "A"}
    when: str | None = None  # condition (as of the check date) under which the step can still be taken
    missing: str | None = None  # sentence saying what is missing while the step is not taken


class CriterionSpec(_Spec):
    id: ItemId
    title: str
    level: Literal["case", "department"] = "case"
    rubric: str | None = None  # case level: the rubric it belongs to; department level: limits its rules
    max: NumberOrExpr | None = None
    min: NumberOrExpr | None = None
    hit: Literal["all", "first"] = "all"  # "first": only the first rule (in file order) that fires counts
    otherwise: str | None = None  # sentence when no rule fires (the criterion scores 0)
    rule: list[RuleSpec] = []
    rate: RateSpec | None = None
    due: str | None = None  # the date the item is measured against (expression; null while unknown)
    step: StepSpec | None = None
    decided_by: str | None = None  # who decides the item's points when it is not the department (a rating)
    base: NumberOrExpr | None = None  # the item starts at these points (deductions from a budget)
    per: Literal["case", "department"] = "case"  # department items: rules matched on each case, or once on the department
    category: str | None = None  # with [[category]]: the one category the item counts in (default: each)
    multiply: MultiplySpec | None = None


class CategorySpec(_Spec):
    """Cases of one kind (suggestions, proposals) scored apart; the department total weighs the categories."""

    id: ItemId
    title: str
    of: str  # condition over the case: which cases belong here (the first category that holds)
    weight: Number
    min: Number | None = None  # the category subtotal's clamp
    max: Number | None = None


class GateSpec(_Spec):
    """A veto or a gate: when it holds, the grade is held at `grade` (and the total at `total`)."""

    id: ItemId
    title: str
    criterion: str | None = None  # holds when a rule of this department item fired
    when: str | None = None  # holds when this department condition is true (both, if both are given)
    grade: str | None = None  # the highest grade the department can get
    total: Number | None = None  # the highest total it can get (0: a veto)
    text: str


class ScorerSpec(_Spec):
    """One scorer's score of a department (self, peer, assessor) and its weight in the final total."""

    id: ItemId
    title: str
    weight: Number
    score: str  # department expression; `computed` is the score the rules give


class RubricSpec(_Spec):
    id: ItemId
    title: str
    roles: Annotated[list[Role], Field(min_length=1)]
    min: Number | None = None
    max: Number | None = None


class DepartmentSpec(_Spec):
    # how case totals make the department's base: "none" for schemes of department items only
    method: Literal["weighted_mean", "mean", "sum", "none"] = "weighted_mean"
    weights: dict[str, Number] = {}  # rubric id -> weight (weighted_mean)
    base: Number | None = None  # a fixed starting score (a base of 100, then bonuses and deductions)
    min: Number | None = None
    max: Number | None = None
    decimals: Annotated[int, Field(ge=0, le=6)] = 2


class GradeSpec(_Spec):
    name: str
    min: Number  # the band holds totals >= min ...
    max: Number | None = None  # ... and <= max (default: below the next band's min)


class RankingSpec(_Spec):
    order: Literal["desc", "asc"] = "desc"
    ties: Literal["shared", "dense"] = "shared"  # shared: 1,2,2,4; dense: 1,2,2,3
    min_cases: Annotated[int, Field(ge=0)] = 0  # fewer scored cases: listed, not ranked
    group: str | None = None  # department expression: ranks are counted within each peer group


class CalendarYear(_Spec):
    holidays: list[dt.date] = []
    workdays: list[dt.date] = []


class CalendarSpec(_Spec):
    extra_holidays: list[dt.date] = []
    extra_workdays: list[dt.date] = []
    years: dict[str, CalendarYear] = {}

    @field_validator("years")
    @classmethod
    def _year_keys(cls, years):
        for key in years:
            if not re.fullmatch(r"\d{4}", key):
                raise ValueError(f'"{key}" is not a year')
        return years


class TextsSpec(_Spec):
    """Wording of the lines the engine itself adds (Chinese by default)."""

    cap: str = "{criterion}最高{limit}分，超出部分不计"
    floor: str = "{criterion}最低{limit}分，超出部分不计"
    case_clamp: str = "单件得分限定在{min}至{max}分之间"
    base: str = "{parts}"
    base_part: str = "{rubric}{count}件平均{mean}分×权重{weight}"
    base_part_sum: str = "{rubric}{count}件合计{sum}分"
    department_clamp: str = "总分限定在{min}至{max}分之间"
    no_cases: str = "无可计分的办件"
    item_base: str = "{criterion}基础分{points}分"
    department_base: str = "基础分{points}分"
    category_clamp: str = "{category}小计限定在{min}至{max}分之间"
    category_weight: str = "{category}{count}件，小计{subtotal}分×权重{weight}"
    category_empty: str = "无{category}，不计该类得分（权重按其他类别重新分配）"
    scorer_computed: str = "按评分规则计得{score}分，由各评分方得分加权合成总分"
    scorer: str = "{scorer}{score}分×权重{weight}"
    gate_total: str = "{gate}：总分不超过{limit}分"


FieldKind = Literal["bool", "number", "text", "date", "texts", "numbers"]


class FieldSpec(_Spec):
    """A field of the department records: `"number"`, or `{ kind = "number", min = 0, max = 100 }`.

    A range (numbers only) is checked on every record, and `rules validate` counts on it when it
    works out what a score read from the field can reach.
    """

    kind: FieldKind
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="before")
    @classmethod
    def _kind_alone(cls, value):
        return {"kind": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _range(self):
        if (self.min is not None or self.max is not None) and self.kind not in ("number", "numbers"):
            raise ValueError(f"min and max are for number and numbers fields, not {self.kind}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class RulebookSpec(_Spec):
    rulebook: RulebookInfo
    params: dict[str, Any] = {}
    let: dict[Identifier, str] = {}
    department_fields: dict[Identifier, FieldSpec] = {}
    rubric: list[RubricSpec] = []
    category: list[CategorySpec] = []
    criterion: Annotated[list[CriterionSpec], Field(min_length=1)]
    department: DepartmentSpec = DepartmentSpec()
    gate: list[GateSpec] = []
    scorer: list[ScorerSpec] = []
    grade: list[GradeSpec] = []
    ranking: RankingSpec = RankingSpec()
    calendar: CalendarSpec = CalendarSpec()
    texts: TextsSpec = TextsSpec()

    def grade_names(self) -> list[str]:
        """The grades, best first (the band with the highest minimum first)."""
        return [g.name for g in sorted(self.grade, key=lambda g: g.min, reverse=True)]


# Names an expression sees besides lets and bindings; a let or binding may not take them.
BUILTIN_NAMES = ("case", "handler", "params", "rubric", "events", "case_events", "department", "category")


@dataclass(frozen=True)
class Locator:
    """Where a key path of a rulebook is written: a file and its line."""

    source: str
    lines: dict  # key path -> line

    def problem(self, path: tuple, message: str) -> Problem:
        return Problem(self.source, line_of(self.lines, path), format_path(path), message)


@dataclass(frozen=True)
class Rulebook:
    spec: RulebookSpec
    path: str
    text: str
    sha256: str
    locator: Locator  # for an effective rulebook, one that names the base or overlay file a key came from

    def problem(self, path: tuple, message: str) -> Problem:
        return self.locator.problem(path, message)


def load_rulebook(path: str | Path) -> Rulebook:
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError([Problem(source, None, "", f"cannot read the rulebook: {exc.strerror}")]) from None
    return parse_rulebook(raw, source)


def parse_rulebook(raw: bytes, source: str, locator: Locator | None = None) -> Rulebook:
    """The rulebook in raw; problems are placed by locator (default: lines of raw itself)."""
    text, data = read_toml(raw, source, "rulebook")
    locator = locator or Locator(source, key_lines(text))
    try:
        spec = RulebookSpec.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, RulebookSpec, locator)
        raise InputError(problems, f"{source}: {len(problems)} problem(s) in the rulebook") from None
    book = Rulebook(spec, source, text, hashlib.sha256(raw).hexdigest(), locator)
    problems = check_references(book)
    if problems:
        raise InputError(problems, f"{source}: {len(problems)} problem(s) in the rulebook")
    return book


def read_toml(raw: bytes, source: str, what: str) -> tuple[str, dict]:
    """The text and data of a TOML rule file; floats are read as exact decimals (0.7 stays 7/10)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(source, line, "", "not UTF-8 text")]) from None
    try:
        return text, tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        raise InputError([Problem(source, int(match.group(1)) if match else None, "", f"not valid TOML: {exc}")],
                         f"{source}: the {what} is not valid TOML") from None


def check_references(book: Rulebook) -> list[Problem]:
    """What the models cannot check alone: ids, names and references between sections."""
    spec = book.spec
    problems: list[Problem] = []

    def problem(path: tuple, message: str):
        problems.append(book.problem(path, message))

    rubric_ids = [r.id for r in spec.rubric]
    _unique(rubric_ids, ("rubric",), "rubric id", problem)
    _unique([c.id for c in spec.criterion], ("criterion",), "criterion id", problem)
    rule_paths: dict[str, tuple] = {}
    for ci, criterion in enumerate(spec.criterion):
        for ri, rule in enumerate(criterion.rule):
            path = ("criterion", ci, "rule", ri, "id")
            if rule.id in rule_paths:
                problem(path, f'rule id "{rule.id}" is used twice (also {format_path(rule_paths[rule.id])})')
            rule_paths.setdefault(rule.id, path)

    seen_roles: dict[str, str] = {}
    for index, rubric in enumerate(spec.rubric):
        for role in rubric.roles:
            if role in seen_roles:
                problem(("rubric", index, "roles"), f'role "{role}" is already in rubric "{seen_roles[role]}"')
            seen_roles.setdefault(role, rubric.id)
        if rubric.min is not None and rubric.max is not None and rubric.min > rubric.max:
            problem(("rubric", index, "min"), f"min {rubric.min} is above max {rubric.max}")

    for ci, criterion in enumerate(spec.criterion):
        base = ("criterion", ci)
        if criterion.rubric is not None and criterion.rubric not in rubric_ids:
            problem(base + ("rubric",), f'unknown rubric "{criterion.rubric}"{closest(criterion.rubric, rubric_ids)}')
        if criterion.level == "case" and criterion.rubric is None:
            problem(base, 'a case-level criterion needs rubric = "<rubric id>"')
        if criterion.rate is not None:
            if criterion.level != "department":
                problem(base + ("rate",), 'a rate is a department-level item: add level = "department"')
            if criterion.rule:
                problem(base + ("rule",), "a criterion has either rules or a rate, not both")
        elif not criterion.rule:
            problem(base, "a criterion needs at least one [[criterion.rule]] (or a [criterion.rate])")
        if criterion.step is not None:
            problems.extend(book.problem(base + ("step", "event") + path, message)
                            for path, message in step_event_problems(criterion.step.event))
        if criterion.level == "department" and criterion.rate is None and (criterion.due or criterion.step):
            problem(base, "due and step belong to case-level items and rates, not to department rules")
        for ri, rule in enumerate(criterion.rule):
            for name in rule.bind:
                if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                    problem(base + ("rule", ri, "bind", name), f'"{name}" cannot name an event')
                elif name in BUILTIN_NAMES or name in spec.let or name in {t.value for t in EventType}:
                    problem(base + ("rule", ri, "bind", name), f'"{name}" is already the name of a let, a built-in or an event type')

    event_types = {t.value for t in EventType}
    for name in spec.let:
        if name in BUILTIN_NAMES:
            problem(("let", name), f'"{name}" is a built-in name; choose another')
        elif name in event_types:
            problem(("let", name), f'"{name}" is an event type (as in first({name})); choose another name, such as {name}_on')

    department = spec.department
    if department.method == "weighted_mean":
        for rubric_id in department.weights:
            if rubric_id not in rubric_ids:
                problem(("department", "weights", rubric_id), f'unknown rubric "{rubric_id}"{closest(rubric_id, rubric_ids)}')
        for rubric_id in rubric_ids:
            if rubric_id not in department.weights:
                problem(("department", "weights"), f'no weight for rubric "{rubric_id}"')
        for rubric_id, weight in department.weights.items():
            if weight < 0:
                problem(("department", "weights", rubric_id), "a weight cannot be negative")
    elif department.weights:
        problem(("department", "weights"), f'weights are used only with method = "weighted_mean", not "{department.method}"')
    if department.min is not None and department.max is not None and department.min > department.max:
        problem(("department", "min"), f"min {department.min} is above max {department.max}")

    for path, value in _numbers(spec.params, ("params",)):
        if not value.is_finite():
            problem(path, f"{value} is not a finite number")
        elif value and abs(value.adjusted()) > MAX_EXPONENT:
            problem(path, f"{value} is out of range (at most 10^{MAX_EXPONENT} in size, at least 10^-{MAX_EXPONENT})")

    problems.extend(book.problem(path, message) for path, message in grade_problems(spec.grade))
    _unique([grade.name for grade in spec.grade], ("grade",), "grade name", problem)
    _check_parts(spec, problem)
    for path, message in tier_problems(spec.params):
        problem(path, message)
    return problems


def _check_parts(spec: RulebookSpec, problem) -> None:
    """Categories, department items, gates, scorers and department fields."""
    category_ids = [c.id for c in spec.category]
    criterion_ids = [c.id for c in spec.criterion]
    grade_names = [g.name for g in spec.grade]
    _unique(category_ids, ("category",), "category id", problem)
    _weights(spec.category, ("category",), "category", problem)
    for index, category in enumerate(spec.category):
        if category.min is not None and category.max is not None and category.min > category.max:
            problem(("category", index, "min"), f"min {category.min} is above max {category.max}")
    if not spec.rubric and spec.department.method != "none":
        problem(("department", "method"), f'method = "{spec.department.method}" rolls up case rubrics, but there is no [[rubric]]; '
                                          'use method = "none" for a scheme of department items only')

    for ci, criterion in enumerate(spec.criterion):
        base = ("criterion", ci)
        if criterion.category is not None and criterion.category not in category_ids:
            problem(base + ("category",), f'unknown category "{criterion.category}"{closest(criterion.category, category_ids)}'
                    if category_ids else "category is used only with [[category]] sections")
        if criterion.per == "department":
            if criterion.level != "department":
                problem(base + ("per",), 'per = "department" is for department items: add level = "department"')
            if criterion.rate is not None or criterion.multiply is not None:
                problem(base + ("per",), 'an item scored once per department has rules, not a rate or a multiplier')
            for ri, rule in enumerate(criterion.rule):
                if rule.bind or rule.once:
                    problem(base + ("rule", ri), "a department item (per = \"department\") sees the department, not events: no bind or once")
        else:
            for ri, rule in enumerate(criterion.rule):
                if rule.each is not None:
                    problem(base + ("rule", ri, "each"), 'each is for department items (per = "department")')

    _unique([g.id for g in spec.gate], ("gate",), "gate id", problem)
    for index, gate in enumerate(spec.gate):
        path = ("gate", index)
        if gate.criterion is None and gate.when is None:
            problem(path, "a gate needs criterion (an item whose rules mark the failure) or when (a condition), or both")
        if gate.grade is None and gate.total is None:
            problem(path, "a gate needs grade (the highest grade allowed) or total (the highest total), or both")
        if gate.criterion is not None:
            target = next((c for c in spec.criterion if c.id == gate.criterion), None)
            if target is None:
                problem(path + ("criterion",), f'unknown criterion "{gate.criterion}"{closest(gate.criterion, criterion_ids)}')
            elif target.level != "department" or target.rate is not None:
                problem(path + ("criterion",), f'"{gate.criterion}" must be a department item with rules')
        if gate.grade is not None and gate.grade not in grade_names:
            problem(path + ("grade",), f'unknown grade "{gate.grade}"{closest(gate.grade, grade_names)}')

    _unique([s.id for s in spec.scorer], ("scorer",), "scorer id", problem)
    _weights(spec.scorer, ("scorer",), "scorer", problem)
    for name in spec.department_fields:
        if name in DEPARTMENT_COUNTS:
            problem(("department_fields", name), f'"{name}" is counted from the case file ({", ".join(DEPARTMENT_COUNTS)}); choose another name')


def _weights(items: list, path: tuple, what: str, problem) -> None:
    """Weights of categories or scorers are used as written: they must add up to 1."""
    if not items:
        return
    for index, item in enumerate(items):
        if item.weight < 0:
            problem(path + (index, "weight"), "a weight cannot be negative")
    total = sum((Decimal(item.weight) for item in items), Decimal(0))
    if total != 1:
        parts = " + ".join(f"{item.weight} ({item.id})" for item in items)
        problem(path + (0, "weight"), f"{what} weights add up to {total}, not 1: {parts}")


def grade_problems(grades: list[GradeSpec]) -> list[tuple[tuple, str]]:
    """Bands that overlap (a total would have two grades) or are upside down."""
    found = []
    for index, band in enumerate(grades):
        if band.max is not None and band.max < band.min:
            found.append((("grade", index, "max"), f"max {band.max} is below min {band.min}"))
    order = sorted(range(len(grades)), key=lambda i: grades[i].min)
    for low, high in zip(order, order[1:]):
        a, b = grades[low], grades[high]
        if a.min == b.min:
            found.append((("grade", high, "min"), f'grade bands "{a.name}" and "{b.name}" start at the same score {b.min}'))
        elif a.max is not None and a.max >= b.min:
            found.append((("grade", low, "max"), f'grade bands overlap: "{a.name}" runs to {a.max}, "{b.name}" starts at {b.min}'))
    return found


def tier_problems(params: dict) -> list[tuple[tuple, str]]:
    """Tier tables (lists of tables with from/below) must be in order and must not overlap."""
    found = []
    for name, table in params.items():
        if not is_tier_table(table):
            continue
        for index, tier in enumerate(table):
            low, high = tier.get("from"), tier.get("below")
            if low is not None and high is not None and low >= high:
                found.append((("params", name, index), f"from {low} is not below {high}"))
        for index, (a, b) in enumerate(zip(table, table[1:]), start=1):
            end, start = a.get("below"), b.get("from")
            if end is None or start is None:
                found.append((("params", name, index), "only the first tier may omit from and only the last may omit below"))
            elif start < end:
                found.append((("params", name, index), f"tiers overlap: the tier before runs below {end}, this one starts at {start}"))
    return found


def is_tier_table(value) -> bool:
    return (isinstance(value, list) and bool(value) and all(isinstance(t, dict) for t in value)
            and all("from" in t or "below" in t for t in value))


MAX_EXPONENT = 30  # exact arithmetic with 1e99999999 would not finish


def _numbers(value, path: tuple):
    """(key path, Decimal) for every number in a params table, nested tables and lists included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _numbers(inner, path + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _numbers(inner, path + (index,))
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        yield path, Decimal(value)


STEP_PLACEHOLDER = {"id": "step", "date": "2000-01-01", "department": "step"}


def step_event_problems(event: dict) -> list[tuple[tuple, str]]:
    """A step's event is checked as a case file's event is (the engine fills id, date, department)."""
    fixed = [key for key in STEP_PLACEHOLDER if key in event]
    if fixed:
        return [((key,), f'"{key}" is set by the self-check (the step is dated the day after the check date)') for key in fixed]
    types = [t.value for t in EventType]
    if event.get("type") not in types:
        return [(("type",), f'unknown event type "{event.get("type")}"{closest(event.get("type"), types)}; '
                            f"expected one of: {', '.join(types)}")]
    try:
        Event.model_validate({**event, **STEP_PLACEHOLDER})
    except ValidationError as exc:
        return [(tuple(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, ")) for err in exc.errors()]
    return []


def _unique(ids: list[str], path: tuple, what: str, problem) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(ids):
        if item in seen:
            problem(path + (index,), f'{what} "{item}" is used twice (also #{seen[item] + 1})')
        seen.setdefault(item, index)


def format_path(path: tuple) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def validation_problems(exc: ValidationError, model: type[BaseModel], locator: Locator) -> list[Problem]:
    return [_problem(model, locator, err) for err in exc.errors()]


def _problem(model: type[BaseModel], locator: Locator, err: dict) -> Problem:
    loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and ("[" in part or part.startswith("function"))))
    kind = err["type"]
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        message = f'unknown key "{loc[-1]}"{closest(loc[-1], known)}'
        if known:
            message += f"; expected one of: {', '.join(known)}"
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if "input" in err and not isinstance(err["input"], (dict, list)):
            message += f" (got {err['input']!r})"
    return locator.problem(loc, message)


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the model allows at a path (for "did you mean")."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        current = _model_in(annotation)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _model_in(annotation) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    metadata_origin = getattr(annotation, "__origin__", None)
    if metadata_origin is not None and isinstance(metadata_origin, type) and issubclass(metadata_origin, BaseModel):
        return metadata_origin
    return None
