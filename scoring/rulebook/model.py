"""The typed model of a rulebook: what each table and key may hold (pydantic).

load.py reads a rulebook file into these models and checks what the models alone cannot see
(references between parts, overlapping bands and tiers); the expressions inside are checked
when the rulebook is compiled (scoring.engine.compiler), with the same kind of message.
"""
from __future__ import annotations

import datetime as dt
import re
import string
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scoring.base.errors import closest
from scoring.base.tomlmodel import Number, NumberOrExpr
from scoring.domain.records import FieldSpec
from scoring.domain.workdays import parse_working_hours

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
    # the assessment ends here: later events are not scored, and `as_of` is this day in `score`
    closing_date: dt.date | None = None
    # the case model the rulebook scores: a shipped domain's name or a domain file relative to the rulebook
    domain: str | None = None
    issuer: str | None = None  # the office that issues the bulletins, under their title (通报的发文单位)
    # what one assessment covers: the year, or one quarter or month of it (scored with --period, see periods.py)
    period: Literal["year", "quarter", "month"] = "year"
    # a quarter's or month's assessment ends this many days after its last day (late events of its cases count)
    period_closing_days: Annotated[int, Field(ge=0, le=366)] = 0
    derived_from: DerivedFrom | None = None

    @model_validator(mode="after")
    def _closing_after_start(self):
        if self.closing_date is not None and self.valid_from is not None and self.closing_date < self.valid_from:
            raise ValueError(f"closing_date {self.closing_date} is before valid_from {self.valid_from}")
        if self.period_closing_days and self.period == "year":
            raise ValueError('period_closing_days is for a rulebook assessed per quarter or month (period = "quarter" '
                             'or "month"); a year\'s assessment ends at closing_date')
        return self

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_until is None or day <= self.valid_until)

    def validity(self) -> str:
        """The span of assignment days the rulebook applies to, for messages."""
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
    hit: str | None = None  # which of those count as hits (condition, compiled to the matching engine)
    # or a ratio of sums: per counted case two numbers (items adopted, items proposed), the rate their pooled ratio
    numerator: str | None = None
    denominator: str | None = None
    points: NumberOrExpr  # from rate, hits, cases (a ratio: rate, numerator, denominator, cases)
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
    # false: an indicator reported beside the total (a rate a scheme publishes), not added into it
    in_total: bool = True


class CategorySpec(_Spec):
    """Cases of one kind (suggestions, proposals) scored apart; the department total weighs the categories."""

    id: ItemId
    title: str
    of: str  # condition over the case: which cases belong here (the first category that holds)
    weight: Number
    min: NumberOrExpr | None = None  # the category subtotal's clamp (a number or an expression of params)
    max: NumberOrExpr | None = None


class GateSpec(_Spec):
    """A veto or a gate: when it holds, the grade is held at `grade` (and the total at `total`)."""

    id: ItemId
    title: str
    criterion: str | None = None  # holds when a rule of this department item fired
    when: str | None = None  # holds when this department condition is true (both, if both are given)
    grade: str | None = None  # the highest grade the department can get
    total: NumberOrExpr | None = None  # the highest total it can get (0: a veto)
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
    roles: Annotated[list[str], Field(min_length=1)]  # roles of the rulebook's domain (checked by load.py)
    min: NumberOrExpr | None = None  # the case clamp: a number or an expression of params
    max: NumberOrExpr | None = None


class DepartmentSpec(_Spec):
    # how case totals make the department's base: "none" for schemes of department items only
    method: Literal["weighted_mean", "mean", "sum", "none"] = "weighted_mean"
    weights: dict[str, Number] = {}  # rubric id -> weight (weighted_mean)
    # a fixed starting score (a base of 100, then bonuses and deductions), and the total's clamp:
    # numbers, or expressions of params
    base: NumberOrExpr | None = None
    min: NumberOrExpr | None = None
    max: NumberOrExpr | None = None
    decimals: Annotated[int, Field(ge=0, le=6)] = 2


Name = Annotated[str, Field(min_length=1)]


class DepartmentsSpec(_Spec):
    """Which departments the scheme assesses, and other names they are written under in case files."""

    assessed: list[Name] = []  # empty: any name is scored (near-duplicates are warned about)
    aliases: dict[Name, Name] = {}  # a name as written -> the assessed department it means


class GradeSpec(_Spec):
    name: str
    min: Number  # the band holds totals >= min ...
    max: Number | None = None  # ... and <= max (default: below the next band's min)


class WaiverSpec(_Spec):
    """A finding of `rules validate` the scheme accepts, with the reason: a published scheme with no floor
    leaves the lowest totals without a grade, and saying so here makes its validation clean."""

    finding: Name  # the key the finding names, as `rules validate` prints it: "grade[3].min", "params.x"
    reason: Name


class RankingSpec(_Spec):
    order: Literal["desc", "asc"] = "desc"
    ties: Literal["shared", "dense"] = "shared"  # shared: 1,2,2,4; dense: 1,2,2,3
    # fewer scored cases (in the period, for a rulebook assessed per period): listed, not ranked; a whole number
    # or an expression of params (checked when compiled)
    min_cases: NumberOrExpr = 0
    group: str | None = None  # department expression: ranks are counted within each peer group
    by: ItemId | None = None  # a department item whose points rank the departments, instead of the total


class CalendarYear(_Spec):
    holidays: list[dt.date] = []
    workdays: list[dt.date] = []


class CalendarSpec(_Spec):
    extra_holidays: list[dt.date] = []
    extra_workdays: list[dt.date] = []
    years: dict[str, CalendarYear] = {}
    working_hours: list[str] = []  # the periods of a working day, such as "09:00-12:00" (work measured in hours)

    @field_validator("working_hours")
    @classmethod
    def _periods(cls, periods):
        parse_working_hours(periods)
        return periods

    @field_validator("years")
    @classmethod
    def _year_keys(cls, years):
        for key in years:
            if not re.fullmatch(r"\d{4}", key):
                raise ValueError(f'"{key}" is not a year')
        return years


# the names each sentence of [texts] is filled with (scoring.engine.evaluate and rollup)
TEXT_FIELDS = {
    "cap": ("criterion", "limit"), "floor": ("criterion", "limit"), "case_clamp": ("min", "max"),
    "base": ("parts",), "base_part": ("rubric", "count", "mean", "weight"), "base_part_sum": ("rubric", "count", "sum"),
    "department_clamp": ("min", "max"), "no_cases": (), "item_base": ("criterion", "points"),
    "department_base": ("points",), "category_clamp": ("category", "min", "max"),
    "category_weight": ("category", "count", "subtotal", "weight"), "category_empty": ("category",),
    "scorer_computed": ("score",), "scorer": ("scorer", "score", "weight"), "gate_total": ("gate", "limit"),
}


class TextsSpec(_Spec):
    """Wording of the lines the engine itself adds (Chinese by default)."""

    @field_validator("*")
    @classmethod
    def _fields(cls, text: str, info):
        """Only {name} with the names the sentence is filled with: a format spec ({limit:>999999999}),
        a position or an attribute ({criterion.__class__}) would be Python's str.format at work."""
        allowed = TEXT_FIELDS[info.field_name]
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ValueError(f"{exc} (write {{{{ and }}}} for literal braces)") from None
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if name not in allowed or spec or conversion:
                written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                known = ", ".join("{" + n + "}" for n in allowed) or "none"
                raise ValueError(f"{written} cannot be filled in; this sentence takes {known}"
                                 f"{closest(name, allowed) if name not in allowed else ''}")
        return text

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


class CombineSpec(_Spec):
    """How `scoring combine` makes a year of a rulebook assessed per quarter or month: each department's period
    totals (as published) summed, averaged, the last one, or an expression of them (`totals`, in period order)."""

    method: Literal["sum", "mean", "last", "expression"]
    expression: str | None = None  # method = "expression": reads totals (a list of numbers) and params
    text: str | None = None  # the explanation of the combined total (default: the method's own sentence)


class RulebookSpec(_Spec):
    rulebook: RulebookInfo
    params: dict[str, Any] = {}
    let: dict[Identifier, str] = {}
    department_fields: dict[Identifier, FieldSpec] = {}
    rubric: list[RubricSpec] = []
    category: list[CategorySpec] = []
    criterion: Annotated[list[CriterionSpec], Field(min_length=1)]
    department: DepartmentSpec = DepartmentSpec()
    departments: DepartmentsSpec = DepartmentsSpec()
    gate: list[GateSpec] = []
    scorer: list[ScorerSpec] = []
    grade: list[GradeSpec] = []
    ranking: RankingSpec = RankingSpec()
    combine: CombineSpec | None = None  # a rulebook assessed per period: how its periods make the year
    calendar: CalendarSpec = CalendarSpec()
    texts: TextsSpec = TextsSpec()
    waiver: list[WaiverSpec] = []  # findings of `rules validate` accepted, each with its reason

    def grade_names(self) -> list[str]:
        """The grades, best first (the band with the highest minimum first)."""
        return [g.name for g in sorted(self.grade, key=lambda g: g.min, reverse=True)]


# Names an expression sees besides lets and bindings; a let or binding may not take them.
BUILTIN_NAMES = ("case", "handler", "params", "rubric", "events", "case_events", "department", "category", "as_of")
